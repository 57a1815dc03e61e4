"""End-to-end agreement: circuit step signals vs the software reference from the IR.

Inputs are arrays: circuit states (batch, time, channels) per layer, circuit
readout currents (batch, time, outputs) in units, and the `Reference`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..hw.ir import HardwareIR
from ..hw.kinds import get_kind
from ..hw.reference import Reference, score_outputs


def snap_states(kind: str, states: np.ndarray) -> np.ndarray:
    """Circuit state read as a logical state: {0,1} (schmitt), {-1,+1} (bmru), integer rung (cmru)."""
    return get_kind(kind).snap(states)


def decision_margin(kind: str, candidate, threshold, beta1=None) -> np.ndarray:
    """How far the candidate was from changing the cell's decision (units):
    the distance to the nearest threshold (beta1 or beta2; +-|beta|)."""
    return get_kind(kind).margin(candidate, threshold, beta1)


# A step is a tie when its candidate lies within the circuit's switching ramp of a
# threshold: TIE_EPS of the half window (|beta| for bmru/cmru, delta/2 for the
# first-quadrant cell), at least TIE_FLOOR units. TIE_EPS is the latch ramp of the
# continuous latch cells (netlist.builder.LATCH_EPS, the hyst ramp of bist_sym and
# bist_latch); the clocked cells compare exactly, so this band is a conservative
# bound of both models' resolution (and far above ngspice's 12-digit currents).
TIE_EPS = 1e-3
TIE_FLOOR = 1e-6


def window(kind: str, threshold, beta1=None) -> np.ndarray:
    """Width of the cell's hold window (units): 2|beta| (bmru/cmru) or delta (schmitt)."""
    return get_kind(kind).hold_window(threshold, beta1)


def tie_band(kind: str, threshold, beta1=None) -> np.ndarray:
    """Margin (units) below which a step is a tie."""
    return np.maximum(TIE_EPS * window(kind, threshold, beta1) / 2, TIE_FLOOR)


def layer_margins(layer, trace) -> tuple:
    """(margin, tie band, window width) arrays (batch, time, channels) of one layer trace."""
    beta1 = get_kind(layer.kind).beta1(layer)
    margin = decision_margin(layer.kind, trace.candidate, trace.threshold, beta1)
    thr = np.broadcast_to(trace.threshold, margin.shape)
    return margin, tie_band(layer.kind, thr, beta1), window(layer.kind, thr, beta1)


@dataclass
class Disagreement:
    sequence: int
    step: int
    layer: int
    channel: int
    circuit: float
    software: float
    margin: float      # |candidate - nearest threshold| in units at that step
    kind: str = "disagree"   # "disagree", "tie" (margin inside the tie band), "after_tie" (the
                             # cell, or an earlier layer, differed at a tie before) or "downstream"
                             # (a cell feeding it differed at that step: its circuit drive was not
                             # the software's, so `margin`, the software's, does not apply)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AgreementResult:
    sequences: int
    steps: int
    state_agreement: float               # fraction of (sequence, step, layer, channel) equal
    per_layer: list                      # agreement per layer
    disagreements: list                  # Disagreement dicts (at most `max_listed`), ties included
    n_disagreements: int                 # differing states that are not ties (acceptance: 0)
    output_error_max: float              # |I_circuit - I_software| / I_unit, readout currents
    output_error_mean: float
    output_scale: float                  # max |I_software| / I_unit: the size the errors compare to
    decision_agreement: float | None     # classification: fraction of circuit decisions = software's
    circuit_score: float
    software_score: float
    float_score: float | None = None     # the unquantized model on the same sequences
    metric: str = "accuracy"
    states: int = 0                      # cell-steps compared
    n_ties: int = 0                      # cell-steps with the margin inside the tie band
    n_tie_differ: int = 0                # ... of which the states differ
    n_after_tie: int = 0                 # differing, outside the band, explained by an earlier tie
    n_downstream: int = 0                # differing because a cell feeding it differed (not its own)
    n_agree: int = 0                     # equal states (ties included)
    agreement_non_tie: float = 1.0       # equal fraction of the steps that are neither tie, after a tie
                                         # nor downstream

    def to_dict(self) -> dict:
        return asdict(self)


def decisions(outputs: np.ndarray, kind: str, pool: str) -> np.ndarray | None:
    """Class decisions (batch,) or (batch, time) of a classifier; None for regression."""
    if kind == "classify_each":
        return outputs.argmax(-1)
    if kind == "classify_last":
        return (outputs.mean(axis=1) if pool == "mean" else outputs[:, -1]).argmax(-1)
    return None


@dataclass
class StateAgreement:
    """Tie-aware state agreement over (sequence, step, layer, channel)."""
    states: int
    n_agree: int
    n_ties: int                # margin inside the tie band (agreeing or not)
    n_tie_differ: int
    n_after_tie: int           # differing outside the band, after a tie of the cell or an earlier layer
    n_downstream: int          # differing while (or since) a cell feeding it differed
    n_disagreements: int       # differing, neither tie, after a tie nor downstream: the cell's own
    per_layer: list
    disagreements: list        # Disagreement dicts, ties included (at most max_listed)

    @property
    def state_agreement(self) -> float:
        return self.n_agree / max(self.states, 1)

    @property
    def agreement_non_tie(self) -> float:
        excluded = self.n_ties + self.n_after_tie + self.n_downstream
        return 1 - self.n_disagreements / max(self.states - excluded, 1)

    def to_dict(self) -> dict:
        return {**asdict(self), "state_agreement": self.state_agreement,
                "agreement_non_tie": self.agreement_non_tie}


def _fed_by(layer, prev_bad: np.ndarray | None) -> np.ndarray | None:
    """(batch, time, channels): a cell feeding this layer's cell (a nonzero gain in its
    candidate or threshold bank) differed at that step; None for the first layer."""
    if prev_bad is None:
        return None
    banks = [b for b in (getattr(layer, "candidate", None), getattr(layer, "threshold", None)) if b is not None]
    if banks:
        feeds = sum(np.abs(np.asarray(b.gains, np.float64)) for b in banks) > 0     # (n_out, n_in)
    else:      # a layer given without its banks: every earlier cell feeds every cell
        feeds = np.ones((1, prev_bad.shape[2]), bool)
    return (prev_bad.astype(np.float64) @ feeds.T.astype(np.float64)) > 0


def state_agreement(ir: HardwareIR, ref: Reference, circuit_states: list, max_listed: int = 200) -> StateAgreement:
    """Compare circuit states (list per layer of (batch, time, channels)) with the reference:
    each differing cell-step is a tie (margin inside `tie_band`), after a tie (the same
    cell differed at a tie earlier in the sequence, or a cell of an earlier layer did),
    downstream (a cell of the previous layer that feeds it differed at that step, or it
    has differed since one did: the circuit drove it with another current than the
    software) or a disagreement, the cell's own."""
    per_layer, listed, total_bad, total = [], [], 0, 0
    n_ties = n_tie_differ = n_after = n_down = n_real = 0
    upstream = None    # (batch, time): an earlier layer differed there, excused (tie / after a tie)
    prev_bad = None    # (batch, time, channels) of the previous layer: its states differed
    for l, (layer, tr) in enumerate(zip(ir.layers, ref.layers)):
        circ = snap_states(layer.kind, circuit_states[l])
        bad = circ != tr.state
        per_layer.append(float(1 - bad.mean()))
        total_bad += int(bad.sum())
        total += bad.size
        margin, band, _ = layer_margins(layer, tr)
        tie = margin <= band
        fed = _fed_by(layer, prev_bad)
        # a difference that starts at a tie (or while an earlier layer differs at a
        # tie) is carried by the state until the cell agrees again: "after a tie";
        # one that starts while a feeding cell differs is carried the same way: "downstream"
        after = np.zeros_like(bad)
        down = np.zeros_like(bad)
        streak = np.zeros((bad.shape[0], bad.shape[2]), bool)
        down_streak = np.zeros_like(streak)
        for t in range(bad.shape[1]):
            cause = tie[:, t] if upstream is None else tie[:, t] | upstream[:, t, None]
            streak = bad[:, t] & (streak | cause)
            after[:, t] = streak & ~tie[:, t]
            own = bad[:, t] & ~tie[:, t] & ~after[:, t]
            down_streak = own & (down_streak | (False if fed is None else fed[:, t]))
            down[:, t] = down_streak
        real = bad & ~tie & ~after & ~down
        n_ties += int(tie.sum())
        n_tie_differ += int((bad & tie).sum())
        n_after += int(after.sum())
        n_down += int(down.sum())
        n_real += int(real.sum())
        excused = ((bad & tie) | after).any(axis=2)
        upstream = excused if upstream is None else upstream | excused
        prev_bad = bad
        for b, t, c in zip(*np.nonzero(bad)):
            if len(listed) >= max_listed:
                break
            k = ("tie" if tie[b, t, c] else "after_tie" if after[b, t, c]
                 else "downstream" if down[b, t, c] else "disagree")
            listed.append(Disagreement(int(b), int(t), l, int(c), float(circ[b, t, c]),
                                       float(tr.state[b, t, c]), float(margin[b, t, c]), k).to_dict())
    return StateAgreement(total, total - total_bad, n_ties, n_tie_differ, n_after, n_down, n_real,
                          per_layer, listed)


def compare(ir: HardwareIR, ref: Reference, circuit_states: list, circuit_outputs: np.ndarray,
            y, kind: str, float_score: float | None = None, max_listed: int = 200) -> AgreementResult:
    """circuit_states[l]: (batch, time, channels); circuit_outputs: (batch, time, n_out) units."""
    sa = state_agreement(ir, ref, circuit_states, max_listed)
    err = np.abs(circuit_outputs - ref.outputs)
    d_circ, d_ref = decisions(circuit_outputs, kind, ir.pool), decisions(ref.outputs, kind, ir.pool)
    return AgreementResult(
        sequences=circuit_outputs.shape[0], steps=circuit_outputs.shape[1],
        state_agreement=sa.state_agreement, per_layer=sa.per_layer,
        disagreements=sa.disagreements, n_disagreements=sa.n_disagreements, states=sa.states,
        n_ties=sa.n_ties, n_tie_differ=sa.n_tie_differ, n_after_tie=sa.n_after_tie,
        n_downstream=sa.n_downstream, n_agree=sa.n_agree, agreement_non_tie=sa.agreement_non_tie,
        output_error_max=float(err.max()), output_error_mean=float(err.mean()),
        output_scale=float(np.abs(ref.outputs).max()),
        decision_agreement=None if d_ref is None else float((d_circ == d_ref).mean()),
        circuit_score=score_outputs(circuit_outputs, y, kind, ir.pool),
        software_score=score_outputs(ref.outputs, y, kind, ir.pool),
        float_score=float_score, metric="MAE" if kind == "regress_last" else "accuracy")
