"""Power figures: breakdown per block (stacked bar) and power over one sequence."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import save_figure  # noqa: E402


def plot_breakdown(rep: dict, path) -> None:
    """One stacked bar per source (estimate; transistor cells and banks): nW per block."""
    e, tr = rep["estimate"], rep.get("transistor")
    bars = [("estimate", e["cells_nw_per_layer"], e["banks_nw"])]
    if tr:
        bars.append((f"transistor\n{tr['corner']}/{tr['temp_c']:g} °C", tr["cells_nw_per_layer"],
                     tr.get("banks_nw", e["banks_nw"])))
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for i, (label, cells, banks) in enumerate(bars):
        bottom = 0.0
        for l, v in enumerate(cells):
            ax.bar(i, v, bottom=bottom, color=f"C{l}", label=f"layer {l} cells" if i == 0 else None)
            bottom += v
        for k, (name, v) in enumerate(banks.items()):
            ax.bar(i, v, bottom=bottom, color=plt.cm.Greys(0.25 + 0.6 * k / max(1, len(banks))),
                   hatch="//", edgecolor="white", label=f"mirror bank {name}" if i == 0 else None)
            bottom += v
        ax.text(i, bottom, f"{bottom:.0f} nW", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(bars)), [b[0] for b in bars])
    ax.set_ylabel("average supply power (nW)")
    ax.set_title(f"power breakdown, {rep['sequences']} sequences", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)


def plot_power_time(est, cells_measured, whole_measured, dt_s: float, path, title: str) -> None:
    """Sequence 0: estimated cell power, estimated whole model, and (when given) the
    transistor cells' and the whole model's measured power (time,) nW, per step."""
    t = np.arange(est.cells[0].shape[1]) * dt_s
    cells = sum(c[0].sum(axis=1) for c in est.cells)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.step(t, est.per_step()[0], where="post", color="0.55", lw=1.2, label="whole model (estimate)")
    ax.step(t, cells, where="post", color="C0", lw=1.5, label="cells (estimate)")
    if cells_measured is not None:
        ax.plot(t, cells_measured, ".", color="C3", ms=3, label="cells (transistor, per step)")
    if whole_measured is not None:
        ax.plot(t, whole_measured, ".", color="k", ms=3, label="whole model (transistor, per step)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("supply power (nW)")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
