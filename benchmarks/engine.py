"""Fast engine vs ngspice: Monte-Carlo runs per CPU-second, measured in one run.

    .venv/bin/python benchmarks/engine.py [--models bmru_flipflop,cmru_counting,schmitt_digits]
                                          [--device cpu|cuda] [--check]

A run is one mismatch draw (every device class at p = 5%, per-stage ladder
mismatch 0: the engine does not model it yet) plus 0.02 nA input noise, over
S held-out sequences (S = 8; digits: 1). ngspice: the Monte-Carlo batch
function itself (netlist building, ngspice, sampling, software reference,
agreement), CPU seconds of this process and its ngspice children. Fast: the
stacked draws and the engine for many runs at once, CPU seconds of this
process (every torch thread counts). --check also compares the fast states
with the ngspice ones for the runs both made (tie-aware, must be 0 real
disagreements). Goals (issue): >= 1000x on flip-flop and counter, >= 100x on
digits.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from cosim.analysis.agreement import state_agreement
from cosim.backends import simulate
from cosim.engine.draws import draw_batch
from cosim.engine.model import FastModel
from cosim.hw.mismatch import perturb_ir
from cosim.hw.source import load_source
from cosim.montecarlo.job import layer_noise, run_batch

ROOT = Path(__file__).resolve().parents[1]
P = {"gain": 0.05, "bias": 0.05, "igain": 0.05, "ithresh": 0.05, "iwidth": 0.05, "ladder": 0.0, "filter": 0.05}
NOISE_NA = 0.02


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def ngspice_runs(src, x, runs: int) -> tuple:
    """(CPU s per run, records) of the ngspice Monte-Carlo path for `runs` runs."""
    nominal = simulate(src.ir, x, backend="reference").states
    todo = [(i, 1000 + i, 2000 + i) for i in range(runs)]
    start = cpu_s()
    recs = run_batch(src.ir.to_dict(), todo, P, NOISE_NA, x, src.task.y_test[:len(x)], src.task.kind,
                     nominal, timeout_s=1200)
    return (cpu_s() - start) / runs, recs


def fast_runs(src, x, runs: int, device: str, chunk: int) -> tuple:
    """(CPU s per run, states of the first runs) of the fast engine for `runs` runs."""
    start, first = cpu_s(), None
    for i in range(0, runs, chunk):
        seeds = [1000 + r for r in range(i, min(i + chunk, runs))]
        noise = [layer_noise(src.ir, s + 1000, x.shape[:2], NOISE_NA) for s in seeds]
        stacked = [np.stack([nz[l] for nz in noise]) for l in range(len(src.ir.layers))]
        states, outputs = FastModel(draw_batch(src.ir, P, seeds), device=device).run(x, stacked)
        if first is None:
            first = [s.cpu().numpy() for s in states]
    return (cpu_s() - start) / runs, first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="bmru_flipflop,cmru_counting,schmitt_digits")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--check", action="store_true", help="compare fast and ngspice states run by run")
    args = ap.parse_args()
    plan = {"bmru_flipflop": (8, 4, 2000, 500), "cmru_counting": (8, 2, 1000, 250),
            "schmitt_digits": (1, 1, 40, 20)}          # sequences, ngspice runs, fast runs, chunk
    print(f"{'model':16s} {'S':>2s} {'ngspice s/run':>14s} {'fast s/run':>12s} {'runs/CPU-s ngspice':>19s} "
          f"{'fast':>9s} {'ratio':>8s}")
    for name in args.models.split(","):
        S, n_spice, n_fast, chunk = plan[name]
        src = load_source(ROOT / "netlists" / f"{name}.hw.json")
        x = src.task.x_test[:S].astype(np.float64)
        t_spice, recs = ngspice_runs(src, x, n_spice)
        assert all(r["ok"] for r in recs), [r.get("error") for r in recs]
        t_fast, first = fast_runs(src, x, n_fast, args.device, chunk)
        print(f"{name:16s} {S:2d} {t_spice:14.4f} {t_fast:12.6f} {1 / t_spice:19.2f} {1 / t_fast:9.0f} "
              f"{t_spice / t_fast:8.0f}x")
        if args.check:
            bad = 0
            for r in range(n_spice):
                one = perturb_ir(src.ir, P, 1000 + r)
                nz = layer_noise(src.ir, 2000 + r, x.shape[:2], NOISE_NA)
                spice = simulate(one, x, backend="ngspice", noise=nz)
                ref = simulate(one, x, backend="reference", noise=nz).detail
                bad += state_agreement(one, ref, spice.states, max_listed=0).n_disagreements
                bad += sum(int((first[l][r] != ref.layers[l].state).sum()) for l in range(len(first)))
            print(f"  check: {bad} state differences (ngspice vs reference outside ties, fast vs reference)")


if __name__ == "__main__":
    main()
