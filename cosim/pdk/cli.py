"""`cosim characterize` and `cosim map-cells`: argument parsing only (the work is
imported when a command runs, so `cosim --help` stays light)."""
from __future__ import annotations

import argparse
import json

from .. import argtypes as at
from ..errors import InputError
from ..fileio import atomic_write_text, check_output
from .sky130 import CORNERS

CHAR_DOC = ("DC, transient and mismatch sweeps of the sky130 cells (cascoded mirror banks, the bistable "
            "cell, the DPI), the cells the models run (clocked first-quadrant cell, signed BMRU cell, CMRU ladder) "
            "measured as the models run them with mismatch draws, and a fit of each cell kind's supply power, "
            "written as a versioned calibration file (JSON) and plots.")
MAP_DOC = ("Bias currents (and device sizes from a mismatch budget) that put every first-quadrant cell's "
           "measured switching points and output level on the IR's values, from a calibration file; "
           "--measure simulates each mapped cell in ngspice and reports its residual errors.")


def _characterize(args) -> None:
    out = check_output(args.out, "--out", kind="dir")
    stem = f"sky130_{args.corner}_{args.temp:g}c"
    target = out / f"{stem}.json"
    for path in (() if args.only else (target, out / f"{stem}_mirrors.png", out / f"{stem}_bistable.png")):
        check_output(path, "--out", force=args.force)
    from .characterize import characterize, characterize_power_section, format_summary
    from ..plots.pdk import plot_calibration

    if args.only:
        # refresh one section of an existing calibration file, keeping the others
        from .mapping import load_calibration

        doc = load_calibration(target)
        if not args.force and args.only in doc:
            raise InputError(f"{target} already has a {args.only} section; add --force to replace it")
        print(f"characterizing the {args.only} section at {args.corner} / {args.temp:g} °C (seed {args.seed})")
        if args.only == "power":
            doc["power"] = characterize_power_section(args.corner, args.temp, args.seed)
        else:
            from .clocked_char import characterize_clocked
            doc["clocked"] = characterize_clocked(args.corner, args.temp, args.seed, doc)
        atomic_write_text(target, json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(format_summary(doc))
        print(f"  updated the {args.only} section of {target}")
        return
    print(f"characterizing sky130 cells at {args.corner} / {args.temp:g} °C (seed {args.seed})")
    doc = characterize(args.corner, args.temp, args.seed)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    figs = plot_calibration(doc, out, stem + "_")
    print(format_summary(doc))
    print(f"  wrote {target}" + "".join(f", {p}" for p in figs))


def add_characterize(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("characterize", help="DC, transient and mismatch sweeps of the sky130 transistor cells "
                                            "-> calibration JSON + plots",
                       description=CHAR_DOC,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  cosim characterize --pdk sky130 --corner tt --temp 27 --out calib/")
    p.add_argument("--pdk", choices=("sky130",), default="sky130")
    p.add_argument("--corner", choices=CORNERS, default="tt")
    p.add_argument("--temp", type=at.float_range(-55.0, 150.0), default=27.0, help="temperature (°C)")
    p.add_argument("--seed", type=at.seed, default=0, help="seed of the mismatch draws")
    p.add_argument("--out", default="calib", help="folder for the calibration file and plots")
    p.add_argument("--force", action="store_true", help="overwrite an existing calibration file")
    p.add_argument("--only", choices=("power", "clocked"), default=None,
                   help="refresh one section of the existing calibration file in --out, keeping the others: "
                        "power (the cells' power models, about 1.5 min) or clocked (the clocked, BMRU and "
                        "ladder cells as the models run them, with mismatch draws, about 5.5 min)")
    p.set_defaults(func=_characterize)
    return p


def add_map_cells(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("map-cells", help="calibrated mapping of a model's first-quadrant cells onto the sky130 "
                                         "bistable cell (biases, sizes, measured residuals)",
                       description=MAP_DOC, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  cosim map-cells models/schmitt_digits --measure")
    p.add_argument("model", help="checkpoint folder or .hw.json IR file")
    p.add_argument("--pdk", choices=("sky130",), default="sky130")
    p.add_argument("--calib", default=None, help="calibration file (default calib/sky130_<corner>_<temp>c.json)")
    p.add_argument("--corner", choices=CORNERS, default="tt")
    p.add_argument("--temp", type=at.float_range(-55.0, 150.0), default=27.0)
    p.add_argument("--sigma-target", type=at.float_range(1e-4, 0.5), default=0.05,
                   help="mismatch budget: σ of each cell's thresholds and of each mirror gain (fraction)")
    p.add_argument("--measure", action="store_true", help="simulate every mapped cell in ngspice and report "
                                                         "its errors against the IR (fails above --tolerance)")
    p.add_argument("--tolerance", type=at.float_range(0.0, 100.0), default=2.0, help="%% (with --measure)")
    p.add_argument("--bits", type=at.bits, default=6)
    p.add_argument("--json", default=None, help="also write the records as JSON here")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_map_cells)
    return p


def _map_cells(args) -> None:
    from ..errors import CheckFailed
    from ..hw.source import load_source
    from .mapping import cell_size, format_table, load_calibration, map_cells, worst

    ir = load_source(args.model, bits=args.bits).ir
    calib = load_calibration(args.calib, args.corner, args.temp)
    size = cell_size(calib, args.sigma_target)
    rows = map_cells(ir, calib, args.sigma_target, measure_cells=args.measure)
    if not rows:
        raise InputError(f"{args.model}: no first-quadrant (schmitt) cells to map")
    print(format_table(rows, size))
    if args.json:
        atomic_write_text(args.json, json.dumps({"size": size, "cells": rows}, indent=1, sort_keys=True) + "\n")
    if args.measure:
        w = worst(rows)
        print("  worst |error|: " + ", ".join(f"{k} {'n/a' if v is None else f'{v:.2f}%'}" for k, v in w.items()))
        bad = [k for k, v in w.items() if v is None or v > args.tolerance]
        if bad:
            raise CheckFailed(f"cells outside {args.tolerance:g}% in {', '.join(bad)}")
