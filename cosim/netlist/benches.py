"""Single-cell test benches (netlist text + probe names) from the hardware IR.

`sweep_bench`: a slow triangular sweep of one cell's input current, up then
down, for one channel or every channel of a layer in ONE netlist (each cell
its own PWL sweep source, its own output sense source). The cell kind
(hw.kinds) gives the sweep range (`sweep_range`) and builds the cell
(`bench_cell`); the built-in kinds:

    schmitt  bist_latch (model="latch") or bist_dyn (model="dynamic") with
             igain = alpha, ithresh = beta1 + delta, iwidth = delta;
             sweep lo -> beta2 + margin*delta -> lo, lo = min(0, beta1 - 0.1 delta)
             (0 as a first-quadrant cell sees it; below 0 only when beta1 < 0.1 delta,
             so that the down switch is resolved)
    bmru     bist_sym (latch) with its beta port held at a constant |beta| =
             |threshold bias| of the channel (1 unit if that is ~0, noted);
             c swept -X -> +X -> -X, X = |beta| (1 + margin).
             model="dynamic": the symmetric cell has no dynamic subcircuit; its
             dynamic model is bist_dyn with the window -|beta|..+|beta|
             (ithresh = |beta|, iwidth = 2|beta|), state s = 2u - 1.
    cmru     the ladder stage: bist_latch / bist_dyn with ithresh = c0 + h,
             iwidth = 2h (LadderDesign), one cell per layer; sweep from
             c0 - h - margin*2h to c0 + h + margin*2h.

Resolution: the transient's maximum step moves every sweep by at most
`resolution` (default 0.1 %) of that cell's width, so interpolated switching
points are resolved far below the 2 % goal (the latch commits exactly at its
thresholds; the dynamic cell lags a fold by ~(rate*tauc/width)^(2/3), kept
~0.2 % of the width by the sweep duration).

`ladder_hold_bench`: 2K+1 copies of the CMRU ladder of one channel, each
preset on one rung k = -K..K, no update input: the held levels.

Conventions as in builder.py: circuits as data (netlist.circuit) written by
the ngspice writer, the library inlined, currents in A in the netlist, in
units in the API.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..hw.kinds import bench_width, get_kind
from ..hw.windows import CellWindow, cell_window, check_index
from ..errors import InputError
from ..hw.ir import HardwareIR
from .builder import LATCH_EPS
from .circuit import GROUND, Circuit, Pwl, Subckt, Transient
from .ladder import ladder_subckt
from .library import behavioral_library
from .ngspice import current_vector, internal_vector
from .writers import write_netlist

__all__ = ["BenchCell", "Bench", "LadderHoldBench", "sweep_bench", "ladder_hold_bench",
           "MODELS", "DYN_TAUC_S", "DYN_LOOPGAIN"]

MODELS = ("latch", "dynamic")
DYN_TAUC_S = 10e-6       # bist_dyn defaults (circuits/cosim.lib)
DYN_LOOPGAIN = 20.0
LATCH_HALF_S = 0.1       # latch sweeps: the time scale does not matter (algebraic cell)
DYN_RATE = 1e-4          # dynamic sweeps: rate * tauc / width, sets the fold lag


@dataclass
class BenchCell:
    """One swept cell of a bench. Currents in units.

    input_probe: ngspice vector of the input in units (1 V per unit node);
    state_probe: the state node (V); state = state_offset + state_scale * V;
    output_probe: output current (A) through a 0 V sense source;
    lo, hi: sweep limits; s0: initial state (in state units, after the mapping).
    """
    layer: int
    channel: int | None
    window: CellWindow
    subckt: str
    instance: str
    lo: float
    hi: float
    s0: float
    input_probe: str
    state_probe: str
    output_probe: str
    state_offset: float = 0.0
    state_scale: float = 1.0
    params: dict = field(default_factory=dict)


@dataclass
class Bench:
    text: str
    cells: list
    model: str
    t_half_s: float
    t_stop_s: float
    t_step_s: float
    i_unit_a: float


def _window_range(win: CellWindow, margin: float) -> tuple[float, float]:
    """Symmetric range around the window (for fixed-point diagrams)."""
    w = bench_width(win)
    return win.down - margin * w, win.up + margin * w


class _BenchBuilder:
    """What a kind's `bench_cell` builds with: the circuit and the bench's settings."""

    def __init__(self, circuit: Circuit, iu: float, tauc_s: float, loopgain: float):
        self.c, self.iu, self.tauc_s, self.loopgain = circuit, iu, tauc_s, loopgain
        self.latch_eps = LATCH_EPS

    def instance(self, name: str, subckt: str, *nodes: str, **params) -> None:
        self.c.instance(name, subckt, *nodes, **params)

    def bias(self, name: str, node: str, amps: float) -> None:
        """A constant current (A) into `node`."""
        self.c.isource(name, GROUND, node, amps)


def sweep_bench(ir: HardwareIR, layer: int, channel: int | None = None, *, model: str = "latch",
                margin: float = 0.5, resolution: float = 1e-3, around_window: bool = False,
                tauc_s: float = DYN_TAUC_S, loopgain: float = DYN_LOOPGAIN,
                max_points: int = 40000) -> Bench:
    """Triangular-sweep bench of cell (layer, channel); channel None = every
    channel of the layer (a CMRU layer has one cell: its ladder stage).

    model: "latch" (as exported) or "dynamic" (bist_dyn, calibrated folds).
    margin: sweep beyond the window, as a fraction of its width.
    resolution: largest input change per time step, fraction of the width.
    around_window: sweep window.down - margin*width .. window.up + margin*width
    for every kind (fixed-point diagrams) instead of the ranges above.
    """
    if model not in MODELS:
        raise InputError(f"model must be one of {MODELS}, got {model!r}")
    if not margin > 0 or not 0 < resolution < 0.1:
        raise InputError("need margin > 0 and 0 < resolution < 0.1")
    lay = check_index(ir, layer, channel)
    kind = get_kind(lay.kind)
    iu = ir.timing.i_unit_a
    if kind.has_ladder:     # one bench cell: the layer's ladder stage
        chans = [channel]
    else:
        chans = list(range(lay.n)) if channel is None else [channel]
    c = Circuit(f"cosim sweep bench: layer {layer} ({lay.kind}), "
                f"{'all channels' if channel is None else f'channel {channel}'}, {model} model",
                library=behavioral_library())
    plan, ratio = [], 0.0
    for ch in chans:
        win = cell_window(ir, layer, ch)
        lo, hi = _window_range(win, margin) if around_window else kind.sweep_range(win, margin)
        w = win.width if win.width > 0 else (hi - lo) * 1e-3
        ratio = max(ratio, (hi - lo) / w)
        plan.append((ch, win, lo, hi))
    dyn = model == "dynamic"
    t_half = max(0.02, ratio * tauc_s / DYN_RATE) if dyn else LATCH_HALF_S
    n_half = int(min(max(math.ceil(ratio / resolution), 1000), max_points // 2))
    t_step = t_half / n_half
    cells = []
    bld = _BenchBuilder(c, iu, tauc_s, loopgain)
    for ch, win, lo, hi in plan:
        tag = f"{ch}" if ch is not None else "s"
        inst, node, out = f"l{layer}c{tag}", f"in{tag}", f"o{tag}"
        c.isource(f"s{tag}", GROUND, node, Pwl(((0.0, lo * iu), (t_half, hi * iu), (2 * t_half, lo * iu))))
        made = kind.bench_cell(bld, inst, win, node, out, dyn)
        c.sense(out, out)
        cells.append(BenchCell(layer=layer, channel=ch, window=win, subckt=made["subckt"],
                               instance=f"x{inst}", lo=lo, hi=hi, s0=made["s0"],
                               input_probe=internal_vector(inst, made["input_node"]),
                               state_probe=internal_vector(inst, "u"), output_probe=current_vector(out),
                               state_offset=made["offset"], state_scale=made["scale"],
                               params=made["params"]))
    c.analysis = Transient(t_step, 2 * t_half, max_step_s=t_step, method="gear" if dyn else "trap")
    text = write_netlist(c)
    return Bench(text=text, cells=cells, model=model, t_half_s=t_half, t_stop_s=2 * t_half,
                 t_step_s=t_step, i_unit_a=iu)


@dataclass
class LadderHoldBench:
    text: str
    K: int
    rungs: list            # preset rung of each ladder copy, -K..K
    level_probes: list     # v(x..lvl): level in rungs (V)
    current_probes: list   # i(v..): output current (A) = alpha * level
    alpha: float           # units
    t_stop_s: float
    sample_times_s: list   # (k + sample_frac) dt, k = 0..n_steps-1


def ladder_hold_bench(ir: HardwareIR, layer: int, channel: int, *, n_steps: int = 10,
                      cell: str = "latch") -> LadderHoldBench:
    """2K+1 copies of the ladder of CMRU channel (layer, channel), copy k preset
    on rung k (k = -K..K), update input left open (no input), for n_steps steps."""
    lay = check_index(ir, layer, channel)
    if not get_kind(lay.kind).has_ladder:
        raise InputError(f"layer {layer} is a {lay.kind} layer: the ladder of levels needs a ladder (CMRU) layer")
    if channel is None:
        raise InputError(f"layer {layer} (cmru): choose a channel 0..{lay.n - 1}")
    if n_steps < 1:
        raise InputError("n_steps must be >= 1")
    t, d, iu, K = ir.timing, lay.ladder, ir.timing.i_unit_a, lay.ladder_k
    name = f"ladder_hold_k{K}"
    sub = ladder_subckt(K, name, c0=d.c0 * iu, h=d.h * iu, w=d.w * iu, a=d.a * iu, tau=d.tau_s,
                        iunit=iu, cell=cell)
    alpha = float(lay.alpha[channel])
    c = Circuit(f"cosim ladder hold bench: layer {layer} channel {channel}, K={K}, {cell} cells",
                subckts={name: Subckt(name, ("u", "out"), sub)})
    rungs = list(range(-K, K + 1))
    lv, cur = [], []
    for j, k in enumerate(rungs):
        c.instance(f"h{j}", name, f"u{j}", f"o{j}", alpha=alpha * iu, s0=k)
        lv.append(internal_vector(f"h{j}", "lvl"))
        cur.append(current_vector(c.sense(f"o{j}", f"o{j}")))
    t_stop = n_steps * t.dt_s
    c.analysis = Transient(t.dt_s / 20, t_stop, method="gear" if cell == "dynamic" else "trap")
    text = write_netlist(c)
    ts = [(k + t.sample_frac) * t.dt_s for k in range(n_steps)]
    return LadderHoldBench(text=text, K=K, rungs=rungs, level_probes=lv, current_probes=cur,
                           alpha=alpha, t_stop_s=t_stop, sample_times_s=ts)
