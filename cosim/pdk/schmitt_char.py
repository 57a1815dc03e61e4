"""The sky130 first-quadrant bistable cell (`sky130_schmitt`, circuits/sky130_cells.lib):
measurement, calibration fit and the bias mapping.

A measurement drives the cell's input with a slow triangle of current
(0 -> peak -> 0, A) while its output is held at VOUT_V, and reads: the input
current where the state node q crosses vdd/2 going up (beta2) and down
(beta1), the output current when high (alpha) and the supply current in each
state. The calibration fits, over a grid of biases (nA),

    beta2 = a0 + a1 ithresh + a2 iwidth,   beta1 = b0 + b1 ithresh + b2 iwidth,
    alpha = c0 + c1 igain

and `biases_for` inverts it: the biases that put the measured switching
points and level on an IR cell's beta2, beta1 and alpha.
"""
from __future__ import annotations

import itertools

import numpy as np

from .bench import CELLS, bench, run

CELL = "sky130_schmitt"
VOUT_V = 0.6
RAMP_S = 2.0                     # one way of the triangle
GRID_ITHRESH = (0.5, 1.0, 2.0)   # nA
GRID_IWIDTH = (0.1, 0.3, 0.6)
GRID_IGAIN = (0.5, 1.0, 2.0)


def available() -> bool:
    return CELLS.is_file() and f".subckt {CELL}" in CELLS.read_text().lower()


def measure(ithresh_na: float, iwidth_na: float, igain_na: float, corner: str = "tt",
            temp_c: float = 27.0, peak_na: float | None = None) -> dict:
    """Switching points, level and supply currents (nA) of one cell for the given biases (nA)."""
    peak = peak_na or 1.6 * ithresh_na + 0.2
    c = bench("bistable cell", corner)
    c.add("isource", "x", "0", "inp", value=_triangle(peak * 1e-9))
    c.add("vsource", "out", "out", "0", value=VOUT_V)
    c.instance("c", CELL, "inp", "out", "vdd", "0", ithresh=ithresh_na * 1e-9, iwidth=iwidth_na * 1e-9,
               igain=igain_na * 1e-9)
    c.saves.extend(["v(xc.q)", "i(vout)", "i(vdd)", "time"])
    w = run(c, f".tran {RAMP_S / 2000:g} {2 * RAMP_S:g} 0 {RAMP_S / 400:g}", temp_c=temp_c)
    t, q = w["time"], w["v(xc.q)"]
    i_in = np.interp(t, [0, RAMP_S, 2 * RAMP_S], [0, peak, 0])
    high = q > 0.9
    up = _crossing(t, q, 0.9, rising=True)
    down = _crossing(t, q, 0.9, rising=False)
    rec = {"ithresh": ithresh_na, "iwidth": iwidth_na, "igain": igain_na,
           "beta2": None if up is None else float(np.interp(up, [0, RAMP_S, 2 * RAMP_S], [0, peak, 0])),
           "beta1": None if down is None else float(np.interp(down, [0, RAMP_S, 2 * RAMP_S], [0, peak, 0]))}
    i_out = w["i(vout)"]            # current delivered into the out node flows into the source's + terminal
    rec["alpha"] = float(np.median(i_out[high])) * 1e9 if high.any() else None
    supply = -w["i(vdd)"] * 1e9
    rec["supply_low_na"] = float(np.median(supply[(~high) & (i_in < 0.5 * ithresh_na)])) if (~high).any() else None
    rec["supply_high_na"] = float(np.median(supply[high])) if high.any() else None
    return rec


def _triangle(peak_a: float):
    from ..netlist.circuit import Pwl
    return Pwl(((0.0, 0.0), (RAMP_S, peak_a), (2 * RAMP_S, 0.0)))


def _crossing(t, v, level, rising: bool):
    s = v > level
    idx = np.nonzero(s[1:] & ~s[:-1])[0] if rising else np.nonzero(~s[1:] & s[:-1])[0]
    if not len(idx):
        return None
    k = idx[0]
    return float(t[k] + (level - v[k]) * (t[k + 1] - t[k]) / (v[k + 1] - v[k]))


def fit(rows: list) -> dict:
    """Least-squares coefficients of the calibration model (module doc)."""
    ok = [r for r in rows if r["beta2"] is not None and r["beta1"] is not None and r["alpha"] is not None]
    X = np.array([[1.0, r["ithresh"], r["iwidth"]] for r in ok])
    b2 = np.linalg.lstsq(X, [r["beta2"] for r in ok], rcond=None)[0]
    b1 = np.linalg.lstsq(X, [r["beta1"] for r in ok], rcond=None)[0]
    G = np.array([[1.0, r["igain"]] for r in ok])
    al = np.linalg.lstsq(G, [r["alpha"] for r in ok], rcond=None)[0]
    return {"beta2": b2.tolist(), "beta1": b1.tolist(), "alpha": al.tolist()}


def biases_for(model: dict, beta2: float, beta1: float, alpha: float) -> tuple:
    """(ithresh, iwidth, igain) nA that the fitted model maps onto beta2, beta1, alpha (nA)."""
    a, b = np.asarray(model["beta2"]), np.asarray(model["beta1"])
    A = np.array([[a[1], a[2]], [b[1], b[2]]])
    ithresh, iwidth = np.linalg.solve(A, [beta2 - a[0], beta1 - b[0]])
    c = model["alpha"]
    return float(ithresh), float(iwidth), float((alpha - c[0]) / c[1])


def characterize(corner: str, temp_c: float) -> dict:
    """Grid of measurements, the fit, and its residuals (nA and %)."""
    rows = []
    for it, iw in itertools.product(GRID_ITHRESH, GRID_IWIDTH):
        if iw < it:
            rows.append(measure(it, iw, GRID_IGAIN[len(rows) % len(GRID_IGAIN)], corner, temp_c))
    model = fit(rows)
    for r in rows:
        if r["beta2"] is not None and r["beta1"] is not None:
            p2 = model["beta2"][0] + model["beta2"][1] * r["ithresh"] + model["beta2"][2] * r["iwidth"]
            p1 = model["beta1"][0] + model["beta1"][1] * r["ithresh"] + model["beta1"][2] * r["iwidth"]
            r["fit_residual_pct"] = [100 * (p2 / r["beta2"] - 1), 100 * (p1 / r["beta1"] - 1)]
    return {"cell": CELL, "vout_v": VOUT_V, "grid": rows, "model": model}


def summary_lines(doc: dict) -> list:
    rows = [r for r in doc["grid"] if r["beta2"] is not None and r["beta1"] is not None]
    if not rows:
        return ["  bistable cell: no switching measured"]
    e2 = [100 * (r["beta2"] / r["ithresh"] - 1) for r in rows]
    e1 = [100 * (r["beta1"] / (r["ithresh"] - r["iwidth"]) - 1) for r in rows]
    ea = [100 * (r["alpha"] / r["igain"] - 1) for r in rows if r["alpha"] is not None]
    pw = [1.8 * max(r["supply_low_na"], r["supply_high_na"]) for r in rows
          if r["supply_low_na"] is not None and r["supply_high_na"] is not None]
    res = max(abs(v) for r in rows for v in r.get("fit_residual_pct", [0]))
    return [f"  bistable cell, uncalibrated: beta2 {min(e2):+.1f}..{max(e2):+.1f}%, beta1 {min(e1):+.1f}.."
            f"{max(e1):+.1f}%, alpha {min(ea):+.1f}..{max(ea):+.1f}% of the biases; "
            f"static power {min(pw):.1f}-{max(pw):.1f} nW",
            f"  bistable cell, calibrated fit: residuals within {res:.2f}% over the grid"]


def plot(doc: dict, out) -> list:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["grid"] if r["beta2"] is not None and r["beta1"] is not None]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([r["ithresh"] for r in rows], [r["beta2"] for r in rows], "o", label="β2 measured")
    ax.plot([r["ithresh"] - r["iwidth"] for r in rows], [r["beta1"] for r in rows], "s", label="β1 measured")
    lim = max(r["ithresh"] for r in rows) * 1.1
    ax.plot([0, lim], [0, lim], "k:", lw=1, label="bias = threshold")
    ax.set(xlabel="intended threshold from biases (nA)", ylabel="measured switching point (nA)",
           title="sky130 bistable cell, uncalibrated")
    ax.grid(alpha=.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "bistable.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
