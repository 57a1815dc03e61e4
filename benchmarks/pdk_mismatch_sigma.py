"""σ of each transistor cell's thresholds and output level under the PDK's own mismatch,
at the sizes the mapping chooses (the --sigma-target budget), one run.

    .venv/bin/python benchmarks/pdk_mismatch_sigma.py [--draws 10] [--sigma-target 0.05]

Cells: the first-quadrant cells of models/kws_fq_bmru (8) and the BMRU cells of
models/bmru_flipflop (4, thresholds measured at |beta| = 1 nA). Each draw is one
Monte-Carlo seed of the corner's _mm models (montecarlo.pdk_study: each cell alone,
measured by a staircase). Prints the mean and σ of the relative errors against the IR
over draws x cells, and the nominal-device offsets for reference.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cosim.hw.source import load_source
from cosim.montecarlo.pdk_study import measure_cells
from cosim.pdk.netlist import PdkSetup

ROOT = Path(__file__).resolve().parents[1]


def relative(ir, measured) -> dict:
    out = {}
    for layer, m in zip(ir.layers, measured):
        if m is None:
            continue
        if "beta1" in m:
            b1, d = np.asarray(layer.beta1), np.asarray(layer.delta)
            rel = {"beta2": m["beta2"] / (b1 + d) - 1, "beta1": m["beta1"] / b1 - 1,
                   "width": (m["beta2"] - m["beta1"]) / d - 1}
        else:
            rel = {"theta_plus": m["theta_plus"], "theta_minus": m["theta_minus"]}
        rel["alpha"] = m["alpha"] / np.asarray(layer.alpha) - 1
        for k, v in rel.items():
            out.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10)
    ap.add_argument("--sigma-target", type=float, default=0.05)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    for model in ("kws_fq_bmru", "bmru_flipflop"):
        ir = load_source(ROOT / "models" / model, 6).ir
        t0 = time.perf_counter()
        pdk = PdkSetup(sigma_target=args.sigma_target)
        nominal = relative(ir, measure_cells(ir, pdk, args.jobs))
        draws = [relative(ir, measure_cells(ir, PdkSetup(sigma_target=args.sigma_target, mismatch_seed=1000 + k),
                                             args.jobs)) for k in range(args.draws)]
        size = pdk.size()
        print(f"{model}: {ir.layers[0].kind} cells, mirror devices {size['cell_mirror_device_um'][0]:.2f} x "
              f"{size['cell_mirror_device_um'][1]:.2f} um (msize {size['msize']:.2f}, budget "
              f"{100 * args.sigma_target:g}%), {args.draws} draws ({time.perf_counter() - t0:.0f} s)")
        for k in nominal:
            v = np.concatenate([d[k] for d in draws])
            v = v[np.isfinite(v)]
            print(f"  {k:12s} nominal devices {100 * np.nanmean(nominal[k]):+6.2f}%   mismatch: mean "
                  f"{100 * v.mean():+6.2f}%  σ {100 * v.std(ddof=1):5.2f}%  ({v.size} cell draws)", flush=True)


if __name__ == "__main__":
    main()
