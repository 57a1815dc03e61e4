"""Scale every current of a model after its inputs by a factor s: the same network at s
times the current, so at about s times the supply power.

The first-quadrant and BMRU cells are positively homogeneous: if every current a cell
sees and sets (drive, thresholds, output level) is multiplied by s > 0, every state
is the same. So the input projection's gains and biases (or, without a projection,
layer 0's banks), every later bias, and the cells' thresholds (beta1, delta) and
output levels (alpha) are multiplied by s; the later banks' gains stay (they see
inputs that are already scaled). The states and decisions are unchanged, the readout
currents are s times, and the model's input currents (from outside) stay as they are.
The CMRU ladder (its levels, window and rung spacing are a circuit design at its own
currents) and the readout filters are not scaled: those models are refused.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..limits import CURRENT_SCALE_RANGE as SCALE_RANGE
from .ir import HardwareIR, IRError, MirrorBank, validate

SCALABLE = ("schmitt", "bmru")


def _bank(bank: MirrorBank | None, s: float, gains: bool) -> MirrorBank | None:
    if bank is None:
        return None
    g = np.asarray(bank.gains, np.float64)
    return MirrorBank(g * s if gains else g, np.asarray(bank.bias, np.float64) * s)


def scale_currents(ir: HardwareIR, s: float) -> HardwareIR:
    """The IR at s times its currents (module doc); its quantization records the factor."""
    if not (np.isfinite(s) and SCALE_RANGE[0] <= s <= SCALE_RANGE[1]):
        raise InputError(f"current scale {s!r}: expected {SCALE_RANGE[0]:g} to {SCALE_RANGE[1]:g}")
    kinds = sorted({layer.kind for layer in ir.layers} - set(SCALABLE))
    if kinds or ir.filters is not None:
        what = f"its {', '.join(kinds)} layers" if kinds else "its readout filters"
        raise InputError(f"{ir.name}: cannot scale the currents of this model ({what} are a circuit design "
                         f"at their own currents); only {' and '.join(SCALABLE)} models without readout "
                         "filters scale")
    first_gains = ir.proj is None
    layers = []
    for l, layer in enumerate(ir.layers):
        scaled = {k: np.asarray(getattr(layer, k), np.float64) * s for k in ("alpha", "beta1", "delta")
                  if getattr(layer, k) is not None}
        layers.append(replace(layer, candidate=_bank(layer.candidate, s, first_gains and l == 0),
                              threshold=_bank(layer.threshold, s, first_gains and l == 0), **scaled))
    quant = {**ir.quantization, "current_scale": float(s) * float(ir.quantization.get("current_scale", 1.0))}
    out = replace(ir, proj=_bank(ir.proj, s, True), layers=layers, readout=_bank(ir.readout, s, False),
                  quantization=quant)
    try:
        validate(out)              # e.g. a first bank's gains past the realisable gain_max
    except IRError as exc:
        raise InputError(f"{ir.name} at {s:g} times its currents: {exc}") from None
    return out
