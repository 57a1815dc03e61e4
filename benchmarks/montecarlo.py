"""Monte-Carlo throughput: runs per minute, batched versus one run per netlist,
1 versus 2 workers, measured in one run (same seeds, same model).

    .venv/bin/python benchmarks/montecarlo.py [--model models/bmru_flipflop] [--runs 48]

Each configuration runs a fresh study (mismatch p = 5%, noise 0.02 nA, one
held-out sequence per run) through the real runner: process pool start-up,
netlist building, ngspice, reference and result writing all count.
Goal: batched / unbatched >= 3x.

It also splits ngspice's own time into a fixed cost per netlist and a cost
per model copy (netlists of 1 and M perturbed copies of the same sequence,
best of 3): batching can at most save the fixed part, so
M * t(1) / t(M) is the ceiling of what batching can gain in ngspice.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from cosim.hw import HardwareIR
from cosim.hw.mismatch import perturb_ir
from cosim.models.recipe import task_from_config
from cosim.montecarlo.job import layer_noise
from cosim.montecarlo.runner import auto_batch, run_study
from cosim.netlist.builder import build_netlist
from cosim.spice import run_netlist


def measure(model, runs, batch, workers, sequences) -> float:
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        s = run_study(model, Path(d) / "study", engine="ngspice", runs=runs, mismatch=0.05, noise_na=0.02,
                      sequences=sequences, batch=batch, workers=workers, seed=1, progress=False)
        wall = time.perf_counter() - start
    assert s["succeeded"] == runs, s.get("failures")
    return runs / wall * 60


def ngspice_seconds(ir, M: int) -> float:
    """Best-of-3 ngspice wall time for M perturbed copies of one held-out sequence."""
    x = task_from_config({"task": ir.task}).x_test[:1].astype(np.float64)
    irs = [perturb_ir(ir, 0.05, seed) for seed in range(M)]
    noise = [layer_noise(ir, 100 + seed, x.shape[:2], 0.02) for seed in range(M)]
    net = build_netlist(irs, np.concatenate([x] * M),
                        noise=[np.concatenate([nz[l] for nz in noise]) for l in range(len(ir.layers))])
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run_netlist(net.text, timeout_s=600)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/bmru_flipflop",
                    help="a shipped model (its netlists/NAME.hw.json is read for the cell count)")
    ap.add_argument("--runs", type=int, default=48)
    ap.add_argument("--sequences", type=int, default=1)
    args = ap.parse_args()
    name = Path(args.model).name
    ir = HardwareIR.load(Path("netlists") / f"{name}.hw.json")
    cells = sum(layer.n for layer in ir.layers)
    M = auto_batch(cells, args.sequences, args.runs, 1)
    print(f"{name}: {cells} cells, {args.sequences} sequence(s) per run, {args.runs} runs per configuration; "
          f"automatic batch = {M} runs per netlist")
    t1, tM = ngspice_seconds(ir, 1), ngspice_seconds(ir, M)
    per_copy = (tM - t1) / (M - 1) if M > 1 else t1
    print(f"ngspice alone: 1 copy {1e3 * t1:.1f} ms, {M} copies {1e3 * tM:.1f} ms -> fixed per netlist "
          f"{1e3 * (t1 - per_copy):.1f} ms, per copy {1e3 * per_copy:.1f} ms; batching ceiling "
          f"{M * t1 / tM:.2f}x")
    rows = [("one run per netlist", 1, 1), (f"batched ({M}/netlist)", M, 1),
            ("one run per netlist", 1, 2), (f"batched ({M}/netlist)", M, 2)]
    rate = {}
    for label, batch, workers in rows:
        rate[(batch, workers)] = measure(args.model, args.runs, batch, workers, args.sequences)
        print(f"  {label:<24} {workers} worker(s): {rate[(batch, workers)]:7.1f} runs/min")
    print(f"batched / unbatched: {rate[(M, 1)] / rate[(1, 1)]:.2f}x (1 worker), "
          f"{rate[(M, 2)] / rate[(1, 2)]:.2f}x (2 workers)")
    print(f"2 workers / 1 worker: {rate[(1, 2)] / rate[(1, 1)]:.2f}x (unbatched), "
          f"{rate[(M, 2)] / rate[(M, 1)]:.2f}x (batched)")


if __name__ == "__main__":
    main()
