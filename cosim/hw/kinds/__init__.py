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

Single-cell benches (hysteresis, fixed points, noise) ask the kind for its
sweep range, its bench cell (`bench_cell`, same builder idea, ports: input
node, output node) and its ideal software loop (`software_cell`); analyses
that depend on the decision form read `first_quadrant` (window [beta1, beta2]
on c >= 0) or `has_ladder` (the memory is a ladder of rungs).

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
    #: plain words for figures and summaries, and the names of window.up / window.down
    title: str = ""
    window_labels: tuple = ("up", "down")
    #: decision form: True = first quadrant (c >= 0; high above beta2, low below beta1),
    #: False = signed (the state moves when |c| >= |beta|)
    first_quadrant: bool = False
    #: the memory is a ladder of rungs (benches test one ladder stage per layer and the held rungs)
    has_ladder: bool = False

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

    # ---- single-cell benches ----
    def sweep_range(self, win, margin: float) -> tuple:
        """(lo, hi) input sweep (units) of a hysteresis bench: the window +- margin widths."""
        w = bench_width(win)
        return win.down - margin * w, win.up + margin * w

    def bench_cell(self, bld, name: str, win, node: str, out: str, dynamic: bool) -> dict:
        """One swept cell of a single-cell bench with window `win`, input current
        into `node`, output current into `out`: a first-quadrant latch
        (`bist_latch`) or its dynamic model (`bist_dyn`). bld: the bench builder
        (instance, bias, latch_eps, tauc_s, loopgain, iu). Returns subckt, s0,
        params, input_node (the unit-scaled input inside the instance), and the
        state mapping state = offset + scale * v(u)."""
        iu = bld.iu
        params = dict(igain=win.alpha * iu, ithresh=win.up * iu, iwidth=win.width * iu, iunit=iu, s0=0)
        if dynamic:
            params.update(tauc=bld.tauc_s, loopgain=bld.loopgain)
        else:
            params.update(eps=bld.latch_eps)     # the latch exactly as whole-model netlists use it
        sub = "bist_dyn" if dynamic else "bist_latch"
        bld.instance(name, sub, node, out, **params)
        return dict(subckt=sub, s0=0, params=params, input_node="x", offset=0.0, scale=1.0)

    def software_cell(self, win, x: np.ndarray, s0: float) -> np.ndarray:
        """State of the ideal software cell with window `win` driven sample by
        sample by the inputs x (n,) in units: a one-channel first-quadrant
        layer, beta1 = win.down, delta = win.width."""
        from ..ir import CellLayer, MirrorBank
        from ..reference import run_layer

        layer = CellLayer("schmitt", MirrorBank([[1.0]], [0.0]), [1.0], [s0],
                          beta1=[win.down], delta=[win.width])
        return run_layer(layer, np.asarray(x, np.float64)[None, :, None]).state[0, :, 0]

    def implementation(self, name: str = "behavioral"):
        return pick_implementation(self.implementations, name, f"cell kind {self.name!r}")


def pick_implementation(implementations: dict, name: str, owner: str):
    """implementations[name], or InputError naming `owner` and what it has."""
    try:
        return implementations[name]
    except KeyError:
        raise InputError(f"{owner} has no {name!r} implementation "
                         f"(available: {', '.join(implementations) or 'none'})") from None


def bench_width(win) -> float:
    """Width (units) a bench scales its sweep by: the window, or 10% of |up| (at least
    0.05) for a comparator of width 0."""
    return win.width if win.width > 0 else max(0.1 * abs(win.up), 0.05)


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
