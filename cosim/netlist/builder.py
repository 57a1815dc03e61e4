"""Whole-model netlists from the hardware IR, built through PySpice.

One copy of the model per input sequence (`copies` share nothing but ground),
so several sequences run in one ngspice call. Per copy b, layer l, channel i:

    in{j}      input current node (stimulus -> sense source v..._in{j})
    l{l}c{i}   candidate sum node        l{l}t{i}  threshold sum node (bmru/cmru)
    l{l}h{i}   cell output node, sensed by a 0 V source (fans out to the next layer)
    f{j}_{k}u  readout filter state nodes (and f{j}_{k}v when resonant) of output j,
               filter k: capacitor C = G tau, leak G (the u leak runs through a 0 V
               sense source: its current is the state u), coupling transconductors
    o{k}       readout sum node, sensed by a 0 V source (the output current)

Weights are F-elements (CCCS) referencing the sense source of their input,
bias currents are DC current sources. Cells are the clocked library subcircuits
in circuits/: `bist_latch_clk` (first quadrant), `bist_sym_clk` (BMRU), and a
generated CMRU ladder driven by a gate block that turns (c, beta) into a +-1
unit update pulse. Every cell updates only during its layer's clock pulse
(node clk{l}: slot l of `hw.timing.schedule`, after the input edges and after the
previous layer's pulse), so input edges and transient crossings of |c| = |beta|
never reach a state. With readout filters, every readout input passes a
track-and-hold that tracks during the last layer's pulse, so all filter
inputs change at one instant per step. `Probes` names the ngspice vectors to read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ..errors import InputError
from ..hw.kinds import get_kind
from ..hw.kinds.filters import FILTERS
from ..hw.ir import CLOCK_LATCH_FRAC, HOLD_TAU_FRAC, CellLayer, HardwareIR, MirrorBank, pulse_start_s
from .circuit import GROUND, Circuit, Element, Pulse, Pwl, Rectifier, SignGate, Subckt, Transient
from .ladder import ladder_subckt
from .library import behavioral_library
from .ngspice import current_vector, internal_vector
from .writers import write_netlist
from .stimulus import pwl_points

# Largest time step, as points per recurrent step. Between input edges the
# cells hold constant currents, and ngspice restarts with small steps at every
# PWL corner anyway: 2 points per step give the same sampled states and
# outputs as 20 (to 1e-10 nA on flip-flop and counting) in 0.6-0.85x the time.
# The readout filters integrate, so they keep 20 (0.8% of the largest output;
# ngspice's trapezoidal error).
TRAN_POINTS_PER_STEP = 2
TRAN_POINTS_PER_STEP_FILTERS = 20
# Latch ramp of the continuous latch cells (bist_latch, bist_sym: single-cell
# benches) as a fraction of the half window: the hyst output is only partly
# switched for inputs within this fraction of a threshold (measured: 0.01 left
# a 0.8%-margin step half-switched in the flip-flop model; 1e-3 did not).
# analysis.agreement.TIE_EPS (the tie band) is the same figure.
LATCH_EPS = 1e-3


@dataclass
class Probes:
    """ngspice vector names, per copy: states[b][l][i], outputs[b][k]; scale: vector
    name -> [a, b], the state is a * value + b (a transistor cell's state node in
    volts; absent: the value is the state)."""
    states: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    scale: dict = field(default_factory=dict)


@dataclass
class Netlist:
    text: str
    probes: Probes
    n_steps: int
    copies: int
    devices: int
    nodes: int
    output_phase: float = 0.9   # readout currents of step k are read at (k + output_phase) dt
    circuit: Circuit | None = None   # the data the text was written from
    levels: dict = field(default_factory=dict)   # block (cell kind title, "readout filters") -> level built


def max_copies(ir: HardwareIR) -> int | None:
    """Most model copies worth putting in one netlist (None: no limit). Every copy's
    switching events shorten the common time step, so ngspice's time per copy grows
    with the copies: mildly for the cells alone (0.06 -> 0.09 s per digits copy from
    1 to 16), steeply with the ~7000-device readout filters (2.0, 2.6, 5.8 s per copy
    for 1, 2, 4 copies), which therefore run alone."""
    return 1 if ir.filters is not None else None


def output_phase(ir: HardwareIR) -> float:
    """When (fraction of dt after a step starts) the readout of that step is read:
    with filters, at the end of the step's window: the clocked copies of the
    readout inputs (`_Builder.hold`) change once per step, during the last
    layer's pulse, so the window of step k ends at step k+1's switching instant:
    the clock half risen (latch copies of first-quadrant outputs), + two time
    constants when a track-and-hold is among them (its equivalent step instant:
    it tracks at a rate clock/tau, about 1/(2 tau) at the latch instant; approximate)."""
    t = ir.timing
    if ir.filters is None:
        return t.sample_frac
    read = ir.layers if ir.readout_all else ir.layers[-1:]
    two_level = all(get_kind(layer.kind).readout_level(layer, 0) is not None for layer in read)
    lag = CLOCK_LATCH_FRAC + (0.0 if two_level else 2 * HOLD_TAU_FRAC)
    return 1.0 + (pulse_start_s(t, len(ir.layers) - 1) + t.pulse_width_s * lag) / t.dt_s


#: rise and fall time (s) of the full-swing clocks of transistor-level cells
CLOCK_EDGE_S = 100e-9


class _Builder:
    def __init__(self, ir: HardwareIR, title: str, level: str = "behavioral", pdk=None):
        self.ir = ir                      # the copy being built (copies may differ by mismatch)
        self.timing = ir.timing
        self.iu = ir.timing.i_unit_a
        self.c = Circuit(title, library=behavioral_library())
        self.probes = Probes()
        self.implementation = level       # cell implementation (hw.kinds) the cells use
        self.levels: dict = {}            # block -> implementation it got (fallback: behavioral)
        self.clocks: dict = {}            # clock net -> its Pulse (0..1 V)
        self.layer_index = 0              # the layer being built
        self.pdk = pdk                    # pdk.netlist.PdkSetup of a transistor-level netlist
        if level != "behavioral":
            if pdk is None:
                raise InputError(f"a {level}-level netlist needs a PDK setup")
            pdk.prepare(self)

    def clock_volts(self, clk: str) -> str:
        """The update clock `clk` at full logic swing (0..supply V) for transistor
        gates: an ideal pulse source (a clock driver's job) with CLOCK_EDGE_S edges that
        cross half swing at the same instants as `clk`'s slow trapezoid. (With the
        trapezoid's own edges, a fraction of the pulse width each, every cell's clock
        inverter and gates conducted through from rail to rail for tens of us: about
        half of a BMRU cell's measured supply charge at 1.8 V.)"""
        name = f"{clk}v"
        if name not in self.clocks:
            p, e = self.clocks[clk], CLOCK_EDGE_S
            high = p.rise_s / 2 + p.width_s + p.fall_s / 2          # time above half swing
            self.clocks[name] = Pulse(0, self.pdk.vdd_v, p.delay_s + (p.rise_s - e) / 2, e, e, high - e,
                                      p.period_s)
            self.c.add("vsource", name, name, GROUND, value=self.clocks[name])
        return name

    def sense_at(self, name: str, node: str, volts: float) -> str:
        """A sense source holding `node` at `volts` (a transistor output's compliance)."""
        return self.c.add("vsource", name, node, GROUND, value=float(volts))

    def state_probe(self, instance: str, node: str, scale: float, offset: float = 0.0) -> str:
        """`vector(instance, node)`, read as state = scale * value + offset."""
        v = self.vector(instance, node)
        self.probes.scale[v] = [float(scale), float(offset)]
        return v

    def current_probe(self, sense: str, scale: float) -> str:
        """The current through sense source `sense`, read as state = scale * I (A)."""
        v = current_vector(sense)
        self.probes.scale[v] = [float(scale), 0.0]
        return v

    def set_initial(self, instance: str, node: str, volts: float) -> None:
        """Start the operating point with `node` of `instance` at `volts` (a held state)."""
        self.c.initial_v[f"x{instance.lower()}.{node}"] = float(volts)

    def noise(self, p: str, nodes: list, noise) -> None:
        """Extra current (units) into each node: noise (time, len(nodes)), piecewise constant per step."""
        if noise is None:
            return
        t = self.timing
        for i, node in enumerate(nodes):
            pts = pwl_points(noise[:, i], t.dt_s, t.edge_frac, self.iu)
            self.c.isource(f"{p}n{i}", GROUND, node, Pwl(tuple(pts)))

    def ladder_name(self, layer: CellLayer, channel: int, tag: str) -> str:
        """The ladder subcircuit for one channel: shared when nominal, own one under mismatch."""
        K, d, t = layer.ladder_k, layer.ladder, self.timing
        scale = layer.ladder_scale[channel] if layer.ladder_scale else None
        name = f"ladder_k{K}" if scale is None else f"ladder_k{K}_{tag}"
        if name not in self.c.subckts:
            self.c.subckts[name] = Subckt(name, ("u", "out"), ladder_subckt(
                K, name, c0=d.c0 * t.i_unit_a, h=d.h * t.i_unit_a, w=d.w * t.i_unit_a,
                a=d.a * t.i_unit_a, tau=d.tau_s, iunit=t.i_unit_a, scale=scale))
        return name

    def _pick(self, block: str, implementations: dict):
        """The block's implementation at this netlist's level, else its behavioral one
        (recorded in `levels`, so the export summary says which blocks stayed behavioral)."""
        level = self.implementation if self.implementation in implementations else "behavioral"
        if level not in implementations:
            raise InputError(f"{block} has no {self.implementation!r} or behavioral implementation")
        self.levels[block] = level
        return implementations[level]

    # -- primitives -------------------------------------------------------
    def sense(self, name: str, node: str) -> str:
        """0 V source from node to ground; returns its name (the control of F/B elements)."""
        return self.c.sense(name, node)

    def instance(self, name: str, subckt: str, *nodes: str, **params) -> None:
        """A subcircuit instance; params are numbers (A, s) or integers."""
        self.c.instance(name, subckt, *nodes, **params)

    def add(self, kind: str, name: str, *nodes: str, value=None, control=None) -> None:
        """Any element of netlist.circuit (capacitor, resistor, vccs, cccs, ...); SI values."""
        self.c.add(kind, name, *nodes, value=value, control=control)

    def start_at_zero(self, node: str) -> None:
        """Hold `node` at 0 V in the operating point (an integrator's state)."""
        self.c.initial_zero.append(node)

    def bias(self, name: str, node: str, units: float) -> None:
        """A constant current of `units` (software units) into `node`."""
        self.c.isource(name, GROUND, node, float(units * self.iu))

    def rectify(self, name: str, src: str, gain: float = 1.0) -> None:
        """Current max(gain * I(src), 0) into node `name` (src: a sense source)."""
        self.c.add("behavioral", name, GROUND, name, value=Rectifier(src, gain))

    def subckt(self, name: str, ports: tuple, text: str) -> str:
        """Add a generated subcircuit definition once (name, ports, ngspice text)."""
        if name not in self.c.subckts:
            self.c.subckts[name] = Subckt(name, tuple(ports), text)
        return name

    def sign_gate(self, name: str, clk: str, cand: str, thr: str) -> None:
        """A +-1 unit current pulse into node `name` while clock `clk` is high:
        +1 if I(cand) >= |I(thr)|, -1 if -I(cand) >= |I(thr)|, else 0 (sense sources)."""
        self.c.add("behavioral", name, GROUND, name, value=SignGate(clk, cand, thr, self.iu))

    @staticmethod
    def vector(instance: str, node: str) -> str:
        """The simulator's name of the voltage of `node` inside `instance`."""
        return internal_vector(instance, node)

    def bank(self, prefix: str, bank: MirrorBank, inputs: list, targets: list) -> None:
        """Weighted sums into `targets` from sensed `inputs` (element names of 0 V sources)."""
        for i, (row, bias) in enumerate(zip(bank.gains, bank.bias)):
            for j, (gain, src) in enumerate(zip(row, inputs)):
                if gain > 0:
                    self.c.cccs(f"{prefix}_{i}_{j}", GROUND, targets[i], src, float(gain))
                elif gain < 0:  # negative bank: sink |w| I
                    self.c.cccs(f"{prefix}_{i}_{j}", targets[i], GROUND, src, float(-gain))
            if bias != 0 or not any(row):  # a row with no weights keeps a (0 A) bias: its node stays driven
                self.c.isource(f"{prefix}_b{i}", GROUND, targets[i], float(bias * self.iu))

    # -- whole model ------------------------------------------------------
    def copy(self, b: int, ir: HardwareIR, x: np.ndarray, noise=None) -> None:
        """One model instance `ir` driven by x (time, n_inputs) in units; noise[l]
        (time, channels) is extra current into layer l's candidate nodes."""
        self.ir = ir
        t = self.timing
        p = f"b{b}"
        inputs = []
        for j in range(self.ir.n_inputs):
            pts = pwl_points(x[:, j], t.dt_s, t.edge_frac, self.iu)
            self.c.isource(f"{p}in{j}", GROUND, f"{p}in{j}", Pwl(tuple(pts)))
            inputs.append(self.sense(f"{p}in{j}", f"{p}in{j}"))
        if self.ir.proj is not None:
            nodes = [f"{p}p{i}" for i in range(self.ir.proj.n_out)]
            self.bank(f"{p}pw", self.ir.proj, inputs, nodes)
            inputs = [self.sense(n, n) for n in nodes]
        st_all, layer_outs, levels = [], [], []
        for l, layer in enumerate(self.ir.layers):
            q = f"{p}l{l}"
            nz = None if noise is None else noise[l]
            kind = get_kind(layer.kind)
            self.layer_index = l
            build = self._pick(kind.title, kind.implementations)
            inputs, st = build(self, q, layer, inputs, f"clk{l}", l == 0, nz)
            st_all.append(st)
            layer_outs.extend(inputs)
            lv = [kind.readout_level(layer, i) for i in range(layer.n)]
            levels = levels + lv if self.ir.readout_all else lv
        if self.ir.readout_all:
            inputs = layer_outs
        if self.ir.filters is not None:
            build = self._pick("readout filters", FILTERS.implementations)
            inputs = build(self, p, self.ir.filters, inputs, levels, f"clk{len(self.ir.layers) - 1}")
        outs = [f"{p}o{k}" for k in range(self.ir.n_outputs)]
        self.bank(f"{p}ro", self.ir.readout, inputs, outs)
        self.probes.outputs.append([current_vector(self.sense(n, n)) for n in outs])
        self.probes.states.append(st_all)


def build_netlist(ir, x, title: str = "cosim model", noise=None, level: str = "behavioral",
                  pdk=None) -> Netlist:
    """Netlist (library inlined, transient analysis included): text and circuit data.

    ir: one HardwareIR, or a list with one IR per sequence (e.g. mismatch
        draws; all with the same timing and shapes).
    x: inputs (batch, time, n_inputs) in units; one model copy per sequence.
    noise: optional, noise[l] is a (batch, time, channels) array of extra
        current (units) into the candidate nodes of layer l (as run_reference).
    level: "behavioral", or "transistor" with `pdk` (pdk.netlist.PdkSetup): every
        block with a transistor implementation gets it, the others stay behavioral
        (Netlist.levels says which).
    """
    x = np.asarray(x, np.float64)
    if x.ndim == 2:
        x = x[None]
    irs = list(ir) if isinstance(ir, (list, tuple)) else [ir] * len(x)
    if len(irs) != len(x):
        raise InputError(f"{len(irs)} IRs for {len(x)} sequences")
    first = irs[0]
    if x.ndim != 3 or x.shape[2] != first.n_inputs or not np.isfinite(x).all():
        raise InputError(f"inputs must be finite, shaped (batch, time, {first.n_inputs}); got {x.shape}")
    if any(other.timing != first.timing for other in irs):
        raise InputError("all copies in one netlist need the same timing")
    bld = _Builder(first, title, level, pdk)
    t = first.timing
    # one update clock per layer (slot l), a trapezoid 0 -> 1 -> 0: rise, top and fall
    # Tp/2 each (above 1/2 for Tp); the readout copies use the last one
    for slot, name in enumerate(f"clk{l}" for l in range(len(first.layers))):
        half = t.pulse_width_s / 2
        bld.clocks[name] = Pulse(0, 1, pulse_start_s(t, slot), half, half, half, t.dt_s)
    for b in range(x.shape[0]):
        bld.copy(b, irs[b], x[b], None if noise is None else [n[b] for n in noise])
    used = {net for e in bld.c.elements for net in e.nets()}
    clocks = [Element("vsource", name, (name, GROUND), bld.clocks[name])
              for name in (f"clk{l}" for l in range(len(first.layers)))
              if name in used]      # a transistor-level layer uses only its full-swing copy (clock_volts)
    bld.c.elements[:0] = clocks
    T = x.shape[1]
    phase = output_phase(first)
    points = TRAN_POINTS_PER_STEP if first.filters is None else TRAN_POINTS_PER_STEP_FILTERS
    stop = T * t.dt_s if first.filters is None else (T - 1 + phase) * t.dt_s + t.pulse_width_s
    c = bld.c
    # keep only the probed vectors: a smaller raw file, ~20% faster runs
    c.saves = [v for copy in bld.probes.states for layer in copy for v in layer] + \
        [v for copy in bld.probes.outputs for v in copy]
    c.analysis = Transient(t.dt_s / points, stop)
    return Netlist(text=write_netlist(c), probes=bld.probes, n_steps=T, copies=x.shape[0],
                   devices=c.devices, nodes=c.node_count, output_phase=phase, circuit=c,
                   levels=bld.levels)
