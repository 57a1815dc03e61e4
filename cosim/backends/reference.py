"""Backend `reference`: the discrete software reference of the IR (hw.reference)."""
from __future__ import annotations

import numpy as np

from ..hw.reference import run_reference
from . import Simulation, register


@register("reference")
def run(ir, x, noise=None) -> Simulation:
    """detail: the hw.reference.Reference (one IR), or a list of them (one per sequence)."""
    if not isinstance(ir, (list, tuple)):
        ref = run_reference(ir, x, noise=noise)
        return Simulation("reference", [layer.state for layer in ref.layers], ref.outputs, detail=ref)
    refs = [run_reference(one, x[b:b + 1], noise=None if noise is None else [n[b:b + 1] for n in noise])
            for b, one in enumerate(ir)]
    states = [np.concatenate([r.layers[l].state for r in refs]) for l in range(len(ir[0].layers))]
    return Simulation("reference", states, np.concatenate([r.outputs for r in refs]), detail=refs)
