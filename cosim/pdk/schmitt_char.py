"""The sky130 first-quadrant bistable cell (`sky130_schmitt`, circuits/sky130_cells.lib):
measurement, calibration fit and the bias mapping.

A measurement sweeps the cell's input current (DC, up then down: each point
starts from the last, so the sweep stays on its branch) while its output is
held at VOUT_V, and reads the input current where the state node q crosses
vdd/2 going up (beta2) and down (beta1); `.op` below beta1 and above beta2
gives the output current when high (alpha) and the supply current in each
state; a transient the switching delay. The calibration fits, over a grid of biases (nA),

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
GRID_ITHRESH = (0.3, 1.0, 2.0, 3.5)   # nA: covers the shipped models' cells
GRID_IWIDTH = (0.05, 0.3, 1.0, 2.5)
GRID_IGAIN = (0.5, 2.0, 6.0)


def available() -> bool:
    return CELLS.is_file() and f".subckt {CELL}" in CELLS.read_text().lower()


def measure(ithresh_na: float, iwidth_na: float, igain_na: float, corner: str = "tt",
            temp_c: float = 27.0, msize: float = 1.0) -> dict:
    """Switching points (DC sweeps), output level and supply current per state (`.op`
    below beta1 and above beta2), all nA, of one cell for the given biases (nA)."""
    beta2, beta1 = dc_thresholds(ithresh_na, iwidth_na, msize=msize, corner=corner, temp_c=temp_c)
    rec = {"ithresh": ithresh_na, "iwidth": iwidth_na, "igain": igain_na, "beta2": beta2, "beta1": beta1}
    for state, i_in in (("low", 0.0), ("high", 1.6 * ithresh_na + 0.2)):
        w = run(_cell_bench(ithresh_na, iwidth_na, igain_na, i_in, corner, msize), ".op", temp_c=temp_c)
        high = float(np.ravel(w["v(xc.q)"])[0]) > 0.9
        rec[f"supply_{state}_na"] = -float(np.ravel(w["i(vdd)"])[0]) * 1e9
        if state == "high":
            rec["alpha"] = float(np.ravel(w["i(vout)"])[0]) * 1e9 if high else None
        elif high:
            rec["beta1"] = None                     # did not reset at zero input
    return rec


def _cell_bench(ithresh_na, iwidth_na, igain_na, i_in_na, corner, msize=1.0, mismatch=False, wave=None):
    """One cell, a controlled input (1 nA per volt of `ctl` into inp, ctl at i_in_na V;
    or the input current waveform `wave`, A) and the output held at VOUT_V."""
    c = bench("bistable cell", corner, mismatch=mismatch)
    if wave is None:
        c.add("vsource", "ctl", "ctl", "0", value=float(i_in_na))
        c.add("vccs", "x", "0", "inp", "ctl", "0", value=1e-9)
    else:
        c.isource("x", "0", "inp", wave)
    c.add("vsource", "out", "out", "0", value=VOUT_V)
    c.instance("c", CELL, "inp", "out", "vdd", "0", ithresh=ithresh_na * 1e-9, iwidth=iwidth_na * 1e-9,
               igain=igain_na * 1e-9, msize=msize)
    c.saves.extend(["v(xc.q)", "i(vout)", "i(vdd)"])
    return c


def switching_time(ithresh_na: float = 0.7, iwidth_na: float = 0.4, corner: str = "tt",
                   temp_c: float = 27.0, overdrive: float = 0.1) -> dict:
    """Delay (s) from an input step to q crossing vdd/2: up (0 -> (1 + overdrive) beta2)
    and down (to (1 - overdrive) beta1), each held 10 ms."""
    from ..netlist.circuit import Pwl
    hi, lo = (1 + overdrive) * ithresh_na, (1 - overdrive) * (ithresh_na - iwidth_na)
    wave = Pwl(tuple((t, 1e-9 * v) for t, v in ((0.0, 0.0), (1e-3, 0.0), (1.001e-3, hi), (11e-3, hi),
                                                (11.001e-3, lo), (21e-3, lo))))
    c = _cell_bench(ithresh_na, iwidth_na, 1.0, 0.0, corner, wave=wave)
    c.saves.append("time")
    w = run(c, ".tran 10u 21m 0 50u", temp_c=temp_c)
    t, q = w["time"], w["v(xc.q)"]
    up, down = _crossing(t, q, 0.9, rising=True), _crossing(t, q, 0.9, rising=False)
    return {"overdrive": overdrive, "up_s": None if up is None else up - 1.001e-3,
            "down_s": None if down is None else down - 11.001e-3}


def _crossing(t, v, level, rising: bool):
    s = v > level
    idx = np.nonzero(s[1:] & ~s[:-1])[0] if rising else np.nonzero(~s[1:] & s[:-1])[0]
    if not len(idx):
        return None
    k = idx[0]
    return float(t[k] + (level - v[k]) * (t[k + 1] - t[k]) / (v[k + 1] - v[k]))


def dc_loop(ithresh_na: float, iwidth_na: float, *, msize: float = 1.0, corner: str = "tt",
            temp_c: float = 27.0, mismatch: bool = False, seed: int = 0, step_na: float = 0.002,
            peak_na: float | None = None) -> tuple:
    """(input nA, state 0..1) of one cell swept by DC up from 0 to the peak, then down
    (each point starts from the last, so the sweep follows the branch it is on; state =
    v(q) / vdd). One cell per netlist: with `mismatch` the PDK's draw is fixed by `seed`."""
    peak = peak_na or 1.6 * ithresh_na + 0.2
    step_na = max(step_na, peak / 2000)
    xs, qs = [], []
    for up in (True, False):
        c = _cell_bench(ithresh_na, iwidth_na, 1.0, 0.0, corner, msize, mismatch)
        sweep = f".dc vctl 0 {peak:g} {step_na:g}" if up else f".dc vctl {peak:g} 0 {-step_na:g}"
        w = run(c, sweep, temp_c=temp_c, seed=seed)
        xs.append(w["v(v-sweep)"])
        qs.append(w["v(xc.q)"] / 1.8)
    return np.concatenate(xs), np.concatenate(qs)


def dc_thresholds(ithresh_na: float, iwidth_na: float, **kw) -> tuple:
    """(beta2, beta1) nA of one cell: where its DC loop (dc_loop) crosses half the supply."""
    x, q = dc_loop(ithresh_na, iwidth_na, **kw)
    turn = int(np.argmax(x))
    out = []
    for xs, qs in ((x[:turn + 1], q[:turn + 1]), (x[turn:], q[turn:])):
        ch = np.nonzero((qs[1:] > 0.5) != (qs[:-1] > 0.5))[0]
        out.append(float(0.5 * (xs[ch[0]] + xs[ch[0] + 1])) if len(ch) else float("nan"))
    return tuple(out)


def s_curve(ithresh_na: float, iwidth_na: float, igain_na: float = 1.0, *, msize: float = 1.0,
            corner: str = "tt", temp_c: float = 27.0, step_v: float = 0.002) -> dict:
    """Every equilibrium of one cell versus a constant input (nA), stable and unstable.

    The comparison node x is held by a voltage source swept over the supply and the
    input current is servoed (a current-controlled source of gain 1e4 from that
    source's current) so that the source carries no current: each sweep point is an
    equilibrium of the cell at the input the servo found. x is single-valued along the
    whole S-curve (the input is not), so one DC sweep traces the low branch, the
    unstable middle and the high branch. Returns input (nA), state (the state node q
    over the supply: the output switch is a digital function of it, so the output
    current would hide the unstable branch's shape), the output current when high
    (nA) and the two folds: `fold_up` (largest input with state < 1/2) and
    `fold_down` (smallest with state >= 1/2)."""
    def sweep(lo_v, hi_v, step):
        c = bench("bistable cell equilibria", corner)
        c.add("vsource", "force", "xc.x", "0", value=0.9)
        c.cccs("servo", "0", "inp", "force", 1e4)
        c.add("vsource", "out", "out", "0", value=VOUT_V)
        c.instance("c", CELL, "inp", "out", "vdd", "0", ithresh=ithresh_na * 1e-9, iwidth=iwidth_na * 1e-9,
                   igain=igain_na * 1e-9, msize=msize)
        c.saves.extend(["i(vforce)", "i(vout)", "v(xc.q)"])
        w = run(c, f".dc vforce {lo_v:.6g} {hi_v:.6g} {step:.6g}", temp_c=temp_c)
        return w["v(v-sweep)"], 1e4 * w["i(vforce)"] * 1e9, w["i(vout)"] * 1e9, w["v(xc.q)"] / 1.8

    v, x_na, out, state = sweep(0.0, 1.8, step_v)
    mid = np.nonzero((state > 0.01) & (state < 0.99))[0]
    if len(mid):           # the unstable middle spans a few mV of x: sweep it again, 400 points
        lo_v, hi_v = v[max(mid[0] - 1, 0)], v[min(mid[-1] + 1, len(v) - 1)]
        fine = sweep(lo_v, hi_v, (hi_v - lo_v) / 400)
        keep = (v < lo_v) | (v > hi_v)
        v, x_na, out, state = (np.concatenate([a[keep], b]) for a, b in zip((v, x_na, out, state), fine))
        order = np.argsort(v)
        x_na, out, state = x_na[order], out[order], state[order]
    low, high = state < 0.5, state >= 0.5
    return {"input_na": x_na, "state": state, "alpha_na": float(out.max()),
            "fold_up": float(x_na[low & (x_na > 0)].max()), "fold_down": float(x_na[high].min())}


def threshold_mismatch(corner: str, temp_c: float, seed: int, samples: int = 30,
                       sizes=(1.0, 2.0), ithresh_na: float = 0.7, iwidth_na: float = 0.4) -> dict:
    """σ (% of the nominal value) of beta2, beta1 and the width under the PDK's mismatch
    draws (seeds seed..seed+samples-1), per mirror-device size factor msize."""
    rows = []
    for msize in sizes:
        pts = np.array([dc_thresholds(ithresh_na, iwidth_na, msize=msize, corner=corner, temp_c=temp_c,
                                      mismatch=True, seed=seed + k) for k in range(samples)])
        b2, b1 = pts[:, 0], pts[:, 1]
        rows.append({"msize": msize, "mirror_device_um": [2 * msize, 4 * msize],
                     "sigma_beta2_pct": float(100 * np.nanstd(b2, ddof=1) / ithresh_na),
                     "sigma_beta1_pct": float(100 * np.nanstd(b1, ddof=1) / (ithresh_na - iwidth_na)),
                     "sigma_width_pct": float(100 * np.nanstd(b2 - b1, ddof=1) / iwidth_na),
                     "failed": int(np.isnan(pts).any(axis=1).sum())})
    return {"seed": seed, "samples": samples, "ithresh_na": ithresh_na, "iwidth_na": iwidth_na, "per_size": rows}


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


def characterize(corner: str, temp_c: float, seed: int = 0) -> dict:
    """Grid of measurements, the fit, and its residuals (nA and %)."""
    rows = []
    for it, iw in itertools.product(GRID_ITHRESH, GRID_IWIDTH):
        if iw < it:
            rows.append(measure(it, iw, GRID_IGAIN[len(rows) % len(GRID_IGAIN)], corner, temp_c))
    model = fit(rows)
    timing = switching_time(corner=corner, temp_c=temp_c)
    for r in rows:
        if r["beta2"] is not None and r["beta1"] is not None:
            p2 = model["beta2"][0] + model["beta2"][1] * r["ithresh"] + model["beta2"][2] * r["iwidth"]
            p1 = model["beta1"][0] + model["beta1"][1] * r["ithresh"] + model["beta1"][2] * r["iwidth"]
            r["fit_residual_pct"] = [100 * (p2 / r["beta2"] - 1), 100 * (p1 / r["beta1"] - 1)]
    return {"cell": CELL, "vout_v": VOUT_V, "grid": rows, "model": model, "switching_time": timing,
            "mismatch": threshold_mismatch(corner, temp_c, seed)}


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
            f"  bistable cell, calibrated fit: residuals within {res:.2f}% over the grid"] + [
            f"  bistable cell mismatch (mirror devices {r['mirror_device_um'][0]:g}x{r['mirror_device_um'][1]:g} um, "
            f"{doc['mismatch']['samples']} draws): σ beta2 {r['sigma_beta2_pct']:.1f}%, beta1 "
            f"{r['sigma_beta1_pct']:.1f}%, width {r['sigma_width_pct']:.1f}%" for r in doc["mismatch"]["per_size"]]
