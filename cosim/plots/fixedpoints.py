"""Fixed-point diagrams: the S-curve of the dynamic bistable cell (stable branches
solid, unstable branch dashed, folds at beta1 / beta2) with the circuit's slow
sweeps overlaid as markers; for a CMRU channel a second panel with the ladder
of stable levels k * alpha and the circuit's held levels."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from ..hw.kinds import get_kind
from . import save_figure

NA = 1e-9


def _s_curve(ax, res, i_unit_a: float) -> None:
    curve = res.trace["curve"]
    sc = i_unit_a / NA
    for name, style in (("low", "-"), ("high", "-"), ("unstable", "--")):
        bx, bu = curve.branches[name]
        keep = (bx >= curve.lo) & (bx <= curve.hi)
        label = {"low": "stable fixed points (model)", "unstable": "unstable fixed points (model)",
                 "high": None}[name]
        ax.plot(bx[keep] * sc, curve.state(bu[keep]), style, color="k", lw=1.8 if style == "-" else 1.5,
                label=label, zorder=5)
    if "x" in res.trace:
        x, u = res.trace["x"], res.trace["u"]
        turn = int(np.argmax(x))
        n_mk = 36
        step = (curve.hi - curve.lo) / n_mk
        for sl, color, marker, off, label in (
                (slice(0, turn + 1), "C0", "^", 0.25, "circuit sweep, input rising"),
                (slice(turn, len(x)), "C3", "v", 0.75, "circuit sweep, input falling")):
            xs, us = x[sl], u[sl]
            grid = curve.lo + (np.arange(n_mk) + off) * step   # markers evenly spaced in x
            idx = np.unique([int(np.argmin(np.abs(xs - g))) for g in grid])
            ax.plot(xs[idx] * sc, curve.state(us[idx]), marker, color=color, ms=6, mew=1.3,
                    mfc="none", label=label, zorder=4)
    if "transistor_x" in res.trace:
        tx, tu = res.trace["transistor_x"], res.trace["transistor_u"]
        keep = (tx >= curve.lo) & (tx <= curve.hi)
        t = res.transistor
        what = t.get("what", "every equilibrium, state node q/vdd")
        ax.plot(tx[keep] * sc, curve.state(tu[keep]), "-", color="C2", lw=1.2, alpha=0.9, zorder=6,
                label=f"transistor (sky130 {t['corner']}/{t['temp_c']:g} °C): {what}")
    lo_l, hi_l = curve.levels
    for v, name, dx, ha in ((res.beta2, "β2 (up fold)", 3, "left"),
                            (res.beta1, "β1 (down fold)", -3, "right")):
        ax.axvline(v * sc, color="0.4", ls=":", lw=1)
        ax.annotate(f"{name} = {v * sc:.3g} nA", xy=(v * sc, lo_l + 0.5 * (hi_l - lo_l)),
                    xytext=(dx, 0), textcoords="offset points", rotation=90, va="center", ha=ha,
                    fontsize=7)
    ax.set_xlabel("constant input current (nA)")
    ax.set_ylabel("cell state at the fixed point")
    pad = 0.08 * (hi_l - lo_l)
    ax.set_ylim(lo_l - pad, hi_l + pad)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    c = res.circuit
    sub = (f"dynamic cell, loop gain {res.loopgain:g}: unstable branch between β1 and β2"
           if c is None else
           f"circuit folds: up {100 * c.fold_err_up:+.2f}%, down {100 * c.fold_err_down:+.2f}% "
           f"of width; branches within {c.max_dist:.1e}")
    ax.set_title(sub, fontsize=9)


def _ladder(ax, lad, i_unit_a: float, transistor=None) -> None:
    sc = i_unit_a / NA
    a = lad.alpha * sc
    for k in lad.rungs:
        ax.axhline(k * a, color="0.75", lw=1, zorder=1)
    ax.plot(lad.rungs, np.asarray(lad.rungs) * a, "s", color="k", ms=9, mfc="none",
            label="stable level k·α (model)", zorder=2)
    if lad.measured is not None:
        meas = np.asarray(lad.measured)
        for j, k in enumerate(lad.rungs):
            ax.plot(np.full(meas.shape[1], k), meas[j] * a, "o", color="C2", ms=3.5,
                    label="circuit, held with no input" if j == 0 else None, zorder=3)
    if transistor is not None:
        for j, k in enumerate(lad.rungs):
            ax.plot(np.full(transistor.shape[1], k + 0.2), transistor[j] * a, "D", color="C4", ms=3.5,
                    label="transistor (sky130), held with no input" if j == 0 else None, zorder=3)
    ax.set_xlabel("rung k")
    ax.set_ylabel("ladder output current (nA)")
    ax.set_xticks(lad.rungs)
    err = "" if lad.max_level_err is None else f", max error {lad.max_level_err:.1e} rung"
    ax.set_title(f"ladder of fixed points (K={lad.K}, α={a:.3g} nA), held with no input{err}",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)


def plot_fixed_points(res, path, title: str | None = None, i_unit_a: float = 1e-9) -> Path:
    """Fixed-point diagram of a FixedPointResult (with its trace); PNG/SVG/PDF by suffix."""
    two = res.ladder is not None
    fig, axes = plt.subplots(1, 2 if two else 1, figsize=(12.5, 4.8) if two else (7.0, 4.8),
                             squeeze=False)
    _s_curve(axes[0, 0], res, i_unit_a)
    if two:
        _ladder(axes[0, 1], res.ladder, i_unit_a, res.trace.get("transistor_ladder"))
    kind = get_kind(res.kind)
    what = kind.title + (" (s = 2u − 1)" if kind.levels[0] < 0 else "")
    ch = "" if res.channel is None else f" channel {res.channel}"
    fig.suptitle(title or f"fixed points vs constant input: layer {res.layer}{ch}, {what}",
                 fontsize=11)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
