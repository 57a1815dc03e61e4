"""The clocked sky130 cells measured as the models run them: one cell alone in the
partitioned transistor backend (backends.transistor), its drive held constant over
each step (a staircase), its state and output read once per step.

- `measure_cells`: every first-quadrant and BMRU cell of a model, one netlist each
  (under a PDK mismatch draw when pdk.mismatch_seed is set): where it switches and
  what it outputs (the PDK Monte Carlo's and `cosim characterize`'s measurement).
- `bmru_loop`: one BMRU channel's hysteresis loop at a constant threshold |beta|,
  the candidate stepped -1.5|beta| -> +1.5|beta| -> -1.5|beta| with fine steps
  across both thresholds (`cosim hysteresis / fixedpoints --level transistor`).

Currents in software units (1 unit = 1 nA for the transistor cells); a staircase step
is one model step (timing.dt_s), its update pulse mid-step.
"""
from __future__ import annotations

import numpy as np

STAIR_STEPS = 120            # steps of each staircase ramp of measure_cells
UP_RANGE = (0.8, 1.25)       # the rising ramp, x beta2 (0.375% of beta2 per step)
DOWN_RANGE = (1.3, 0.7)      # the falling ramp, x beta1 (0.5% of beta1 per step)
BMRU_BETA = 1.0              # |beta| (units) at which measure_cells measures a BMRU cell
LOOP_FINE = 0.05             # bmru_loop: fine steps over (1 +- LOOP_FINE) |beta| ...
LOOP_FINE_STEPS = 21         # ... in this many steps (0.5% of |beta|, 0.25% of the width)


def fq_stair(b1: float, b2: float):
    """(drive (time,), rising ramp slice, falling ramp slice): 2 steps at 0 (state low),
    the rising ramp over UP_RANGE of beta2, 2 steps well above beta2 (state high), the
    falling ramp over DOWN_RANGE of beta1."""
    up = np.linspace(UP_RANGE[0] * b2, UP_RANGE[1] * b2, STAIR_STEPS)
    down = np.linspace(DOWN_RANGE[0] * b1, DOWN_RANGE[1] * b1, STAIR_STEPS)
    x = np.concatenate([[0.0, 0.0], up, [1.5 * b2 + 0.1] * 2, down])
    return x, slice(1, 2 + STAIR_STEPS), slice(3 + STAIR_STEPS, len(x))


def bmru_stair(b: float):
    """(candidate (time,), rising slice, falling slice) at a threshold of b: 2 steps at
    -1.5 b (state -1), c rising over UP_RANGE of b (-> +1), then c falling from -0.8 b
    to -1.25 b (-> -1)."""
    up = np.linspace(UP_RANGE[0] * b, UP_RANGE[1] * b, STAIR_STEPS)
    x = np.concatenate([[-1.5 * b] * 2, up, -up])
    return x, slice(1, 2 + STAIR_STEPS), slice(1 + STAIR_STEPS, len(x))


def crossing(x: np.ndarray, s: np.ndarray, rising: bool):
    """Midpoint between the last input before and the first input after the state
    crosses 0.5 (up when rising, down otherwise); None if it never does."""
    hit = np.flatnonzero(s > 0.5) if rising else np.flatnonzero(s < 0.5)
    if hit.size == 0 or hit[0] == 0:
        return None
    k = hit[0]
    return float(0.5 * (x[k - 1] + x[k]))


def measure_cells(ir, pdk, jobs: int = 2, timeout_s: float = 900.0) -> list:
    """Per layer, each cell as drawn (module doc), arrays (channels,); NaN where a cell
    did not switch within its staircase:
      first-quadrant: {beta2, beta1, alpha} in units;
      BMRU: {theta_plus, theta_minus} (where c switches it to +1 / -1, relative to
            |beta| = BMRU_BETA: 0.01 = 1% late) and alpha (units);
      other kinds: None."""
    from concurrent.futures import ThreadPoolExecutor

    from ..backends.transistor import cell_seed, channel_ir, run_partition
    from ..hw.kinds import get_kind

    out = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for l, layer in enumerate(ir.layers):
            fq = get_kind(layer.kind).first_quadrant
            if not fq and layer.kind != "bmru":
                out.append(None)
                continue
            futs = []
            for i in range(layer.n):
                if fq:
                    b1 = float(layer.beta1[i])
                    x, up, down = fq_stair(b1, b1 + float(layer.delta[i]))
                    drive = x[:, None]
                else:
                    x, up, down = bmru_stair(BMRU_BETA)
                    drive = np.stack([x, np.full_like(x, BMRU_BETA)], axis=-1)
                seed = 0 if pdk.mismatch_seed is None else cell_seed(pdk.mismatch_seed, l, i)
                futs.append((x, up, down, pool.submit(run_partition, channel_ir(ir, layer, i), drive, pdk,
                                                      timeout_s, seed, 1)))
            names = ("beta2", "beta1") if fq else ("theta_plus", "theta_minus")
            m = {names[0]: [], names[1]: [], "alpha": []}
            for x, up, down, fut in futs:
                st, o = fut.result()[:2]
                rise = crossing(x[up], st[up], True)
                fall = crossing(x[down], st[down] if fq else st[down] + 0.5, False)
                if not fq:            # relative to the threshold BMRU_BETA
                    rise = None if rise is None else rise / BMRU_BETA - 1
                    fall = None if fall is None else -fall / BMRU_BETA - 1
                high = st > (0.5 if fq else 0.0)
                m[names[0]].append(np.nan if rise is None else rise)
                m[names[1]].append(np.nan if fall is None else fall)
                m["alpha"].append(float(np.median(np.abs(o[high]))) if high.any() else np.nan)
            out.append({k: np.asarray(v) for k, v in m.items()})
    return out


def loop_stair(b: float, fine: float = LOOP_FINE, n_fine: int = LOOP_FINE_STEPS) -> np.ndarray:
    """Candidate (time,) units of a BMRU loop at threshold b > 0: 2 steps at -1.5 b
    (state -1), up to +1.5 b and back down to -1.5 b: n_fine steps across (1 +- fine) b
    and across -(1 +- fine) b, a few coarse steps elsewhere."""
    rise = np.concatenate([np.linspace(-1.5 * b, (1 - fine) * b, 11)[:-1],
                           np.linspace((1 - fine) * b, (1 + fine) * b, n_fine),
                           np.linspace((1 + fine) * b, 1.5 * b, 5)[1:]])
    return np.concatenate([[-1.5 * b] * 2, rise, -rise[1:]])


def bmru_loop(ir, layer_index: int, channel: int, beta: float, pdk, timeout_s: float = 900.0,
              fine: float = LOOP_FINE, n_fine: int = LOOP_FINE_STEPS, threads: int | None = 1) -> dict:
    """One BMRU channel at transistor level driven by loop_stair(beta) at a constant
    threshold beta (units, > 0): {c (time,), state (time,) +-1, output (time,) units,
    up (c where it first goes to +1 on the rise), down (where it first goes to -1 on
    the fall; None where it did not switch), alpha (|output| median, units), wall_s};
    threads: ngspice threads (None: ngspice's own setting; two threads spin-wait on a busy machine)."""
    from ..backends.transistor import channel_ir, run_partition

    c = loop_stair(beta, fine, n_fine)
    drive = np.stack([c, np.full_like(c, beta)], axis=-1)
    layer = ir.layers[layer_index]
    st, o, _, wall, _ = run_partition(channel_ir(ir, layer, channel), drive, pdk, timeout_s, 0, threads)
    turn = int(np.argmax(c))
    up = crossing(c[:turn + 1], (st[:turn + 1] + 1) / 2, True)
    down = crossing(c[turn:], (st[turn:] + 1) / 2, False)
    return {"c": c, "state": st, "output": o, "up": up, "down": down,
            "alpha": float(np.median(np.abs(o))), "wall_s": wall}
