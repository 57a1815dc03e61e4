"""Ladder staircase: circuit level over the ideal clipped cumulative sum."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from . import save_figure


def plot_ladder(trace: dict, path, title: str) -> None:
    dt, K, alpha = trace["dt_s"], trace["K"], trace["alpha_na"]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    n = len(trace["ideal"])
    s0 = trace["s0"]
    ax.step(np.r_[0, np.arange(n) + 0.1, n] * dt * 1e3,
            np.r_[s0, trace["ideal"], trace["ideal"][-1]] * alpha, where="post", color="0.6", lw=4, alpha=0.6, label="software: clipped cumulative sum")
    ax.plot(trace["t_s"] * 1e3, trace["level"] * alpha, color="C0", lw=1.2,
            label="circuit: output current (ngspice)")
    ax.plot(trace["sample_t_s"] * 1e3, trace["sampled"] * alpha, "o", color="C3", ms=3.5,
            label="circuit, sampled at 0.9 dt")
    ups = np.nonzero(trace["updates"] > 0)[0]
    downs = np.nonzero(trace["updates"] < 0)[0]
    y0 = -(K + 0.7) * alpha
    ax.plot((ups + 0.1) * dt * 1e3, np.full(len(ups), y0), "^", color="C2", ms=4, label="update +1")
    ax.plot((downs + 0.1) * dt * 1e3, np.full(len(downs), y0), "v", color="C1", ms=4, label="update -1")
    for k in (-K, K):
        ax.axhline(k * alpha, color="k", ls=":", lw=0.8)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("ladder output current (nA)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
