"""Shared part of the signed cells (BMRU, CMRU): c = candidate(x), beta = threshold(x),
gate z = H(|c| - |beta|), step sign(c); currents in units."""
from __future__ import annotations

import numpy as np

from ..ir import IRError, check_bank
from ..reference import apply_bank
from . import CellKind


class SignedKind(CellKind):
    fields = {"threshold": "mirror bank (gains, bias in units)"}

    def validate(self, layer, name, width, gain_max):
        if layer.threshold is None:
            raise IRError(f"{name}.threshold is required for a {self.name} layer")
        check_bank(f"{name}.threshold", layer.threshold, width, gain_max)

    def signals(self, layer, x, extra):
        c = apply_bank(layer.candidate, x) + extra
        thr = apply_bank(layer.threshold, x)
        gate = np.abs(c) >= np.abs(thr)
        step = np.where(c >= 0, 1.0, -1.0)
        return c, thr, gate, self.updater(layer, gate, step)


def candidate_and_threshold(bld, p: str, layer, inputs: list, noise) -> tuple:
    """Sum nodes of the candidate c and threshold beta of a signed layer (netlist builder `bld`)."""
    cands = [f"{p}c{i}" for i in range(layer.n)]
    thrs = [f"{p}t{i}" for i in range(layer.n)]
    bld.bank(f"{p}w", layer.candidate, inputs, cands)
    bld.bank(f"{p}u", layer.threshold, inputs, thrs)
    bld.noise(p, cands, noise)
    return cands, thrs
