"""`cosim characterize`: DC and mismatch sweeps of the sky130 cells, written as a
versioned calibration file (JSON) and plots.

Mirror banks (cascoded n-bank, p-bank; a plain n-bank beside them for
comparison): gain / ideal - 1 against the unit count N, the input current
(0.1-5 nA) and the output voltage; static supply current. Mismatch: the
corner's `_mm` section (per-device Vth through AGAUSS), `count` 1:1 mirrors
per unit size in one netlist (each instance its own draw), seeded: σ of the
gain against sqrt(W L), fitted as a Pelgrom coefficient (% um). The
bistable cell (circuits/sky130_cells.lib `sky130_schmitt`) when present:
switching points and output level against its three biases, supply current
per state, switching time. The DPI integrator (`sky130_dpi`): step
responses against the linear DPI law (pdk.dpi_char). The cells the models run
(clocked first-quadrant cell, signed BMRU cell, CMRU ladder) as the models run
them, with mismatch draws (pdk.clocked_char); the power models (power.characterize).
"""
from __future__ import annotations


import numpy as np

from .bench import bench, run
from .cells import Unit, mirror_bank

CALIB_VERSION = 1
CURRENTS_NA = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
VOUT_V = (0.45, 0.9, 1.35, 1.65)          # n-bank: output node voltage; p-bank: vdd - this
COUNTS = (1, 2, 4, 8, 16)
SIZES_UM = ((2.0, 4.0), (4.0, 8.0), (8.0, 8.0))
VDD = 1.8


def _sweep_currents(w: dict) -> np.ndarray:
    return w["i(i-sweep)"] if "i(i-sweep)" in w else w[next(k for k in w if "sweep" in k)]


def mirror_sweep(polarity: str, cascode: bool, corner: str, temp_c: float, unit: Unit = Unit()) -> dict:
    """Gain / (N / 1) - 1 per (count, output voltage, input current), from one DC sweep
    of the input current 0.1-5 nA into one bank with a branch per (N, V)."""
    c = bench(f"{polarity}-bank {'cascode' if cascode else 'plain'}", corner)
    if polarity == "n":
        c.isource("in", "vdd", "inp", 1e-9)           # current into the n diode
    else:
        c.isource("in", "inp", "0", 1e-9)             # current drawn out of the p diode
    outs = []
    for N in COUNTS:
        for k, v in enumerate(VOUT_V):
            node = f"o{N}_{k}"
            c.add("vsource", f"o{N}_{k}", node, "0", value=v if polarity == "n" else VDD - v)
            outs.append((node, N))
    mirror_bank(c, "mb", "inp", outs, polarity=polarity, unit=unit, cascode=cascode)
    w = run(c, ".dc iin 0.1n 5n 0.05n", temp_c=temp_c)
    i_in = _sweep_currents(w)
    pick = [int(np.argmin(np.abs(i_in - i * 1e-9))) for i in CURRENTS_NA]
    err = np.zeros((len(COUNTS), len(VOUT_V), len(CURRENTS_NA)))
    for a, N in enumerate(COUNTS):
        for b in range(len(VOUT_V)):
            i_out = w[f"i(vo{N}_{b})"][pick]
            i_out = -i_out if polarity == "n" else i_out    # n sinks from the node: current into the source's + node
            err[a, b] = i_out / (N * i_in[pick]) - 1
    supply = -w["i(vdd)"][pick]
    units = 2 * (1 + sum(COUNTS) * len(VOUT_V)) if cascode else 1 + sum(COUNTS) * len(VOUT_V)
    return {"polarity": polarity, "cascode": cascode, "unit_um": [unit.w_um, unit.l_um],
            "counts": list(COUNTS), "vout_v": list(VOUT_V), "currents_na": list(CURRENTS_NA),
            "gain_error": err.tolist(), "max_abs_error": float(np.abs(err).max()),
            "supply_na_per_na_in": float(np.median(supply / i_in[pick] / (1 + sum(COUNTS) * len(VOUT_V)))),
            "unit_devices": units}


def mirror_mismatch(corner: str, temp_c: float, seed: int, count: int = 100, cascode: bool = True) -> dict:
    """σ of 1:1 mirror gains (tt_mm-style draws of the corner) per unit size, and the
    Pelgrom fit σ = A / sqrt(W L) (A in % um)."""
    rows = []
    for w_um, l_um in SIZES_UM:
        c = bench("mirror mismatch", corner, mismatch=True)
        for k in range(count):
            c.isource(f"in{k}", "vdd", f"i{k}", 1e-9)
            c.add("vsource", f"o{k}", f"o{k}", "0", value=0.9)
            mirror_bank(c, f"m{k}", f"i{k}", [(f"o{k}", 1)], unit=Unit(w_um, l_um), cascode=cascode)
        w = run(c, ".op", temp_c=temp_c, seed=seed)
        gains = np.array([-float(np.ravel(w[f"i(vo{k})"])[0]) / 1e-9 for k in range(count)])
        rows.append({"w_um": w_um, "l_um": l_um, "sigma_pct": float(100 * np.std(gains, ddof=1)),
                     "mean": float(np.mean(gains))})
    x = np.array([1 / np.sqrt(r["w_um"] * r["l_um"]) for r in rows])
    y = np.array([r["sigma_pct"] for r in rows])
    a = float(np.sum(x * y) / np.sum(x * x))
    return {"seed": seed, "per_size": rows, "count": count, "pelgrom_pct_um": a,
            "area_for_1pct_um2": (a / 1.0) ** 2}


def characterize(corner: str = "tt", temp_c: float = 27.0, seed: int = 0, progress=print) -> dict:
    """The calibration document (module doc)."""
    doc = {"version": CALIB_VERSION, "pdk": "sky130", "corner": corner, "temp_c": temp_c, "vdd_v": VDD,
           "units": {"current": "nA unless named", "size": "um", "gain_error": "fraction"}}
    doc["mirrors"] = []
    for pol, casc in (("n", True), ("p", True), ("n", False)):
        progress(f"  mirror {pol}-bank {'cascode' if casc else 'plain'} ...")
        doc["mirrors"].append(mirror_sweep(pol, casc, corner, temp_c))
    progress("  mirror mismatch (Pelgrom) ...")
    doc["mirror_mismatch"] = mirror_mismatch(corner, temp_c, seed)
    from . import dpi_char, schmitt_char
    progress("  DPI integrator ...")
    doc["dpi"] = dpi_char.characterize(corner, temp_c)
    if schmitt_char.available():
        progress("  bistable cell ...")
        doc["schmitt"] = schmitt_char.characterize(corner, temp_c, seed)
    doc["power"] = characterize_power_section(corner, temp_c, seed, progress)
    if "schmitt" in doc:
        from .clocked_char import characterize_clocked
        doc["clocked"] = characterize_clocked(corner, temp_c, seed, doc, progress=progress)
    return doc


def characterize_power_section(corner: str, temp_c: float, seed: int, progress=print) -> dict:
    """The "power" section: the analytical power model of each cell kind (power.characterize)."""
    from ..power.characterize import characterize_power

    return characterize_power(corner, temp_c, seed, progress=progress)


def format_summary(doc: dict) -> str:
    lines = []
    for m in doc["mirrors"]:
        lines.append(f"  mirror {m['polarity']}-bank {'cascode' if m['cascode'] else 'plain  '}: gain within "
                     f"{100 * m['max_abs_error']:.2f}% (N 1-{m['counts'][-1]}, {m['currents_na'][0]:g}-"
                     f"{m['currents_na'][-1]:g} nA, {m['vout_v'][0]:g}-{m['vout_v'][-1]:g} V)")
    mm = doc["mirror_mismatch"]
    sizes = ", ".join(f"{r['w_um']:g}x{r['l_um']:g} um {r['sigma_pct']:.1f}%" for r in mm["per_size"])
    lines.append(f"  mirror mismatch σ(gain): {sizes}; Pelgrom {mm['pelgrom_pct_um']:.1f} %·um "
                 f"(1% needs {mm['area_for_1pct_um2']:.0f} um² per device)")
    if "dpi" in doc:
        from . import dpi_char
        lines += dpi_char.summary_lines(doc["dpi"])
    if "schmitt" in doc:
        from . import schmitt_char
        lines += schmitt_char.summary_lines(doc["schmitt"])
    if "power" in doc:
        from ..power.characterize import summary_lines
        lines += summary_lines(doc["power"])
    if "clocked" in doc:
        from .clocked_char import summary_lines as clocked_lines
        lines += clocked_lines(doc["clocked"])
    return "\n".join(lines)
