"""Simulator backends behind one call at the IR level.

    simulate(ir, x, backend="ngspice", noise=None, **options) -> Simulation

ir: one HardwareIR, or a list with one IR per sequence (e.g. Monte-Carlo
mismatch draws of one model: same shapes and timing). x: (batch, time,
n_inputs) input currents, units. noise: optional list, per
layer, of (batch, time, channels) extra input current (units). Backends are
registered by name:

    ngspice    whole-model netlists of the IR, run in ngspice (cosim.spice)
    reference  the discrete software reference of the same IR (hw.reference)

A new backend (e.g. a fast batched engine) is one module with a function
`run(ir, x, noise=None, **options) -> Simulation` decorated with
`@register("name")`, imported below. Verify, Monte Carlo and the benches call
`simulate`, never a driver.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError


@dataclass
class Simulation:
    """Per-step results of one backend run.
    states: per layer (batch, time, channels) cell states (BMRU +-1, first-quadrant
    0/1, CMRU rungs; a circuit's are analog values near those); outputs:
    (batch, time, n_outputs) readout currents, units; detail: the backend's own
    richer result (the reference's candidates/thresholds), or None."""
    backend: str
    states: list
    outputs: np.ndarray
    detail: object = None


_BACKENDS: dict = {}


def register(name: str):
    """Decorator: make `fn(ir, x, noise=None, **options) -> Simulation` the backend `name`."""
    def deco(fn):
        _BACKENDS[name] = fn
        return fn
    return deco


def backends() -> list:
    """Names of the registered backends."""
    return sorted(_BACKENDS)


def simulate(ir, x, *, backend: str = "ngspice", noise=None, **options) -> Simulation:
    """Run the IR model on inputs x with the named backend (see module doc)."""
    if backend not in _BACKENDS:
        raise InputError(f"unknown simulator backend {backend!r}; one of {', '.join(backends())}")
    x = np.asarray(x, np.float64)
    first = ir[0] if isinstance(ir, (list, tuple)) else ir
    if x.ndim != 3 or x.shape[2] != first.n_inputs or 0 in x.shape[:2]:
        raise InputError(f"inputs must be (batch, time, {first.n_inputs}) with batch, time >= 1, got {x.shape}")
    if isinstance(ir, (list, tuple)) and len(ir) != len(x):
        raise InputError(f"{len(ir)} IRs for {len(x)} sequences: one IR per sequence")
    return _BACKENDS[backend](ir, x, noise=noise, **options)


from . import fast, ngspice, reference, transistor  # noqa: E402,F401  (register the built-in backends)
