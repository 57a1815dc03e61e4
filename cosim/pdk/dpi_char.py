"""The sky130 DPI integrator (`sky130_dpi`, circuits/sky130_cells.lib): step responses.

A two-level input (0 -> I_in at T_ON, -> 0 at T_OFF, A) with the output held
at 0.6 V: steady-state output I_ss (nA) against the linear DPI law
I_in I_g / I_tau, the fall's time constant (an exponential fit of the decay,
s, and its residual) against C U_T / (kappa I_tau), and the rise's 63% time.
The textbook DPI in this PDK is not the linear DPI of the behavioral model:
I_ss follows a power law (~0.73) and the rise is faster than the fall
(the pair's nFET and the output pFET have different slope factors), so a
transistor ladder stage needs these fitted numbers, not the ideal law.
"""
from __future__ import annotations

import numpy as np

from ..netlist.circuit import Pwl
from .bench import OPTIONS_PA, bench, run

CELL = "sky130_dpi"
T_ON, T_OFF, T_END = 0.1, 0.5, 1.0
BOLTZMANN_EV = 8.617333e-5   # thermal voltage U_T = k T / q (V per K)
KAPPA = 0.64


def step_response(itau_pa: float = 2.0, ig_pa: float = 2.0, i_in_na: float = 1.0, c_pf: float = 1.0,
                  corner: str = "tt", temp_c: float = 27.0) -> dict:
    """I_ss (nA), tau_fall (s, fit of ln(I - floor) over the decay) with its largest
    relative residual, t63 of the rise (s), and the ideal references."""
    c = bench("dpi step", corner)
    c.isource("x", "0", "inp", Pwl(((0.0, 0.0), (T_ON, 0.0), (T_ON + 1e-4, i_in_na * 1e-9),
                                    (T_OFF, i_in_na * 1e-9), (T_OFF + 1e-4, 0.0), (T_END, 0.0))))
    c.add("vsource", "out", "out", "0", value=0.6)
    c.instance("d", CELL, "inp", "out", "vdd", "0", itau=itau_pa * 1e-12, ig=ig_pa * 1e-12, c=c_pf * 1e-12)
    c.saves.extend(["i(vout)", "time"])
    w = run(c, f".tran 0.5m {T_END:g} 0 0.5m", temp_c=temp_c, options=OPTIONS_PA)
    t, i = w["time"], w["i(vout)"] * 1e9
    floor = float(i[t < T_ON].mean())
    i_ss = float(np.interp(T_OFF - 1e-3, t, i)) - floor
    rise = (t > T_ON) & (t < T_OFF)
    t63 = float(t[rise][np.argmax(i[rise] - floor >= 0.632 * i_ss)] - T_ON)
    fall = (t > T_OFF + 2e-3) & (i - floor > 0.05 * i_ss)
    slope, icpt = np.polyfit(t[fall] - T_OFF, np.log(i[fall] - floor), 1)
    model = np.exp(icpt + slope * (t[fall] - T_OFF))
    resid = float(np.max(np.abs(model - (i[fall] - floor))) / i_ss)
    return {"itau_pa": itau_pa, "ig_pa": ig_pa, "i_in_na": i_in_na, "c_pf": c_pf, "i_ss_na": i_ss,
            "linear_law_na": i_in_na * ig_pa / itau_pa, "tau_fall_s": float(-1 / slope),
            "tau_fall_residual": resid, "t63_rise_s": t63,
            "tau_ideal_s": c_pf * 1e-12 * BOLTZMANN_EV * (temp_c + 273.15) / (KAPPA * itau_pa * 1e-12), "floor_na": floor}


def characterize(corner: str, temp_c: float) -> dict:
    rows = [step_response(itau, 2.0, i_in, corner=corner, temp_c=temp_c)
            for itau, i_in in ((1.0, 1.0), (2.0, 1.0), (4.0, 1.0))]
    x = np.log([r["i_in_na"] * r["ig_pa"] / r["itau_pa"] for r in rows])
    p, a = np.polyfit(x, np.log([r["i_ss_na"] for r in rows]), 1)
    return {"cell": CELL, "steps": rows, "gain_law": {"prefactor_na": float(np.exp(a)), "exponent": float(p)}}


def summary_lines(doc: dict) -> list:
    r = next(s for s in doc["steps"] if s["itau_pa"] == 2.0 and s["i_in_na"] == 1.0)
    g = doc["gain_law"]
    return [f"  DPI (textbook, 8 FETs + 1 pF): I_ss = {g['prefactor_na']:.3f} nA x (I_in I_g/I_tau / 1 nA)^"
            f"{g['exponent']:.2f} (not linear); at I_tau = I_g = 2 pA, 1 nA: tau_fall {1e3 * r['tau_fall_s']:.1f} ms "
            f"(ideal C U_T/(0.64 I_tau) {1e3 * r['tau_ideal_s']:.1f} ms, exponential within "
            f"{100 * r['tau_fall_residual']:.1f}%), rise t63 {1e3 * r['t63_rise_s']:.1f} ms"]
