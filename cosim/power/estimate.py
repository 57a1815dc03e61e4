"""The analytical power estimate of a model from its hardware IR (milliseconds, no
simulator): the software reference gives every cell's drive and state per step, the
calibration's fitted cell models (power.model) turn them into supply power, and the
mirror banks are counted as the branch currents they need.

Mirror banks (behavioral in the model's netlists; `cosim power --level transistor`
simulates each alone at transistor level, pdk.banks, and checks this part). A bank's weighted currents meet at each output's node
(SPEC 3.1: the negative weights are a second mirror bank). A copy that pushes
current into the node (g_ij h_j > 0) draws it from the supply; a copy that pulls
current out of the node (g_ij h_j < 0) sinks what the pushing copies brought,
and draws nothing more. Each input h_j enters a diode of one device type, whose
direct copies serve the negative weights; its positive weights need it copied
once into the other type first, one more branch |h_j| from the supply. A
first-quadrant layer rectifies its inputs (a negative node stops at ground); where
a signed layer's inputs are another bank's output nodes (a projection), a negative
input is drawn from the supply through the layer bank's input diode. A bias
is an ideal source: a positive one pushes b_i (drawn), a negative one sinks. The
model's input currents come from outside and are not counted;
nor are the readout filters and the CMRU update gate (no circuit for them draws
from the supply yet).
All powers in nW; per-step arrays are (batch, time, channels).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..hw.kinds import get_kind
from ..hw.kinds.filters import FILTERS
from ..hw.reference import apply_bank, run_reference
from .model import cell_power


@dataclass
class PowerEstimate:
    """cells[l]: (batch, time, channels) nW of layer l's cells; banks: {name: (batch,
    time) nW} of each mirror bank; dt_s: the step (s)."""
    cells: list
    banks: dict
    dt_s: float

    def per_step(self) -> np.ndarray:
        """(batch, time) nW of the whole model."""
        return sum(c.sum(axis=2) for c in self.cells) + sum(self.banks.values())

    def summary(self) -> dict:
        """Means over batch and time: per layer, per block type, the total, energies."""
        cells_nw = [float(c.sum(axis=2).mean()) for c in self.cells]
        banks_nw = {k: float(v.mean()) for k, v in self.banks.items()}
        total = sum(cells_nw) + sum(banks_nw.values())
        T = self.cells[0].shape[1]
        return {"cells_nw_per_layer": cells_nw, "cells_nw": sum(cells_nw), "banks_nw": banks_nw,
                "mirrors_nw": sum(banks_nw.values()), "total_nw": total,
                "energy_per_step_pj": total * self.dt_s * 1e3, "energy_per_sequence_nj": total * self.dt_s * T}


def bank_power(bank, h: np.ndarray, vdd_v: float, fed_by_bank: bool = False) -> np.ndarray:
    """(batch, time) nW of one mirror bank on its inputs h (batch, time, n_in) in nA (module
    doc). fed_by_bank: the inputs are another bank's output nodes (the projection's), so
    their negative parts are drawn from the supply through this bank's input diodes."""
    g = np.asarray(bank.gains, np.float64)
    h = np.asarray(h, np.float64)
    # sum over outputs i of max(g_ij h_j, 0), by the sign of h_j: (batch, time)
    pushed = np.maximum(h, 0) @ np.maximum(g, 0).sum(axis=0) + np.maximum(-h, 0) @ np.maximum(-g, 0).sum(axis=0)
    flipped = (g > 0).any(axis=0).astype(np.float64)            # inputs copied into the other type
    drawn = np.maximum(-h, 0).sum(-1) if fed_by_bank else 0.0
    return vdd_v * (pushed + np.abs(h) @ flipped + drawn + np.maximum(np.asarray(bank.bias, np.float64), 0).sum())


def layer_input_rule(ir, l: int) -> tuple:
    """(rectified, fed by another bank) of layer l's bank inputs: a first-quadrant layer
    rectifies them; a signed layer 0 behind a projection draws its negative inputs."""
    rectified = get_kind(ir.layers[l].kind).first_quadrant
    return rectified, l == 0 and ir.proj is not None and not rectified


def bank_inputs(ir, x: np.ndarray, cell_outputs: list) -> dict:
    """{bank name: (bank, inputs (batch, time, n_in) units, fed by another bank)} of every
    bank of the model on inputs x; cell_outputs[l]: (batch, time, channels) layer l's output
    currents. A first-quadrant layer's bank sees its inputs rectified (SPEC: ReLU(x); a
    negative node stops at ground, drawing nothing); a signed layer fed by the projection
    draws the negative parts through its input diodes (module doc)."""
    banks, h = {}, x
    if ir.proj is not None:
        banks["proj"] = (ir.proj, x, False)
        h = apply_bank(ir.proj, x)
    for l, layer in enumerate(ir.layers):
        rectified, fed = layer_input_rule(ir, l)
        h_in = np.maximum(h, 0.0) if rectified else h
        banks[f"l{l} candidate"] = (layer.candidate, h_in, fed)
        if layer.threshold is not None:
            banks[f"l{l} threshold"] = (layer.threshold, h_in, False)    # shares the candidate's input diodes
        h = cell_outputs[l]
    r = np.concatenate(cell_outputs, axis=-1) if ir.readout_all else h
    if ir.filters is not None:
        r = FILTERS.run(ir.filters, r, ir.timing.dt_s)
    banks["readout"] = (ir.readout, r, False)
    return banks


def estimate_power(ir, x: np.ndarray, power_models: dict, vdd_v: float = 1.8) -> PowerEstimate:
    """The estimate for inputs x (batch, time, n_inputs) in units; power_models: the
    calibration's "power" section. Units must be 1 nA (as the transistor cells)."""
    if abs(ir.timing.i_unit_a - 1e-9) > 1e-21:
        raise InputError(f"the power models are calibrated for 1 unit = 1 nA, the IR has {ir.timing.i_unit_a:g} A")
    x = np.asarray(x, np.float64)
    ref = run_reference(ir, x)
    cells = []
    h = apply_bank(ir.proj, x) if ir.proj is not None else x
    for layer, tr in zip(ir.layers, ref.layers):
        if layer.kind not in power_models:
            raise InputError(f"the calibration has no power model for cell kind {layer.kind!r}: "
                             "run `cosim characterize --only power`")
        cells.append(cell_power(layer, h, tr.state, power_models[layer.kind]))
        h = tr.output
    banks = {name: bank_power(bank, h_in, vdd_v, fed)
             for name, (bank, h_in, fed) in bank_inputs(ir, x, [tr.output for tr in ref.layers]).items()}
    return PowerEstimate(cells, banks, ir.timing.dt_s)
