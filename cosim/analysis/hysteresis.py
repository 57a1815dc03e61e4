"""Hysteresis of one bistable cell: switching points from a slow triangular sweep.

Works on arrays (the swept input current and the cell state, both sampled on
the same time axis) and on the hardware IR (the expected window of a cell).
Currents are in software units (1 unit = `Timing.i_unit_a`, 1 nA by default).

Cells and their windows (SPEC 2.1, 2.3, 3.2, 3.4):

    schmitt (first quadrant)  up at beta2 = beta1 + delta, down at beta1,
                              width delta, state 0 / 1
    bmru (symmetric)          up at +|beta|, down at -|beta|, width 2|beta|,
                              state -1 / +1; |beta| = |threshold bias| of the
                              channel (the threshold at zero input)
    cmru (ladder stage)       up at c0 + h, down at c0 - h, width 2h, state 0 / 1;
                              every stage of every ladder of the layer shares
                              the LadderDesign

A switching point is the input at which the state crosses its midpoint
(linear interpolation between samples), searched on the rising half of the
sweep for "up" and on the falling half for "down". Errors are signed and
given as a fraction of the window width.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import InputError
from ..hw.kinds import get_kind
from ..hw.kinds.bmru import BETA_ZERO
from ..hw.windows import CellWindow, cell_window, check_index

__all__ = ["CellWindow", "HysteresisResult", "BETA_ZERO", "check_index", "cell_window",
           "crossings", "switching_points", "measure_hysteresis", "software_states"]

def crossings(x: np.ndarray, y: np.ndarray, level: float) -> tuple[list, list]:
    """Values of x where y crosses `level` upwards / downwards (linear interpolation)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    up, dn = [], []
    below = y < level
    for i in np.nonzero(below[:-1] != below[1:])[0]:
        f = (level - y[i]) / (y[i + 1] - y[i])
        (up if y[i + 1] > y[i] else dn).append(float(x[i] + f * (x[i + 1] - x[i])))
    return up, dn


def switching_points(x, state, levels=(0.0, 1.0)) -> dict:
    """Up / down switching inputs of one triangular sweep (rising, then falling).

    x, state: arrays on one time axis. The sweep turns at the maximum of x.
    Returns {"up", "down" (first midpoint crossing in each direction, None if
    none), "n_up", "n_down" (number of crossings in that direction; 1 for a
    clean loop), "turn" (index of the turning point)}.
    """
    x, s = np.asarray(x, np.float64), np.asarray(state, np.float64)
    if x.shape != s.shape or x.ndim != 1 or len(x) < 3:
        raise InputError(f"x and state must be 1-D arrays of one length >= 3 (got {x.shape}, {s.shape})")
    mid = 0.5 * (levels[0] + levels[1])
    turn = int(np.argmax(x))
    up_r, dn_r = crossings(x[:turn + 1], s[:turn + 1], mid)
    up_f, dn_f = crossings(x[turn:], s[turn:], mid)
    return {"up": up_r[0] if up_r else None, "down": dn_f[0] if dn_f else None,
            "n_up": len(up_r), "n_down": len(dn_f), "extra": len(dn_r) + len(up_f),
            "turn": turn}


@dataclass
class HysteresisResult:
    """Measured versus expected switching points of one cell (currents in units).

    err_up / err_down: (measured - expected) / width, signed (None when the
    cell never switched in that direction; a width-0 comparator: / |beta2|). n_up / n_down: midpoint crossings
    in the rising / falling half (1 = clean); extra: crossings the wrong way.
    trace (not in to_dict): arrays for plotting: x, state, software.
    """
    layer: int
    channel: int | None
    kind: str
    model: str
    expected_up: float
    expected_down: float
    width: float
    measured_up: float | None
    measured_down: float | None
    err_up: float | None
    err_down: float | None
    n_up: int
    n_down: int
    extra: int
    alpha: float
    levels: tuple
    note: str = ""
    i_unit_a: float = 1e-9
    wall_s: float = 0.0
    trace: dict = field(default_factory=dict, repr=False)

    @property
    def max_abs_error(self) -> float:
        """max(|err_up|, |err_down|), inf when a switch is missing or the loop is not clean."""
        if self.err_up is None or self.err_down is None or self.n_up != 1 or self.n_down != 1:
            return math.inf
        return max(abs(self.err_up), abs(self.err_down))

    def ok(self, tol: float = 0.02) -> bool:
        return self.max_abs_error <= tol

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("trace")
        d["levels"] = list(self.levels)
        d["max_abs_error"] = None if math.isinf(self.max_abs_error) else self.max_abs_error
        return d

    def label(self) -> str:
        ladder = get_kind(self.kind).has_ladder and self.channel is None
        ch = "ladder stage" if ladder else f"channel {self.channel}"
        return f"layer {self.layer} {ch} ({self.kind})"


def _err(measured, expected, window: CellWindow):
    if measured is None:
        return None
    scale = window.width if window.width > 0 else max(abs(window.up), 1e-9)
    return (measured - expected) / scale


def measure_hysteresis(x, state, window: CellWindow, *, layer: int, channel: int | None,
                       model: str = "latch", i_unit_a: float = 1e-9, wall_s: float = 0.0,
                       software=None) -> HysteresisResult:
    """Switching points of the circuit trace (x in units, state) against `window`.

    `software` (optional): the software cell's state on the same x samples
    (see `software_states`), kept in the trace for plotting."""
    sp = switching_points(x, state, window.levels)
    trace = {"x": np.asarray(x, np.float64), "state": np.asarray(state, np.float64)}
    if software is not None:
        trace["software"] = np.asarray(software, np.float64)
    return HysteresisResult(
        layer=int(layer), channel=None if channel is None else int(channel), kind=window.kind,
        model=model, expected_up=window.up, expected_down=window.down, width=window.width,
        measured_up=sp["up"], measured_down=sp["down"],
        err_up=_err(sp["up"], window.up, window),
        err_down=_err(sp["down"], window.down, window),
        n_up=sp["n_up"], n_down=sp["n_down"], extra=sp["extra"], alpha=window.alpha,
        levels=tuple(window.levels), note=window.note, i_unit_a=i_unit_a, wall_s=wall_s,
        trace=trace)


def software_states(window: CellWindow, x, s0: float | None = None) -> np.ndarray:
    """State of the software cell (hw.reference, the IR's cell equations) driven
    step by step by the input samples x (units): the ideal loop.

    The cell is the kind's `software_cell`: a one-channel layer with unit
    candidate gain (first-quadrant: beta1 = down, delta = width; bmru: a
    constant threshold |beta| = up; cmru stage: shifted into the first quadrant)."""
    lo = window.levels[0] if s0 is None else s0
    return get_kind(window.kind).software_cell(window, np.asarray(x, np.float64), lo)
