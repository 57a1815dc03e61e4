"""Step timing of a whole-model netlist: the scales every block shares and the
per-step update schedule (input edge, one clock pulse per layer, sample point).
Times in s, currents in A, volts in V."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Timing:
    """Step timing and scales shared by every block (s, A, V)."""
    dt_s: float = 10e-3            # one recurrent step
    sample_frac: float = 0.9       # state of step k read at (k + sample_frac) dt
    edge_frac: float = 0.01        # input edges (PWL ramp) as a fraction of dt
    pulse_start_frac: float = 0.1  # layer 0's update pulse starts at (k + this) dt
    pulse_width_s: float = 0.25e-3 # update pulse width Tp (every clocked cell, CMRU ladders)
    pulse_gap_s: float = 0.0       # from one layer's pulse end to the next layer's pulse start
    i_unit_a: float = 1e-9         # one software unit of current
    supply_v: float = 1.8          # for power estimates
    w_unit_um: float = 5.3         # mirror output width giving gain 1 (information)


# The update clock of a layer is a trapezoid: it rises from 0 to 1 over Tp/2, stays
# at 1 for Tp/2 and falls over Tp/2, so it is above 1/2 for Tp (the pulse width at
# half amplitude, the width the CMRU ladder design assumes). Gated latches commit
# when it crosses 1/2, Tp/4 after its start (CLOCK_LATCH_FRAC). Long linear
# segments and corners shared between layers keep ngspice's time steps large:
# ngspice restarts each segment with a tenth of its length, and clock edges of
# 1-10% of Tp made every step 2-2.5x as expensive as the continuous cells.
CLOCK_LATCH_FRAC = 0.25
# Readout track-and-hold time constant as a fraction of the pulse width.
HOLD_TAU_FRAC = 0.02


def pulse_start_s(t: Timing, slot: int) -> float:
    """Start (s after the step starts) of update clock `slot` (layer l uses slot l;
    the readout copies of filter models use the last layer's clock)."""
    return t.pulse_start_frac * t.dt_s + slot * (t.pulse_width_s + t.pulse_gap_s)


def schedule(t: Timing, n_layers: int, readout_hold: bool = False) -> dict:
    """The step's update schedule and the conditions it must meet (SPEC 1, 3.4).

    Layer l's clock is a trapezoid over [start_l, start_l + 3Tp/2], above 1/2 during
    [start_l + Tp/4, start_l + 5Tp/4]. Its gated latches commit at start_l + Tp/4
    (a ladder stage when the update current passes h/W = 3/4 of a unit, at
    start_l + 3Tp/8), so layer l+1's inputs (layer l's outputs) are settled before
    start_(l+1) = start_l + Tp + gap (gap >= 0; 0 by default: layer l+1's clock
    starts rising when layer l's starts falling, and the clocks share two corners
    as ngspice breakpoints). A layer's inputs must not change while its clock is above 1/2
    after it latched: layer l's inputs settled before start_l, so they do not.
    The readout copies (filter models) switch with the last layer. Conditions: the
    input edges end before the first clock starts; the last clock ends before the
    states are sampled at sample_frac dt."""
    slots = max(n_layers, 1)
    starts = [pulse_start_s(t, k) for k in range(slots)]
    end = starts[-1] + 1.5 * t.pulse_width_s
    problems = []
    if t.pulse_width_s <= 0 or t.pulse_gap_s < 0:
        problems.append("pulse_width_s must be > 0 and pulse_gap_s >= 0")
    if starts[0] <= t.edge_frac * t.dt_s:
        problems.append(f"the first update pulse ({starts[0] * 1e3:.4g} ms) must start after the "
                        f"input edges end ({t.edge_frac * t.dt_s * 1e3:.4g} ms)")
    if end >= t.sample_frac * t.dt_s:
        problems.append(f"the last update pulse ends at {end * 1e3:.4g} ms, not before the sample "
                        f"point {t.sample_frac * t.dt_s * 1e3:.4g} ms: {slots} pulses of "
                        f"{t.pulse_width_s * 1e3:.4g} ms (clocks of 1.5x that) + gaps of "
                        f"{t.pulse_gap_s * 1e3:.4g} ms do not fit")
    latch = CLOCK_LATCH_FRAC * t.pulse_width_s
    # charge the hold still gets after the last layer latched: the clock's area from
    # its 1/2 crossing on, 15/16 Tp; e^-(15/16)/HOLD_TAU_FRAC of the old value is left
    if readout_hold and (15 / 16) / HOLD_TAU_FRAC < 20:
        problems.append("the readout track-and-hold does not settle within the pulse")
    return {"starts_s": starts, "end_s": end, "sample_s": t.sample_frac * t.dt_s,
            "latch_s": latch, "ok": not problems, "problems": problems}
