"""Training figures."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from . import save_figure


def plot_loss_curves(curves: dict, path, title: str = "training loss") -> None:
    """curves: label -> list of per-epoch loss lists (one per seed). Log-scale loss."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for color, (label, runs) in zip(colors, curves.items()):
        for i, loss in enumerate(runs):
            ax.plot(range(1, len(loss) + 1), loss, color=color, alpha=0.8,
                    label=label if i == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy, per step)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
