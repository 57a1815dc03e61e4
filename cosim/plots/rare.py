"""Scaled-sigma sampling figure: failure probability vs sigma scale, the fitted
tail model, its extrapolation to scale 1, and plain counting when there is one."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import save_figure


def plot_sss(r: dict, path) -> Path:
    s = r["sss"]
    pts = s["points"]
    m = s["model"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    sc = np.array([pt["scale"] for pt in pts])
    pv = np.array([max(pt["p"], 1e-300) for pt in pts])
    lo = np.array([pt["ci"][0] for pt in pts])
    hi = np.array([pt["ci"][1] for pt in pts])
    ax.errorbar(sc, pv, yerr=[pv - lo, hi - pv], fmt="o", capsize=3, label="counted at scale s (95% CI)")
    grid = np.linspace(1.0, sc.max(), 200)
    ax.plot(grid, np.exp(m["alpha"] + m["beta"] * np.log(grid) - m["gamma"] / grid**2), "-",
            label=r"fit $\ln P = \alpha + \beta \ln s - \gamma / s^2$")
    ax.errorbar([1.0], [s["p_fail"]], yerr=[[s["p_fail"] - s["ci"][0]], [s["ci"][1] - s["p_fail"]]],
                fmt="s", color="C3", capsize=4, label=f"extrapolated P(1) = {s['p_fail']:.2g}")
    if "brute" in r:
        b = r["brute"]
        ax.errorbar([1.0], [max(b["p_fail"], 1e-300)], yerr=[[b["p_fail"] - b["ci"][0]], [b["ci"][1] - b["p_fail"]]],
                    fmt="x", color="k", capsize=4, label=f"brute force {b['fails']}/{b['runs']}")
    ax.set_yscale("log")
    ax.set_xlabel("sigma scale s (mismatch p x s)")
    ax.set_ylabel("failure probability")
    ax.set_title(f"{Path(r['model']).name}: '{r['spec']}' failures, p = {100 * r['p']:g}%", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = save_figure(fig, path, dpi=120)
    plt.close(fig)
    return out
