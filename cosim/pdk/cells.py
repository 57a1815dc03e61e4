"""Transistor-level sky130 cells as circuit data (netlist.circuit), behind plain functions.

Conventions: currents in A, voltages in V, device sizes in um (the models'
`.option scale=1.0u`). A bank of gains is built from identical unit devices:
an output of count N holds N units in parallel (`m=N mult=N`, so mismatch
averages as for N real devices); its gain against an input of `n_in` units is
N / n_in. Banks are cascoded (a second unit device per branch, stacked), so
the gain holds when the output voltage moves: a plain sky130 mirror gains
11-13% per volt of output swing.

n-bank: the input current flows into `inp` (a diode-connected cascode pair to
vss); each output sinks gain * I_in from its node. p-bank: the input current
is drawn out of `inp` (a diode pair from vdd); each output delivers
gain * I_in into its node.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..netlist.circuit import Circuit
from .sky130 import NFET, PFET


@dataclass(frozen=True)
class Unit:
    """A unit transistor: width and length (um)."""
    w_um: float = 2.0
    l_um: float = 4.0

    @property
    def area_um2(self) -> float:
        return self.w_um * self.l_um


def fet(c: Circuit, name: str, kind: str, d: str, g: str, s: str, b: str, unit: Unit, count: int = 1) -> str:
    """One device of `count` parallel units; kind "n" or "p"."""
    return c.instance(name, NFET if kind == "n" else PFET, d, g, s, b,
                      w=unit.w_um, l=unit.l_um, m=int(count), mult=int(count))


def mirror_bank(c: Circuit, name: str, inp: str, outputs: list, *, polarity: str = "n",
                unit: Unit = Unit(), n_in: int = 1, cascode: bool = True,
                vdd: str = "vdd", vss: str = "0", diode_rail: str | None = None) -> None:
    """A current-mirror bank (module doc): outputs [(node, count), ...] with gains count / n_in.
    diode_rail: the rail the input diode's source goes to, when it is not the outputs' rail
    (a second source at the same voltage, so the diode's current can be told apart)."""
    rail = vss if polarity == "n" else vdd
    d_rail = diode_rail or rail
    top = f"{name}_b"                                   # diode gate of the lower (rail) device
    if cascode:
        fet(c, f"{name}_ic", polarity, inp, inp, top, rail, unit, n_in)
        fet(c, f"{name}_ir", polarity, top, top, d_rail, rail, unit, n_in)
    else:
        top = inp
        fet(c, f"{name}_ir", polarity, inp, inp, d_rail, rail, unit, n_in)
    for k, (node, count) in enumerate(outputs):
        if count <= 0:
            continue
        if cascode:
            mid = f"{name}_m{k}"
            fet(c, f"{name}_oc{k}", polarity, node, inp, mid, rail, unit, count)
            fet(c, f"{name}_or{k}", polarity, mid, top, rail, rail, unit, count)
        else:
            fet(c, f"{name}_or{k}", polarity, node, top, rail, rail, unit, count)
