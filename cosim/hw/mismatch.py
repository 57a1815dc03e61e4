"""Device mismatch drawn on the hardware IR (a new IR: circuit and software see it alike).

Every device parameter is multiplied by (1 + N(0, sigma^2)), sigma = p / 3
("+-p at 3 sigma"), p per device class:

    gain      every mirror gain (weights of proj, candidate, threshold, readout banks)
    bias      bias currents of those banks
    igain     cell output level alpha
    ithresh   first-quadrant upper threshold beta2 (beta1 = beta2 - delta follows)
    iwidth    first-quadrant hysteresis width delta
    ladder    CMRU ladder stages: alpha, c0, h, w, a and tau (= C U_T / (kappa I_tau)),
              one factor per stage and parameter
    filter    readout filters: each instance's time constants tau_u, tau_v (its
              capacitors) and coupling transconductances k_uv, k_vu, independently
              (their drive mirrors are `gain`)

Draws come from numpy's Generator seeded with the run seed and are recorded
in `ir.mismatch` ({"p": ..., "seed": ...}).
"""
from __future__ import annotations

import copy

import numpy as np

from ..errors import InputError
from .kinds import get_kind
from .kinds.filters import FILTERS
from .kinds.cmru import LADDER_PARAMS  # noqa: F401  (re-exported)
from .ir import HardwareIR, IRError, MirrorBank, mirror_banks, validate

CLASSES = ("gain", "bias", "igain", "ithresh", "iwidth", "ladder", "filter")


def mismatch_spec(p) -> dict:
    """p (a number for every class, or a dict per class) -> {class: p}."""
    spec = {c: float(p) for c in CLASSES} if not isinstance(p, dict) else {c: float(p.get(c, 0.0)) for c in CLASSES}
    unknown = set(p) - set(CLASSES) if isinstance(p, dict) else set()
    if unknown:
        raise InputError(f"unknown mismatch classes {sorted(unknown)}; known: {', '.join(CLASSES)}")
    for c, v in spec.items():
        if not np.isfinite(v) or not 0 <= v < 1:
            raise InputError(f"mismatch p for {c} must be in [0, 1) (a fraction, 0.05 = 5%), got {v}")
    return spec


def _factors(rng, p: float, shape) -> np.ndarray:
    return 1.0 + rng.normal(0.0, p / 3.0, shape)


def _bank(rng, bank: MirrorBank, spec) -> MirrorBank:
    g = np.asarray(bank.gains, np.float64)
    b = np.asarray(bank.bias, np.float64)
    return MirrorBank(g * _factors(rng, spec["gain"], g.shape), b * _factors(rng, spec["bias"], b.shape))


def perturb_ir(ir: HardwareIR, p, seed: int) -> HardwareIR:
    """A new IR with every device parameter drawn with mismatch p (see module doc)."""
    spec = mismatch_spec(p)
    out = copy.deepcopy(ir)
    draw_into(out, np.random.default_rng(seed), spec)
    out.mismatch = {"p": spec, "seed": int(seed)}
    # mismatch may push a gain just past the nominal realisable range: that is the physics
    widest = max(float(np.abs(bank.gains).max(initial=0.0)) for _, bank in mirror_banks(out))
    out.quantization = {**out.quantization,
                        "gain_max": max(float(out.quantization.get("gain_max", 0.0)), widest)}
    try:
        validate(out)
    except IRError as exc:
        raise IRError(f"mismatch draw (seed {seed}) gave an invalid circuit: {exc}") from None
    return out


def draw_into(out: HardwareIR, rng, spec: dict) -> None:
    """Multiply every device parameter of `out` by its mismatch factor, in place, in
    the one fixed order of draws (rng: a numpy Generator, or any object with the
    same `normal(loc, scale, shape)`, e.g. one that stacks several seeds' draws)."""
    if out.proj is not None:
        out.proj = _bank(rng, out.proj, spec)
    for layer in out.layers:
        layer.candidate = _bank(rng, layer.candidate, spec)
        if layer.threshold is not None:
            layer.threshold = _bank(rng, layer.threshold, spec)
        layer.alpha = np.asarray(layer.alpha) * _factors(rng, spec["igain"], layer.n)
        get_kind(layer.kind).perturb(layer, rng, spec, _factors)
    out.readout = _bank(rng, out.readout, spec)
    if out.filters is not None:   # drawn last: models without filters keep their draws
        FILTERS.perturb(out.filters, rng, spec, _bank, _factors)
