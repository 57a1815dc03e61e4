"""Hysteresis check of single cells (SPEC 4): bench -> ngspice -> switching points -> plot.

    ir = load_ir("models/schmitt_digits")            # checkpoint folder (6 bits) or .hw.json
    results = hysteresis(ir, layer=0)                # every channel, one netlist
    plot(results, "hyst.png")
    print(format_summary(results))

`add_cli(sub)` registers `cosim hysteresis`. Heavy imports (PySpice, torch,
matplotlib) happen inside the functions so `cosim --help` stays fast.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import argtypes as at
from ..errors import InputError
from ..fileio import atomic_write_text, check_output
from ..hw.source import load_ir

__all__ = ["load_ir", "hysteresis", "plot", "format_summary", "add_cli", "GOAL"]

#: acceptance goal: |switching error| <= 2 % of the hysteresis width
GOAL = 0.02
FIG_SUFFIXES = (".png", ".svg", ".pdf")


def check_figure_path(path, force: bool = False) -> Path:
    """A figure path with a known suffix, writable, not overwritten without force."""
    p = Path(path)
    if p.suffix.lower() not in FIG_SUFFIXES:
        raise InputError(f"--out {path}: the figure needs a suffix {', '.join(FIG_SUFFIXES)}")
    return check_output(p, "--out", force=force)


def hysteresis(ir, layer: int, channel: int | None = None, *, model: str = "latch",
               seed: int = 0, timeout_s: float = 120.0, driver: str = "subprocess",
               margin: float = 0.5, resolution: float = 1e-3) -> list:
    """Slow triangular sweep of cell (layer, channel) in ngspice; channel None =
    every channel of the layer in one netlist (a CMRU layer: its ladder stage).

    model: "latch" (the cell as exported) or "dynamic" (bist_dyn).
    Returns a list of `analysis.hysteresis.HysteresisResult` (currents in
    units; errors as signed fractions of the width), each with the circuit and
    software traces for `plot`. Raises ValueError on a bad layer / channel."""
    from ..analysis.hysteresis import measure_hysteresis, software_states
    from ..netlist.benches import sweep_bench
    from ..spice import run_netlist

    bench = sweep_bench(ir, layer, channel, model=model, margin=margin, resolution=resolution)
    res = run_netlist(bench.text, timeout_s=timeout_s, seed=seed, driver=driver)
    out = []
    for cell in bench.cells:
        x = res[cell.input_probe]
        state = cell.state_offset + cell.state_scale * res[cell.state_probe]
        soft = software_states(cell.window, x)
        out.append(measure_hysteresis(x, state, cell.window, layer=layer, channel=cell.channel,
                                      model=model, i_unit_a=bench.i_unit_a, wall_s=res.wall_s,
                                      software=soft))
    return out


def transistor_loops(ir, results: list, calib_path=None, sigma_target: float = 0.05, jobs: int = 2) -> list:
    """The same cells at transistor level (sky130, calibrated biases, pdk.mapping), added
    to each behavioral result's trace as transistor_x / transistor_state (0..1 of the
    swing); returns their own results (model "transistor"). First-quadrant cells: a DC
    loop of the bistable cell (pdk.schmitt_char.dc_loop); BMRU cells: the clocked cell
    as the model runs it, its candidate stepped once per model step at a constant
    |beta| (pdk.staircase.bmru_loop), `jobs` ngspice runs at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from ..analysis.hysteresis import measure_hysteresis
    from ..hw.kinds import get_kind
    from ..pdk.mapping import load_calibration, map_cells
    from ..pdk.netlist import PdkSetup
    from ..pdk.schmitt_char import dc_loop
    from ..pdk.staircase import bmru_loop

    calib = load_calibration(calib_path)
    rows = {(r["layer"], r["channel"]): r for r in map_cells(ir, calib, sigma_target)}
    pdk = PdkSetup(calib["corner"], calib["temp_c"], calib_path=calib_path, sigma_target=sigma_target)
    for r in results:
        if r.channel is None or not (get_kind(r.kind).first_quadrant or r.kind == "bmru"):
            raise InputError(f"--level transistor: layer {r.layer} ({r.kind}) has no transistor-level loop "
                             "(first-quadrant and BMRU cells; a CMRU ladder: cosim fixedpoints --level transistor)")
    wins = [get_kind(r.kind).window(ir.layers[r.layer], r.channel, r.layer) for r in results]
    with ThreadPoolExecutor(max_workers=jobs) as pool:     # the BMRU loops: one ngspice each
        loops = [pool.submit(bmru_loop, ir, r.layer, r.channel, w.up, pdk, threads=1)
                 if r.kind == "bmru" else None for r, w in zip(results, wins)]
    out = []
    for r, win, lp in zip(results, wins, loops):
        if lp is not None:
            lp = lp.result()
            x, state, measured, wall = lp["c"], (lp["state"] + 1) / 2, lp["state"], lp["wall_s"]
            r.trace["transistor_label"] = "transistor cell (sky130, clocked, one step per input value)"
        else:
            m = rows[(r.layer, r.channel)]
            span = float(r.trace["x"].max()) * r.i_unit_a / 1e-9
            x_na, state = dc_loop(m["ithresh_na"], m["iwidth_na"], msize=m["msize"], corner=calib["corner"],
                                  temp_c=calib["temp_c"], peak_na=span)
            x, measured, wall = x_na * 1e-9 / r.i_unit_a, state, 0.0
        r.trace["transistor_x"], r.trace["transistor_state"] = x, state
        out.append(measure_hysteresis(x, measured, win, layer=r.layer, channel=r.channel, model="transistor",
                                      i_unit_a=r.i_unit_a, wall_s=wall))
    return out


def plot(results, path, title: str | None = None) -> Path:
    """Loop figure of `hysteresis` results (one panel per cell)."""
    from ..plots.hysteresis import plot_hysteresis

    return plot_hysteresis(results, path, title=title)


def _pct(v) -> str:
    return "   none" if v is None else f"{100 * v:+7.2f}%"


def format_summary(results, goal: float = GOAL) -> str:
    """Short table: switching points (nA) and errors (% of width) per cell."""
    if not results:
        return "no cells"
    r0 = results[0]
    nA = r0.i_unit_a / 1e-9
    lines = [f"hysteresis, layer {r0.layer} ({r0.kind}, {r0.model} model): {len(results)} "
             f"cell{'s' if len(results) != 1 else ''}, ngspice {r0.wall_s:.2f} s",
             f"  {'cell':>8} {'up nA':>9} {'expect':>9} {'err':>8}   {'down nA':>9} {'expect':>9} "
             f"{'err':>8}  {'width':>7}"]
    for r in results:
        name = "stage" if r.channel is None else f"ch {r.channel}"
        mu = "     none" if r.measured_up is None else f"{r.measured_up * nA:9.4f}"
        md = "     none" if r.measured_down is None else f"{r.measured_down * nA:9.4f}"
        flag = "ok" if r.ok(goal) else "FAIL"
        lines.append(f"  {name:>8} {mu} {r.expected_up * nA:9.4f} {_pct(r.err_up)}   {md} "
                     f"{r.expected_down * nA:9.4f} {_pct(r.err_down)}  {r.width * nA:7.4f}  {flag}")
    for r in results:
        if r.note:
            lines.append(f"  note ({'stage' if r.channel is None else f'ch {r.channel}'}): {r.note}")
    worst_up = max((abs(r.err_up) if r.err_up is not None else float("inf")) for r in results)
    worst_dn = max((abs(r.err_down) if r.err_down is not None else float("inf")) for r in results)
    n_ok = sum(r.ok(goal) for r in results)
    lines.append(f"  max |error|: up {100 * worst_up:.2f}%, down {100 * worst_dn:.2f}% of the width "
                 f"(goal {100 * goal:g}%): {n_ok}/{len(results)} cells within the goal")
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI

EPILOG = """examples:
  cosim hysteresis models/schmitt_digits --layer 0 --out hyst.png             # all 16 channels
  cosim hysteresis models/bmru_flipflop --layer 0 --channel 3 --out bmru3.png
  cosim hysteresis netlists/cmru_counting.hw.json --out stage.png           # ladder stage
  cosim hysteresis models/schmitt_digits --channel 5 --cell-model dynamic --out dyn5.png
  cosim hysteresis models/bmru_flipflop --level transistor --out bmru_sky130.png  # + the clocked sky130 cells

MODEL is a checkpoint folder (quantized with --bits, default 6) or a .hw.json IR
file. Errors are (measured - expected) / width: schmitt width delta (up at beta2,
down at beta1), bmru 2|beta| (up at +|beta|, down at -|beta|), cmru stage 2h
(up at c0 + h, down at c0 - h). Goal: |error| <= 2 %."""


def _cmd_hysteresis(args) -> None:
    out = check_figure_path(args.out, args.force)
    ir = load_ir(args.model, bits=args.bits)
    results = hysteresis(ir, args.layer, args.channel, model=args.cell_model,
                         timeout_s=args.timeout)
    transistor = []
    if args.level == "transistor":
        transistor = transistor_loops(ir, results, args.calib, args.sigma_target)
    plot(results, out, title=None if not transistor else
         f"layer {args.layer}: behavioral ({args.cell_model}), transistor (sky130 tt/27 °C, calibrated) and software")
    print(format_summary(results))
    if transistor:
        print(format_summary(transistor))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.json, json.dumps([r.to_dict() for r in results + transistor], indent=1))
        print(f"  wrote {out}, {args.json}")
    else:
        print(f"  wrote {out}")


def add_cli(sub) -> argparse.ArgumentParser:
    """Register `hysteresis` on an argparse subparsers object (handler in `func`)."""
    p = sub.add_parser("hysteresis", help="slow input sweep of single cells in ngspice: "
                                          "switching points vs the software thresholds, loop plot",
                       description="Sweep one cell's input current slowly up then down in ngspice, "
                                   "extract the up/down switching points and compare them with "
                                   "the thresholds of the software cell; plot the loop.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("model", help="checkpoint folder or .hw.json IR file")
    p.add_argument("--layer", type=at.int_range(0, 63), default=0, help="cell layer index (default 0)")
    p.add_argument("--channel", type=at.int_range(0, 4095), default=None,
                   help="channel index (default: every channel of the layer, one netlist)")
    p.add_argument("--out", required=True, help="figure to write (.png, .svg or .pdf)")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--cell-model", choices=["latch", "dynamic"], default="latch",
                   help="bistable cell model: latch (as exported, default) or dynamic")
    p.add_argument("--bits", type=at.bits, default=6, help="quantization bits for a checkpoint (default 6)")
    p.add_argument("--json", default=None, help="also write the results as JSON here")
    p.add_argument("--timeout", type=at.timeout_s, default=120.0, help="ngspice time limit (s, > 0)")
    p.add_argument("--level", choices=["behavioral", "transistor"], default="behavioral",
                   help="transistor: also sweep each cell at transistor level (sky130, calibrated biases) "
                        "and overlay it")
    p.add_argument("--calib", default=None, help="sky130 calibration file (default calib/sky130_tt_27c.json)")
    p.add_argument("--sigma-target", type=at.float_range(1e-4, 0.5), default=0.05,
                   help="mismatch budget that sizes the transistor cell (fraction)")
    p.set_defaults(func=_cmd_hysteresis)
    return p
