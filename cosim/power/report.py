"""`cosim power`: supply power and energy per step and per inference of a model.

--level behavioral: the analytical estimate (power.estimate) from the IR and the
calibration's fitted cell models, in milliseconds. --level transistor: the cells
simulated at transistor level (backends.transistor, one partition per cell), their
supply current integrated per step, beside the estimate for the same sequences
(and how far apart they are), and every mirror bank at transistor level too, each
alone (pdk.banks: the cells are driven by what the banks deliver, and each bank by
the block before it), so the whole model's power is measured. The cells' power is also split by step:
steps on which a cell held its state and steps on which it switched (these cells
draw bias currents, so nearly all of it is static; the switching steps differ from
the held ones by where the update lands in the step). Writes power.json, power_breakdown.png (stacked bar) and
power_time.png (one sequence) into --out when given.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError

ESTIMATE_GOAL = 0.20      # |estimate / transistor - 1| on the cells


def split_by_switching(power: list, states: list, layers) -> tuple:
    """(held, switching) nW: the cells' mean power split by the steps on which each cell
    kept or changed its state (power, states: per layer (batch, time, channels))."""
    import numpy as np

    from .model import states_before

    held = switching = 0.0
    for p, st, layer in zip(power, states, layers):
        st = np.asarray(st)
        prev = states_before(st, layer.init_state)
        changed = np.abs(st - prev) > 0.5        # levels are 1 (first quadrant, rungs) or 2 apart
        n = p.shape[0] * p.shape[1]
        switching += float(p[changed].sum() / n)
        held += float(p[~changed].sum() / n)
    return held, switching


def power_report(model, *, level: str = "behavioral", n_sequences: int = 20, bits: int = 6, calib=None,
                 corner: str = "tt", temp_c: float = 27.0, jobs=None, timeout_s: float = 900.0,
                 progress=print) -> tuple:
    """(report dict, estimate, measured) for the model; measured: None (behavioral) or
    {"cells": per layer (batch, time, channels) nW, "banks": {name: (batch, time) nW}}."""
    from ..hw.source import load_source
    from ..pdk.mapping import load_calibration
    from .estimate import estimate_power

    src = load_source(model, bits)
    ir, task = src.ir, src.task
    calib_doc = load_calibration(calib)
    if "power" not in calib_doc:
        raise InputError("the calibration file has no power section: run `cosim characterize --only power "
                         "--out calib`")
    x = task.x_test[:n_sequences]
    est = estimate_power(ir, x, calib_doc["power"], calib_doc["vdd_v"])
    s = est.summary()
    from ..hw.reference import run_reference

    ref_states = [tr.state for tr in run_reference(ir, x).layers]
    held, switching = split_by_switching(est.cells, ref_states, ir.layers)
    rep = {"model": str(model), "level": level, "sequences": int(len(x)), "steps": int(x.shape[1]),
           "dt_s": ir.timing.dt_s, "vdd_v": calib_doc["vdd_v"],
           "calibration": f"{calib_doc['corner']}/{calib_doc['temp_c']:g} C",
           "estimate": {**s, "cells_held_steps_nw": held, "cells_switching_steps_nw": switching}}
    measured = None
    if level == "transistor":
        from ..backends import simulate
        from ..pdk.netlist import PdkSetup

        progress(f"  simulating {sum(layer.n for layer in ir.layers) * len(x)} cell partitions and every "
                 f"mirror bank (each alone) at {corner}/{temp_c:g} °C ...")
        sim = simulate(ir, x, backend="transistor", pdk=PdkSetup(corner, temp_c, calib, banks="transistor"),
                       jobs=jobs, timeout_s=timeout_s)
        cell_nw = sim.detail["power_nw"]
        cells = float(sum(p.sum(axis=2).mean() for p in cell_nw))
        m_held, m_switching = split_by_switching(cell_nw, sim.states, ir.layers)
        banks, bank_rec = sim.detail["bank_power_nw"], sim.detail["banks"]
        measured = {"cells": cell_nw, "banks": banks}
        banks_nw = {k: float(v.mean()) for k, v in banks.items()}
        mirrors = sum(banks_nw.values())
        total = cells + mirrors
        T = x.shape[1]
        rep["transistor"] = {
            "corner": corner, "temp_c": temp_c,
            "cells_nw_per_layer": [float(p.sum(axis=2).mean()) for p in cell_nw], "cells_nw": cells,
            "cell_nw_min": float(min(p.mean(axis=(0, 1)).min() for p in cell_nw)),
            "cell_nw_max": float(max(p.mean(axis=(0, 1)).max() for p in cell_nw)),
            "cells_held_steps_nw": m_held, "cells_switching_steps_nw": m_switching,
            "banks_nw": banks_nw, "mirrors_nw": mirrors, "banks": bank_rec, "total_nw": total,
            "energy_per_step_pj": total * ir.timing.dt_s * 1e3,
            "energy_per_sequence_nj": total * ir.timing.dt_s * T}
        ratio = s["cells_nw"] / cells
        rep["estimate_over_transistor"] = ratio
        rep["mirrors_estimate_over_transistor"] = s["mirrors_nw"] / mirrors if mirrors > 0 else None
        rep["ok"] = bool(abs(ratio - 1) <= ESTIMATE_GOAL)
    return rep, est, measured


def format_report(rep: dict) -> str:
    e = rep["estimate"]
    lines = [f"power of {rep['model']} ({rep['sequences']} sequences x {rep['steps']} steps of "
             f"{rep['dt_s'] * 1e3:g} ms, vdd {rep['vdd_v']:g} V, models calibrated at {rep['calibration']})",
             f"  {'block':28s} {'estimate nW':>12s}" + (f" {'transistor nW':>14s}" if "transistor" in rep else "")]
    tr = rep.get("transistor")
    for l, v in enumerate(e["cells_nw_per_layer"]):
        lines.append(f"  {f'layer {l} cells':28s} {v:12.1f}" + (f" {tr['cells_nw_per_layer'][l]:14.1f}" if tr else ""))
    for k, v in e["banks_nw"].items():
        lines.append(f"  {f'mirror bank {k}':28s} {v:12.1f}" + (f" {tr['banks_nw'][k]:14.1f}" if tr else ""))
    lines.append(f"  {'cells: held / switching steps':28s} {e['cells_held_steps_nw']:6.1f} /{e['cells_switching_steps_nw']:4.1f}"
                 + (f" {tr['cells_held_steps_nw']:9.1f} /{tr['cells_switching_steps_nw']:4.1f}" if tr else ""))
    total = tr["total_nw"] if tr else e["total_nw"]
    energy = tr["energy_per_sequence_nj"] if tr else e["energy_per_sequence_nj"]
    lines.append(f"  {'whole model':28s} {e['total_nw']:12.1f}" + (f" {total:14.1f}" if tr else ""))
    lines.append(f"  energy per inference {energy:.2f} nJ ({energy / rep['steps'] * 1e3:.1f} pJ per step)")
    if tr:
        lines.append(f"  estimate / transistor (cells): {rep['estimate_over_transistor']:.3f} "
                     f"(goal within {ESTIMATE_GOAL:.0%}); transistor cells {tr['cell_nw_min']:.1f}-"
                     f"{tr['cell_nw_max']:.1f} nW each at {tr['corner']}/{tr['temp_c']:g} °C")
        if rep.get("mirrors_estimate_over_transistor") is not None:
            lines.append(f"  estimate / transistor (mirror banks, each simulated alone): "
                         f"{rep['mirrors_estimate_over_transistor']:.3f}")
            worst = max(tr["banks"].items(), key=lambda kv: kv[1]["output_error_max_na"] / max(
                kv[1]["output_scale_na"], 1e-12))
            lines.append(f"  banks' outputs where the cells read them: worst error {worst[1]['output_error_max_na']:.3g} "
                         f"nA of {worst[1]['output_scale_na']:.3g} nA ({worst[0]})")
    return "\n".join(lines)


def write_outputs(rep: dict, est, measured, out: Path) -> list:
    from ..fileio import atomic_write_text
    from ..plots.power import plot_breakdown, plot_power_time

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "power.json", json.dumps(rep, indent=1, sort_keys=True) + "\n")
    plot_breakdown(rep, out / "power_breakdown.png")
    cells_meas = whole = None
    if measured is not None:
        cells_meas = sum(p[0].sum(axis=1) for p in measured["cells"])
        whole = cells_meas + sum(b[0] for b in measured["banks"].values())
    plot_power_time(est, cells_meas, whole, rep["dt_s"], out / "power_time.png",
                    f"power over one sequence: {rep['model']}")
    return [out / n for n in ("power.json", "power_breakdown.png", "power_time.png")]


def _cmd_power(args) -> None:
    from ..errors import CheckFailed
    from ..fileio import check_output

    out = None
    if args.out:
        out = check_output(args.out, "--out", kind="dir")
        for name in ("power.json", "power_breakdown.png", "power_time.png"):
            check_output(out / name, "--out", force=args.force)
    rep, est, measured = power_report(args.model, level=args.level, n_sequences=args.sequences, bits=args.bits,
                                      calib=args.calib, corner=args.corner, temp_c=args.temp, jobs=args.jobs,
                                      timeout_s=args.timeout)
    print(format_report(rep))
    if out is not None:
        paths = write_outputs(rep, est, measured, out)
        print("  wrote " + ", ".join(str(p) for p in paths))
    if rep.get("ok") is False:
        raise CheckFailed(f"the estimate is {rep['estimate_over_transistor']:.3f} x the transistor figure, "
                          f"outside {ESTIMATE_GOAL:.0%}")


def add_cli(sub):
    import argparse

    from .. import argtypes as at
    from ..pdk.sky130 import CORNERS

    p = sub.add_parser("power", help="supply power and energy per inference: analytical estimate or transistor run",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  cosim power models/kws_fq_bmru\n"
                              "  cosim power models/bmru_flipflop --level transistor --sequences 5 --out runs/power")
    p.add_argument("model", help="checkpoint folder or .hw.json IR file")
    p.add_argument("--level", choices=("behavioral", "transistor"), default="behavioral",
                   help="behavioral: the analytical estimate only; transistor: also simulate the cells (sky130)")
    p.add_argument("--sequences", type=at.int_range(1, 10_000), default=20, help="held-out sequences")
    p.add_argument("--bits", type=at.bits, default=6, help="quantization bits (2-16)")
    p.add_argument("--calib", default=None, help="calibration JSON (default: calib/sky130_tt_27c.json)")
    p.add_argument("--corner", choices=CORNERS, default="tt", help="process corner of --level transistor")
    p.add_argument("--temp", type=at.float_range(-40.0, 125.0), default=27.0, help="°C, --level transistor")
    p.add_argument("--jobs", type=at.int_range(1, 256), default=None, help="ngspice runs in parallel")
    p.add_argument("--timeout", type=at.timeout_s, default=3600.0, help="time limit of each ngspice run (s)")
    p.add_argument("--out", default=None, help="folder for power.json and the plots")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs in --out")
    p.set_defaults(func=_cmd_power)
    return p
