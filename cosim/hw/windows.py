"""Switching windows of single cells, from the IR (currents in units).

Where a cell of (layer, channel) is expected to switch up and down: the
thresholds the hysteresis, fixed-point and noise benches build and check.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .ir import CellLayer, HardwareIR
from .kinds import get_kind


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
    return get_kind(lay.kind).window(lay, channel, layer)
