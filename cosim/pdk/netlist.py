"""Whole-model netlists at transistor level: what a netlist needs from the PDK.

`PdkSetup` carries the corner, temperature and calibration of one netlist and
prepares the builder (netlist.builder) for it: the sky130 models (trimmed
library) next to the behavioral library, the supply source `vdd`, the nA
tolerances (pdk.bench.OPTIONS) and `.temp`. The cell kinds' transistor
implementations (hw.kinds) ask it for each cell's calibrated biases and size
(pdk.mapping.map_cells, per model copy: copies may differ by mismatch).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError
from .bench import OPTIONS, library as pdk_library
from .mapping import cell_size, load_calibration, map_cells

SUPPLY = "vdd"


@dataclass(frozen=True)
class CombinedLibrary:
    """Several netlist libraries as one (ports merged, texts in order)."""
    parts: tuple

    @property
    def ports(self) -> dict:
        out = {}
        for part in self.parts:
            out |= part.ports
        return out

    def text(self) -> str:
        return "\n".join(part.text() for part in self.parts)


@dataclass
class PdkSetup:
    """Corner, temperature (°C) and calibration of a transistor-level netlist;
    sigma_target: the mismatch budget that sizes the cells (fraction); mismatch_seed:
    None (nominal devices), or the seed of one Monte-Carlo draw of the PDK's device
    mismatch (the corner's `_mm` section): each cell's netlist then gets its own
    ngspice seed, backends.transistor.cell_seed(mismatch_seed, layer, channel), so a cell keeps its draw
    in every netlist that holds it alone (ENV.md: the draw follows netlist order);
    banks: "behavioral" (ideal sums, as in a whole-model netlist) or "transistor" (the
    partitioned backend runs every mirror bank alone in sky130 mirrors, pdk.banks);
    max_step_s: None (ngspice's own step control), or the largest time step of the
    transient (s). (A step of a few 100 us across an input edge landed latches in their
    other state until chgtol was lowered, pdk.bench.OPTIONS; README: the flip-flop at ff,
    -20 °C.)"""
    corner: str = "tt"
    temp_c: float = 27.0
    calib_path: str | None = None
    sigma_target: float = 0.05
    vdd_v: float = 1.8
    mismatch_seed: int | None = None
    max_step_s: float | None = None
    banks: str = "behavioral"
    _calib: dict | None = field(default=None, repr=False)
    _cells: dict = field(default_factory=dict, repr=False)

    @property
    def calib(self) -> dict:
        """The calibration file (at tt/27 °C unless calib_path names another)."""
        if self._calib is None:
            self._calib = load_calibration(self.calib_path)
        return self._calib

    def prepare(self, bld) -> None:
        """Models, supply, options and temperature of the builder's circuit."""
        bld.c.library = CombinedLibrary((bld.c.library, pdk_library(self.corner, self.mismatch_seed is not None)))
        bld.c.add("vsource", "dd", SUPPLY, "0", value=self.vdd_v)
        bld.c.options = OPTIONS
        bld.c.temp_c = self.temp_c
        if abs(bld.iu - 1e-9) > 1e-21:
            raise InputError(f"transistor cells are calibrated for 1 unit = 1 nA, the IR has "
                             f"{bld.iu:g} A per unit")

    def ladder(self, bld, K: int, design) -> str:
        """Name of the transistor ladder subcircuit for K rungs per side, added to the
        builder's netlist once: the register ladder (pdk.register_ladder), which counts the
        update pulses the LadderDesign's window implements (its c0, h, w, a and tau are the
        behavioral circuit's, not this one's). Its alpha sources get the mirror banks'
        unit area for the mismatch budget (at most 50 um2)."""
        from .register_ladder import register_ladder_subckt

        name = f"sky130_register_k{K}"
        area = min(50.0, self.size()["mirror_unit_area_um2"])
        return bld.subckt(name, ("up", "dn", "out", "vdd", "vss"),
                          register_ladder_subckt(K, name, iunit=bld.iu, source_area_um2=area))

    def ladder_start(self, bld, instance: str, K: int, s0: int) -> None:
        """Start ladder `instance` on rung s0: every latch node of its register."""
        from .register_ladder import register_ladder_ic

        for node, volts in register_ladder_ic(K, s0, self.vdd_v).items():
            bld.set_initial(instance, node, volts)

    def bank_runner(self, pool, timing, timeout_s: float):
        """The transistor banks (pdk.banks.TransistorBanks) running in `pool` when
        banks == "transistor", else None (the partitioned backend's ideal sums)."""
        if self.banks == "behavioral":
            return None
        if self.banks != "transistor":
            raise InputError(f"banks {self.banks!r}: expected 'behavioral' or 'transistor'")
        from .banks import TransistorBanks

        return TransistorBanks(self, pool, timing, timeout_s)

    def size(self, kind: str = "schmitt") -> dict:
        """The size of a `kind` cell for the mismatch budget (pdk.mapping.cell_size)."""
        return cell_size(self.calib, self.sigma_target, kind)

    def cell(self, ir, layer: int, channel: int) -> dict:
        """The calibrated biases (nA) and msize of a first-quadrant cell (map_cells record)."""
        key = id(ir)
        if key not in self._cells:
            self._cells[key] = (ir, {(r["layer"], r["channel"]): r
                                     for r in map_cells(ir, self.calib, self.sigma_target)})
        return self._cells[key][1][(layer, channel)]
