"""Yield curve of the flip-flop model down to 1e-6: failure probability vs mismatch p,
by scaled-sigma sampling on the fast engine, with brute-force counts where they
are affordable (writes docs/yield_curve.png and docs/yield_curve.json).

    .venv/bin/python examples/yield_curve.py [--model models/bmru_flipflop] [--runs 3000]

Failure ('state' spec of `cosim yield`): any cell state on the 8 held-out
sequences differs from the nominal circuit's. At each p the draws are scaled
so that p * s spans 6..20% (where failures are counted), then extrapolated to
s = 1 (cosim.analysis.rare).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cosim.montecarlo.yield_study import run_yield  # noqa: E402
from cosim.plots import save_figure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "models" / "bmru_flipflop"))
    ap.add_argument("--runs", type=int, default=3000)
    ap.add_argument("--brute", type=int, default=60000)
    args = ap.parse_args()
    rows = []
    for p in (0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05):
        scales = [round(float(s), 3) for s in np.linspace(0.06 / p, 0.20 / p, 5)]
        r = run_yield(args.model, p=p, spec="state", scales=scales, runs=args.runs,
                      brute=args.brute if p >= 0.03 else 0, seed=1)
        rows.append(r)
        b = r.get("brute")
        print(f"p = {100 * p:4.1f}%: SSS P_fail {r['sss']['p_fail']:.3g} "
              f"[{r['sss']['ci'][0]:.2g}, {r['sss']['ci'][1]:.2g}]"
              + (f", brute {b['fails']}/{b['runs']} = {b['p_fail']:.3g} [{b['ci'][0]:.2g}, {b['ci'][1]:.2g}]"
                 if b else ""), flush=True)
    out = ROOT / "docs"
    (out / "yield_curve.json").write_text(json.dumps(rows, indent=1))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ps = np.array([100 * r["p"] for r in rows])
    est = np.array([r["sss"]["p_fail"] for r in rows])
    lo = np.array([r["sss"]["ci"][0] for r in rows])
    hi = np.array([r["sss"]["ci"][1] for r in rows])
    ax.fill_between(ps, lo, hi, alpha=0.25, label="scaled-sigma 95% CI")
    ax.plot(ps, est, "o-", label="scaled-sigma estimate")
    br = [r for r in rows if "brute" in r]
    if br:
        bp = np.array([100 * r["p"] for r in br])
        bv = np.array([r["brute"]["p_fail"] for r in br])
        bl = np.array([r["brute"]["ci"][0] for r in br])
        bh = np.array([r["brute"]["ci"][1] for r in br])
        ax.errorbar(bp, bv, yerr=[bv - bl, bh - bv], fmt="kx", capsize=3,
                    label=f"brute force ({args.brute} draws)")
    ax.set_yscale("log")
    ax.set_xlabel("device mismatch p at 3 sigma (%)")
    ax.set_ylabel("P(any cell state differs from nominal)")
    ax.set_title(f"{Path(args.model).name}: rare-failure curve (fast engine)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out / "yield_curve.png", dpi=120)


if __name__ == "__main__":
    main()
