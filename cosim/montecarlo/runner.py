"""Monte-Carlo study runner: local process pool or a Dask cluster, resumable.

Layout of a study folder:
    study.json     the parameters (checked on --resume)
    nominal.npz    nominal circuit states of the S sequences (+ score)
    runs.jsonl     one record per finished run, appended as runs finish
    runs.csv, summary.json, *.png   written at the end
"""
from __future__ import annotations

import json
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..analysis.agreement import score_outputs, snap_states
from ..hw.mapping import model_to_ir
from ..hw.mismatch import mismatch_spec
from ..models import checkpoint
from ..models.recipe import task_from_config
from ..netlist.builder import max_copies
from ..verify.agreement import simulate_sequences
from .job import run_batch
from .seeds import run_seeds
from .store import RunStore, write_csv
from .summary import summarize

CELL_COPIES_PER_NETLIST = 64     # ENV.md: 16-64 cells per netlist is the sweet spot
WORKER_TASKS = 25                # recycle a worker process after this many batches (memory cap)


def auto_batch(cells: int, sequences: int, runs: int | None = None, workers: int = 1,
               limit: int | None = None) -> int:
    """Runs per netlist: about 64 cell copies per netlist, at most `limit` copies
    (builder.max_copies), and at least 4 batches per worker when `runs` is given
    (so that the workers stay evenly loaded; ngspice itself gains nothing from
    batching, see benchmarks/montecarlo.py)."""
    m = max(1, min(32, round(CELL_COPIES_PER_NETLIST / (cells * sequences))))
    if limit is not None:
        m = max(1, min(m, limit // sequences))
    return m if runs is None else max(1, min(m, runs // (4 * workers)))


def _nominal(ir, x, y, kind, out: Path, timeout_s):
    path = out / "nominal.npz"
    if path.exists():
        data = np.load(path, allow_pickle=False)
        return [data[f"l{l}"] for l in range(len(ir.layers))], float(data["score"])
    states, outputs = simulate_sequences(ir, x, progress=False, timeout_s=timeout_s)
    states = [snap_states(layer.kind, s) for layer, s in zip(ir.layers, states)]
    score = score_outputs(outputs, y, kind, ir.pool)
    tmp = out / ".nominal.tmp.npz"
    np.savez(tmp, score=score, **{f"l{l}": s for l, s in enumerate(states)})
    tmp.replace(path)
    return states, score


def _check_study(out: Path, params: dict, resume: bool) -> None:
    path = out / "study.json"
    if path.exists():
        if not resume:
            raise ValueError(f"{out} already holds a study: pass --resume to continue it, or choose another --out")
        old = json.loads(path.read_text())
        if old != params:
            diff = sorted(k for k in params if old.get(k) != params[k])
            raise ValueError(f"{out}: --resume with different parameters ({', '.join(diff)}); use another --out")
        return
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".study.json.tmp"
    tmp.write_text(json.dumps(params, indent=1))
    tmp.replace(path)


def _dask_batches(scheduler: str, workers: int, jobs: list):
    """Yield each finished batch's records from a Dask cluster ('local' = LocalCluster)."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = (LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None) if scheduler == "local" else None)
    client = Client(cluster if cluster is not None else scheduler)
    try:
        for fut in as_completed([client.submit(run_batch, *job, pure=False) for job in jobs]):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _local_batches(workers: int, jobs: list):
    """Yield each finished batch's records from spawned worker processes. Workers
    are recycled by starting a fresh pool every `workers * WORKER_TASKS` batches
    (Python 3.11's max_tasks_per_child can deadlock when it replaces workers)."""
    ctx = multiprocessing.get_context("spawn")
    wave = workers * WORKER_TASKS
    for i in range(0, len(jobs), wave):
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        try:
            for fut in as_completed([pool.submit(run_batch, *job) for job in jobs[i:i + wave]]):
                yield fut.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def run_study(model_dir, out_dir, *, runs: int = 200, mismatch=0.05, noise_na: float = 0.0,
              sequences: int = 8, batch: int | None = None, workers: int = 2, seed: int = 0,
              resume: bool = False, scheduler: str | None = None, timeout_s: float = 300.0,
              bits: int = 6, progress: bool = True) -> dict:
    """Run (or continue) a Monte-Carlo study; returns the summary dict."""
    if runs < 1 or sequences < 1 or workers < 1 or (batch is not None and batch < 1):
        raise ValueError("--runs, --sequences, --workers and --batch must be >= 1")
    if not math.isfinite(noise_na) or noise_na < 0:
        raise ValueError(f"--noise must be a current >= 0 (units of 1 nA), got {noise_na}")
    p = mismatch_spec(mismatch)
    model, doc = checkpoint.load(model_dir)
    ir, _ = model_to_ir(model, doc, bits=bits, name=Path(model_dir).name)
    task = task_from_config(doc)
    x, y = task.x_test[:sequences].astype(np.float64), task.y_test[:sequences]
    out = Path(out_dir)
    params = {"model": str(model_dir), "runs": runs, "mismatch": p, "noise_na": noise_na,
              "sequences": sequences, "seed": seed, "bits": bits}
    _check_study(out, params, resume)
    nominal_states, nominal_score = _nominal(ir, x, y, task.kind, out, timeout_s)
    store = RunStore(out / "runs.jsonl")
    done = {r["run"] for r in store.load()}
    seeds = run_seeds(seed, runs)
    pending = [(i, *seeds[i]) for i in range(runs) if i not in done]
    cells = sum(layer.n for layer in ir.layers)
    M = batch or auto_batch(cells, sequences, len(pending), workers, limit=max_copies(ir))
    chunks = [pending[i:i + M] for i in range(0, len(pending), M)]
    args = (ir.to_dict(), p, noise_na, x, y, task.kind, nominal_states, timeout_s)
    failures = 0
    if chunks:
        jobs = [(args[0], chunk, *args[1:]) for chunk in chunks]
        batches = _dask_batches(scheduler, workers, jobs) if scheduler else _local_batches(workers, jobs)
        bar = tqdm(total=runs, initial=len(done), desc="montecarlo", unit="run", disable=not progress)
        try:
            for records in batches:
                store.append(records)
                failures += sum(not r["ok"] for r in records)
                bar.update(len(records))
                bar.set_postfix(failed=failures)
        finally:
            bar.close()
    records = store.load()
    summary = summarize(records, nominal_score, task.kind)
    summary.update({"batch": M, "workers": workers, "scheduler": scheduler or "local pool", **params})
    write_csv(records, out / "runs.csv")
    tmp = out / ".summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1))
    tmp.replace(out / "summary.json")
    from ..plots.montecarlo import plot_study
    plot_study(records, summary, out)
    return summary
