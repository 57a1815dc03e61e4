"""First-quadrant BMRU (current-mode Schmitt trigger), state s in {0, 1}:
c = ReLU(candidate(ReLU(x))); s <- 1 when c > beta2 = beta1 + delta, s <- 0 when c < beta1."""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ..ir import IRError, check_positive
from ..reference import apply_bank
from ..windows import CellWindow
from . import CellKind, bench_width, register


def _candidates(bld, p, layer, inputs, first, noise) -> list:
    """Candidate sum nodes of the layer; the first layer rectifies its inputs (a unipolar
    input mirror passes only positive current)."""
    if first:
        rect = []
        for j, src in enumerate(inputs):
            bld.rectify(f"{p}r{j}", src)
            rect.append(bld.sense(f"{p}r{j}", f"{p}r{j}"))
        inputs = rect
    cands = [f"{p}c{i}" for i in range(layer.n)]
    bld.bank(f"{p}w", layer.candidate, inputs, cands)
    bld.noise(p, cands, noise)
    return cands


def behavioral(bld, p, layer, inputs, clk, first, noise):
    """Clocked first-quadrant latch `bist_latch_clk` per channel; the first layer
    rectifies its inputs (a unipolar input mirror passes only positive current)."""
    cands = _candidates(bld, p, layer, inputs, first, noise)
    outs, states = [], []
    for i in range(layer.n):
        beta2 = layer.beta1[i] + layer.delta[i]
        # c = ReLU(.): negative candidate currents already read as "force low" (beta1 > 0)
        bld.instance(f"{p}x{i}", "bist_latch_clk", cands[i], clk, f"{p}h{i}",
                     igain=float(layer.alpha[i] * bld.iu), ithresh=float(beta2 * bld.iu),
                     iwidth=float(layer.delta[i] * bld.iu), iunit=bld.iu,
                     s0=int(layer.init_state[i]))
        outs.append(bld.sense(f"{p}h{i}", f"{p}h{i}"))
        states.append(bld.vector(f"{p}x{i}", "u"))
    return outs, states


#: the transistor cell's output is held here by its sense source (the calibration's
#: output voltage, pdk.schmitt_char.VOUT_V; the cell's compliance is 0..1.1 V)
TRANSISTOR_OUT_V = 0.6


def transistor(bld, p, layer, inputs, clk, first, noise):
    """The clocked sky130 cell `sky130_schmitt_clk` per channel at its calibrated
    biases and size (pdk.netlist.PdkSetup.cell); the weighted sums stay behavioral
    mirrors, and the candidate reaches the cell through a rectifier (the ReLU a
    mirror bank's sink devices give in silicon, where they run out of headroom)."""
    cands = _candidates(bld, p, layer, inputs, first, noise)
    clk_v = bld.clock_volts(clk)
    vdd = bld.pdk.vdd_v
    outs, states = [], []
    for i in range(layer.n):
        m = bld.pdk.cell(bld.ir, bld.layer_index, i)
        bld.rectify(f"{p}q{i}", bld.sense(f"{p}s{i}", cands[i]))
        bld.instance(f"{p}x{i}", "sky130_schmitt_clk", f"{p}q{i}", clk_v, f"{p}h{i}", "vdd", "0",
                     ithresh=m["ithresh_na"] * 1e-9, iwidth=m["iwidth_na"] * 1e-9,
                     igain=m["igain_na"] * 1e-9, msize=m["msize"])
        bld.set_initial(f"{p}x{i}", "q", vdd * float(layer.init_state[i]))
        outs.append(bld.sense_at(f"{p}h{i}", f"{p}h{i}", TRANSISTOR_OUT_V))
        states.append(bld.state_probe(f"{p}x{i}", "q", 1 / vdd))
    return outs, states


class Schmitt(CellKind):
    name = "schmitt"
    title = "first-quadrant cell"
    window_labels = ("β2", "β1")
    first_quadrant = True
    levels = (0.0, 1.0)
    fields = {"beta1": "units (lower threshold, > 0)", "delta": "units (hysteresis width, >= 0)"}
    implementations = {"behavioral": behavioral, "transistor": transistor}

    def validate(self, layer, name, width, gain_max):
        check_positive(f"{name}.beta1", layer.beta1, layer.n)
        check_positive(f"{name}.delta", layer.delta, layer.n, allow_zero=True)
        if any(v not in (0, 1) for v in layer.init_state):
            raise IRError(f"{name}.init_state must be 0 or 1 for a schmitt layer")

    def signals(self, layer, x, extra):
        c = np.maximum(apply_bank(layer.candidate, np.maximum(x, 0.0)) + extra, 0.0)
        beta1 = np.asarray(layer.beta1, np.float64)
        beta2 = beta1 + np.asarray(layer.delta, np.float64)
        high, low = c > beta2, c < beta1
        thr = np.broadcast_to(beta2, c.shape)
        return c, thr, high | low, lambda s, t: np.where(high[:, t], 1.0, np.where(low[:, t], 0.0, s))

    def snap(self, states):
        return (states >= 0.5).astype(np.float64)

    def beta1(self, layer):
        return np.asarray(layer.beta1)

    def margin(self, candidate, threshold, beta1=None):
        return np.minimum(np.abs(candidate - threshold), np.abs(candidate - beta1))

    def hold_window(self, threshold, beta1=None):
        return np.abs(np.asarray(threshold) - np.asarray(beta1))

    def window(self, layer, channel, layer_index):
        if channel is None:
            raise InputError(f"layer {layer_index} (schmitt): choose a channel 0..{layer.n - 1}")
        b1, d = float(layer.beta1[channel]), float(layer.delta[channel])
        note = "" if d > 0 else "width 0 (a comparator): errors are fractions of beta2 instead"
        return CellWindow(self.name, b1 + d, b1, d, self.levels, float(layer.alpha[channel]), note)

    def perturb(self, layer, rng, spec, factors):
        beta2 = (np.asarray(layer.beta1) + np.asarray(layer.delta)) * factors(rng, spec["ithresh"], layer.n)
        delta = np.asarray(layer.delta) * factors(rng, spec["iwidth"], layer.n)
        delta = np.minimum(delta, beta2 * 0.999)      # keep beta1 > 0: a physical threshold
        layer.delta, layer.beta1 = delta, beta2 - delta

    def sweep_range(self, win, margin):
        """From min(0, beta1 - 0.1 width) (0 as the cell sees it: below 0 only when
        beta1 < 0.1 width, so that the down switch is resolved) to beta2 + margin widths."""
        w = bench_width(win)
        return min(0.0, win.down - 0.1 * w), win.up + margin * w

    def readout_level(self, layer, channel):
        return layer.alpha[channel]

    def drawn(self, layer, l):
        return {f"l{l}_beta2": [b + d for b, d in zip(layer.beta1, layer.delta)],
                f"l{l}_beta1": list(layer.beta1)}


register(Schmitt())
