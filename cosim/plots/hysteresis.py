"""Hysteresis loops: circuit sweep (up / down in two colours, with arrows) over
the software cell's ideal loop, thresholds marked. Input current in nA on x,
cell state on y (right axis: output current alpha * state in nA)."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from ..errors import InputError
from ..hw.kinds import get_kind
from . import save_figure

UP_COLOR, DOWN_COLOR, SOFT_COLOR = "C0", "C3", "0.55"
NA = 1e-9


def _thin(n: int, keep: int = 3000) -> np.ndarray:
    return np.unique(np.r_[np.linspace(0, n - 1, min(n, keep)).astype(int), n - 1])


def _arrow(ax, x, y, frac_x: float, color: str) -> None:
    """An arrow along the curve (x, y) at the point where x reaches frac_x of its span."""
    if len(x) < 3:
        return
    target = x.min() + frac_x * (x.max() - x.min())
    i = int(np.argmin(np.abs(x - target)))
    j = min(i + max(len(x) // 40, 1), len(x) - 1)
    if j == i:
        return
    ax.annotate("", xy=(x[j], y[j]), xytext=(x[i], y[i]),
                arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, mutation_scale=14))


def _one(ax, r, legend: bool, right_axis: bool) -> None:
    tr = r.trace
    scale = r.i_unit_a / NA                 # units -> nA
    x, s = tr["x"] * scale, tr["state"]
    turn = int(np.argmax(x))
    lo_l, hi_l = r.levels
    if "software" in tr:
        ax.plot(x, tr["software"], color=SOFT_COLOR, lw=5, alpha=0.45, solid_joinstyle="miter",
                label="software cell (ideal loop)")
    if "transistor_x" in tr:
        ax.plot(tr["transistor_x"] * scale, lo_l + (hi_l - lo_l) * tr["transistor_state"], color="#2ca02c",
                lw=2.2, ls=(0, (1, 1.5)), zorder=5,
                label=tr.get("transistor_label", "transistor cell (sky130, DC up and down)"))
    up_i, dn_i = _thin(turn + 1), turn + _thin(len(x) - turn)
    ax.plot(x[up_i], s[up_i], color=UP_COLOR, lw=1.4, label="circuit, input rising")
    ax.plot(x[dn_i], s[dn_i], color=DOWN_COLOR, lw=1.4, ls="--", label="circuit, input falling")
    # arrows on the low branch (rising) and the high branch (falling)
    xu, su = x[:turn + 1], s[:turn + 1]
    xd, sd = x[turn:], s[turn:]
    low_part = su < 0.5 * (lo_l + hi_l)
    if low_part.sum() > 3:
        _arrow(ax, xu[low_part], su[low_part], 0.45, UP_COLOR)
    high_part = sd > 0.5 * (lo_l + hi_l)
    if high_part.sum() > 3:
        _arrow(ax, xd[high_part], sd[high_part], 0.55, DOWN_COLOR)
    names = get_kind(r.kind).window_labels
    for v, name, color, dx, ha in ((r.expected_up, names[0], UP_COLOR, 3, "left"),
                                   (r.expected_down, names[1], DOWN_COLOR, -3, "right")):
        ax.axvline(v * scale, color=color, ls=":", lw=1.0)
        ax.annotate(f"{name} = {v * scale:.3g} nA", xy=(v * scale, lo_l + 0.72 * (hi_l - lo_l)),
                    xytext=(dx, 0), textcoords="offset points", rotation=90, va="center",
                    ha=ha, fontsize=7, color=color)
    for v, color in ((r.measured_up, UP_COLOR), (r.measured_down, DOWN_COLOR)):
        if v is not None:
            ax.plot([v * scale], [0.5 * (lo_l + hi_l)], "x", color=color, ms=8, mew=2,
                    label=None)
    ax.set_xlabel("input current (nA)")
    ax.set_ylabel("cell state")
    pad = 0.12 * (hi_l - lo_l)
    ax.set_ylim(lo_l - pad, hi_l + pad)
    ax.set_yticks([lo_l, hi_l])
    ax.grid(alpha=0.3)
    errs = ("—" if r.err_up is None else f"{100 * r.err_up:+.2f}%",
            "—" if r.err_down is None else f"{100 * r.err_down:+.2f}%")
    ax.set_title(f"{r.label()}\nup err {errs[0]}, down err {errs[1]} of width", fontsize=9)
    if right_axis and r.alpha > 0:
        a = r.alpha * scale
        sec = ax.secondary_yaxis("right", functions=(lambda v: v * a, lambda v: v / a))
        sec.set_ylabel("output current α·state (nA)")
    if legend:
        ax.plot([], [], "x", color="k", ms=7, mew=2, label="measured switching point (state midpoint)")
        ax.plot([], [], ls=":", color="k", label="expected threshold (IR)")


def plot_hysteresis(results: list, path, title: str | None = None, ncols: int = 4) -> Path:
    """One panel per result (a HysteresisResult with its trace); PNG/SVG/PDF by suffix."""
    results = list(results)
    if not results:
        raise InputError("no hysteresis results to plot")
    n = len(results)
    ncols = 1 if n == 1 else min(ncols, n)
    nrows = math.ceil(n / ncols)
    size = (7.0, 4.6) if n == 1 else (3.6 * ncols, 3.0 * nrows + 0.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False)
    for k, (ax, r) in enumerate(zip(axes.flat, results)):
        _one(ax, r, legend=(k == 0), right_axis=(n == 1))
        if n > 1 and k % ncols:
            ax.set_ylabel("")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    r0 = results[0]
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3 if n == 1 else 5, fontsize=8,
               frameon=False)
    fig.suptitle(title or f"hysteresis loop{'s' if n > 1 else ''}: layer {r0.layer} ({r0.kind}, "
                 f"{r0.model} model), slow triangular sweep in ngspice", fontsize=11)
    fig.tight_layout(rect=(0, 0.1 if n == 1 else 0.045 / max(nrows / 2, 1), 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path
