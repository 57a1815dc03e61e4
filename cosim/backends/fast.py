"""Backend `fast`: the behavioral circuits' discrete map in torch (cosim.engine).

ir: one IR (every sequence through it) or a list of IRs, one per sequence
(evaluated as a batch of draws). device: "cpu" (default) or "cuda"."""
from __future__ import annotations

import numpy as np

from . import Simulation, register


@register("fast")
def run(ir, x, noise=None, *, device: str = "cpu") -> Simulation:
    from ..engine.model import FastModel
    from ..engine.stack import stack_irs

    if isinstance(ir, (list, tuple)):
        model = FastModel(stack_irs(ir), device=device)
        xs = x[:, None]                                   # draw d runs sequence d
        nz = None if noise is None else [n[:, None] for n in noise]
        states, outputs = model.run(xs, nz)
        return Simulation("fast", [s[:, 0].cpu().numpy() for s in states], outputs[:, 0].cpu().numpy())
    model = FastModel(ir, device=device)
    nz = None if noise is None else [np.asarray(n)[None] for n in noise]
    states, outputs = model.run(x, nz)
    return Simulation("fast", [s[0].cpu().numpy() for s in states], outputs[0].cpu().numpy())
