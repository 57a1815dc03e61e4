"""CMRU ladders in time, as the generated ladder subcircuit (netlist.ladder) behaves.

Per channel 2K stages (P1..PK, N1..NK), each a latch s in {0, 1} and a linear
DPI D (tau dD/dt = s - D). Stage input in units (SPEC 3.4):

    x = c0 + sgn W u(t) + A (D_below + D_above - 1),   sgn = +1 (P), -1 (N)

below P1 sits 1 - D_N1 (below N1: 1 - D_P1), above the top stage 0. The
update u(t) = g v_clk(t): g in {-1, 0, +1} is the layer's decision of the
step (|c| >= |beta|, sign of c), v_clk the layer's trapezoid clock. The latch
is XSPICE's hysteresis block as the subcircuit sets it: its rising branch
reaches 1 at x = c0 + h, its falling branch 0 at x = c0 - h, and a branch
changes only there (an input that enters the 2 eps h ramp and turns back
leaves the stage where it was), so a stage switches on at c0 + h and off at
c0 - h; its DPI sees the switch when x passes the middle of the ramp, where
the continuous output crosses 1/2. Every stage parameter carries its own mismatch factor
(`ladder_scale`). The state read at the sample instant is the level
sum(s_P) - sum(s_N); the output alpha * (sum f_alpha s_P - sum f_alpha s_N).

Integration: sub-steps of Tp / FINE_PER_TP while the clock is up, of
tau / COARSE_PER_TAU otherwise; over a sub-step D relaxes exactly towards
the latch state, and a stage that switches within the sub-step does so at
the instant x crosses the ramp's middle, interpolated on x (its DPI relaxes
towards the old state before it and towards the new one after it).
"""
from __future__ import annotations

import numpy as np
import torch

from ..hw.kinds.cmru import LADDER_PARAMS
from ..hw.timing import pulse_start_s

EPS = 0.01            # the ladder latch's ramp, fraction of h (netlist.ladder.ladder_subckt's eps)

FINE_PER_TP = 40
COARSE_PER_TAU = 20


def stage_factors(layer, D: int) -> dict:
    """{param: (D|1, n, 2K)} mismatch factors of every stage (ones when nominal).
    ladder_scale is per channel {param: (2K,) or (D, 2K)}, or (stacked IRs) D * n
    channel entries IR by IR."""
    n, K2 = layer.n, 2 * layer.ladder_k
    out = {}
    scale = layer.ladder_scale
    for key in LADDER_PARAMS:
        if not scale:
            out[key] = np.ones((1, n, K2))
            continue
        rows = [np.asarray((ch or {}).get(key, np.ones(K2)), np.float64) for ch in scale]
        if len(rows) == n:
            arr = np.stack([np.broadcast_to(r, r.shape[:-1] + (K2,)) for r in rows], axis=-2)
            out[key] = arr if arr.ndim == 3 else arr[None]
        else:                                 # stacked IRs: D * n entries, IR-major
            out[key] = np.stack(rows).reshape(-1, n, K2)
    return out


def _grid(timing, slot: int, tau_min: float) -> np.ndarray:
    """Sub-step end times within one step (s after its start); the sample instant is one of them."""
    tp, dt = timing.pulse_width_s, timing.dt_s
    start = pulse_start_s(timing, slot)
    fine = np.linspace(start, start + 1.5 * tp, int(1.5 * FINE_PER_TP) + 1)
    coarse = tau_min / COARSE_PER_TAU
    pieces = [np.arange(0.0, start, coarse), fine,
              np.arange(start + 1.5 * tp, timing.sample_frac * dt, coarse),
              [timing.sample_frac * dt], np.arange(timing.sample_frac * dt, dt, coarse), [dt]]
    t = np.unique(np.concatenate(pieces))
    return t[t > 0]


def _clock(timing, slot: int, t: np.ndarray) -> np.ndarray:
    """The layer's clock (0..1) at times t within a step: rise, top, fall Tp/2 each."""
    half = timing.pulse_width_s / 2
    r = (t - pulse_start_s(timing, slot)) / half
    return np.clip(np.minimum(r, 3.0 - r), 0.0, 1.0)


def run_ladders(layer, factors: dict, g: torch.Tensor, s0: torch.Tensor, timing, slot: int) -> tuple:
    """Levels (D, S, T, n) and outputs (D, S, T, n) in units for the step decisions
    g (D, S, T, n) in {-1, 0, +1}; s0 (D|1, n) initial rungs."""
    dev, f64 = g.device, torch.float64
    d = layer.ladder
    K = layer.ladder_k
    f = {k: torch.as_tensor(v, dtype=f64, device=dev)[:, None] for k, v in factors.items()}  # (D|1,1,n,2K)
    c0, h, w, a = d.c0 * f["c0"], d.h * f["h"], d.w * f["w"], d.a * f["a"]
    tau = d.tau_s * f["tau"]
    sgn = torch.cat([torch.ones(K, dtype=f64, device=dev), -torch.ones(K, dtype=f64, device=dev)])
    on_at, off_at = c0 + h, c0 - h                   # where a branch changes (commits)
    on_mid, off_mid = on_at - EPS * h, off_at + EPS * h   # middle of the ramps: when D sees the switch
    Dn, S, T, n = g.shape
    k = torch.arange(1, K + 1, device=dev, dtype=f64)
    rung = s0.to(f64)[:, None, :, None]                                  # (D|1, 1, n, 1)
    s = torch.cat([(rung >= k).to(f64), (-rung >= k).to(f64)], dim=-1).expand(Dn, S, n, 2 * K).clone()
    D = s.clone()
    times = _grid(timing, slot, float(d.tau_s * np.min(factors["tau"])))
    steps = np.diff(np.concatenate([[0.0], times]))
    clk = _clock(timing, slot, times)
    decay = [torch.exp(-float(hs) / tau) for hs in np.unique(np.round(steps, 15))]
    decay = dict(zip(np.unique(np.round(steps, 15)), decay))
    i_sample = int(np.argmin(np.abs(times - timing.sample_frac * timing.dt_s)))
    alpha = torch.as_tensor(np.asarray(layer.alpha, np.float64), dtype=f64, device=dev)
    alpha = (alpha if alpha.ndim == 2 else alpha[None])[:, None, :]      # (D|1, 1, n)
    weight = torch.cat([f["alpha"][..., :K], -f["alpha"][..., K:]], dim=-1)  # (D|1,1,n,2K)
    levels = torch.empty((Dn, S, T, n), dtype=f64, device=dev)
    outputs = torch.empty_like(levels)
    def stage_inputs(Dv, u):
        below = torch.cat([1 - Dv[..., K:K + 1], Dv[..., :K - 1], 1 - Dv[..., :1], Dv[..., K:2 * K - 1]], dim=-1)
        zero = torch.zeros_like(Dv[..., :1])
        above = torch.cat([Dv[..., 1:K], zero, Dv[..., K + 1:], zero], dim=-1)
        return c0 + sgn * w * u + a * (below + above - 1)

    x_prev = stage_inputs(D, 0.0 * g[:, :, 0, :, None])
    for t in range(T):
        gt = g[:, :, t, :, None]
        for i, (hs, c) in enumerate(zip(steps, clk)):
            D_kept = s + (D - s) * decay[np.round(hs, 15)]
            x = stage_inputs(D_kept, gt * c)
            on = (s < 0.5) & (x >= on_at)
            off = (s > 0.5) & (x <= off_at)
            switch = on | off
            if bool(switch.any()):
                thr = torch.where(on, on_mid, off_mid)
                phi = ((thr - x_prev) / (x - x_prev)).nan_to_num(1.0).clamp(0.0, 1.0)
                new = torch.where(on, 1.0, torch.where(off, 0.0, s))
                D_cross = s + (D - s) * torch.exp(-phi * float(hs) / tau)
                D = torch.where(switch, new + (D_cross - new) * torch.exp(-(1 - phi) * float(hs) / tau), D_kept)
                s = new
            else:
                D = D_kept
            x_prev = x
            if i == i_sample:
                levels[:, :, t] = s[..., :K].sum(-1) - s[..., K:].sum(-1)
                outputs[:, :, t] = alpha * (s * weight).sum(-1)
    return levels, outputs
