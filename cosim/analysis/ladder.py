"""Ladder staircase analysis: settled levels after each update step vs k * alpha."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def ideal_levels(updates, s0: int, K: int) -> np.ndarray:
    """Rung after each step: clipped cumulative sum, (steps,) integers."""
    s, out = s0, []
    for u in updates:
        s = int(np.clip(s + u, -K, K))
        out.append(s)
    return np.array(out)


@dataclass
class LadderResult:
    K: int
    s0: int
    steps: int
    exact_rungs: bool              # every settled level on the expected rung
    max_level_error_frac: float    # max |I/alpha - k| over steps (fraction of alpha)
    saturates_top: bool           # updates pushed past +K left the level at +K
    saturates_bottom: bool        # and past -K at -K
    wrong_steps: list              # [(step, expected rung, circuit level)]

    def to_dict(self) -> dict:
        return asdict(self)


def analyse_ladder(levels_units: np.ndarray, updates, s0: int, K: int) -> LadderResult:
    """levels_units: settled output current / alpha per step (steps,)."""
    expected = ideal_levels(updates, s0, K)
    err = np.abs(levels_units - expected)
    wrong = [(int(k), int(e), float(v)) for k, (e, v) in enumerate(zip(expected, levels_units))
             if round(v) != e]
    before = np.r_[s0, expected[:-1]]
    u = np.asarray(updates)
    rung = np.round(levels_units)
    push_top = (before == K) & (u > 0)          # an update into the top end of the ladder
    push_bottom = (before == -K) & (u < 0)
    top = bool(push_top.any() and (rung[push_top] == K).all())
    bottom = bool(push_bottom.any() and (rung[push_bottom] == -K).all())
    return LadderResult(K, s0, len(expected), not wrong, float(err.max()), top, bottom, wrong)
