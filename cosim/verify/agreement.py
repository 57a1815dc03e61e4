"""End-to-end agreement run: held-out sequences through ngspice vs the IR reference."""
from __future__ import annotations

from ..analysis.agreement import AgreementResult, compare
from ..backends import simulate
from ..hw.ir import HardwareIR


def run_agreement(ir: HardwareIR, x, y, kind: str, float_score=None, **sim_kw) -> tuple:
    """(AgreementResult, circuit states, reference) for sequences x (batch, time, n_in)."""
    circuit = simulate(ir, x, backend="ngspice", **sim_kw)
    ref = simulate(ir, x, backend="reference").detail
    result: AgreementResult = compare(ir, ref, circuit.states, circuit.outputs, y, kind, float_score)
    return result, circuit.states, ref
