"""Several IRs of one model (e.g. separate mismatch draws) as one batched IR."""
from __future__ import annotations

import copy

import numpy as np

from ..errors import InputError
from ..hw.ir import MirrorBank


def _stack(values) -> np.ndarray:
    return np.stack([np.asarray(v, np.float64) for v in values])


def _bank(banks) -> MirrorBank:
    return MirrorBank(_stack([b.gains for b in banks]), _stack([b.bias for b in banks]))


def stack_irs(irs: list):
    """One IR whose array parameters carry a leading axis, one slice per IR (same
    shapes, kinds and timing required; ladder stage factors are kept per IR)."""
    first = irs[0]
    if any(ir.timing != first.timing or len(ir.layers) != len(first.layers) for ir in irs):
        raise InputError("stacked IRs need the same timing and layers")
    out = copy.deepcopy(first)
    if first.proj is not None:
        out.proj = _bank([ir.proj for ir in irs])
    for l, layer in enumerate(out.layers):
        those = [ir.layers[l] for ir in irs]
        layer.candidate = _bank([t.candidate for t in those])
        layer.alpha = _stack([t.alpha for t in those])
        layer.init_state = _stack([t.init_state for t in those])
        if layer.threshold is not None:
            layer.threshold = _bank([t.threshold for t in those])
        if layer.beta1 is not None:
            layer.beta1, layer.delta = _stack([t.beta1 for t in those]), _stack([t.delta for t in those])
        if layer.ladder_scale is not None or any(t.ladder_scale for t in those):
            layer.ladder_scale = [ch for t in those for ch in (t.ladder_scale or [])]
    out.readout = _bank([ir.readout for ir in irs])
    if first.filters is not None:
        f = out.filters
        f.drive_u = _bank([ir.filters.drive_u for ir in irs])
        f.drive_v = _bank([ir.filters.drive_v for ir in irs])
        f.tau_s, f.coupling = _stack([ir.filters.tau_s for ir in irs]), _stack([ir.filters.coupling for ir in irs])
    return out
