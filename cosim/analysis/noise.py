"""Noise tolerance of a bistable cell (SPEC 4): state flips per cell-boundary
crossing versus input-noise amplitude, hysteresis on versus a plain comparator.

Pure numpy (no ngspice): the stimulus, the seeded noise, transition counting,
the software cells and the result containers. `cosim.netlist.noise_bench`
builds the circuit bench, `cosim.verify.noise` runs the experiment.

Stimulus (currents in units, 1 unit = `i_unit_a`). Time is cut into noise
samples of length tn = dt / samples_per_step. On sample k the input is the
constant

    x_k = trap(t_k) + n_k,   t_k = (k + 1/2) tn,   n_k ~ N(0, sigma^2) i.i.d.

trap is a slow trapezoid between centre - delta and centre + delta (centre =
(beta1 + beta2) / 2, delta = the trained width; the low extreme is clipped at
0 for a first-quadrant cell): `hold_steps` steps at an extreme, `ramp_steps`
steps of ramp through the window, ... `crossings` ramps in all, starting low.
Each ramp is one cell-boundary crossing: the noiseless input switches either
device exactly once per ramp. The input is piecewise constant per sample, so
the circuit and the software cells see the same sequence x_k.

Devices, same x_k: (a) "hysteresis": the cell with its trained window
[beta1, beta2]; (b) "comparator": the same cell with width 0 and its
threshold at the window centre.

Counting: the state is read in the middle of every sample (t_k), thresholded
at 0.5; transitions = state changes over the run, starting from the preset
low state. Ideal: one per crossing. extra = max(transitions - crossings, 0);
error rate = extra / crossings ("state flips per cell boundary crossing").
A hold that ends in the wrong state is counted separately (`wrong_holds`).

Suppression factor at one sigma = error_comparator / max(error_hysteresis,
1 / crossings): when the hysteresis cell made no extra transition its rate is
only known to be below the resolution 1 / crossings, and the factor is a lower
bound (`factor_is_lower_bound`, printed as "> X").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import InputError
from ..hw.ir import HardwareIR
from ..hw.kinds import get_kind
from .hysteresis import CellWindow, cell_window, check_index, software_states

__all__ = ["DEFAULT_SIGMAS", "NoiseStimulus", "DeviceCount", "NoisePoint", "NoiseResult",
           "pick_channel", "comparator_window", "trapezoid", "noise_traces", "sigma_seeds",
           "binary_states", "partial_samples", "count", "software_counts", "suppression", "CLAIM"]

#: default noise amplitudes, as fractions of the hysteresis width delta
DEFAULT_SIGMAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
#: the co-design paper's claim: >= 20x fewer flips per cell boundary with hysteresis
CLAIM = 20.0


def pick_channel(ir: HardwareIR, layer: int, channel: int | None = None) -> tuple[int, CellWindow]:
    """(channel, window) of a first-quadrant cell. channel None: the channel
    with the median width delta (the lower median for an even count; ties ->
    the lowest index). ValueError: bad layer / channel, not a schmitt layer,
    or a cell of width 0 (nothing to compare)."""
    lay = check_index(ir, layer, channel)
    if not get_kind(lay.kind).first_quadrant:
        raise InputError(f"layer {layer} is a {lay.kind} layer: the noise experiment needs a "
                         f"first-quadrant (schmitt) cell layer")
    if channel is None:
        d = np.array([cell_window(ir, layer, c).width for c in range(lay.n)])
        order = np.argsort(d, kind="stable")
        channel = int(order[(len(d) - 1) // 2])
    win = cell_window(ir, layer, int(channel))
    if not win.width > 0:
        raise InputError(f"layer {layer} channel {channel} has width 0 (already a comparator): "
                         f"choose a cell with hysteresis")
    return int(channel), win


def comparator_window(win: CellWindow) -> CellWindow:
    """The same cell with width 0 and its threshold at the window centre."""
    c = 0.5 * (win.up + win.down)
    return CellWindow(win.kind, c, c, 0.0, win.levels, win.alpha,
                      "comparator: width 0, threshold at the window centre")


@dataclass
class NoiseStimulus:
    """The noiseless sampled trapezoid. clean: (n,) input per sample (units);
    ideal: (n,) noiseless state per sample (both devices); hold_end: indices of
    the last sample of every hold (where the state must be settled)."""
    clean: np.ndarray
    ideal: np.ndarray
    hold_end: np.ndarray
    crossings: int
    centre: float
    delta: float
    lo: float
    hi: float
    tn_s: float
    samples_per_step: int
    ramp_steps: int
    hold_steps: int

    @property
    def n(self) -> int:
        return len(self.clean)

    @property
    def times(self) -> np.ndarray:
        """Sample midpoints t_k = (k + 1/2) tn (s), where the states are read."""
        return (np.arange(self.n) + 0.5) * self.tn_s


def trapezoid(win: CellWindow, crossings: int = 10, *, dt_s: float = 0.01,
              samples_per_step: int = 20, ramp_steps: int = 4, hold_steps: int = 1,
              span: float = 1.0) -> NoiseStimulus:
    """Sampled trapezoid around the window of `win` (see the module docstring).

    span: the extremes are centre +- span * delta (default 1: half a width
    beyond each threshold); the low one is clipped at 0 and must stay below
    beta1."""
    if crossings < 1 or samples_per_step < 1 or ramp_steps < 1 or hold_steps < 1:
        raise InputError("need crossings, samples_per_step, ramp_steps, hold_steps >= 1")
    if not span > 0.5:
        raise InputError("span must exceed 0.5 (the extremes must lie beyond the thresholds)")
    c, d = 0.5 * (win.up + win.down), win.width
    lo, hi = max(c - span * d, 0.0), c + span * d
    if not lo < win.down:
        raise InputError(f"the low extreme {lo:g} does not reach below beta1 = {win.down:g}")
    nh, nr = hold_steps * samples_per_step, ramp_steps * samples_per_step
    f = (np.arange(nr) + 0.5) / nr              # ramp sample midpoints, never exactly c or a threshold
    parts, ideal, ends, pos, level = [], [], [], 0, 0
    for j in range(crossings + 1):
        val = lo if level == 0 else hi
        parts.append(np.full(nh, val))
        ideal.append(np.full(nh, level))
        pos += nh
        ends.append(pos - 1)
        if j == crossings:
            break
        ramp = lo + (hi - lo) * f if level == 0 else hi - (hi - lo) * f
        parts.append(ramp)
        # noiseless: both devices switch on the ramp (at beta2/beta1 or the centre); the
        # ideal per-sample state differs between them only inside the ramp: keep the hold value
        ideal.append(np.full(nr, -1))
        pos += nr
        level = 1 - level
    return NoiseStimulus(clean=np.concatenate(parts), ideal=np.concatenate(ideal).astype(np.int8),
                         hold_end=np.asarray(ends), crossings=int(crossings), centre=c, delta=d,
                         lo=lo, hi=hi, tn_s=dt_s / samples_per_step,
                         samples_per_step=int(samples_per_step), ramp_steps=int(ramp_steps),
                         hold_steps=int(hold_steps))


def sigma_seeds(seed: int, n: int) -> list:
    """One recorded integer seed per sigma, from the root SeedSequence(seed)."""
    if seed < 0:
        raise InputError("seed must be >= 0")
    return [int(s.generate_state(1, np.uint32)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def noise_traces(seeds, sigmas, n: int) -> np.ndarray:
    """(len(sigmas), n) Gaussian samples, row i = sigmas[i] * N(0, 1) drawn by
    numpy.random.default_rng(seeds[i]) (units)."""
    out = np.empty((len(sigmas), n))
    for i, (s, sig) in enumerate(zip(seeds, sigmas)):
        if sig < 0:
            raise InputError(f"sigma must be >= 0, got {sig}")
        out[i] = sig * np.random.default_rng(int(s)).standard_normal(n)
    return out


def binary_states(u, threshold: float = 0.5) -> np.ndarray:
    """Thresholded states (int8 0/1) of state samples u."""
    return (np.asarray(u, np.float64) > threshold).astype(np.int8)


@dataclass
class DeviceCount:
    """Counts of one device (circuit or software) at one sigma."""
    transitions: int
    extra: int
    error_rate: float            # extra / crossings
    wrong_holds: int             # holds that ended in the wrong state (a missed switch)

    @property
    def lower_bound_only(self) -> bool:
        return self.extra == 0


def count(states, stim: NoiseStimulus, s0: int = 0) -> DeviceCount:
    """Transition counts of a 0/1 state sequence read at the sample midpoints."""
    s = np.asarray(states, np.int8)
    if s.shape != (stim.n,):
        raise InputError(f"states must have shape ({stim.n},), got {s.shape}")
    trans = int(np.count_nonzero(np.diff(np.r_[np.int8(s0), s])))
    extra = max(trans - stim.crossings, 0)
    wrong = int(np.count_nonzero(s[stim.hold_end] != stim.ideal[stim.hold_end]))
    return DeviceCount(trans, extra, extra / stim.crossings, wrong)


def software_counts(win: CellWindow, x, stim: NoiseStimulus) -> tuple[np.ndarray, DeviceCount]:
    """The software cell (hw.reference: SPEC 2.3 equations, hold inside the
    window, ReLU in front) on the sampled input x (units): (states, counts)."""
    s = software_states(win, np.asarray(x, np.float64), s0=0.0).astype(np.int8)
    return s, count(s, stim)


def suppression(err_hyst: float, err_comp: float, crossings: int) -> tuple[float | None, bool]:
    """(factor, is_lower_bound): err_comp / max(err_hyst, 1 / crossings);
    None when the comparator made no extra transition either."""
    if err_comp <= 0:
        return None, False
    floor = 1.0 / crossings
    return err_comp / max(err_hyst, floor), err_hyst < floor


@dataclass
class NoisePoint:
    """One noise amplitude: counts of both devices, circuit and software."""
    sigma: float                  # units
    sigma_rel: float              # sigma / delta
    seed: int                     # numpy seed of this sigma's noise
    hyst_circuit: DeviceCount
    comp_circuit: DeviceCount
    hyst_software: DeviceCount
    comp_software: DeviceCount
    factor: float | None          # circuit counts
    factor_is_lower_bound: bool
    factor_software: float | None
    factor_software_is_lower_bound: bool
    hyst_sample_agreement: float  # fraction of samples where circuit state == software state
    comp_sample_agreement: float
    hyst_partial: int = 0         # circuit samples with the state node between 0.05 and 0.95 V
    comp_partial: int = 0         # (an input inside the latch's eps ramp at a threshold)

    def factor_text(self, software: bool = False) -> str:
        f = self.factor_software if software else self.factor
        lb = self.factor_software_is_lower_bound if software else self.factor_is_lower_bound
        if f is None:
            return "-"
        return f"> {f:.3g}" if lb else f"{f:.3g}"


@dataclass
class NoiseResult:
    """The whole experiment (currents in units unless named _na / _a)."""
    model: str
    layer: int
    channel: int
    beta1: float
    beta2: float
    delta: float
    centre: float
    alpha: float
    i_unit_a: float
    dt_s: float
    tn_s: float
    samples_per_step: int
    ramp_steps: int
    hold_steps: int
    crossings: int
    lo: float
    hi: float
    n_samples: int
    root_seed: int
    eps: float
    points: list = field(default_factory=list)
    ngspice_wall_s: float = 0.0
    wall_s: float = 0.0
    note: str = ""
    trace: dict = field(default_factory=dict, repr=False)

    @property
    def na(self) -> float:
        """nA per unit."""
        return self.i_unit_a / 1e-9

    @property
    def resolution(self) -> float:
        return 1.0 / self.crossings

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("trace")
        d["delta_na"] = self.delta * self.na
        d["resolution"] = self.resolution
        for p, q in zip(d["points"], self.points):
            p["sigma_na"] = q.sigma * self.na
            p["factor_text"] = q.factor_text()
            p["factor_software_text"] = q.factor_text(software=True)
        return d

    def factors(self) -> list:
        return [p.factor for p in self.points]


def partial_samples(u, lo: float = 0.05, hi: float = 0.95) -> int:
    """Samples of a state node caught between its levels (inside the latch ramp)."""
    u = np.asarray(u, np.float64)
    return int(np.count_nonzero((u > lo) & (u < hi)))
