"""The analytical power estimate against the transistor cells, every shipped model, one run.

    .venv/bin/python benchmarks/power.py [--sequences 2] [--models bmru_flipflop,...]

For each model: the first --sequences held-out sequences through the partitioned
transistor backend (sky130, tt/27 °C) and through the estimate (power.estimate,
from the calibration's fitted cell models); prints both figures for the cells,
their ratio (goal within 20%), and the time each took (the estimate's ratio to the
simulation is the speed figure). The mirror banks are behavioral in both, so the
comparison is of the cells only.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from cosim import simulate
from cosim.hw.source import load_source
from cosim.pdk.mapping import load_calibration
from cosim.pdk.netlist import PdkSetup
from cosim.power.estimate import estimate_power

ROOT = Path(__file__).resolve().parents[1]
MODELS = "bmru_flipflop,cmru_counting,schmitt_digits,kws_fq_bmru"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sequences", type=int, default=2)
    ap.add_argument("--models", default=MODELS)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    power = load_calibration()["power"]
    print(f"{'model':16s} {'seqs':>4s} {'estimate nW':>12s} {'transistor nW':>14s} {'ratio':>6s} "
          f"{'estimate s':>10s} {'transistor s':>12s}")
    worst = 0.0
    for name in args.models.split(","):
        src = load_source(ROOT / "models" / name, 6)
        x = src.task.x_test[:args.sequences]
        t0 = time.perf_counter()
        est = estimate_power(src.ir, x, power).summary()["cells_nw"]
        t1 = time.perf_counter()
        sim = simulate(src.ir, x, backend="transistor", pdk=PdkSetup(), jobs=args.jobs)
        t2 = time.perf_counter()
        meas = float(sum(p.sum(axis=2).mean() for p in sim.detail["power_nw"]))
        worst = max(worst, abs(est / meas - 1))
        print(f"{name:16s} {len(x):4d} {est:12.1f} {meas:14.1f} {est / meas:6.3f} {t1 - t0:10.3f} {t2 - t1:12.1f}",
              flush=True)
    print(f"worst |estimate / transistor - 1| = {100 * worst:.1f}% (goal 20%)")


if __name__ == "__main__":
    main()
