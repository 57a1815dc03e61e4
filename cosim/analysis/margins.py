"""Margin report (SPEC 6): how far each cell's candidate sits from its nearest
threshold, over a split of task sequences, from the software reference of the
(quantized) IR. The designer's noise-margin figure: a channel whose candidate
sits on a threshold (margin 0) decides by rounding, in software and circuit.

Margins are in units (1 unit = i_unit_a) and in % of the hold window width
(2|beta| for bmru/cmru, delta for the first-quadrant cell; channels of width 0
have no % figure). A step whose margin is within `agreement.tie_band` is a tie.
"""
from __future__ import annotations

import numpy as np

from ..hw.ir import HardwareIR
from ..hw.reference import run_reference
from .agreement import layer_margins

PERCENTILES = (0, 1, 5, 50)


def _stats(v: np.ndarray) -> dict | None:
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    return {f"p{p}": float(np.percentile(v, p)) for p in PERCENTILES} | {"mean": float(v.mean())}


def margin_report(ir: HardwareIR, x, ref=None, max_channels: int = 10) -> dict:
    """Per layer: margin distribution (units, % of width), tie counts, and the
    channels with the most ties / the smallest margins."""
    x = np.asarray(x, np.float64)
    ref = ref if ref is not None else run_reference(ir, x)
    layers = []
    for l, (layer, tr) in enumerate(zip(ir.layers, ref.layers)):
        margin, band, width = layer_margins(layer, tr)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(width > 0, 100 * margin / width, np.nan)
        tie = margin <= band
        per_ch = []
        for c in range(layer.n):
            per_ch.append({"channel": c, "min_margin": float(margin[..., c].min()),
                           "min_margin_pct": (None if not np.isfinite(pct[..., c]).any()
                                              else float(np.nanmin(pct[..., c]))),
                           "tie_steps": int(tie[..., c].sum()),
                           "tie_fraction": float(tie[..., c].mean())})
        worst = sorted(per_ch, key=lambda d: (-d["tie_steps"], d["min_margin"]))[:max_channels]
        layers.append({"layer": l, "kind": layer.kind, "cell_steps": int(margin.size),
                       "margin_units": _stats(margin.ravel()), "margin_pct_width": _stats(pct.ravel()),
                       "ties": int(tie.sum()), "tie_fraction": float(tie.mean()),
                       "channels_with_ties": [d["channel"] for d in per_ch if d["tie_steps"]],
                       "worst_channels": worst})
    return {"sequences": int(x.shape[0]), "steps": int(x.shape[1]), "layers": layers,
            "ties": int(sum(d["ties"] for d in layers)),
            "min_margin_units": float(min(d["margin_units"]["p0"] for d in layers))}


def format_margins(rep: dict) -> list:
    """Printed lines: one per layer."""
    rows = []
    for d in rep["layers"]:
        u, p = d["margin_units"], d["margin_pct_width"]
        pct = "" if p is None else f"; % of width p1 {p['p1']:.2f}, p5 {p['p5']:.2f}, median {p['p50']:.1f}"
        ch = d["channels_with_ties"]
        tied = f", ties in channels {ch[:8]}" if ch else ""
        rows.append(f"l{d['layer']} ({d['kind']}): margin min {u['p0']:.3g}, p1 {u['p1']:.3g}, "
                    f"p5 {u['p5']:.3g}, median {u['p50']:.3g} units{pct}; {d['ties']} tie steps "
                    f"({100 * d['tie_fraction']:.3f}%){tied}")
    return rows
