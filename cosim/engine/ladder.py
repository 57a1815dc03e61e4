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

Integration: each step is first bounded as a whole (the clock anywhere in
0..1); a ladder whose latches cannot switch in it is taken in one exact
piece. The rest go stretch by stretch: sub-steps of Tp / FINE_PER_TP while the clock is up, of
tau / COARSE_PER_TAU otherwise; a stretch without update current (between
pulses, or a step without updates) is taken in one exact piece when bounds
on every stage input (each DPI moves monotonically) show no latch can switch; over a sub-step D relaxes exactly towards
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

FINE_PER_TP = 10
COARSE_PER_TAU = 5


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


def _segments(times: np.ndarray, timing, slot: int) -> list:
    """Sub-step index ranges [first, stop, clocked) of one step: before the clock, its
    rise, top and fall (clocked: the clock is linear in each), from its end to the
    sample instant, and to the step's end."""
    start = pulse_start_s(timing, slot)
    half = timing.pulse_width_s / 2
    sample = timing.sample_frac * timing.dt_s
    cuts = [start, start + half, start + 2 * half, start + 3 * half, sample]
    edges = [0] + [int(np.searchsorted(times, c + 1e-15, "right")) for c in cuts] + [len(times)]
    return [(edges[k], edges[k + 1], 1 <= k <= 3) for k in range(6) if edges[k + 1] > edges[k]]


def _clock(timing, slot: int, t: np.ndarray) -> np.ndarray:
    """The layer's clock (0..1) at times t within a step: rise, top, fall Tp/2 each."""
    half = timing.pulse_width_s / 2
    r = (t - pulse_start_s(timing, slot)) / half
    return np.clip(np.minimum(r, 3.0 - r), 0.0, 1.0)


def _neighbours(K: int):
    """(M, const): below + above of every stage = const + D @ M (P1..PK, N1..NK;
    below P1 sits 1 - D_N1, below N1 1 - D_P1, nothing above the top stages)."""
    M = np.zeros((2 * K, 2 * K))
    const = np.zeros(2 * K)
    for side in (0, K):
        const[side], M[side, K - side] = 1.0, -1.0
        for j in range(1, K):
            M[side + j, side + j - 1] = 1.0
        for j in range(K - 1):
            M[side + j, side + j + 1] = 1.0
    return M.T, const


def run_ladders(layer, factors: dict, g: torch.Tensor, s0: torch.Tensor, timing, slot: int) -> tuple:
    """Levels (D, S, T, n) and outputs (D, S, T, n) in units for the step decisions
    g (D, S, T, n) in {-1, 0, +1}; s0 (D|1, n) initial rungs. Every ladder is
    independent, so each stretch of a step is integrated only for the ladders
    that can switch in it (an update current, or a latch the bounds cannot rule out)."""
    dev, f64 = g.device, torch.float64
    d, K = layer.ladder, layer.ladder_k
    Dn, S, T, n = g.shape
    L = Dn * S * n

    def per_ladder(v):                    # (D|1, n, 2K) or (D|1, n) -> (L, ...)
        t = torch.as_tensor(np.asarray(v, np.float64), dtype=f64, device=dev)
        t = t[:, None].expand(Dn, S, *t.shape[1:])
        return t.reshape(L, *t.shape[3:])

    f = {k: per_ladder(v) for k, v in factors.items()}                 # (L, 2K)
    c0, h, w, a, tau = d.c0 * f["c0"], d.h * f["h"], d.w * f["w"], d.a * f["a"], d.tau_s * f["tau"]
    alpha = np.asarray(layer.alpha, np.float64)
    alpha = per_ladder((alpha if alpha.ndim == 2 else alpha[None])[..., None])   # (L, 1)
    sgn = torch.cat([torch.ones(K, dtype=f64, device=dev), -torch.ones(K, dtype=f64, device=dev)])
    weight = alpha * f["alpha"] * sgn                                   # output per stage (units)
    on_at, off_at = c0 + h, c0 - h                   # where a branch changes (commits)
    on_mid, off_mid = on_at - EPS * h, off_at + EPS * h   # middle of the ramps: when D sees the switch
    M, const = _neighbours(K)
    M = torch.as_tensor(M, dtype=f64, device=dev)
    Mp, Mn = M.clamp(min=0), (-M).clamp(min=0)
    x_rest = c0 + a * (torch.as_tensor(const, dtype=f64, device=dev) - 1)   # x = x_rest + a (D @ M) + sw u
    sw = sgn * w
    k = torch.arange(1, K + 1, device=dev, dtype=f64)
    rung = per_ladder(np.asarray(s0.cpu(), np.float64)[..., None])      # (L, 1)
    s = torch.cat([(rung >= k).to(f64), (-rung >= k).to(f64)], dim=-1)
    D = s.clone()
    times = _grid(timing, slot, float(d.tau_s * np.min(factors["tau"])))
    steps = np.diff(np.concatenate([[0.0], times]))
    clk = _clock(timing, slot, times)
    keys = np.round(steps, 15)
    segs = _segments(times, timing, slot)
    i_sample = int(np.argmin(np.abs(times - timing.sample_frac * timing.dt_s)))
    assert any(stop - 1 == i_sample for _, stop, _ in segs)
    t_end = float(times[-1])
    span_step = torch.exp(-t_end / tau)                                  # (L, 2K) over a whole step
    span = {(a0, b0): torch.exp(-float(times[b0 - 1] - (times[a0 - 1] if a0 else 0.0)) / tau)
            for a0, b0, _ in segs}
    levels = torch.empty((L, T), dtype=f64, device=dev)
    outputs = torch.empty_like(levels)
    gf = g.permute(0, 1, 3, 2).reshape(L, T)
    zero = torch.zeros((L, 1), dtype=f64, device=dev)
    names = ("x_rest", "a", "sw", "on", "off", "on_mid", "off_mid", "tau")
    params = dict(zip(names, (x_rest, a, sw, on_at, off_at, on_mid, off_mid, tau)))

    def may_switch(p, D0, D1, s, u0=None, u1=None):
        """Per ladder: with s held, every D monotone from D0 to D1 and the update
        current linear from u0 to u1 (units), can a latch switch?"""
        lo, hi = torch.minimum(D0, D1), torch.maximum(D0, D1)
        x_hi = p["x_rest"] + p["a"] * (hi @ Mp - lo @ Mn)
        x_lo = p["x_rest"] + p["a"] * (lo @ Mp - hi @ Mn)
        if u0 is not None:
            x_hi = x_hi + torch.maximum(p["sw"] * u0, p["sw"] * u1)
            x_lo = x_lo + torch.minimum(p["sw"] * u0, p["sw"] * u1)
        return (((s < 0.5) & (x_hi >= p["on"])) | ((s > 0.5) & (x_lo <= p["off"]))).any(-1)

    def fine(p, D, s, gt, first, stop, clocked):
        """Sub-steps first..stop-1 for the ladders given (params p); returns D, s."""
        dec = {hk: torch.exp(-float(hk) / p["tau"]) for hk in np.unique(keys[first:stop])}
        c_prev = clk[first - 1] if (clocked and first) else 0.0
        x_prev = p["x_rest"] + p["a"] * (D @ M) + p["sw"] * (gt * c_prev)
        for i in range(first, stop):
            hs, c = steps[i], clk[i]
            D_kept = s + (D - s) * dec[keys[i]]
            x = p["x_rest"] + p["a"] * (D_kept @ M)
            if clocked:
                x = x + p["sw"] * (gt * c)
            on = (s < 0.5) & (x >= p["on"])
            off = (s > 0.5) & (x <= p["off"])
            switch = on | off
            if bool(switch.any()):
                thr = torch.where(on, p["on_mid"], p["off_mid"])
                phi = ((thr - x_prev) / (x - x_prev)).nan_to_num(1.0).clamp(0.0, 1.0)
                new = torch.where(on, 1.0, torch.where(off, 0.0, s))
                D_cross = s + (D - s) * torch.exp(-phi * float(hs) / p["tau"])
                D = torch.where(switch, new + (D_cross - new) * torch.exp(-(1 - phi) * float(hs) / p["tau"]), D_kept)
                s = new
            else:
                D = D_kept
            x_prev = x
        return D, s

    def segments(p, D, s, gt, spans):
        """One step, stretch by stretch, for the ladders given; returns D, s, s at the sample."""
        s_sample = None
        for first, stop, clocked in segs:
            D_end = s + (D - s) * spans[(first, stop)]
            if clocked:
                c_first = clk[first - 1] if first else 0.0
                need = may_switch(p, D, D_end, s, gt * c_first, gt * clk[stop - 1])
            else:
                need = may_switch(p, D, D_end, s)
            D = torch.where(need[:, None], D, D_end)
            idx = need.nonzero()[:, 0]
            if len(idx):
                q = {k: v[idx] for k, v in p.items()}
                D[idx], s[idx] = fine(q, D[idx], s[idx], gt[idx], first, stop, clocked)
            if stop - 1 == i_sample:
                s_sample = s.clone()
        return D, s, s_sample

    for t in range(T):
        gt = gf[:, t:t + 1]
        # the whole step at once where no latch can switch in it (clock anywhere in 0..1)
        D_end = s + (D - s) * span_step
        busy = may_switch(params, D, D_end, s, zero, gt)
        s_sample = s.clone()
        idx = busy.nonzero()[:, 0]
        D = torch.where(busy[:, None], D, D_end)
        if len(idx):
            q = {k: v[idx] for k, v in params.items()}
            spans = {key: v[idx] for key, v in span.items()}
            D[idx], s[idx], s_sample[idx] = segments(q, D[idx], s[idx], gt[idx], spans)
        levels[:, t] = s_sample[:, :K].sum(-1) - s_sample[:, K:].sum(-1)
        outputs[:, t] = (s_sample * weight).sum(-1)
    shape = (Dn, S, n, T)
    return levels.reshape(shape).permute(0, 1, 3, 2), outputs.reshape(shape).permute(0, 1, 3, 2)
