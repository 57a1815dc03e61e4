"""Software reference evaluated from the hardware IR (numpy, float64).

Exactly what the circuit should implement: the (quantized) IR parameters,
the finite ladder, the same cell equations as cosim.cells, step by step.
Shapes: x (batch, time, n_inputs) in units -> outputs (batch, time, n_outputs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .ir import CellLayer, HardwareIR, MirrorBank
from .kinds import get_kind
from .kinds.filters import FILTERS


def apply_bank(bank: MirrorBank, x: np.ndarray) -> np.ndarray:
    """Weighted current sums: (..., n_in) -> (..., n_out)."""
    return x @ np.asarray(bank.gains, np.float64).T + np.asarray(bank.bias, np.float64)


@dataclass
class LayerTrace:
    """Per-step signals of one layer, each (batch, time, channels), in units."""
    candidate: np.ndarray
    threshold: np.ndarray
    gate: np.ndarray
    state: np.ndarray
    output: np.ndarray


def run_layer(layer: CellLayer, x: np.ndarray, noise=None) -> LayerTrace:
    """Evaluate one cell layer on input currents x (batch, time, n_in).

    noise: optional (batch, time, channels) extra current (units) at the cell
    inputs, added to the candidate sum before the first-quadrant ReLU (where
    the circuit adds it)."""
    extra = 0.0 if noise is None else np.asarray(noise, np.float64)
    kind = get_kind(layer.kind)
    batch, T, _ = x.shape
    s = np.broadcast_to(np.asarray(layer.init_state, np.float64), (batch, layer.n)).copy()
    c, thr, gate, update = kind.signals(layer, x, extra)
    states = np.empty((batch, T, layer.n))
    for t in range(T):
        s = update(s, t)
        states[:, t] = s
    return LayerTrace(c, np.asarray(thr), gate.astype(np.float64), states, kind.output(layer, states))


@dataclass
class Reference:
    outputs: np.ndarray           # (batch, time, n_outputs) readout currents, units
    layers: list                  # LayerTrace per layer

    def sequence_output(self, pool: str) -> np.ndarray:
        """(batch, n_outputs): last step or mean over steps."""
        return self.outputs.mean(axis=1) if pool == "mean" else self.outputs[:, -1]


def run_reference(ir: HardwareIR, x, noise=None) -> Reference:
    """Evaluate the whole IR model on inputs x (batch, time, n_inputs);
    noise[l]: optional (batch, time, channels) input-current noise of layer l."""
    h = np.asarray(x, np.float64)
    if h.ndim != 3 or h.shape[2] != ir.n_inputs:
        raise InputError(f"inputs must be (batch, time, {ir.n_inputs}), got {h.shape}")
    if ir.proj is not None:
        h = apply_bank(ir.proj, h)
    traces = []
    for l, layer in enumerate(ir.layers):
        tr = run_layer(layer, h, None if noise is None else noise[l])
        traces.append(tr)
        h = tr.output
    if ir.readout_all:
        h = np.concatenate([tr.output for tr in traces], axis=-1)
    if ir.filters is not None:
        h = FILTERS.run(ir.filters, h, ir.timing.dt_s)
    return Reference(apply_bank(ir.readout, h), traces)


def score_outputs(outputs: np.ndarray, y, kind: str, pool: str) -> float:
    """Task score from per-step outputs (batch, time, n_out) of any simulation:
    accuracy, or mean absolute error for regression (the one scoring function)."""
    y = np.asarray(y)
    if kind == "classify_each":
        return float((outputs.argmax(-1) == y).mean())
    seq = outputs.mean(axis=1) if pool == "mean" else outputs[:, -1]
    if kind == "classify_last":
        return float((seq.argmax(-1) == y).mean())
    return float(np.abs(seq - y).mean())
