"""Noise-tolerance figure: extra state flips per window crossing (log y) versus
noise std sigma / delta (bottom axis; nA on the top axis) for the hysteresis
cell and the width-0 comparator: circuit (ngspice) markers, software lines,
suppression factors annotated. Right: one window crossing at a chosen sigma
(input with the window, both states)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, NullFormatter  # noqa: E402
from . import save_figure

HYST_COLOR, COMP_COLOR = "C0", "C3"


def _example_index(res) -> int:
    """The sigma shown on the right: the largest one at which the hysteresis cell made
    no extra flip while the comparator did; else the one closest to 0.2 delta."""
    good = [i for i, p in enumerate(res.points)
            if p.hyst_circuit.extra == 0 and p.comp_circuit.extra > 0]
    if good:
        return max(good, key=lambda i: res.points[i].sigma_rel)
    return int(np.argmin([abs(p.sigma_rel - 0.2) for p in res.points]))


def _crossing_window(res, i: int) -> tuple[int, int]:
    """Sample range of the up-ramp with the most comparator flips (plus margins)."""
    per = res.samples_per_step
    nh, nr = res.hold_steps * per, res.ramp_steps * per
    comp = np.asarray(res.trace["comp"][i])
    best, best_n = 0, -1
    for j in range(0, res.crossings, 2):                       # up ramps
        a = nh + j * (nh + nr)
        n = int(np.count_nonzero(np.diff(comp[a:a + nr])))
        if n > best_n:
            best, best_n = a, n
    return max(best - nh // 2, 0), min(best + nr + nh // 2, len(comp))


def plot_noise(res, path, title: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    na = res.na
    rel = np.array([p.sigma_rel for p in res.points])
    order = np.argsort(rel)
    rel = rel[order]
    pts = [res.points[i] for i in order]
    floor = res.resolution
    shown = 0.5 * floor                                         # where "none observed" is drawn
    has_trace = bool(res.trace)
    fig = plt.figure(figsize=(12.5 if has_trace else 7.2, 5.0))
    if has_trace:
        gs = fig.add_gridspec(2, 2, width_ratios=[1.15, 1], height_ratios=[1.6, 1],
                              hspace=0.08, wspace=0.22)
        ax = fig.add_subplot(gs[:, 0])
    else:
        ax = fig.add_subplot(111)
    logx = bool(np.all(rel > 0))
    for key, color, marker, name in (("hyst", HYST_COLOR, "o", "hysteresis (trained width δ)"),
                                     ("comp", COMP_COLOR, "s", "comparator (width 0, at the centre)")):
        circ = np.array([getattr(p, f"{key}_circuit").error_rate for p in pts])
        soft = np.array([getattr(p, f"{key}_software").error_rate for p in pts])
        ax.plot(rel, np.where(soft > 0, soft, shown), color=color, lw=1.6, alpha=0.6,
                label=f"{name}: software cell")
        pos = circ > 0
        ax.plot(rel[pos], circ[pos], ls="none", marker=marker, ms=8, mfc=color, mec="k",
                color=color, label=f"{name}: circuit (ngspice)")
        if (~pos).any():
            ax.plot(rel[~pos], np.full((~pos).sum(), shown), ls="none", marker="v", ms=9,
                    mfc="white", mec=color, mew=1.8,
                    label=f"{name}: circuit, no extra flip (< 1/{res.crossings})")
    ax.axhline(floor, color="0.4", ls=":", lw=1)
    ax.text(rel[0], floor * 1.08, f"resolution: 1 extra flip in {res.crossings} crossings",
            fontsize=7.5, color="0.3", va="bottom")
    for p, r in zip(pts, rel):
        if p.factor is not None:
            y = max(p.comp_circuit.error_rate, shown) * 1.45
            ax.text(r, y, f"×{p.factor_text().replace('> ', '>')}", ha="center", va="bottom",
                    fontsize=8, color="k", fontweight="bold")
    ax.text(0.99, 0.015, "×F: suppression factor (circuit counts); ×>F: lower bound, no extra "
            "hysteresis flip seen", transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
            color="0.25")
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
        ax.set_xticks(rel)
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ymax = max([p.comp_circuit.error_rate for p in pts] + [p.comp_software.error_rate for p in pts]
               + [floor])
    ax.set_ylim(shown / 2.5, ymax * 60)
    ax.set_xlabel("noise std σ / δ (Gaussian, piecewise constant per noise sample)")
    ax.set_ylabel("extra state flips per window crossing")
    sec = ax.secondary_xaxis("top", functions=(lambda r: r * res.delta * na,
                                               lambda s: s / (res.delta * na)))
    sec.set_xlabel("σ (nA)")
    if logx:
        sec.set_xticks(rel * res.delta * na)
        sec.xaxis.set_major_formatter(FormatStrFormatter("%.3g"))
        sec.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", framealpha=0.9)
    if has_trace:
        i = _example_index(res)
        p = res.points[i]
        a, b = _crossing_window(res, i)
        t = (np.arange(a, b) + 0.5) * res.tn_s / res.dt_s            # steps
        x = np.asarray(res.trace["x"][i][a:b]) * na
        clean = np.asarray(res.trace["clean"][a:b]) * na
        ax1 = fig.add_subplot(gs[0, 1])
        ax1.step(t, x, where="mid", color="0.35", lw=0.9, label=f"input, σ = {p.sigma_rel:g} δ")
        ax1.plot(t, clean, color="k", lw=1.2, ls="--", label="noiseless trapezoid")
        ax1.axhline(res.beta2 * na, color=HYST_COLOR, ls=":", lw=1.2)
        ax1.axhline(res.beta1 * na, color=HYST_COLOR, ls=":", lw=1.2)
        ax1.axhspan(res.beta1 * na, res.beta2 * na, color=HYST_COLOR, alpha=0.08,
                    label="hysteresis window [β1, β2]")
        ax1.axhline(res.centre * na, color=COMP_COLOR, ls="-.", lw=1.0, label="comparator threshold")
        ax1.set_ylabel("input current (nA)")
        ax1.legend(fontsize=7, loc="upper left")
        ax1.set_title(f"one up-crossing at σ = {p.sigma * na:.3g} nA", fontsize=9)
        ax1.tick_params(labelbottom=False)
        ax2 = fig.add_subplot(gs[1, 1], sharex=ax1)
        h = np.asarray(res.trace["hyst"][i][a:b])
        c = np.asarray(res.trace["comp"][i][a:b])
        ax2.step(t, c + 1.6, where="mid", color=COMP_COLOR,
                 label=f"comparator ({int(np.count_nonzero(np.diff(c)))} transitions)")
        ax2.step(t, h, where="mid", color=HYST_COLOR,
                 label=f"hysteresis ({int(np.count_nonzero(np.diff(h)))} transition"
                       f"{'s' if np.count_nonzero(np.diff(h)) != 1 else ''})")
        ax2.set_yticks([0, 1, 1.6, 2.6], ["0", "1", "0", "1"])
        ax2.set_ylabel("state (circuit)")
        ax2.set_xlabel("time (recurrent steps of dt)")
        ax2.legend(fontsize=7, loc="center left", bbox_to_anchor=(0.0, 0.45))
        ax2.set_ylim(-0.2, 2.8)
    fig.suptitle(title or (f"{res.model}, layer {res.layer} channel {res.channel} (δ = "
                           f"{res.delta * na:.3g} nA): state flips per cell-boundary crossing vs "
                           f"input noise, hysteresis vs comparator"), fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.85, bottom=0.11)
    save_figure(fig, path, dpi=130)
    plt.close(fig)
    return path
