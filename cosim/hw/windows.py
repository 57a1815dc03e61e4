"""Switching windows of single cells, from the IR (currents in units).

Where a cell of (layer, channel) is expected to switch up and down: the
thresholds the hysteresis, fixed-point and noise benches build and check.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .ir import CellLayer, HardwareIR

#: a BMRU threshold bias below this (units) counts as zero: the bench then uses 1 unit.
BETA_ZERO = 1e-3


@dataclass(frozen=True)
class CellWindow:
    """Expected switching window of one cell, currents in units.

    up: input at which the state switches high (beta2, +|beta| or c0 + h);
    down: input at which it switches low (beta1, -|beta| or c0 - h);
    width = up - down; levels: (low, high) state values; alpha: output
    current per unit of state (units); note: anything substituted.
    """
    kind: str
    up: float
    down: float
    width: float
    levels: tuple
    alpha: float
    note: str = ""


def check_index(ir: HardwareIR, layer: int, channel: int | None = None) -> CellLayer:
    """The layer, or ValueError naming the valid range of layer / channel."""
    n_layers = len(ir.layers)
    if not isinstance(layer, (int, np.integer)) or not 0 <= layer < n_layers:
        raise InputError(f"layer {layer} out of range: the model has {n_layers} cell layer"
                         f"{'s' if n_layers != 1 else ''} (valid: 0..{n_layers - 1})")
    lay = ir.layers[layer]
    if channel is not None and (not isinstance(channel, (int, np.integer))
                                or not 0 <= channel < lay.n):
        raise InputError(f"channel {channel} out of range for layer {layer} "
                         f"({lay.kind}, {lay.n} channels: valid 0..{lay.n - 1})")
    return lay


def cell_window(ir: HardwareIR, layer: int, channel: int | None) -> CellWindow:
    """Expected switching window of cell (layer, channel) from the IR.

    For a CMRU layer the cell is the ladder stage (channel only selects the
    alpha of the ladder; None: alpha = 1 unit)."""
    lay = check_index(ir, layer, channel)
    if lay.kind == "schmitt":
        if channel is None:
            raise InputError(f"layer {layer} (schmitt): choose a channel 0..{lay.n - 1}")
        b1, d = float(lay.beta1[channel]), float(lay.delta[channel])
        note = "" if d > 0 else "width 0 (a comparator): errors are fractions of beta2 instead"
        return CellWindow("schmitt", b1 + d, b1, d, (0.0, 1.0), float(lay.alpha[channel]), note)
    if lay.kind == "bmru":
        if channel is None:
            raise InputError(f"layer {layer} (bmru): choose a channel 0..{lay.n - 1}")
        b = abs(float(lay.threshold.bias[channel]))
        note = ""
        if b < BETA_ZERO:
            note = (f"threshold bias {b:.3g} units is ~0: the bench holds |beta| = 1 unit "
                    f"(switching points then +-1 unit)")
            b = 1.0
        return CellWindow("bmru", b, -b, 2 * b, (-1.0, 1.0), float(lay.alpha[channel]), note)
    d = lay.ladder
    alpha = float(lay.alpha[channel]) if channel is not None else 1.0
    return CellWindow("cmru", d.c0 + d.h, d.c0 - d.h, 2 * d.h, (0.0, 1.0), alpha,
                      f"ladder stage (window c0 +- h = {d.c0:g} +- {d.h:g} units), shared by "
                      f"all {lay.n} ladders of the layer")
