"""One batch of Monte-Carlo runs: M perturbed circuits in one netlist.

`run_batch` is a plain function of plain data (IR dict, arrays, seeds) so it
can run in a spawned process or on a Dask worker. Each run i draws its own
mismatch (seed m_i) on the nominal IR and its own input-current noise (seed
n_i, per step, std `noise_na` nA), evaluates the S held-out sequences in
ngspice and in the software reference of the SAME perturbed IR (both through
the backend seam, one IR per model copy), and returns one record. A failed ngspice call yields records with the error and seeds.
"""
from __future__ import annotations

import os
import signal
import tempfile
import time

import numpy as np

from ..analysis.agreement import compare, snap_states
from ..backends import simulate
from ..hw.kinds import get_kind
from ..hw.ir import HardwareIR
from ..hw.mismatch import perturb_ir
from ..netlist.builder import max_copies


def layer_noise(ir: HardwareIR, seed: int, shape_bt: tuple, noise_na: float) -> list | None:
    """Per-layer input-current noise (batch, time, channels) in units, or None;
    noise_na: its standard deviation in nA (1 unit = ir.timing.i_unit_a)."""
    if noise_na <= 0:
        return None
    rng = np.random.default_rng(seed)
    std = noise_na * 1e-9 / ir.timing.i_unit_a
    return [rng.normal(0.0, std, (*shape_bt, layer.n)) for layer in ir.layers]


def run_batch(ir_dict: dict, runs: list, p, noise_na: float, x, y, kind: str,
              nominal_states: list, timeout_s: float = 300.0) -> list:
    """runs: [(index, mismatch_seed, noise_seed)]; x (S, time, n_in); nominal_states[l]:
    (S, time, channels) states of the nominal circuit. Returns one record per run."""
    start = time.perf_counter()
    nominal = HardwareIR.from_dict(ir_dict)
    x = np.asarray(x, np.float64)
    S = len(x)
    irs, noises = [], []
    for _, m_seed, n_seed in runs:
        irs.append(perturb_ir(nominal, p, m_seed))
        noises.append(layer_noise(nominal, n_seed, x.shape[:2], noise_na))
    base = [{"run": i, "mismatch_seed": m, "noise_seed": n, "p": p, "noise_na": noise_na}
            for i, m, n in runs]
    copies = [ir for ir in irs for _ in range(S)]
    xs = np.concatenate([x] * len(runs))
    nzs = None if noise_na <= 0 else \
        [np.concatenate([nz[l] for nz in noises]) for l in range(len(nominal.layers))]
    try:
        sim = simulate(copies, xs, backend="ngspice", noise=nzs, chunk=max_copies(nominal) or len(copies),
                       timeout_s=timeout_s, seed=int(runs[0][1]) % 2**31)
    except Exception as exc:  # recorded per run; the study goes on
        return failed_records(runs, p, noise_na, exc)
    wall = time.perf_counter() - start
    records = []
    for r, (ir, nz) in enumerate(zip(irs, noises)):
        rows = slice(r * S, (r + 1) * S)
        states = [s[rows] for s in sim.states]
        outputs = sim.outputs[rows]
        ref = simulate(ir, x, backend="reference", noise=nz).detail
        agree = compare(ir, ref, states, outputs, y, kind, max_listed=0)
        flips = sum(int((snap_states(layer.kind, s) != n).sum())
                    for layer, s, n in zip(nominal.layers, states, nominal_states))
        cells = sum(s.size for s in nominal_states)
        records.append({**base[r], "ok": True, "circuit_score": agree.circuit_score,
                        "software_score": agree.software_score,
                        "agreement_software": agree.state_agreement,
                        "agreement_nominal": 1 - flips / cells, "state_flips": flips,
                        "wall_s": wall / len(runs), **_draws(ir)})
    return records


def failed_records(runs: list, p, noise_na: float, error) -> list:
    """One failed record per run of a batch: its seeds and a one-line error (an
    exception or a text)."""
    if isinstance(error, BaseException):
        lines = str(error).splitlines() or [""]
        error = f"{type(error).__name__}: {lines[0][:300]}"
    return [{"run": i, "mismatch_seed": m, "noise_seed": n, "p": p, "noise_na": noise_na,
             "ok": False, "error": error} for i, m, n in runs]


# --- worker-process side of the local pool -------------------------------------------

class _Terminated(BaseException):
    """Raised by the SIGTERM handler inside a batch: unwinds it, so that the ngspice
    child is killed and its temporary folder removed, before the worker exits."""


_IN_BATCH = False


def _on_sigterm(signum, frame):
    if _IN_BATCH:
        raise _Terminated()
    os._exit(128 + signum)


def init_worker(scratch_dir: str) -> None:
    """Pool initializer: temporary folders (ngspice's) under the study's scratch folder,
    which the study removes at its start and end; SIGTERM cleans up before exiting.
    Ctrl-C (SIGINT to the process group) is ignored here: the parent handles it and
    stops the workers with SIGTERM (a worker interrupted by SIGINT could stay blocked
    on the pool's queues, and the parent's exit with it)."""
    tempfile.tempdir = scratch_dir
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)


def worker_batch(*job) -> list:
    """run_batch(*job) in a pool worker; exits the worker (status 143) after cleaning up
    when SIGTERM arrives mid-batch."""
    global _IN_BATCH
    _IN_BATCH = True
    try:
        return run_batch(*job)
    except _Terminated:
        os._exit(128 + signal.SIGTERM)
    finally:
        _IN_BATCH = False


def _draws(ir: HardwareIR) -> dict:
    """Drawn circuit quantities worth a histogram: first-quadrant thresholds, ladder rungs."""
    out = {}
    for l, layer in enumerate(ir.layers):
        out.update(get_kind(layer.kind).drawn(layer, l))
    return out
