"""Backend `ngspice`: whole-model netlists of the IR, simulated in ngspice.

Sequences run `chunk` model copies per netlist (default 10, or
builder.max_copies), each copy with its own IR when `ir` is a list; each chunk's ngspice log is kept in `log_dir`
(chunk_<i>.log) when given. timeout_s: limit of each ngspice run (s).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..fileio import atomic_write_text
from ..netlist.builder import build_netlist, max_copies
from ..netlist.sampling import step_signals
from ..spice import run_netlist
from . import Simulation, register


@register("ngspice")
def run(ir, x, noise=None, *, chunk: int | None = None, driver: str = "subprocess",
        timeout_s: float = 600.0, log_dir=None, seed: int = 0, progress: bool = False) -> Simulation:
    irs = ir if isinstance(ir, (list, tuple)) else None     # one IR per sequence
    first = ir if irs is None else irs[0]
    chunk = chunk or max_copies(first) or 10
    states = [[] for _ in first.layers]
    outputs = []
    for i in tqdm(range(0, len(x), chunk), desc="ngspice", unit="chunk", disable=not progress):
        part = None if noise is None else [n[i:i + chunk] for n in noise]
        net = build_netlist(first if irs is None else irs[i:i + chunk], x[i:i + chunk], noise=part)
        res = run_netlist(net.text, driver=driver, timeout_s=timeout_s, seed=seed)
        if log_dir is not None:
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            atomic_write_text(Path(log_dir) / f"chunk_{i // chunk}.log", res.log)
        sig = step_signals(res, net, first.timing)
        for l in range(len(first.layers)):
            states[l].extend(copy[l] for copy in sig.states)
        outputs.extend(sig.outputs)
    return Simulation("ngspice", [np.stack(s) for s in states], np.stack(outputs))
