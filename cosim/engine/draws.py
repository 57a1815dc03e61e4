"""Mismatch draws of many seeds at once: an IR whose parameters carry a leading
draw axis D, each slice exactly `hw.mismatch.perturb_ir(ir, p, seed_d)`."""
from __future__ import annotations

import copy

import numpy as np

from ..hw.ir import HardwareIR
from ..hw.mismatch import draw_into, mismatch_spec


class StackedNormals:
    """Stand-in for a numpy Generator in `draw_into`: normal(loc, scale, shape)
    returns (D, *shape), row d drawn by the Generator of seeds[d] (the same calls
    in the same order as one perturb_ir per seed, hence the same numbers)."""

    def __init__(self, seeds):
        self.gens = [np.random.default_rng(int(s)) for s in seeds]

    def normal(self, loc, scale, shape):
        return np.stack([g.normal(loc, scale, shape) for g in self.gens])


def draw_batch(ir: HardwareIR, p, seeds) -> HardwareIR:
    """The IR with every device parameter drawn for each seed: arrays (D, ...)
    where the nominal IR has (...). Not validated per draw (perturb_ir does that
    for the ngspice path); the fast engine reads it directly."""
    out = copy.deepcopy(ir)
    draw_into(out, StackedNormals(seeds), mismatch_spec(p))
    return out
