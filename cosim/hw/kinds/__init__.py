"""Cell kinds as plug-ins: one object per kind, registered by name.

A kind owns everything that differs between cells: the IR fields it uses
(with units) and their validation, the software step (the cell equations the
circuit implements), the logical reading of a circuit state, the decision
margin and hold window, its switching window for single-cell benches, its
device mismatch, and its circuit implementations behind fixed ports.

Ports of every implementation (per channel i of a layer with prefix p):
inputs are the sense sources of the layer's input currents, the layer clock
node `clk`, and it returns (output sense sources, state probe names); the
output current is alpha * state (units). "behavioral" is the ideal ngspice
model; a transistor-level implementation registers as a second name.

Adding a kind: subclass `CellKind` in one module, `register()` an instance.
Everything downstream asks `get_kind(layer.kind)`, never compares names.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError

_REGISTRY: dict = {}
_LOADED = False


class CellKind:
    """Base of a cell kind; subclasses set `name`, `fields`, `levels` and override the methods."""
    name: str = ""
    #: kind-specific CellLayer fields -> unit ("units" = current units, "" = dimensionless)
    fields: dict = {}
    #: (low, high) logical state values of one cell
    levels: tuple = (0.0, 1.0)
    #: name -> function(bld, p, layer, inputs, clk, first, noise) -> (outs, state probes)
    implementations: dict = {}

    # ---- IR ----
    def validate(self, layer, name: str, width: int, gain_max: float) -> None:
        """Raise IRError naming the first bad field of `layer` (layer name `name`)."""
        raise NotImplementedError

    # ---- software ----
    def signals(self, layer, x: np.ndarray, extra) -> tuple:
        """(candidate, threshold, gate, update) arrays (batch, time, channels) for inputs
        x (batch, time, n_in); update(s, t) -> the state after step t from state s."""
        raise NotImplementedError

    def output(self, layer, states: np.ndarray) -> np.ndarray:
        """Output currents (units) from states (batch, time, channels): h = alpha * s."""
        return np.asarray(layer.alpha, np.float64) * states

    def snap(self, states: np.ndarray) -> np.ndarray:
        """A circuit state (as probed) read as a logical state."""
        raise NotImplementedError

    def beta1(self, layer):
        """Lower threshold per channel (units) for first-quadrant cells, else None."""
        return None

    def margin(self, candidate, threshold, beta1=None) -> np.ndarray:
        """Distance (units) of the candidate from changing the decision: | |c| - |beta| |."""
        return np.abs(np.abs(candidate) - np.abs(threshold))

    def hold_window(self, threshold, beta1=None) -> np.ndarray:
        """Width (units) of the hold window: 2 |beta|."""
        return 2 * np.abs(np.asarray(threshold))

    def window(self, layer, channel: int | None, layer_index: int):
        """`hw.windows.CellWindow` of one cell (switching points for benches)."""
        raise NotImplementedError

    def perturb(self, layer, rng, spec: dict, factors) -> None:
        """Draw this kind's own device mismatch into `layer` (in place);
        factors(rng, p, shape) -> 1 + N(0, (p/3)^2) factors."""

    def readout_level(self, layer, channel: int):
        """Output level of a cell whose output takes two values (0 or alpha), else None."""
        return None

    def drawn(self, layer, l: int) -> dict:
        """Drawn quantities of a mismatch draw worth a histogram, {name: values}."""
        return {}

    def implementation(self, name: str = "behavioral"):
        try:
            return self.implementations[name]
        except KeyError:
            raise InputError(f"cell kind {self.name!r} has no {name!r} implementation "
                             f"(available: {', '.join(self.implementations) or 'none'})") from None


def register(kind: CellKind) -> CellKind:
    """Make `kind` available by its name (replaces an earlier one of the same name)."""
    if not kind.name:
        raise ValueError("a cell kind needs a name")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def get_kind(name: str) -> CellKind:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise InputError(f"cell kind {name!r} unsupported (one of {', '.join(kind_names())})") from None


def kind_names() -> tuple:
    _load_builtin()
    return tuple(sorted(_REGISTRY))


def _load_builtin() -> None:
    global _LOADED
    if not _LOADED:
        from . import bmru, cmru, schmitt  # noqa: F401  (each registers itself on import)
        _LOADED = True
