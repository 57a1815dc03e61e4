"""End-to-end agreement: circuit step signals vs the software reference from the IR.

Inputs are arrays: circuit states (batch, time, channels) per layer, circuit
readout currents (batch, time, outputs) in units, and the `Reference`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..hw.ir import HardwareIR
from ..hw.reference import Reference


def snap_states(kind: str, states: np.ndarray) -> np.ndarray:
    """Circuit state read as a logical state: {0,1} (schmitt), {-1,+1} (bmru), integer rung (cmru)."""
    if kind == "schmitt":
        return (states >= 0.5).astype(np.float64)
    if kind == "bmru":
        return np.where(states >= 0, 1.0, -1.0)
    return np.round(states)


def decision_margin(kind: str, candidate, threshold, beta1=None) -> np.ndarray:
    """How far the candidate was from changing the cell's decision (units)."""
    if kind == "schmitt":
        return np.minimum(np.abs(candidate - threshold), np.abs(candidate - beta1))
    return np.abs(np.abs(candidate) - np.abs(threshold))


@dataclass
class Disagreement:
    sequence: int
    step: int
    layer: int
    channel: int
    circuit: float
    software: float
    margin: float      # |candidate - nearest threshold| in units at that step

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AgreementResult:
    sequences: int
    steps: int
    state_agreement: float               # fraction of (sequence, step, layer, channel) equal
    per_layer: list                      # agreement per layer
    disagreements: list                  # Disagreement dicts (at most `max_listed`)
    n_disagreements: int
    output_error_max: float              # |I_circuit - I_software| / I_unit, readout currents
    output_error_mean: float
    output_scale: float                  # max |I_software| / I_unit: the size the errors compare to
    decision_agreement: float | None     # classification: fraction of circuit decisions = software's
    circuit_score: float
    software_score: float
    float_score: float | None = None     # the unquantized model on the same sequences
    metric: str = "accuracy"

    def to_dict(self) -> dict:
        return asdict(self)


def score_outputs(outputs: np.ndarray, y, kind: str, pool: str) -> float:
    """Task score from per-step outputs (batch, time, n_out): accuracy or MAE."""
    y = np.asarray(y)
    if kind == "classify_each":
        return float((outputs.argmax(-1) == y).mean())
    seq = outputs.mean(axis=1) if pool == "mean" else outputs[:, -1]
    if kind == "classify_last":
        return float((seq.argmax(-1) == y).mean())
    return float(np.abs(seq - y).mean())


def decisions(outputs: np.ndarray, kind: str, pool: str) -> np.ndarray | None:
    """Class decisions (batch,) or (batch, time) of a classifier; None for regression."""
    if kind == "classify_each":
        return outputs.argmax(-1)
    if kind == "classify_last":
        return (outputs.mean(axis=1) if pool == "mean" else outputs[:, -1]).argmax(-1)
    return None


def compare(ir: HardwareIR, ref: Reference, circuit_states: list, circuit_outputs: np.ndarray,
            y, kind: str, float_score: float | None = None, max_listed: int = 200) -> AgreementResult:
    """circuit_states[l]: (batch, time, channels); circuit_outputs: (batch, time, n_out) units."""
    per_layer, listed, total_bad, total = [], [], 0, 0
    for l, (layer, tr) in enumerate(zip(ir.layers, ref.layers)):
        circ = snap_states(layer.kind, circuit_states[l])
        bad = circ != tr.state
        per_layer.append(float(1 - bad.mean()))
        total_bad += int(bad.sum())
        total += bad.size
        if bad.any():
            beta1 = np.asarray(layer.beta1) if layer.kind == "schmitt" else None
            margin = decision_margin(layer.kind, tr.candidate, tr.threshold, beta1)
            for b, t, c in zip(*np.nonzero(bad)):
                if len(listed) < max_listed:
                    listed.append(Disagreement(int(b), int(t), l, int(c), float(circ[b, t, c]),
                                               float(tr.state[b, t, c]), float(margin[b, t, c])).to_dict())
    err = np.abs(circuit_outputs - ref.outputs)
    d_circ, d_ref = decisions(circuit_outputs, kind, ir.pool), decisions(ref.outputs, kind, ir.pool)
    return AgreementResult(
        sequences=circuit_outputs.shape[0], steps=circuit_outputs.shape[1],
        state_agreement=1 - total_bad / max(total, 1), per_layer=per_layer,
        disagreements=listed, n_disagreements=total_bad,
        output_error_max=float(err.max()), output_error_mean=float(err.mean()),
        output_scale=float(np.abs(ref.outputs).max()),
        decision_agreement=None if d_ref is None else float((d_circ == d_ref).mean()),
        circuit_score=score_outputs(circuit_outputs, y, kind, ir.pool),
        software_score=score_outputs(ref.outputs, y, kind, ir.pool),
        float_score=float_score, metric="MAE" if kind == "regress_last" else "accuracy")
