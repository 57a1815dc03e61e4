"""Diagonal recurrence s_t = clip(a_t * s_{t-1} + b_t, lo, hi), two ways.

Shapes: a, b are (batch, time, features); s0 is (batch, features) or (features,).
The parallel form is a log-depth (Hillis-Steele) associative scan over time;
the sequential loop is the reference. Both must agree to float tolerance.

Maps f(s) = clip(a s + b, lo, hi) with a >= 0 are closed under composition:
    g(f(s)) = clip(a_g a_f s + a_g b_f + b_g, clip(a_g lo_f + b_g, lo_g, hi_g),
                                              clip(a_g hi_f + b_g, lo_g, hi_g))
which is what lets the finite ladder (|s| <= K) use the same parallel scan.
"""
from __future__ import annotations

import torch


def _shift(x: torch.Tensor, offset: int, fill: float) -> torch.Tensor:
    """x delayed by `offset` steps along time (dim 1), padded with `fill`."""
    pad = torch.full_like(x[:, :offset], fill)
    return torch.cat([pad, x[:, :-offset]], dim=1)


def parallel_scan(a, b, s0, bound: float | None = None):
    """All states s_1..s_T, shape (batch, time, features), by log-depth scan.

    `bound` = K clips every state to [-K, K] (a finite ladder); None = no clip.
    Requires a >= 0 when `bound` is set.
    """
    s0 = s0.expand(a.shape[0], a.shape[2]) if s0.dim() == 1 else s0
    T = a.shape[1]
    if bound is None:
        offset = 1
        while offset < T:
            a_prev, b_prev = _shift(a, offset, 1.0), _shift(b, offset, 0.0)
            a, b = a * a_prev, a * b_prev + b
            offset *= 2
        return a * s0.unsqueeze(1) + b
    lo = torch.full_like(b, -bound)
    hi = torch.full_like(b, bound)
    offset = 1
    while offset < T:
        # identity map pads the front: a=1, b=0, lo=-K, hi=K (states stay in range)
        a_p, b_p = _shift(a, offset, 1.0), _shift(b, offset, 0.0)
        lo_p, hi_p = _shift(lo, offset, -bound), _shift(hi, offset, bound)
        new_lo = torch.minimum(torch.maximum(a * lo_p + b, lo), hi)
        new_hi = torch.minimum(torch.maximum(a * hi_p + b, lo), hi)
        a, b, lo, hi = a * a_p, a * b_p + b, new_lo, new_hi
        offset *= 2
    return torch.minimum(torch.maximum(a * s0.clamp(-bound, bound).unsqueeze(1) + b, lo), hi)


def sequential_scan(a, b, s0, bound: float | None = None):
    """Reference loop: same contract as `parallel_scan`."""
    s = s0.expand(a.shape[0], a.shape[2]) if s0.dim() == 1 else s0
    if bound is not None:
        s = s.clamp(-bound, bound)
    out = []
    for t in range(a.shape[1]):
        s = a[:, t] * s + b[:, t]
        if bound is not None:
            s = s.clamp(-bound, bound)
        out.append(s)
    return torch.stack(out, dim=1)


def scan(a, b, s0, bound=None, mode: str = "parallel"):
    """Dispatch on `mode` ('parallel' or 'sequential')."""
    if mode == "parallel":
        return parallel_scan(a, b, s0, bound)
    if mode == "sequential":
        return sequential_scan(a, b, s0, bound)
    raise ValueError(f"unknown scan mode {mode!r}; use 'parallel' or 'sequential'")
