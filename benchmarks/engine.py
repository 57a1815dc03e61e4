"""Fast engine vs ngspice: Monte-Carlo runs per CPU-second, measured in one run.

    .venv/bin/python benchmarks/engine.py [--models bmru_flipflop,cmru_counting,schmitt_digits]
                                          [--device cpu|cuda] [--check]

A run is one mismatch draw (every device class at p = 5%, as `cosim
montecarlo --mismatch 0.05`; the counter's ladders are then integrated in
time) plus 0.02 nA input noise, over
S held-out sequences (S = 8; digits: 1). ngspice: the Monte-Carlo batch
function itself (netlist building, ngspice, sampling, software reference,
agreement), CPU seconds of this process and its ngspice children. Fast: the
stacked draws and the engine for many runs at once, CPU seconds of this
process (every torch thread counts). --check also compares the fast states
with the ngspice ones for the runs both made (montecarlo.fast_job.spot_check:
ties of a cell decision excused; must be 0). Goals (issue): >= 1000x on flip-flop and counter, >= 100x on
digits.

--scale: a random 2 x 256-channel BMRU model x 1000 draws x 256 steps (one
sequence), in chunks of --chunk draws: wall time, CPU time, peak memory.
--digits-full: the digits model over its whole test split x 1000 draws.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from cosim.backends import simulate
from cosim.engine.draws import draw_batch
from cosim.engine.model import FastModel
from cosim.hw.source import load_source
from cosim.montecarlo.fast_job import spot_check
from cosim.montecarlo.job import layer_noise, run_batch

ROOT = Path(__file__).resolve().parents[1]
P = 0.05
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
    """CPU s per run of the fast engine for `runs` runs."""
    start = cpu_s()
    for i in range(0, runs, chunk):
        seeds = [1000 + r for r in range(i, min(i + chunk, runs))]
        noise = [layer_noise(src.ir, s + 1000, x.shape[:2], NOISE_NA) for s in seeds]
        stacked = [np.stack([nz[l] for nz in noise]) for l in range(len(src.ir.layers))]
        FastModel(draw_batch(src.ir, P, seeds), device=device).run(x, stacked)
    return (cpu_s() - start) / runs


def random_model(n_in: int = 16, width: int = 256, layers: int = 2, seed: int = 0):
    """A random signed (bmru) IR of `layers` x `width` channels, gains within +-1."""
    from cosim.hw.ir import CellLayer, HardwareIR, MirrorBank

    rng = np.random.default_rng(seed)
    bank = (lambda n_out, n: MirrorBank(rng.uniform(-1, 1, (n_out, n)) / np.sqrt(n), rng.uniform(-0.2, 0.2, n_out)))
    cells, n = [], n_in
    for _ in range(layers):
        cells.append(CellLayer("bmru", bank(width, n), np.ones(width), np.ones(width), threshold=bank(width, n)))
        n = width
    return HardwareIR("random_2x256", n_in, 2, cells, bank(2, width), quantization={"gain_max": 16.0})


def scale_run(ir, x, draws: int, chunk: int, device: str) -> tuple:
    """(wall s, CPU s, peak RSS MiB) of `draws` mismatch draws through the engine in chunks."""
    import resource

    start_wall, start_cpu = time.perf_counter(), cpu_s()
    for i in range(0, draws, chunk):
        FastModel(draw_batch(ir, P, range(i, min(i + chunk, draws))), device=device).run(x)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return time.perf_counter() - start_wall, cpu_s() - start_cpu, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="bmru_flipflop,cmru_counting,schmitt_digits")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--check", action="store_true", help="compare fast and ngspice states run by run")
    ap.add_argument("--scale", action="store_true", help="2 x 256 channels x 1000 draws x 256 steps")
    ap.add_argument("--digits-full", action="store_true", help="digits test split x 1000 draws")
    ap.add_argument("--chunk", type=int, default=50, help="draws per engine call (--scale, --digits-full)")
    args = ap.parse_args()
    if args.scale:
        ir = random_model()
        x = np.random.default_rng(1).uniform(-1, 1, (1, 256, ir.n_inputs))
        wall, cpu, peak = scale_run(ir, x, 1000, args.chunk, args.device)
        print(f"2 x 256 channels, 1000 draws x 256 steps, chunks of {args.chunk}: {wall:.1f} s wall, "
              f"{cpu:.1f} s CPU, peak RSS {peak:.0f} MiB")
    if args.digits_full:
        src = load_source(ROOT / "netlists" / "schmitt_digits.hw.json")
        x = src.task.x_test.astype(np.float64)
        wall, cpu, peak = scale_run(src.ir, x, 1000, args.chunk, args.device)
        print(f"digits, {len(x)} test sequences x 1000 draws, chunks of {args.chunk}: {wall:.1f} s wall "
              f"({wall / 60:.1f} min), {cpu:.1f} s CPU, peak RSS {peak:.0f} MiB")
    if args.scale or args.digits_full:
        return
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
        t_fast = fast_runs(src, x, n_fast, args.device, chunk)
        print(f"{name:16s} {S:2d} {t_spice:14.4f} {t_fast:12.6f} {1 / t_spice:19.2f} {1 / t_fast:9.0f} "
              f"{t_spice / t_fast:8.0f}x")
        if args.check:
            chk = spot_check(src.ir, [(r, 1000 + r, 2000 + r) for r in range(n_spice)], P, NOISE_NA, x,
                             timeout_s=1200, device=args.device)
            print(f"  check: {chk['disagreements']} states where ngspice and the engine differ outside ties "
                  f"({n_spice} runs)")

if __name__ == "__main__":
    main()
