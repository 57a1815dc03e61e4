"""The register ladder (cosim.pdk.register_ladder) as the models run it, under PDK mismatch draws and temperatures.

Run from the repository root:
    .venv/bin/python benchmarks/sky130_register_ladder.py [--draws 8] [--temps 27,-20,85] [--corners tt]
Each run: the characterization drive (pdk.clocked_char.ladder_drive: K = 4 from rung -4,
9 pulses up and 9 down, a held step after each) through the partitioned transistor
backend; a draw d uses mismatch seed 17 + d. Prints per corner x temperature: nominal
right, draws right, steps right per draw, the worst held-level error (rungs), mean supply
power (nW) and ngspice wall time per run (s), 2 runs at a time.
"""
from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cosim.backends.transistor import channel_ir, run_partition
from cosim.hw.reference import run_layer
from cosim.pdk.clocked_char import ladder_drive, ladder_layer, one_layer_ir
from cosim.pdk.netlist import PdkSetup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=8)
    ap.add_argument("--temps", default="27")
    ap.add_argument("--corners", default="tt")
    args = ap.parse_args()
    layer = ladder_layer()
    ir, x = one_layer_ir(layer), ladder_drive()
    want = run_layer(layer, x[None]).state[0, :, 0]
    sub = channel_ir(ir, layer, 0)
    for corner in args.corners.split(","):
        for temp in (float(t) for t in args.temps.split(",")):
            def one(draw):
                pdk = PdkSetup(corner, temp, mismatch_seed=None if draw is None else 17 + draw)
                t0 = time.time()
                st, _, _, _, power = run_partition(sub, x, pdk, 1800.0, 0 if draw is None else 17 + draw, 1)
                return st, float(np.mean(power)), time.time() - t0

            with ThreadPoolExecutor(max_workers=2) as pool:
                runs = list(pool.map(one, [None] + list(range(args.draws))))
            right = [bool((np.round(st) == want).all()) for st, _, _ in runs]
            held = np.concatenate([st[0::2] - want[0::2] for st, _, _ in runs])
            print(f"{corner} {temp:g} °C: nominal {'right' if right[0] else 'WRONG'}, draws right "
                  f"{sum(right[1:])}/{args.draws}, steps right per draw "
                  f"{[round(float(np.mean(np.round(st) == want)), 2) for st, _, _ in runs[1:]]}, "
                  f"worst held level error {np.abs(held).max():.2f} rung, power {runs[0][1]:.1f} nW (nominal), "
                  f"wall {np.mean([w for _, _, w in runs]):.0f} s per run", flush=True)


if __name__ == "__main__":
    main()
