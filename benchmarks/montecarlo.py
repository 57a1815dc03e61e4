"""Monte-Carlo throughput: runs per minute, batched versus one run per netlist,
1 versus 2 workers, measured in one run (same seeds, same model).

    .venv/bin/python benchmarks/montecarlo.py [--model models/schmitt_digits] [--runs 48]

Each configuration runs a fresh study (mismatch p = 5%, noise 0.02 nA, one
held-out sequence per run) through the real runner: process pool start-up,
netlist building, ngspice, reference and result writing all count.
Goal: batched / unbatched >= 3x.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cosim.montecarlo.runner import auto_batch, run_study
from cosim.hw import HardwareIR


def measure(model, runs, batch, workers, sequences) -> float:
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        s = run_study(model, Path(d) / "study", runs=runs, mismatch=0.05, noise_na=0.02,
                      sequences=sequences, batch=batch, workers=workers, seed=1, progress=False)
        wall = time.perf_counter() - start
    assert s["succeeded"] == runs, s.get("failures")
    return runs / wall * 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/schmitt_digits",
                    help="a shipped model (its netlists/NAME.hw.json is read for the cell count)")
    ap.add_argument("--runs", type=int, default=48)
    ap.add_argument("--sequences", type=int, default=1)
    args = ap.parse_args()
    name = Path(args.model).name
    ir = HardwareIR.load(Path("netlists") / f"{name}.hw.json")
    cells = sum(layer.n for layer in ir.layers)
    M = auto_batch(cells, args.sequences)
    print(f"{name}: {cells} cells, {args.sequences} sequence(s) per run, {args.runs} runs per configuration; "
          f"automatic batch = {M} runs per netlist")
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
