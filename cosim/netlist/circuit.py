"""Circuits as plain data: elements, nets, subcircuits, probes and the analysis.

Generators (builder, benches, cell implementations in hw.kinds) describe a
circuit here; structural checks and counts (netlist.graph) read this data; a
dialect writer (netlist.ngspice) turns it into netlist text. Nothing in this
module knows a simulator's syntax.

Units: currents in A, voltages in V, times in s, R in ohm, C in F, gains
dimensionless, transconductances in S. Net names are lower-case strings;
GROUND is the reference net. An element's `name` is unique per element type
(the writer adds the type's letter).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GROUND", "Pwl", "Pulse", "Rectifier", "SignGate", "Element", "Subckt", "Transient",
           "Circuit"]

GROUND = "0"


@dataclass(frozen=True)
class Pwl:
    """Piecewise-linear waveform: points ((t_s, value), ...) in s and A (or V)."""
    points: tuple


@dataclass(frozen=True)
class Pulse:
    """Periodic trapezoid: initial -> pulsed after delay_s, edges rise_s/fall_s, top width_s, period_s."""
    initial: float
    pulsed: float
    delay_s: float
    rise_s: float
    fall_s: float
    width_s: float
    period_s: float


@dataclass(frozen=True)
class Rectifier:
    """Behavioral current max(gain * I(control), 0) A: control is a sense source's name
    (gain -1: the negative part)."""
    control: str
    gain: float = 1.0


@dataclass(frozen=True)
class SignGate:
    """Behavioral current amplitude_a * v(clock) * g, g = +1 if I(candidate) >= |I(threshold)|,
    -1 if -I(candidate) >= |I(threshold)|, else 0 (candidate, threshold: sense source names)."""
    clock: str
    candidate: str
    threshold: str
    amplitude_a: float


@dataclass(frozen=True)
class Element:
    """One device or subcircuit instance.

    kind: "isource" (value A or Pwl, from nodes[0] through it to nodes[1]),
    "vsource" (value V or Pulse, nodes[0] - nodes[1]; value 0 = a sense source),
    "resistor", "capacitor", "cccs" (gain * I(control) from nodes[0] to nodes[1]),
    "vccs" (gain S * (v(nodes[2]) - v(nodes[3])) from nodes[0] to nodes[1]),
    "behavioral" (current from nodes[0] to nodes[1] given by a Rectifier/SignGate),
    "instance" (of subckt, nodes in port order, params by name).
    """
    kind: str
    name: str
    nodes: tuple
    value: object = None
    control: str | None = None
    subckt: str | None = None
    params: tuple = ()          # ((name, value), ...) in the order given

    def controls(self) -> tuple:
        """Names of the sense sources this element reads."""
        v = self.value
        if self.control is not None:
            return (self.control,)
        if isinstance(v, Rectifier):
            return (v.control,)
        if isinstance(v, SignGate):
            return (v.candidate, v.threshold)
        return ()

    def nets(self) -> tuple:
        """Every net the element connects to or reads (a SignGate reads its clock)."""
        if isinstance(self.value, SignGate):
            return self.nodes + (self.value.clock,)
        return self.nodes


@dataclass(frozen=True)
class Subckt:
    """A subcircuit definition: name, port names, and its body as the text of
    one dialect (`dialect`): the library and the generated CMRU ladders are
    ngspice subcircuits."""
    name: str
    ports: tuple
    text: str
    dialect: str = "ngspice"


@dataclass(frozen=True)
class Transient:
    """Transient analysis: suggested step and stop time (s); max_step_s None =
    the simulator's default; method "trap" or "gear" (integration)."""
    step_s: float
    stop_s: float
    max_step_s: float | None = None
    method: str = "trap"


@dataclass
class Circuit:
    """A whole netlist as data. `library`: a subcircuit library (an object with
    `ports`: name -> port names, and `text()`: its definitions, written into
    the netlist), or None; `subckts`: generated subcircuits by name; `saves`:
    probe vectors kept; `prints`: vectors a plain batch
    run prints; `initial_zero`: nets held at 0 V in the operating point;
    `initial_v`: net -> V set in the operating point (`.ic`); `options`: extra
    simulator options (text, e.g. tolerances for nA transistor cells);
    `temp_c`: the simulation temperature (°C; None = the simulator's default)."""
    title: str
    elements: list = field(default_factory=list)
    subckts: dict = field(default_factory=dict)
    library: object = None
    saves: list = field(default_factory=list)
    initial_zero: list = field(default_factory=list)
    initial_v: dict = field(default_factory=dict)
    options: str = ""
    temp_c: float | None = None
    prints: list = field(default_factory=list)    # vectors printed by a plain batch run
    analysis: Transient | None = None

    def add(self, kind: str, name: str, *nodes: str, value=None, control=None, subckt=None,
            **params) -> str:
        """Append an element; returns its name."""
        self.elements.append(Element(kind, name, tuple(nodes), value, control, subckt,
                                     tuple(params.items())))
        return name

    def isource(self, name, n_from, n_to, value):
        return self.add("isource", name, n_from, n_to, value=value)

    def sense(self, name: str, node: str) -> str:
        """0 V source from node to ground; returns its name (the control of cccs/behavioral)."""
        return self.add("vsource", name, node, GROUND, value=0)

    def cccs(self, name, n_from, n_to, control, gain):
        return self.add("cccs", name, n_from, n_to, value=gain, control=control)

    def instance(self, name, subckt, *nodes, **params):
        return self.add("instance", name, *nodes, subckt=subckt, **params)

    def ports(self, subckt: str) -> tuple | None:
        """Port names of a known subcircuit (generated or library), None if unknown."""
        if subckt in self.subckts:
            return self.subckts[subckt].ports
        return None if self.library is None else self.library.ports.get(subckt)

    @property
    def devices(self) -> int:
        return len(self.elements)

    @property
    def node_count(self) -> int:
        """Distinct non-ground nets among the first two nodes of each element."""
        return len({n for e in self.elements for n in e.nodes[:2]} - {GROUND})
