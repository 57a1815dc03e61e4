"""Running sky130 benches: the PDK library as a netlist library, options for nA currents, DC/op/tran runs."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..netlist.circuit import Circuit
from ..netlist.ngspice import with_analysis, write
from ..netlist.library import CIRCUITS_DIR, read_library
from ..spice import run_netlist
from .sky130 import CAPACITOR, DEVICES, trimmed_library

#: ngspice options for nA cells (ENV: gmin is what matters at pA; mirrors and latches
#: matched the tight pA set with these). chgtol: a logic node of a few fF swings ~1 fC,
#: under the default 10 fC, so the time-step control did not see it: Newton could land a
#: NOR latch on its metastable point within one accepted step at an input edge (a BMRU
#: cell at 1.62 V held q = qb = 0.65 V for 29 steps, drawing 1.3 uA), and the register
#: ladder's starved gates took ~16 Newton iterations per time point. 0.1 fC fixes the
#: first and cuts the ladder's iterations by a third.
OPTIONS = "abstol=1e-14 reltol=1e-3 vntol=1e-7 gmin=1e-15 chgtol=1e-16 method=gear"
#: for pA biases (DPI leak currents): the default gmin alone is a 1 pA error across 1 V
OPTIONS_PA = "abstol=1e-16 reltol=1e-4 vntol=1e-7 gmin=1e-16 method=gear"
CELLS = CIRCUITS_DIR / "sky130_cells.lib"


def cell_files() -> list:
    """Every transistor-cell library in circuits/ (sky130_*.lib), in name order."""
    return sorted(CIRCUITS_DIR.glob("sky130_*.lib"))


@dataclass(frozen=True)
class PdkLibrary:
    """The trimmed sky130 models of one corner (+ circuits/sky130_cells.lib) as a netlist library."""
    corner: str = "tt"
    mismatch: bool = False
    ports: dict = field(default_factory=dict)

    def text(self) -> str:
        lines = [f'.include "{trimmed_library(self.corner, self.mismatch)}"']
        lines += [path.read_text() for path in cell_files()]
        return "\n".join(lines)


def library(corner: str = "tt", mismatch: bool = False) -> PdkLibrary:
    ports = {d: ("d", "g", "s", "b") for d in DEVICES} | {CAPACITOR: ("c0", "c1")}
    for path in cell_files():
        ports |= read_library(path).ports
    return PdkLibrary(corner, mismatch, ports)


def bench(title: str, corner: str = "tt", mismatch: bool = False, vdd: float = 1.8) -> Circuit:
    """An empty bench with the PDK library and a vdd supply source `vdd`."""
    c = Circuit(title, library=library(corner, mismatch))
    c.add("vsource", "dd", "vdd", "0", value=vdd)
    return c


def run(c: Circuit, analysis: str, *, temp_c: float = 27.0, seed: int = 0, timeout_s: float = 300.0,
        options: str = OPTIONS, threads: int | None = None) -> dict:
    """Waveforms {vector: array} of the bench under `analysis` (".op", ".dc ...", ".tran ...");
    threads: ngspice's (spice.run_netlist)."""
    text = with_analysis(write(c), f".options {options}\n.temp {temp_c:g}\n{analysis}")
    res = run_netlist(text, timeout_s=timeout_s, seed=seed, threads=threads)
    return {k: np.asarray(v) for k, v in res.waveforms.items()}
