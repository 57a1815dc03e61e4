"""Test bench for one CMRU ladder: a train of +-1 update pulses, one per step.

The ladder of channel `channel` in layer `layer` of the IR (its alpha, initial
rung and ladder design) receives u_k * iunit for `pulse_width_s` at
(k + pulse_start_frac) dt; the level current is sensed by a 0 V source.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..hw.ir import HardwareIR
from .ladder import ladder_subckt


@dataclass
class LadderBench:
    text: str
    updates: np.ndarray       # (steps,) in {-1, 0, +1}
    level_probe: str          # rungs (V = rung number)
    current_probe: str        # output current alpha * s (A)
    alpha_a: float
    K: int
    s0: int


def default_updates(K: int, s0: int = 0) -> np.ndarray:
    """Up past the top (saturating), hold, down past the bottom, hold, back up to 0."""
    up = K - s0 + 2
    seq = [1] * up + [0] * 3 + [-1] * (2 * K + 2) + [0] * 3 + [1] * K + [0] * 2
    return np.array(seq, dtype=int)


def ladder_bench(ir: HardwareIR, layer: int, channel: int, updates=None) -> LadderBench:
    if not 0 <= layer < len(ir.layers) or ir.layers[layer].kind != "cmru":
        cm = [i for i, lay in enumerate(ir.layers) if lay.kind == "cmru"]
        raise InputError(f"layer {layer} is not a CMRU layer (CMRU layers: {cm or 'none'})")
    lay = ir.layers[layer]
    if not 0 <= channel < lay.n:
        raise InputError(f"channel {channel} out of range 0..{lay.n - 1}")
    t, d, iu = ir.timing, lay.ladder, ir.timing.i_unit_a
    K, s0 = lay.ladder_k, int(lay.init_state[channel])
    u = default_updates(K, s0) if updates is None else np.asarray(updates, int)
    rise = t.pulse_width_s * 0.01
    pts = ["0 0"]
    for k, uk in enumerate(u):
        if uk == 0:
            continue
        t0 = (k + t.pulse_start_frac) * t.dt_s
        pts += [f"{t0:.9g} 0", f"{t0 + rise:.9g} {uk * iu:.9g}",
                f"{t0 + t.pulse_width_s - rise:.9g} {uk * iu:.9g}", f"{t0 + t.pulse_width_s:.9g} 0"]
    alpha = lay.alpha[channel] * iu
    text = "\n".join([
        f"cosim ladder bench: layer {layer} channel {channel}, K={K}",
        ladder_subckt(K, c0=d.c0 * iu, h=d.h * iu, w=d.w * iu, a=d.a * iu, tau=d.tau_s, iunit=iu,
                      scale=lay.ladder_scale[channel] if lay.ladder_scale else None),  # stage mismatch
        f"iu 0 nu pwl({' '.join(pts)})",
        f"xl nu lv ladder_k{K} alpha={alpha:.9g} s0={s0}",
        "vout lv 0 0",
        ".options xtrtol=7",
        f".tran {t.dt_s / 20:.9g} {len(u) * t.dt_s:.9g}",
        ".end", ""])
    return LadderBench(text, u, "v(xl.lvl)", "i(vout)", alpha, K, s0)
