"""Diagonal recurrence s_t = clip(a_t * s_{t-1} + b_t, lo, hi), two ways.

Shapes: a, b are (batch, time, features); s0 is (batch, features) or (features,).
The parallel form is a log-depth, work-efficient associative scan over time;
the sequential loop is the reference. Both must agree to float tolerance.

Maps f(s) = clip(a s + b, lo, hi) with a >= 0 are closed under composition:
    g(f(s)) = clip(a_g a_f s + a_g b_f + b_g, clip(a_g lo_f + b_g, lo_g, hi_g),
                                              clip(a_g hi_f + b_g, lo_g, hi_g))
which is what lets the finite ladder (|s| <= K) use the same parallel scan.
"""
from __future__ import annotations

import torch

from ..errors import InputError


def _compose_affine(first, second):
    """Map `second` applied after `first`: (a, b) pairs."""
    a1, b1 = first
    a2, b2 = second
    return (a2 * a1, a2 * b1 + b2)


def _compose_clipped(first, second):
    """Map `second` after `first` for clipped maps (a, b, lo, hi), a >= 0."""
    a1, b1, lo1, hi1 = first
    a2, b2, lo2, hi2 = second
    return (a2 * a1, a2 * b1 + b2,
            torch.minimum(torch.maximum(a2 * lo1 + b2, lo2), hi2),
            torch.minimum(torch.maximum(a2 * hi1 + b2, lo2), hi2))


def _prefix(maps, compose, identity):
    """Inclusive prefix composition over time (dim 1), work-efficient recursion:
    compose neighbouring pairs, scan the half-length sequence, fill the gaps.
    O(T) work, O(log T) depth."""
    T = maps[0].shape[1]
    if T == 1:
        return maps
    if T % 2:
        maps = tuple(torch.cat([m, torch.full_like(m[:, :1], v)], dim=1)
                     for m, v in zip(maps, identity))
    even = tuple(m[:, 0::2] for m in maps)
    odd = tuple(m[:, 1::2] for m in maps)
    at_odd = _prefix(compose(even, odd), compose, identity)      # prefixes ending at 1, 3, 5, ...
    rest = compose(tuple(p[:, :-1] for p in at_odd), tuple(e[:, 1:] for e in even))
    at_even = tuple(torch.cat([e[:, :1], r], dim=1) for e, r in zip(even, rest))
    merged = tuple(torch.stack([e, o], dim=2).flatten(1, 2) for e, o in zip(at_even, at_odd))
    return tuple(m[:, :T] for m in merged)


def parallel_scan(a, b, s0, bound: float | None = None):
    """All states s_1..s_T, shape (batch, time, features), by log-depth scan.

    `bound` = K clips every state to [-K, K] (a finite ladder); None = no clip.
    Requires a >= 0 when `bound` is set.
    """
    s0 = s0.expand(a.shape[0], a.shape[2]) if s0.dim() == 1 else s0
    if bound is None:
        A, B = _prefix((a, b), _compose_affine, (1.0, 0.0))
        return A * s0.unsqueeze(1) + B
    lo = torch.full_like(b, -bound)
    hi = torch.full_like(b, bound)
    A, B, LO, HI = _prefix((a, b, lo, hi), _compose_clipped, (1.0, 0.0, -bound, bound))
    s = A * s0.clamp(-bound, bound).unsqueeze(1) + B
    return torch.minimum(torch.maximum(s, LO), HI)


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
    raise InputError(f"unknown scan mode {mode!r}; use 'parallel' or 'sequential'")
