"""End-to-end agreement run: held-out sequences through ngspice vs the IR reference."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..analysis.agreement import AgreementResult, compare
from ..hw.ir import HardwareIR
from ..hw.reference import run_reference
from ..netlist.builder import build_netlist, max_copies
from ..netlist.sampling import step_signals
from ..spice import run_netlist


def simulate_sequences(ir: HardwareIR, x: np.ndarray, *, chunk: int | None = None, driver: str = "subprocess",
                       timeout_s: float = 600.0, log_dir=None, seed: int = 0, progress: bool = True):
    """Circuit states per layer [(batch, time, channels)] and outputs (batch, time, n_out), units.

    Sequences run `chunk` model copies per netlist (default 10, or builder.max_copies);
    each chunk's ngspice log is kept in `log_dir` (chunk_<i>.log) when given.
    """
    chunk = chunk or max_copies(ir) or 10
    states = [[] for _ in ir.layers]
    outputs = []
    starts = range(0, len(x), chunk)
    for i in tqdm(starts, desc="ngspice", unit="chunk", disable=not progress):
        net = build_netlist(ir, x[i:i + chunk])
        res = run_netlist(net.text, driver=driver, timeout_s=timeout_s, seed=seed)
        if log_dir is not None:
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            (Path(log_dir) / f"chunk_{i // chunk}.log").write_text(res.log)
        sig = step_signals(res, net, ir.timing)
        for l in range(len(ir.layers)):
            states[l].extend(copy[l] for copy in sig.states)
        outputs.extend(sig.outputs)
    return [np.stack(s) for s in states], np.stack(outputs)


def run_agreement(ir: HardwareIR, x, y, kind: str, float_score=None, **sim_kw) -> tuple:
    """(AgreementResult, circuit states, reference) for sequences x (batch, time, n_in)."""
    x = np.asarray(x, np.float64)
    circuit_states, circuit_outputs = simulate_sequences(ir, x, **sim_kw)
    ref = run_reference(ir, x)
    result: AgreementResult = compare(ir, ref, circuit_states, circuit_outputs, y, kind, float_score)
    return result, circuit_states, ref
