"""Calibrated mapping of an IR's first-quadrant cells onto the sky130 bistable cell.

For every cell (layer l, channel i) of a `schmitt` layer: the bias currents
(nA; 1 IR unit = 1 nA) that the calibration's fitted model
(pdk.schmitt_char.fit) maps onto the cell's beta2 = beta1 + delta, beta1 and
alpha; the mirror-device size that meets a mismatch budget; and, when asked,
the cell measured in ngspice at those biases with the residual errors
against the IR (beta2, beta1 and delta in % of the intended value).

Sizing: σ(beta) of the cell scales as 1 / msize (Pelgrom: the mirror
devices are (2 msize) x (4 msize) um); msize = σ_1 / σ_target, with σ_1 the
calibration's measured σ at msize = 1 (the worse of beta2 and beta1), at
least 1. Mirror banks: unit area (A / σ_target)^2 with the calibration's
Pelgrom coefficient A.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..hw.kinds import get_kind
from .schmitt_char import biases_for, measure

CALIB_DIR = Path(__file__).resolve().parents[2] / "calib"


def load_calibration(path=None, corner: str = "tt", temp_c: float = 27.0) -> dict:
    """The calibration document (`cosim characterize` output); InputError when missing or stale."""
    path = Path(path) if path else CALIB_DIR / f"sky130_{corner}_{temp_c:g}c.json"
    if not path.is_file():
        raise InputError(f"no calibration file {path}: run `cosim characterize --pdk sky130 --corner {corner} "
                         f"--temp {temp_c:g} --out {path.parent}`")
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"calibration file {path} is unreadable: {exc}") from None
    from .characterize import CALIB_VERSION
    if doc.get("version") != CALIB_VERSION or "schmitt" not in doc:
        raise InputError(f"calibration file {path} is from another version or lacks the bistable cell: "
                         "re-run `cosim characterize`")
    return doc


def cell_size(calib: dict, sigma_target: float, kind: str = "schmitt") -> dict:
    """msize of a bistable cell of `kind` ("schmitt" or "bmru") and unit area of the
    mirror banks for a σ budget (fraction). The BMRU cell is sized from its own measured
    σ (the calibration's clocked section, pdk.clocked_char) when the file has it, else
    by the first-quadrant cell's rule ("rule" says which)."""
    if not (math.isfinite(sigma_target) and 0 < sigma_target < 1):
        raise InputError(f"--sigma-target must be a fraction in (0, 1), got {sigma_target!r}")
    row = next(r for r in calib["schmitt"]["mismatch"]["per_size"] if r["msize"] == 1.0)
    s1 = max(row["sigma_beta2_pct"], row["sigma_beta1_pct"]) / 100
    rule = "first-quadrant cell"
    if kind == "bmru":
        bm = calib.get("clocked", {}).get("bmru_clk", {}).get("mismatch", {})
        if math.isfinite(bm.get("sigma_x_msize", float("nan"))):
            s1, rule = bm["sigma_x_msize"], "BMRU cell"
        else:
            rule = "first-quadrant cell (the calibration has no BMRU mismatch)"
    msize = max(1.0, s1 / sigma_target)
    pel = calib["mirror_mismatch"]["pelgrom_pct_um"] / 100
    return {"msize": msize, "cell_mirror_device_um": [2 * msize, 4 * msize], "rule": rule,
            "expected_sigma_beta": s1 / msize, "mirror_unit_area_um2": max(8.0, (pel / sigma_target) ** 2)}


def map_cells(ir, calib: dict, sigma_target: float = 0.05, measure_cells: bool = False,
              progress=None) -> list:
    """One record per first-quadrant cell (module doc)."""
    size = cell_size(calib, sigma_target)
    model = calib["schmitt"]["model"]
    rows = []
    for l, layer in enumerate(ir.layers):
        if not get_kind(layer.kind).first_quadrant:
            continue
        for i in range(layer.n):
            b1, d, a = float(layer.beta1[i]), float(layer.delta[i]), float(layer.alpha[i])
            ith, iw, ig = biases_for(model, b1 + d, b1, a)
            rec = {"layer": l, "channel": i, "beta2": b1 + d, "beta1": b1, "delta": d, "alpha": a,
                   "ithresh_na": ith, "iwidth_na": iw, "igain_na": ig, "msize": size["msize"]}
            if measure_cells:
                m = measure(ith, iw, ig, calib["corner"], calib["temp_c"], msize=size["msize"])
                rec["measured"] = {k: m[k] for k in ("beta2", "beta1", "alpha", "supply_low_na", "supply_high_na")}
                rec["error_pct"] = {
                    "beta2": _pct(m["beta2"], b1 + d), "beta1": _pct(m["beta1"], b1), "alpha": _pct(m["alpha"], a),
                    "delta": None if None in (m["beta2"], m["beta1"]) else _pct(m["beta2"] - m["beta1"], d)}
                rec["static_power_nw"] = calib["vdd_v"] * max(m["supply_low_na"], m["supply_high_na"])
                if progress:
                    progress(rec)
            rows.append(rec)
    return rows


def _pct(measured, intended):
    return None if measured is None else float(100 * (measured / intended - 1))


def worst(rows: list) -> dict:
    """Largest |error| (%) per quantity over measured cells (None: a cell did not switch)."""
    out = {}
    for key in ("beta2", "beta1", "delta", "alpha"):
        vals = [r["error_pct"][key] for r in rows if "error_pct" in r]
        out[key] = None if any(v is None for v in vals) else float(np.max(np.abs(vals))) if vals else None
    return out


def format_table(rows: list, size: dict) -> str:
    lines = [f"  bistable cell mirror devices {size['cell_mirror_device_um'][0]:.1f} x "
             f"{size['cell_mirror_device_um'][1]:.1f} um (msize {size['msize']:.2f}, expected σ(beta) "
             f"{100 * size['expected_sigma_beta']:.1f}%); mirror bank unit area {size['mirror_unit_area_um2']:.0f} um²",
             f"  {'cell':>7s} {'beta2':>7s} {'beta1':>7s} {'alpha':>7s}  {'ithresh':>8s} {'iwidth':>8s} {'igain':>8s}"
             + ("  err% beta2  beta1  delta  alpha   power nW" if rows and "error_pct" in rows[0] else "")]
    for r in rows:
        line = (f"  {r['layer']:>3d}/{r['channel']:<3d} {r['beta2']:7.3f} {r['beta1']:7.3f} {r['alpha']:7.3f}  "
                f"{r['ithresh_na']:8.3f} {r['iwidth_na']:8.3f} {r['igain_na']:8.3f}")
        if "error_pct" in r:
            e = r["error_pct"]
            line += "      " + " ".join("   n/a" if e[k] is None else f"{e[k]:+6.2f}"
                                      for k in ("beta2", "beta1", "delta", "alpha"))
            line += f"  {r['static_power_nw']:8.2f}"
        lines.append(line)
    return "\n".join(lines)
