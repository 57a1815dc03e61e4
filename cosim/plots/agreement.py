"""State traces of one sequence: circuit (ngspice) over software reference."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from . import save_figure


def plot_state_traces(circuit: np.ndarray, software: np.ndarray, dt_s: float, path, title: str,
                      max_channels: int = 4) -> None:
    """circuit, software: (time, channels) states of one sequence and layer."""
    n = min(circuit.shape[1], max_channels)
    fig, axes = plt.subplots(n, 1, figsize=(7.5, 1.5 + 1.2 * n), sharex=True, squeeze=False)
    t = np.arange(circuit.shape[0]) * dt_s * 1e3
    for c in range(n):
        ax = axes[c, 0]
        ax.step(t, software[:, c], where="post", color="0.6", lw=3, label="software reference")
        ax.plot(t, circuit[:, c], ".", color="C0", ms=3, label="circuit (sampled)")
        ax.set_ylabel(f"ch {c} state")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    axes[-1, 0].set_xlabel("time (ms)")
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
