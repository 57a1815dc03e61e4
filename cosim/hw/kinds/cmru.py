"""CMRU: cumulative signed cell on a finite ladder of rungs -K..K (SPEC 3.4);
s <- clip(s + sign(c), -K, K) when |c| >= |beta|. A mismatched ladder's rungs are
uneven: rung k > 0 at alpha * (f_P1 + ... + f_Pk), rung -k at -alpha * (f_N1 + ... + f_Nk)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...errors import InputError
from ..ir import IRError, check_finite
from ..windows import CellWindow
from . import register
from .signed import SignedKind, candidate_and_threshold

#: stage parameters of the ladder circuit that mismatch draws per stage
LADDER_PARAMS = ("alpha", "c0", "h", "w", "a", "tau")


def behavioral(bld, p, layer, inputs, clk, first, noise):
    """A gate B-source turns (c, beta) into a +-1 unit pulse while the clock is high,
    driving a generated ladder subcircuit (netlist.ladder) per channel."""
    cands, thrs = candidate_and_threshold(bld, p, layer, inputs, noise)
    outs, states = [], []
    for i in range(layer.n):
        bld.sign_gate(f"{p}g{i}", clk, bld.sense(f"{p}c{i}", cands[i]), bld.sense(f"{p}t{i}", thrs[i]))
        bld.instance(f"{p}x{i}", bld.ladder_name(layer, i, f"{p}c{i}"), f"{p}g{i}", f"{p}h{i}",
                     alpha=float(layer.alpha[i] * bld.iu), s0=int(layer.init_state[i]))
        outs.append(bld.sense(f"{p}h{i}", f"{p}h{i}"))
        states.append(bld.vector(f"{p}x{i}", "lvl"))
    return outs, states


#: the transistor ladder's output is held here by its sense source (cascoded both ways)
TRANSISTOR_OUT_V = 0.9


def transistor(bld, p, layer, inputs, clk, first, noise):
    """The PDK's ladder (pdk.netlist.PdkSetup.ladder: K stages per side of comparator +
    switched DPI) per channel, driven by the behavioral update gate: its +-1 unit pulse is
    split into the ladder's `up` and `dn` inputs (rectifiers). The state is read from the
    level current, rung = I(out) / alpha."""
    if layer.ladder_scale:
        raise InputError("a transistor-level ladder takes the PDK's device mismatch, not the behavioral "
                         "stage factors (ladder_scale) of a perturbed IR")
    name = bld.pdk.ladder(bld, layer.ladder_k, layer.ladder)
    cands, thrs = candidate_and_threshold(bld, p, layer, inputs, noise)
    outs, states = [], []
    for i in range(layer.n):
        gate = bld.sense(f"{p}g{i}", f"{p}g{i}")
        bld.sign_gate(f"{p}g{i}", clk, bld.sense(f"{p}c{i}", cands[i]), bld.sense(f"{p}t{i}", thrs[i]))
        bld.rectify(f"{p}up{i}", gate)
        bld.rectify(f"{p}dn{i}", gate, gain=-1.0)
        alpha = float(layer.alpha[i] * bld.iu)
        bld.instance(f"{p}x{i}", name, f"{p}up{i}", f"{p}dn{i}", f"{p}h{i}", "vdd", "0", alpha=alpha)
        bld.pdk.ladder_start(bld, f"{p}x{i}", layer.ladder_k, int(layer.init_state[i]))
        out = bld.sense_at(f"{p}h{i}", f"{p}h{i}", TRANSISTOR_OUT_V)
        outs.append(out)
        states.append(bld.current_probe(out, 1 / alpha))
    return outs, states


class Cmru(SignedKind):
    name = "cmru"
    title = "CMRU ladder stage"
    window_labels = ("c0+h", "c0−h")
    has_ladder = True
    levels = (0.0, 1.0)   # of one ladder stage
    fields = {**SignedKind.fields, "ladder_k": "rungs per side (integer)",
              "ladder": "LadderDesign (units, s)", "ladder_scale": "per-stage factors (dimensionless)"}
    implementations = {"behavioral": behavioral, "transistor": transistor}

    def validate(self, layer, name, width, gain_max):
        super().validate(layer, name, width, gain_max)
        K = layer.ladder_k
        if not isinstance(K, int) or K < 1:
            raise IRError(f"{name}.ladder_k must be an integer >= 1 (a circuit ladder is finite)")
        if any(abs(v) > K or v != round(v) for v in layer.init_state):
            raise IRError(f"{name}.init_state must be integer rungs within +-{K}")
        if layer.ladder_scale is None:
            return
        if len(layer.ladder_scale) != layer.n:
            raise IRError(f"{name}.ladder_scale needs one entry per channel of a cmru layer")
        for ch in layer.ladder_scale:
            for key, vals in (ch or {}).items():
                if len(vals) != 2 * K:
                    raise IRError(f"{name}.ladder_scale[{key}] needs {2 * K} factors")
                check_finite(f"{name}.ladder_scale[{key}]", vals)
                if min(vals) <= 0:
                    raise IRError(f"{name}.ladder_scale[{key}]: factors must be > 0")

    def updater(self, layer, gate, step):
        K = layer.ladder_k
        return lambda s, t: np.clip(s + gate[:, t] * step[:, t], -K, K)

    def output(self, layer, states):
        alpha = np.asarray(layer.alpha, np.float64)
        if not layer.ladder_scale:
            return alpha * states
        K = layer.ladder_k
        out = np.empty_like(states)
        for c, scale in enumerate(layer.ladder_scale):
            f = np.ones(2 * K) if not scale or "alpha" not in scale else np.asarray(scale["alpha"])
            levels = np.r_[-np.cumsum(f[K:])[::-1], 0.0, np.cumsum(f[:K])]   # rungs -K..K
            out[..., c] = alpha[c] * levels[states[..., c].astype(int) + K]
        return out

    def snap(self, states):
        return np.round(states)

    def window(self, layer, channel, layer_index):
        d = layer.ladder
        alpha = float(layer.alpha[channel]) if channel is not None else 1.0
        return CellWindow(self.name, d.c0 + d.h, d.c0 - d.h, 2 * d.h, self.levels, alpha,
                          f"ladder stage (window c0 +- h = {d.c0:g} +- {d.h:g} units), shared by "
                          f"all {layer.n} ladders of the layer")

    def software_cell(self, win, x, s0):
        """The ladder stage as a first-quadrant cell; it sees its input directly (no
        ReLU in front), so inputs and window are shifted into the first quadrant."""
        x = np.asarray(x, np.float64)
        shift = max(0.0, -float(x.min()), -win.down) + 1.0
        return super().software_cell(replace(win, down=win.down + shift), x + shift, s0)

    def perturb(self, layer, rng, spec, factors):
        n_stages = 2 * layer.ladder_k
        layer.ladder_scale = [{k: factors(rng, spec["ladder"], n_stages).tolist() for k in LADDER_PARAMS}
                              for _ in range(layer.n)]

    def drawn(self, layer, l):
        if not layer.ladder_scale:
            return {}
        return {f"l{l}_rung_alpha": [list(np.asarray(sc["alpha"]) * a)
                                     for sc, a in zip(layer.ladder_scale, layer.alpha)]}


register(Cmru())
