"""Stimulus: input sequences (time, features) in units -> PWL current sources.

Step k holds x_k over [k dt, (k+1) dt); the change from x_{k-1} to x_k is a
linear edge of `edge_frac * dt` starting at k dt. Points are only emitted where
the value changes, so sparse event inputs (flip-flop, counting) stay short.
"""
from __future__ import annotations

import numpy as np


def pwl_points(values: np.ndarray, dt_s: float, edge_frac: float, i_unit_a: float) -> list:
    """[(t_s, i_A), ...] for one input channel `values` (time,) in units."""
    values = np.asarray(values, np.float64)
    edge = edge_frac * dt_s
    points = [(0.0, float(values[0]) * i_unit_a)]
    for k in range(1, len(values)):
        if values[k] != values[k - 1]:
            points.append((k * dt_s, float(values[k - 1]) * i_unit_a))
            points.append((k * dt_s + edge, float(values[k]) * i_unit_a))
    return points


def sample_times(n_steps: int, dt_s: float, sample_frac: float) -> np.ndarray:
    """Times (s) at which the state of each step is read: (k + sample_frac) dt."""
    return (np.arange(n_steps) + sample_frac) * dt_s
