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
from ..hw.kinds import get_kind
from .circuit import GROUND, Circuit, Pwl, Subckt, Transient
from .ladder import ladder_subckt
from .ngspice import current_vector, internal_vector
from .writers import write_netlist


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
    if not 0 <= layer < len(ir.layers) or not get_kind(ir.layers[layer].kind).has_ladder:
        cm = [i for i, lay in enumerate(ir.layers) if get_kind(lay.kind).has_ladder]
        raise InputError(f"layer {layer} is not a ladder (CMRU) layer (ladder layers: {cm or 'none'})")
    lay = ir.layers[layer]
    if not 0 <= channel < lay.n:
        raise InputError(f"channel {channel} out of range 0..{lay.n - 1}")
    t, d, iu = ir.timing, lay.ladder, ir.timing.i_unit_a
    K, s0 = lay.ladder_k, int(lay.init_state[channel])
    u = default_updates(K, s0) if updates is None else np.asarray(updates, int)
    rise = t.pulse_width_s * 0.01
    pts = [(0.0, 0.0)]
    for k, uk in enumerate(u):
        if uk == 0:
            continue
        t0 = (k + t.pulse_start_frac) * t.dt_s
        pts += [(t0, 0.0), (t0 + rise, uk * iu), (t0 + t.pulse_width_s - rise, uk * iu),
                (t0 + t.pulse_width_s, 0.0)]
    alpha = lay.alpha[channel] * iu
    name = f"ladder_k{K}"
    sub = ladder_subckt(K, c0=d.c0 * iu, h=d.h * iu, w=d.w * iu, a=d.a * iu, tau=d.tau_s, iunit=iu,
                        scale=lay.ladder_scale[channel] if lay.ladder_scale else None)  # stage mismatch
    c = Circuit(f"cosim ladder bench: layer {layer} channel {channel}, K={K}",
                subckts={name: Subckt(name, ("u", "out"), sub)})
    c.isource("u", GROUND, "nu", Pwl(tuple(pts)))
    c.instance("l", name, "nu", "lv", alpha=alpha, s0=s0)
    out = c.sense("out", "lv")
    c.analysis = Transient(t.dt_s / 20, len(u) * t.dt_s)
    return LadderBench(write_netlist(c), u, internal_vector("l", "lvl"), current_vector(out), alpha, K, s0)
