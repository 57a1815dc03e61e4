"""Uniform quantization of weights and bias currents to b bits.

Signed tensors use 2^(b-1) - 1 levels per sign over [-max|w|, max|w|]; tensors
that must stay non-negative (bias currents alpha, beta1, delta of unipolar
cells) use 2^b - 1 levels over [0, max]. `per_channel` gives each output row
its own step. Every call returns the quantized array and a report entry.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

MIN_BITS, MAX_BITS = 2, 16


def check_bits(bits: int) -> None:
    if not isinstance(bits, (int, np.integer)) or not MIN_BITS <= bits <= MAX_BITS:
        raise InputError(f"bits must be an integer in [{MIN_BITS}, {MAX_BITS}], got {bits!r}")


def quantize(values, bits: int, *, unsigned: bool = False, per_channel: bool = False):
    """(quantized array, report dict) for `values` (any shape; rows = channels).

    Report: bits, range [min, max], step(s), max and mean absolute error.
    """
    check_bits(bits)
    w = np.asarray(values, dtype=np.float64)
    if not np.isfinite(w).all():
        raise InputError("cannot quantize a tensor holding NaN or infinite values")
    if unsigned and (w < 0).any():
        raise InputError(f"unsigned quantization of a tensor with negative values (min {w.min():.4g})")
    levels = (2 ** bits - 1) if unsigned else (2 ** (bits - 1) - 1)
    if per_channel and w.ndim == 2:
        scale = np.abs(w).max(axis=1, keepdims=True)
    else:
        scale = np.array(np.abs(w).max() if w.size else 0.0)
    step = np.where(scale > 0, scale / levels, 1.0)
    q = np.round(w / step) * step
    err = np.abs(q - w)
    report = {"bits": int(bits), "signed": not unsigned, "per_channel": bool(per_channel and w.ndim == 2),
              "min": float(w.min()) if w.size else 0.0, "max": float(w.max()) if w.size else 0.0,
              "step": float(step.max()), "max_abs_error": float(err.max()) if w.size else 0.0,
              "mean_abs_error": float(err.mean()) if w.size else 0.0}
    return q, report
