"""Monte-Carlo study runner: local process pool or a Dask cluster, resumable.

Layout of a study folder (rules in study.py):
    study.json     the parameters and the model's content hash (checked on --resume)
    study.lock     flock'ed by the one process writing the study
    nominal.npz    nominal circuit states of the S sequences (+ score)
    runs.jsonl     one record per finished run, appended as runs finish; a failed
                   run is run again on --resume (its new record wins)
    .scratch/      worker temporary folders (ngspice), removed at start and end
    runs.csv, summary.json, *.png   written at the end
"""
from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..analysis.agreement import snap_states
from ..backends import simulate
from ..errors import InputError
from ..hw.mismatch import mismatch_spec
from ..hw.reference import score_outputs
from ..hw.source import load_source
from ..spice import SpiceError
from . import study
from .fast_job import run_batch_fast, spot_check
from .job import failed_records, init_worker, worker_batch
from .seeds import run_seeds
from .store import RunStore, write_csv
from .summary import summarize

CELL_COPIES_PER_NETLIST = 64     # ENV.md: 16-64 cells per netlist is the sweet spot
WORKER_TASKS = 25                # recycle a worker process after this many batches (memory cap)
NOISE_MAX_NA = 10.0              # largest --noise: 10x the unit current (1 nA) per step
WORKER_DEATHS_PER_BATCH = 3      # a batch whose pool broke this often is recorded as failed
CONNECT_TIMEOUT_S = 5.0          # Dask scheduler connect timeout (s)
STOP_WAIT_S = 5.0                # how long a stopped worker may take to clean up (s)
ENGINES = ("ngspice", "fast")    # --engine: ngspice netlists, or the batched engine (cosim.engine)
FAST_CHUNK = 250                 # runs per fast-engine call (memory: draws x sequences x steps x cells)


def auto_batch(cells: int, sequences: int, runs: int | None = None, workers: int = 1,
               limit: int | None = None) -> int:
    """Runs per netlist when packing is wanted (benchmarks): about 64 cell copies per
    netlist, at most `limit` copies (builder.max_copies), and at least 4 batches per
    worker when `runs` is given. Not the default: ngspice gains at most 1.04x from
    packing, and each copy gets slower (README, Speed)."""
    m = max(1, min(32, round(CELL_COPIES_PER_NETLIST / (cells * sequences))))
    if limit is not None:
        m = max(1, min(m, limit // sequences))
    return m if runs is None else max(1, min(m, runs // (4 * workers)))


def check_study_args(runs, sequences, workers, batch, noise_na, timeout_s) -> None:
    """InputError (naming the flag) for values no study can use."""
    for flag, v in (("--runs", runs), ("--sequences", sequences), ("--workers", workers),
                    ("--batch", batch)):
        if v is not None and (not isinstance(v, int) or v < 1):
            raise InputError(f"{flag} must be an integer >= 1, got {v!r}")
    if not math.isfinite(noise_na) or not 0 <= noise_na <= NOISE_MAX_NA:
        raise InputError(f"--noise must be a current in [0, {NOISE_MAX_NA:g}] (units of 1 nA "
                         f"per step), got {noise_na}")
    if not math.isfinite(timeout_s) or timeout_s <= 0:
        raise InputError(f"--timeout must be a number of seconds > 0, got {timeout_s}")


def _nominal(ir, x, y, kind, out: Path, timeout_s, engine: str = "ngspice"):
    path = out / study.NOMINAL_FILE
    if path.exists():
        data = np.load(path, allow_pickle=False)
        return [data[f"l{l}"] for l in range(len(ir.layers))], float(data["score"])
    try:
        sim = (simulate(ir, x, backend="fast") if engine == "fast" else
               simulate(ir, x, backend="ngspice", timeout_s=timeout_s))
        states, outputs = sim.states, sim.outputs
    except SpiceError as exc:          # one line; the study holds no run, a rerun starts afresh
        lines = str(exc).splitlines() or [type(exc).__name__]
        raise InputError(f"the nominal circuit failed in ngspice, no run was started: "
                         f"{lines[0][:200]}") from None
    states = [snap_states(layer.kind, s) for layer, s in zip(ir.layers, states)]
    score = score_outputs(outputs, y, kind, ir.pool)
    tmp = out / ".nominal.tmp.npz"
    np.savez(tmp, score=score, **{f"l{l}": s for l, s in enumerate(states)})
    tmp.replace(path)
    return states, score


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises KeyboardInterrupt in the main thread while the study runs, so a
    killed study stops its workers and cleans up like Ctrl-C (exit 130)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _connect(scheduler: str, workers: int):
    """(client, cluster or None) for 'local' (a LocalCluster) or tcp://HOST:PORT; a
    scheduler not reached within CONNECT_TIMEOUT_S is one InputError."""
    from dask.distributed import Client, LocalCluster

    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S), None
    except Exception as exc:  # OSError, TimeoutError, ValueError (bad address), ...
        lines = str(exc).splitlines() or [type(exc).__name__]
        raise InputError(f"--scheduler {scheduler}: cannot connect within "
                         f"{CONNECT_TIMEOUT_S:g} s ({type(exc).__name__}: {lines[0][:160]})"
                         ) from None


def _close(conn) -> None:
    """Close a (client, cluster) pair from _connect (None: nothing to close)."""
    if conn is not None:
        conn[0].close()
        if conn[1] is not None:
            conn[1].close()


def _dask_batches(client, jobs: list):
    """Yield each finished batch's records; a batch whose task failed (KilledWorker
    after Dask's own retries, ...) yields failed records."""
    from dask.distributed import as_completed as dask_completed

    futs = {client.submit(worker_batch, *job, pure=False): job for job in jobs}
    for fut in dask_completed(list(futs)):
        try:
            yield fut.result()
        except Exception as exc:
            job = futs[fut]
            yield failed_records(job[1], job[2], job[3], exc)


def _stop_pool(pool: ProcessPoolExecutor, abort: bool) -> None:
    """Shut a pool down; on abort also SIGTERM its live workers (they kill their ngspice
    and remove its folder, see job.init_worker) and wait up to STOP_WAIT_S for them."""
    if not abort:
        pool.shutdown(wait=True)
        return
    procs = list((getattr(pool, "_processes", None) or {}).values())  # no public handle
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(STOP_WAIT_S)
        if proc.is_alive():          # did not clean up in time: never leave the parent waiting on it
            proc.kill()
            proc.join(STOP_WAIT_S)


def _local_batches(workers: int, jobs: list, scratch_dir: Path):
    """Yield each finished batch's records from spawned worker processes.

    Workers are recycled by starting a fresh pool every `workers * WORKER_TASKS`
    batches (Python 3.11's max_tasks_per_child can deadlock when it replaces
    workers). A worker that dies (SIGKILL, out-of-memory kill) breaks the pool:
    the unfinished batches go to a fresh pool, and a batch caught in
    WORKER_DEATHS_PER_BATCH broken pools is recorded as failed.
    """
    ctx = multiprocessing.get_context("spawn")
    wave = workers * WORKER_TASKS
    queue = list(enumerate(jobs))
    deaths = Counter()
    while queue:
        current, queue = queue[:wave], queue[wave:]
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                   initargs=(str(scratch_dir),))
        futs = {pool.submit(worker_batch, *job): (k, job) for k, job in current}
        broken, abort = [], True
        try:
            for fut in as_completed(futs):
                k, job = futs[fut]
                try:
                    records = fut.result()
                except BrokenProcessPool:
                    broken.append((k, job))
                    continue
                except Exception as exc:       # e.g. a batch that cannot be pickled
                    records = failed_records(job[1], job[2], job[3], exc)
                yield records
            abort = bool(broken)
        finally:
            _stop_pool(pool, abort)
        retry = []
        for k, job in broken:
            deaths[k] += 1
            if deaths[k] >= WORKER_DEATHS_PER_BATCH:
                yield failed_records(job[1], job[2], job[3], "worker process died (killed, "
                                     f"e.g. out of memory) in {deaths[k]} tries")
            else:
                retry.append((k, job))
        queue = retry + queue


def _load_case(model_dir, sequences: int, bits: int):
    """(ir, x, y, kind) of the model (checkpoint folder or .hw.json IR file) and its
    first `sequences` held-out sequences."""
    src = load_source(model_dir, bits)
    x, y = src.task.x_test[:sequences].astype(np.float64), src.task.y_test[:sequences]
    return src.ir, x, y, src.task.kind


def run_study(model_dir, out_dir, *, runs: int = 200, mismatch=0.05, noise_na: float = 0.0,
              sequences: int = 8, batch: int | None = None, workers: int = 2, seed: int = 0,
              resume: bool = False, scheduler: str | None = None, timeout_s: float = 300.0,
              bits: int = 6, progress: bool = True, engine: str = "fast", spot_check: int = 0,
              device: str = "cpu") -> dict:
    """Run (or continue) a Monte-Carlo study; returns the summary dict.

    batch: runs per netlist (default 1: one model copy per netlist). noise_na:
    input-current noise std per step in units of 1 nA, in [0, NOISE_MAX_NA].
    timeout_s: ngspice wall-clock limit per netlist (s). engine: "fast" (the
    batched engine, in this process, on `device`; default) or "ngspice" (each
    run's netlists in the worker pool or on Dask); spot_check: that many random runs
    re-simulated in ngspice and compared state by state (summary
    "spot_check"; any real difference is a failed check). Runs without a
    successful record (never run, or failed) are run; the summary counts each
    run once. Bad arguments, a folder that is not a study, a locked or changed
    study: InputError.
    """
    check_study_args(runs, sequences, workers, batch, noise_na, timeout_s)
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "fast" and scheduler:
        raise InputError("--scheduler (Dask) runs ngspice netlists: add --engine ngspice, or drop "
                         "--scheduler (the fast engine runs in this process)")
    if not 0 <= spot_check <= runs:
        raise InputError(f"--spot-check must be in 0..{runs} (the study's runs), got {spot_check}")
    p = mismatch_spec(mismatch)
    out = Path(out_dir)
    study.check_folder(out)
    ir, x, y, kind = _load_case(model_dir, sequences, bits)
    params = {"model": os.path.abspath(model_dir),
              "model_sha256": study.model_sha256(ir.to_dict(), x, y), "runs": runs,
              "mismatch": p, "noise_na": noise_na, "sequences": sequences, "seed": seed,
              "bits": bits, "engine": engine}
    study.make_folder(out)
    with study.StudyLock(out), _sigterm_as_interrupt():
        study.check_folder(out)
        study.open_study(out, params, resume)
        scratch = study.scratch(out)
        try:
            return _run_locked(ir, x, y, kind, out, params, scratch, batch=batch or 1,
                               workers=workers, scheduler=scheduler, timeout_s=timeout_s,
                               progress=progress, spot=spot_check, device=device)
        finally:
            study.remove_scratch(out)


def _run_locked(ir, x, y, kind, out: Path, params: dict, scratch: Path, *, batch: int,
                workers: int, scheduler, timeout_s: float, progress: bool, spot: int = 0,
                device: str = "cpu") -> dict:
    """The study proper, under the study lock: pending runs, then the summary files."""
    fast = params["engine"] == "fast"
    conn = _connect(scheduler, workers) if scheduler and not fast else None
    try:
        nominal_states, nominal_score = _nominal(ir, x, y, kind, out, timeout_s, params["engine"])
        store = RunStore(out / study.RUNS_FILE)
        store.repair()
        ok = {r["run"] for r in store.load(warn=True) if r.get("ok")}
        seeds = run_seeds(params["seed"], params["runs"])
        pending = [(i, *seeds[i]) for i in range(params["runs"]) if i not in ok]
        p, noise_na = params["mismatch"], params["noise_na"]
        if fast:
            size = FAST_CHUNK
            batches = (run_batch_fast(ir.to_dict(), pending[i:i + size], p, noise_na, x, y, kind,
                                      nominal_states, device) for i in range(0, len(pending), size))
            _consume(batches, store, params["runs"], len(ok), progress)
        else:
            chunks = [pending[i:i + batch] for i in range(0, len(pending), batch)]
            jobs = [(ir.to_dict(), chunk, p, noise_na, x, y, kind, nominal_states, timeout_s)
                    for chunk in chunks]
            if jobs:
                batches = (_dask_batches(conn[0], jobs) if conn else
                           _local_batches(workers, jobs, scratch))
                _consume(batches, store, params["runs"], len(ok), progress)
    finally:
        _close(conn)
    records = [r for r in store.load() if r["run"] < params["runs"]]
    summary = summarize(records, nominal_score, kind)
    summary.update({"batch": batch, "workers": workers,
                    "scheduler": "in process" if fast else (scheduler or "local pool"), **params})
    if spot:
        rng = np.random.default_rng([params["seed"], 0x5C])
        chosen = [records[int(k)] for k in rng.choice(len(records), size=min(spot, len(records)), replace=False)]
        summary["spot_check"] = spot_check(ir, [(r["run"], r["mismatch_seed"], r["noise_seed"]) for r in chosen],
                                           params["mismatch"], params["noise_na"], x, timeout_s, device)
    write_csv(records, out / "runs.csv")
    study.write_json(out / "summary.json", summary)
    from ..plots.montecarlo import plot_study
    plot_study(records, summary, out)
    return summary


def _consume(batches, store: RunStore, runs: int, done: int, progress: bool) -> None:
    """Append every batch's records as it finishes, with a progress bar."""
    failures = 0
    bar = tqdm(total=runs, initial=done, desc="montecarlo", unit="run", disable=not progress)
    try:
        for records in batches:
            store.append(records)
            failures += sum(not r["ok"] for r in records)
            bar.update(len(records))
            bar.set_postfix(failed=failures)
    finally:
        if hasattr(batches, "close"):
            batches.close()
        bar.close()
