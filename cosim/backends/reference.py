"""Backend `reference`: the discrete software reference of the IR (hw.reference)."""
from __future__ import annotations

from ..hw.reference import run_reference
from . import Simulation, register


@register("reference")
def run(ir, x, noise=None) -> Simulation:
    ref = run_reference(ir, x, noise=noise)
    return Simulation("reference", [layer.state for layer in ref.layers], ref.outputs, detail=ref)
