"""Fixed points of the bistable cell versus a constant input (the S-curve), the
CMRU ladder of levels, and their comparison with circuit sweeps.

Works on arrays and windows from the IR (`analysis.hysteresis.cell_window`).
Currents in software units; the state as a fraction u in [0, 1] of the swing
from the low to the high level (state = low + (high - low) * u: 0/1 for the
first-quadrant cell and the ladder stage, -1/+1 for the symmetric BMRU cell).

The dynamic cell (circuits/cosim.lib `bist_dyn`, SPEC 3.2):

    tau_c du/dt = -u + sigma(k (x + w_i u - t_i)),   sigma(z) = 1 / (1 + e^-z)

with k, w_i, t_i calibrated (`cosim.analysis.calibrate.dyn_calibration`) from the
loop gain m = k w_i so that its saddle-node folds sit at beta2 (up) and beta1
(down). Fixed points u* = sigma(k (x + w_i u* - t_i)); written with
z = logit(u*) the S-curve is explicit,

    x(z) = t_i - w_i sigma(z) + z / k,

and a fixed point is stable iff dx/dz > 0 (k w_i sigma'(z) < 1): low branch
z < -L, unstable middle branch -L < z < L, high branch z > L, with
L = ln((1 + a) / (1 - a)), a = sqrt(1 - 4/m). Folds: x(-L) = beta2, x(L) = beta1,
so the unstable branch spans exactly [beta1, beta2].

Circuit comparison: a slow triangular sweep of bist_dyn, up then down. The up
half follows the low branch up to its fold (beta2) and jumps to the high
branch; the down half follows the high branch down to beta1 and jumps low.
Each sample is assigned the branch it should be on (by sweep half and side
of the switching point); samples inside the unstable band (u between the
fold states) are the jumps and are counted, not measured. Distance of a
sample from its branch: min(|dx| / width, |du|) (horizontal and vertical
distances in the plane (x / width, u); an upper bound on the Euclidean
distance), so the steep ends near the folds count by their horizontal lag.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import InputError
from .calibrate import DynCal, dyn_calibration
from .hysteresis import CellWindow, switching_points

__all__ = ["SCurve", "s_curve", "fixed_points", "unstable_range", "BranchComparison",
           "compare_sweep", "LadderLevels", "ladder_levels", "FixedPointResult"]

Z_MAX = 40.0


@dataclass
class SCurve:
    """Predicted fixed points of one dynamic cell over x in [lo, hi] (units).

    branches: name ("low", "unstable", "high") -> (x array, u array), u the
    fraction of the swing; levels: (low, high) state values; cal: internal
    parameters (k 1/unit, wi unit, ti unit, u at the folds)."""
    down: float
    up: float
    width: float
    loopgain: float
    levels: tuple
    lo: float
    hi: float
    cal: DynCal
    branches: dict = field(repr=False)

    def state(self, u):
        """Fraction of the swing -> state value."""
        return self.levels[0] + (self.levels[1] - self.levels[0]) * np.asarray(u)

    def branch_u(self, name: str, x) -> np.ndarray:
        """u on a stable branch at input x (clamped to the branch's end)."""
        bx, bu = self.branches[name]
        return np.interp(x, bx, bu)

    def branch_x(self, name: str, u) -> np.ndarray:
        """x on a stable branch at state fraction u (clamped to the branch's end)."""
        bx, bu = self.branches[name]
        return np.interp(u, bu, bx)


def _x_of_z(z, cal: DynCal):
    return cal.ti - cal.wi / (1 + np.exp(-z)) + z / cal.k


def s_curve(window: CellWindow, *, loopgain: float = 20.0, lo: float | None = None,
            hi: float | None = None, n: int = 4001) -> SCurve:
    """The S-curve of the dynamic cell with the window of `window` (its up and down
    switching points) over x in [lo, hi] (default: window -+ half its width)."""
    width = window.width
    if not width > 0:
        raise InputError("the fixed-point diagram needs a hysteresis width > 0")
    lo = window.down - 0.5 * width if lo is None else lo
    hi = window.up + 0.5 * width if hi is None else hi
    cal = dyn_calibration(window.up, width, loopgain)
    m = cal.k * cal.wi
    a = math.sqrt(1 - 4 / m)
    L = math.log((1 + a) / (1 - a))
    branches = {}
    for name, z0, z1 in (("low", -Z_MAX, -L), ("unstable", -L, L), ("high", L, Z_MAX)):
        z = np.linspace(z0, z1, n)
        x = _x_of_z(z, cal)
        u = 1 / (1 + np.exp(-z))
        if name != "unstable":  # stable branches: keep [lo, hi] (x increases with z)
            keep = (x >= lo - 1e-12 * width) & (x <= hi + 1e-12 * width)
            x, u = x[keep], u[keep]
        else:  # x decreases along it: store increasing in x for interpolation
            x, u = x[::-1], u[::-1]
        branches[name] = (x, u)
    return SCurve(down=window.down, up=window.up, width=width, loopgain=loopgain,
                  levels=tuple(window.levels), lo=lo, hi=hi, cal=cal, branches=branches)


def fixed_points(x: float, curve: SCurve, n: int = 20001) -> list:
    """Fixed points at constant input x by root finding (independent of the S-curve
    parametrisation): list of (state value, stable) from low to high.

    Solved in z = logit(u) so states within 1e-16 of a rail are not lost to rounding:
    h(z) = k (x - t_i + w_i sigma(z)) - z = 0, all roots inside
    [k (x - t_i), k (x - t_i + w_i)] (sigma in [0, 1]); sign changes on a grid of n
    points, refined by bisection. Stable iff k w_i sigma'(z) < 1."""
    cal = curve.cal
    sig = lambda z: 0.5 * (1 + np.tanh(0.5 * z))  # noqa: E731  (no overflow)
    h = lambda z: cal.k * (x - cal.ti + cal.wi * sig(z)) - z  # noqa: E731
    z0, z1 = cal.k * (x - cal.ti) - 1.0, cal.k * (x - cal.ti + cal.wi) + 1.0
    z = np.linspace(z0, z1, n)
    hz = h(z)
    exact = z[hz == 0]                                   # a grid point right on a root
    i = np.nonzero(hz[:-1] * hz[1:] < 0)[0]
    lo, hi = z[i], z[i + 1]
    hlo = hz[i]
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        hm = h(mid)
        left = np.sign(hm) == np.sign(hlo)
        lo, hlo = np.where(left, mid, lo), np.where(left, hm, hlo)
        hi = np.where(left, hi, mid)
    roots = np.sort(np.r_[0.5 * (lo + hi), exact])
    u = sig(roots)
    stable = cal.k * cal.wi * u * (1 - u) < 1
    return [(float(curve.state(ui)), bool(st)) for ui, st in zip(u, stable)]


def unstable_range(curve: SCurve) -> tuple[float, float]:
    """(min x, max x) of the unstable branch: the folds (beta1, beta2 by calibration)."""
    x, _ = curve.branches["unstable"]
    return float(x.min()), float(x.max())


@dataclass
class BranchComparison:
    """A circuit sweep (up then down) against the predicted stable branches.

    fold_up / fold_down: midpoint crossings on the rising / falling half (units);
    fold_err_up / fold_err_down: (fold - beta2) / width, (fold - beta1) / width;
    max_dist: largest distance of a circuit sample from the branch it should be on,
    min(|dx|/width, |du|); max_dist_up / max_dist_down: per sweep half;
    max_state_err: largest |du| for samples at least `fold_guard` widths from
    both folds; n_transition: jump samples (see compare_sweep), not measured."""
    fold_up: float | None
    fold_down: float | None
    fold_err_up: float | None
    fold_err_down: float | None
    max_dist: float
    max_dist_up: float
    max_dist_down: float
    max_state_err: float
    n_transition: int
    n_samples: int
    clean: bool

    def to_dict(self) -> dict:
        return asdict(self)


def compare_sweep(x, u, curve: SCurve, fold_guard: float = 0.05,
                  jump_guard: float = 0.01) -> BranchComparison:
    """Compare a circuit sweep (x in units, u = fraction of the swing) with `curve`.

    Jump samples (not measured, counted in n_transition): u inside the unstable
    band, or x within `jump_guard` widths of the measured switching point of
    that sweep half (the state is still converging onto the new branch there)."""
    x, u = np.asarray(x, np.float64), np.asarray(u, np.float64)
    sp = switching_points(x, u, (0.0, 1.0))
    turn = sp["turn"]
    n = len(x)
    idx = np.arange(n)

    def first_cross(i0, i1, rising):
        seg = u[i0:i1]
        hit = np.nonzero(seg >= 0.5)[0] if rising else np.nonzero(seg < 0.5)[0]
        return i0 + int(hit[0]) if len(hit) else i1

    i_up = first_cross(0, turn + 1, True)
    i_dn = first_cross(turn, n, False)
    high = ((idx >= i_up) & (idx <= turn)) | ((idx > turn) & (idx < i_dn))
    u_lo_fold, u_hi_fold = curve.cal.u_lo, curve.cal.u_hi
    transition = (u > u_lo_fold) & (u < u_hi_fold)
    g = jump_guard * curve.width
    if sp["up"] is not None:
        transition |= (idx <= turn) & (np.abs(x - sp["up"]) < g)
    if sp["down"] is not None:
        transition |= (idx > turn) & (np.abs(x - sp["down"]) < g)
    dist = np.zeros(n)
    state_err = np.zeros(n)
    for name, mask in (("high", high), ("low", ~high)):
        m = mask & ~transition
        dv = np.abs(u[m] - curve.branch_u(name, x[m]))
        dh = np.abs(x[m] - curve.branch_x(name, u[m])) / curve.width
        dist[m] = np.minimum(dv, dh)
        state_err[m] = dv
    away = ((np.abs(x - curve.up) > fold_guard * curve.width)
            & (np.abs(x - curve.down) > fold_guard * curve.width) & ~transition)
    up_half = idx <= turn
    err = lambda v, ref: None if v is None else (v - ref) / curve.width  # noqa: E731
    return BranchComparison(
        fold_up=sp["up"], fold_down=sp["down"], fold_err_up=err(sp["up"], curve.up),
        fold_err_down=err(sp["down"], curve.down), max_dist=float(dist.max()),
        max_dist_up=float(dist[up_half].max()), max_dist_down=float(dist[~up_half].max()),
        max_state_err=float(state_err[away].max()) if away.any() else 0.0,
        n_transition=int(transition.sum()), n_samples=n,
        clean=sp["n_up"] == 1 and sp["n_down"] == 1 and sp["extra"] == 0)


@dataclass
class LadderLevels:
    """CMRU ladder: stable levels k * alpha (k = -K..K, units) held with no input,
    and (when simulated) the circuit's held levels. measured: (2K+1, samples) in
    rungs; max_level_err: max |level - k| over all samples (fraction of alpha)."""
    K: int
    alpha: float
    rungs: list
    levels: list
    measured: list | None = None
    max_level_err: float | None = None
    all_held: bool | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("measured")
        return d


def ladder_levels(K: int, alpha: float, measured=None) -> LadderLevels:
    """Ideal ladder of fixed points (persistent with no input), compared with the
    circuit's held levels `measured` (2K+1 rows in rung order -K..K, in rungs)."""
    rungs = list(range(-K, K + 1))
    out = LadderLevels(K=K, alpha=alpha, rungs=rungs, levels=[k * alpha for k in rungs])
    if measured is not None:
        meas = np.atleast_2d(np.asarray(measured, np.float64))
        if meas.shape[0] != len(rungs):
            raise InputError(f"measured needs {len(rungs)} rows (rungs -K..K), got {meas.shape[0]}")
        err = np.abs(meas - np.asarray(rungs)[:, None])
        out.measured = meas.tolist()
        out.max_level_err = float(err.max())
        out.all_held = bool((np.round(meas) == np.asarray(rungs)[:, None]).all())
    return out


@dataclass
class FixedPointResult:
    """Fixed-point diagram of one cell (currents in units, states in state units).

    beta1 / beta2: expected down / up folds; width; loopgain, k, wi, ti: the
    dynamic model; u_fold_low / u_fold_high: states where the stable branches end;
    unstable_x: (min, max) input of the unstable branch; unstable_exact: it spans
    [beta1, beta2] to 1e-9 of the width; n_fixed_points: input -> number of fixed
    points found by root finding just outside / inside each fold;
    circuit: the sweep comparison (None without a circuit run);
    ladder: the CMRU ladder of levels (None for other cells);
    transistor: folds of the same cell at transistor level (None unless asked).
    trace (not in to_dict): arrays for plotting."""
    layer: int
    channel: int | None
    kind: str
    beta1: float
    beta2: float
    width: float
    levels: tuple
    loopgain: float
    k: float
    wi: float
    ti: float
    u_fold_low: float
    u_fold_high: float
    unstable_x: tuple
    unstable_exact: bool
    n_fixed_points: dict
    circuit: BranchComparison | None = None
    ladder: LadderLevels | None = None
    note: str = ""
    wall_s: float = 0.0
    transistor: dict | None = None    # the transistor-level cell's folds (verify.fixedpoints)
    trace: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("trace")
        d["levels"] = list(self.levels)
        d["unstable_x"] = list(self.unstable_x)
        d["n_fixed_points"] = {f"{k:.6g}": v for k, v in self.n_fixed_points.items()}
        if self.ladder is not None:
            d["ladder"] = self.ladder.to_dict()
        return d


def analyse_fixed_points(window: CellWindow, *, layer: int, channel: int | None,
                         loopgain: float = 20.0, lo: float | None = None, hi: float | None = None,
                         sweep_x=None, sweep_u=None, ladder: LadderLevels | None = None,
                         wall_s: float = 0.0) -> FixedPointResult:
    """Predicted fixed points of the cell with `window`, and (with sweep_x, sweep_u:
    a circuit sweep, u as a fraction of the swing) their comparison."""
    curve = s_curve(window, loopgain=loopgain, lo=lo, hi=hi)
    ux = unstable_range(curve)
    w = curve.width
    exact = abs(ux[0] - curve.down) <= 1e-9 * w and abs(ux[1] - curve.up) <= 1e-9 * w
    probes = [curve.down - 1e-3 * w, curve.down + 1e-3 * w, 0.5 * (curve.down + curve.up),
              curve.up - 1e-3 * w, curve.up + 1e-3 * w]
    counts = {p: len(fixed_points(p, curve)) for p in probes}
    circuit = None
    trace = {"curve": curve}
    if sweep_x is not None:
        circuit = compare_sweep(sweep_x, sweep_u, curve)
        trace.update(x=np.asarray(sweep_x, np.float64), u=np.asarray(sweep_u, np.float64))
    return FixedPointResult(
        layer=int(layer), channel=None if channel is None else int(channel), kind=window.kind,
        beta1=curve.down, beta2=curve.up, width=w, levels=tuple(window.levels),
        loopgain=loopgain, k=curve.cal.k, wi=curve.cal.wi, ti=curve.cal.ti,
        u_fold_low=float(curve.state(curve.cal.u_lo)), u_fold_high=float(curve.state(curve.cal.u_hi)),
        unstable_x=ux, unstable_exact=bool(exact), n_fixed_points=counts, circuit=circuit,
        ladder=ladder, note=window.note, wall_s=wall_s, trace=trace)
