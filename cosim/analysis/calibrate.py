"""Closed-form parameters of the behavioral bistable cells (mirrors of the
expressions inside circuits/cosim.lib, for analysis code and tests).

Units: currents in nA-normalised values (x = I/iunit) unless stated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DynCal", "dyn_calibration", "dyn_fixed_points"]


@dataclass(frozen=True)
class DynCal:
    """Internal parameters of bist_dyn: tauc du/dt = -u + sigma(k (x + wi u - ti)).

    k: sharpness (1/unit), wi: feedback weight (unit), ti: internal threshold
    (unit), u_lo/u_hi: state at the up/down folds (dimensionless).
    """

    k: float
    wi: float
    ti: float
    u_lo: float
    u_hi: float


def dyn_calibration(ithresh: float, iwidth: float, loopgain: float = 20.0) -> DynCal:
    """Calibrate bist_dyn so its saddle-node folds sit at beta2 = ithresh
    (switch up) and beta1 = ithresh - iwidth (switch down).

    With m = k*wi > 4 the folds are at u = (1 -+ a)/2, a = sqrt(1 - 4/m), and
    x_fold = ti - wi*u + logit(u)/k. Their distance is wi*a - 2L/k with
    L = ln((1+a)/(1-a)); setting it to iwidth gives k = (m a - 2L)/iwidth.
    Inputs in normalised units (I/iunit).
    """
    m = max(loopgain, 4.5)
    dl = max(iwidth, 1e-4)
    a = math.sqrt(1 - 4 / m)
    L = math.log((1 + a) / (1 - a))
    k = (m * a - 2 * L) / dl
    wi = m / k
    ti = ithresh + wi * (1 - a) / 2 + L / k
    return DynCal(k=k, wi=wi, ti=ti, u_lo=(1 - a) / 2, u_hi=(1 + a) / 2)


def dyn_fixed_points(x: float, cal: DynCal, n: int = 20001) -> list[tuple[float, bool]]:
    """Fixed points u* of bist_dyn for constant input x: list of (u*, stable)."""
    def f(u):
        return 1 / (1 + math.exp(-cal.k * (x + cal.wi * u - cal.ti))) - u
    out = []
    prev_u, prev_f = 0.0, f(0.0)
    for i in range(1, n):
        u = i / (n - 1)
        fu = f(u)
        if prev_f == 0 or prev_f * fu < 0:
            lo, hi = prev_u, u
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                if f(lo) * f(mid) <= 0:
                    hi = mid
                else:
                    lo = mid
            r = 0.5 * (lo + hi)
            s = 1 / (1 + math.exp(-cal.k * (x + cal.wi * r - cal.ti)))
            out.append((r, cal.k * cal.wi * s * (1 - s) < 1))
        prev_u, prev_f = u, fu
    return out

