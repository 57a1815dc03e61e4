"""Monte-Carlo figures: accuracy histogram, drawn thresholds / ladder rungs, yield vs p."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from . import save_figure


def plot_study(records: list, summary: dict, out: Path) -> None:
    ok = [r for r in records if r.get("ok")]
    if not ok:
        return
    p = summary["mismatch"]["gain"]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    circ = [r["circuit_score"] for r in ok]
    soft = [r["software_score"] for r in ok]
    bins = np.linspace(min(circ + soft), max(circ + soft) + 1e-9, 25)
    ax.hist(soft, bins=bins, alpha=0.5, label="software (same perturbed IR)")
    engine = "fast engine" if summary.get("engine") == "fast" else "ngspice"
    ax.hist(circ, bins=bins, histtype="step", lw=2, label=f"circuit ({engine})")
    ax.axvline(summary["nominal_circuit_score"], color="k", ls="--", label="nominal circuit")
    ax.set_xlabel(f"task {summary['metric']} on {summary['sequences']} held-out sequences")
    ax.set_ylabel("runs")
    ax.set_title(f"{Path(summary['model']).name}: {len(ok)} mismatch runs, p = {100 * p:g}% (3 sigma), "
                 f"noise {summary['noise_na']:g} nA")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out / "accuracy_hist.png", dpi=120)
    plt.close(fig)
    keys = [k for k in ok[0] if k.endswith(("_beta2", "_beta1", "_rung_alpha"))]
    if keys:
        fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.6), squeeze=False)
        for ax, key in zip(axes[0], keys):
            vals = np.array([r[key] for r in ok], dtype=float)      # (runs, channels[, stages])
            rel = vals / vals.mean(axis=0, keepdims=True) - 1
            ax.hist(100 * rel.ravel(), bins=40)
            ax.set_xlabel(f"{key}: deviation from the mean draw (%)")
            ax.set_ylabel("cells" if "rung" not in key else "ladder stages")
        fig.suptitle(f"drawn circuit quantities under mismatch p = {100 * p:g}%")
        fig.tight_layout()
        save_figure(fig, out / "mismatch_hist.png", dpi=120)
        plt.close(fig)


def plot_yield(points: list, path, title: str) -> None:
    """points: [{"p": ..., "yield_circuit": ..., "yield_software": ..., "yield_float": ...}]."""
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    ps = [100 * pt["p"] for pt in points]
    for key, label, style in (("yield_circuit", "circuit (ngspice, quantized IR)", "o-"),
                              ("yield_software", "software reference (same perturbed IR)", "s--"),
                              ("yield_float", "float model, parameter noise (torch)", "^:")):
        if all(pt.get(key) is not None for pt in points):
            ax.plot(ps, [100 * pt[key] for pt in points], style, label=label)
    ax.set_xlabel("mismatch p (% at 3 sigma)")
    ax.set_ylabel("yield (% of runs within 1 point of nominal)")
    ax.set_ylim(-5, 105)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
