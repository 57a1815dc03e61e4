"""CMRU ladders under per-stage mismatch: fast engine (ladders in time) vs ngspice.

    .venv/bin/python benchmarks/engine_ladders.py [--p 0.1,0.2,0.3] [--sequences 8] [--seed 900]

One draw per held-out sequence (ladder stages p, gains / biases / levels 5%),
256 steps: sampled states where the engine and ngspice differ (goal 0), and
where the ideal counter of the same draws differs from ngspice.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cosim.backends import simulate
from cosim.hw.mismatch import perturb_ir
from cosim.hw.source import load_source

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--p", default="0.1,0.2,0.3")
    ap.add_argument("--sequences", type=int, default=8)
    ap.add_argument("--seed", type=int, default=900)
    args = ap.parse_args()
    src = load_source(ROOT / "netlists" / "cmru_counting.hw.json")
    x = src.task.x_test[:args.sequences]
    for p in (float(v) for v in args.p.split(",")):
        irs = [perturb_ir(src.ir, {"ladder": p, "gain": 0.05, "bias": 0.05, "igain": 0.05}, args.seed + b)
               for b in range(len(x))]
        fast = simulate(irs, x, backend="fast")
        spice = simulate(irs, x, backend="ngspice")
        ideal = simulate(irs, x, backend="reference")
        sp = np.round(spice.states[0])
        err = np.abs(fast.outputs - spice.outputs).max()
        print(f"ladder p = {100 * p:g}%: engine vs ngspice {int((fast.states[0] != sp).sum())}/{sp.size} states differ, "
              f"ideal counter vs ngspice {int((ideal.states[0] != sp).sum())}; outputs within {err:.2g} units")


if __name__ == "__main__":
    main()
