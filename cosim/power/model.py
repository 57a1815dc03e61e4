"""The analytical power model of each transistor cell kind: supply power per step as
a linear function of the cell's biases, its drive and its state.

For a step t of one cell, with state s_t after the step's update and s_{t-1} before:

    P_t = k . F(s_t)                                  (state held)
    P_t = k . ((1 - phi) F(s_t) + phi F(s_{t-1}))     (state changed in the step)

F holds, for each state, the bias and branch currents the cell draws from the
supply in it (nA; the coefficients k are nW per nA, i.e. the supply voltage times
how many copies of that current the cell carries, fitted to transistor runs by
power.characterize), and phi is the fraction of the step spent in the old state.
All arrays are (batch, time, channels); features add a last axis.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..hw.kinds import get_kind


def _schmitt(layer, c, thr, s):
    """First-quadrant cell: per state (low, high) [1, beta2, delta, alpha, c]."""
    b1, d, a = (np.broadcast_to(np.asarray(v, np.float64), c.shape) for v in (layer.beta1, layer.delta, layer.alpha))
    base = np.stack([np.ones_like(c), b1 + d, d, a, c], axis=-1)
    u = (np.asarray(s) > 0.5)[..., None]
    return np.concatenate([base * ~u, base * u], axis=-1)


def _bmru(layer, c, thr, s):
    """Signed BMRU cell: per state (-alpha, +alpha) [1, alpha, c+, c-, |beta|]."""
    a = np.broadcast_to(np.asarray(layer.alpha, np.float64), c.shape)
    thr = np.broadcast_to(thr, c.shape)
    base = np.stack([np.ones_like(c), a, np.maximum(c, 0), np.maximum(-c, 0), np.abs(thr)], axis=-1)
    u = (np.asarray(s) > 0)[..., None]
    return np.concatenate([base * ~u, base * u], axis=-1)


def _cmru(layer, c, thr, s):
    """CMRU ladder: [1, alpha, r+, r-, alpha r+, alpha r-] with r the rung."""
    a = np.broadcast_to(np.asarray(layer.alpha, np.float64), c.shape)
    r = np.asarray(s, np.float64)
    rp, rn = np.maximum(r, 0), np.maximum(-r, 0)
    return np.stack([np.ones_like(c), a, rp, rn, a * rp, a * rn], axis=-1)


#: kind -> (feature function, feature names)
FEATURES = {
    "schmitt": (_schmitt, [f"{st}:{f}" for st in ("low", "high") for f in ("1", "beta2", "delta", "alpha", "c")]),
    "bmru": (_bmru, [f"{st}:{f}" for st in ("minus", "plus") for f in ("1", "alpha", "c+", "c-", "|beta|")]),
    "cmru": (_cmru, ["1", "alpha", "rung+", "rung-", "alpha*rung+", "alpha*rung-"]),
}


def states_before(states: np.ndarray, init_state) -> np.ndarray:
    """(batch, time, channels) state of each cell before each step's update: init_state
    (channels,) on the first step, then the previous step's state."""
    states = np.asarray(states, np.float64)
    start = np.broadcast_to(np.asarray(init_state, np.float64), (states.shape[0], 1, states.shape[2]))
    return np.concatenate([start, states[:, :-1]], axis=1)


def step_features(layer, c: np.ndarray, thr, states: np.ndarray, init_state, phi: float) -> np.ndarray:
    """(batch, time, channels, features) of the model above for a layer's drive c,
    threshold thr and states (batch, time, channels); init_state: (channels,)."""
    if layer.kind not in FEATURES:
        raise InputError(f"no power model for cell kind {layer.kind!r} (known: {', '.join(FEATURES)})")
    fn = FEATURES[layer.kind][0]
    prev = states_before(states, init_state)
    f_new, f_old = fn(layer, c, thr, states), fn(layer, c, thr, prev)
    changed = (states != prev)[..., None]
    return np.where(changed, (1 - phi) * f_new + phi * f_old, f_new)


def layer_drive(layer, h: np.ndarray):
    """(candidate, threshold) (batch, time, channels) of a layer on its inputs h, as the
    transistor cells see them (first quadrant: after the ReLU)."""
    c, thr, _, _ = get_kind(layer.kind).signals(layer, h, 0.0)
    return np.asarray(c, np.float64), np.asarray(thr, np.float64)


def cell_power(layer, h: np.ndarray, states: np.ndarray, model: dict) -> np.ndarray:
    """(batch, time, channels) supply power (nW) of a layer's cells from the fitted
    model (calibration["power"][kind]) on inputs h (batch, time, n_in) and states."""
    c, thr = layer_drive(layer, h)
    f = step_features(layer, c, thr, states, layer.init_state, model["phi"])
    return f @ np.asarray(model["coef_nw_per_na"], np.float64)
