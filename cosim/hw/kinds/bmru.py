"""BMRU: bistable signed cell, state s in {-1, +1}; s <- sign(c) when |c| >= |beta|."""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ..ir import CellLayer, IRError, MirrorBank
from ..reference import run_layer
from ..windows import CellWindow
from . import register
from .signed import SignedKind, candidate_and_threshold

#: a BMRU threshold bias below this (units) counts as zero: single-cell benches then use 1 unit.
BETA_ZERO = 1e-3


def behavioral(bld, p, layer, inputs, clk, first, noise):
    """Clocked symmetric latch `bist_sym_clk` per channel (circuits/cosim.lib)."""
    cands, thrs = candidate_and_threshold(bld, p, layer, inputs, noise)
    outs, states = [], []
    for i in range(layer.n):
        bld.instance(f"{p}x{i}", "bist_sym_clk", cands[i], thrs[i], clk, f"{p}h{i}",
                     igain=float(layer.alpha[i] * bld.iu), iunit=bld.iu, s0=int(layer.init_state[i]))
        outs.append(bld.sense(f"{p}h{i}", f"{p}h{i}"))
        states.append(bld.vector(f"{p}x{i}", "u"))
    return outs, states


#: the transistor cell's output is held here by its sense source (it sources and
#: sinks igain within 0.1% at 0.9 V; circuits/sky130_bmru.lib)
TRANSISTOR_OUT_V = 0.9


def transistor(bld, p, layer, inputs, clk, first, noise):
    """The clocked signed sky130 cell `sky130_bmru_clk` per channel (circuits/sky130_bmru.lib):
    the candidate and threshold sums (behavioral mirrors) drive its rectifying inputs, its
    output level is alpha (its output mirrors are within 0.1% untrimmed), msize from the
    mismatch budget and this cell's measured σ (pdk.mapping.cell_size)."""
    cands, thrs = candidate_and_threshold(bld, p, layer, inputs, noise)
    clk_v = bld.clock_volts(clk)
    vdd = bld.pdk.vdd_v
    msize = bld.pdk.size("bmru")["msize"]
    outs, states = [], []
    for i in range(layer.n):
        bld.instance(f"{p}x{i}", "sky130_bmru_clk", cands[i], thrs[i], clk_v, f"{p}h{i}", "vdd", "0",
                     igain=float(layer.alpha[i] * bld.iu), msize=msize)
        bld.set_initial(f"{p}x{i}", "q", vdd if layer.init_state[i] > 0 else 0.0)
        outs.append(bld.sense_at(f"{p}h{i}", f"{p}h{i}", TRANSISTOR_OUT_V))
        states.append(bld.state_probe(f"{p}x{i}", "q", 2 / vdd, -1.0))
    return outs, states


class Bmru(SignedKind):
    name = "bmru"
    title = "symmetric BMRU cell"
    window_labels = ("+|β|", "−|β|")
    levels = (-1.0, 1.0)
    implementations = {"behavioral": behavioral, "transistor": transistor}

    def validate(self, layer, name, width, gain_max):
        super().validate(layer, name, width, gain_max)
        if any(v not in (-1, 1) for v in layer.init_state):
            raise IRError(f"{name}.init_state must be -1 or +1 for a bmru layer")

    def updater(self, layer, gate, step):
        return lambda s, t: np.where(gate[:, t], step[:, t], s)

    def snap(self, states):
        return np.where(states >= 0, 1.0, -1.0)

    def window(self, layer, channel, layer_index):
        if channel is None:
            raise InputError(f"layer {layer_index} (bmru): choose a channel 0..{layer.n - 1}")
        b = abs(float(layer.threshold.bias[channel]))
        note = ""
        if b < BETA_ZERO:
            note = (f"threshold bias {b:.3g} units is ~0: the bench holds |beta| = 1 unit "
                    f"(switching points then +-1 unit)")
            b = 1.0
        return CellWindow(self.name, b, -b, 2 * b, self.levels, float(layer.alpha[channel]), note)


    def sweep_range(self, win, margin):
        x = win.up * (1 + margin)
        return -x, x

    def bench_cell(self, bld, name, win, node, out, dynamic):
        """Latch: `bist_sym` with its beta port held at a constant |beta| (= win.up).
        Dynamic: the symmetric cell has no dynamic subcircuit; its dynamic model is
        bist_dyn with the window -|beta|..+|beta|, state s = 2u - 1."""
        if dynamic:
            plan = super().bench_cell(bld, name, win, node, out, dynamic)
            return {**plan, "s0": -1, "offset": -1.0, "scale": 2.0}
        iu = bld.iu
        params = dict(igain=win.alpha * iu, iunit=iu, s0=-1, eps=bld.latch_eps)
        bld.bias(f"b{name}", f"bt{name}", win.up * iu)  # constant |beta| into the beta port
        bld.instance(name, "bist_sym", node, f"bt{name}", out, **params)
        return dict(subckt="bist_sym", s0=-1, params=params, input_node="xc", offset=0.0, scale=1.0)

    def software_cell(self, win, x, s0):
        """A one-channel BMRU layer with a constant threshold |beta| = win.up."""
        layer = CellLayer("bmru", MirrorBank([[1.0]], [0.0]), [1.0], [s0],
                          threshold=MirrorBank([[0.0]], [win.up]))
        return run_layer(layer, np.asarray(x, np.float64)[None, :, None]).state[0, :, 0]


register(Bmru())
