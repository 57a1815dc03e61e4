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
once into the other type first, one more branch |h_j| from the supply. Where the
inputs are another bank's output nodes (the projection feeding layer 0), a
negative input is drawn from the supply through this bank's input diode. A bias
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


def estimate_power(ir, x: np.ndarray, power_models: dict, vdd_v: float = 1.8) -> PowerEstimate:
    """The estimate for inputs x (batch, time, n_inputs) in units; power_models: the
    calibration's "power" section. Units must be 1 nA (as the transistor cells)."""
    if abs(ir.timing.i_unit_a - 1e-9) > 1e-21:
        raise InputError(f"the power models are calibrated for 1 unit = 1 nA, the IR has {ir.timing.i_unit_a:g} A")
    x = np.asarray(x, np.float64)
    ref = run_reference(ir, x)
    banks, cells = {}, []
    h = x
    if ir.proj is not None:
        banks["proj"] = bank_power(ir.proj, h, vdd_v)
        h = apply_bank(ir.proj, h)
    for l, (layer, tr) in enumerate(zip(ir.layers, ref.layers)):
        if layer.kind not in power_models:
            raise InputError(f"the calibration has no power model for cell kind {layer.kind!r}: "
                             "run `cosim characterize --only power`")
        banks[f"l{l} candidate"] = bank_power(layer.candidate, h, vdd_v, fed_by_bank=l == 0 and ir.proj is not None)
        if layer.threshold is not None:
            banks[f"l{l} threshold"] = bank_power(layer.threshold, h, vdd_v)
        cells.append(cell_power(layer, h, tr.state, power_models[layer.kind]))
        h = tr.output
    r = np.concatenate([tr.output for tr in ref.layers], axis=-1) if ir.readout_all else h
    if ir.filters is not None:
        r = FILTERS.run(ir.filters, r, ir.timing.dt_s)
    banks["readout"] = bank_power(ir.readout, r, vdd_v)
    return PowerEstimate(cells, banks, ir.timing.dt_s)
