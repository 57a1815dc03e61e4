"""Fixed-point diagram of one cell (SPEC 4): model S-curve + circuit sweeps (+ CMRU ladder).

    ir = load_ir("models/schmitt_digits")
    res = fixedpoints(ir, layer=0, channel=3)
    plot(res, "fp.png", ir)
    print(format_summary(res))

The cell is the dynamic bistable model (bist_dyn, calibrated folds): its
fixed points versus a constant input from the cell equations, and a slow
ngspice sweep up and down (the two stable branches, the folds). For a BMRU
channel the symmetric cell's dynamic model (window -|beta|..+|beta|); for a
CMRU channel the ladder stage (window c0 -+ h) and the ladder's stable levels
k * alpha, k = -K..K, held with no input by the exported (latch) ladder.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import InputError
from .. import argtypes as at
from ..fileio import atomic_write_text

from .hysteresis import GOAL, check_figure_path, load_ir

__all__ = ["fixedpoints", "plot", "format_summary", "add_cli", "load_ir"]


def fixedpoints(ir, layer: int, channel: int, *, loopgain: float = 20.0, margin: float = 0.5,
                hold_steps: int = 10, seed: int = 0, timeout_s: float = 120.0,
                driver: str = "subprocess"):
    """FixedPointResult of cell (layer, channel): model fixed points over the
    input range window -+ margin*width, compared with a bist_dyn sweep (and, for
    CMRU, the ladder held on every rung for `hold_steps` steps)."""
    import numpy as np

    from ..analysis.fixedpoints import analyse_fixed_points, ladder_levels
    from ..analysis.hysteresis import cell_window, check_index
    from ..hw.kinds import get_kind
    from ..netlist.benches import ladder_hold_bench, sweep_bench
    from ..spice import run_netlist

    if not loopgain > 4.5:
        raise InputError(f"loopgain must be > 4.5 (the cell is bistable only for m > 4), got {loopgain:g}")
    lay = check_index(ir, layer, channel)
    if channel is None:
        raise InputError(f"layer {layer} ({lay.kind}): choose a channel 0..{lay.n - 1}")
    if not cell_window(ir, layer, channel).width > 0:
        raise InputError(f"layer {layer} channel {channel} has hysteresis width 0 (a comparator): "
                         "no bistable range, no fixed-point diagram")
    bench = sweep_bench(ir, layer, channel, model="dynamic", around_window=True, margin=margin,
                        loopgain=loopgain)
    res = run_netlist(bench.text, timeout_s=timeout_s, seed=seed, driver=driver)
    cell = bench.cells[0]
    wall = res.wall_s
    ladder = None
    if get_kind(lay.kind).has_ladder:
        hb = ladder_hold_bench(ir, layer, channel, n_steps=hold_steps)
        hr = run_netlist(hb.text, timeout_s=timeout_s, seed=seed, driver=driver)
        wall += hr.wall_s
        scale = hb.alpha * ir.timing.i_unit_a
        measured = np.array([hr.sample(p, hb.sample_times_s) / scale for p in hb.current_probes])
        ladder = ladder_levels(hb.K, hb.alpha, measured)
    # u node of bist_dyn = fraction of the swing (s = 2u - 1 for the symmetric cell)
    return analyse_fixed_points(cell.window, layer=layer, channel=channel, loopgain=loopgain,
                                lo=cell.lo, hi=cell.hi, sweep_x=res[cell.input_probe],
                                sweep_u=res[cell.state_probe], ladder=ladder, wall_s=wall)


def transistor_curve(ir, result, calib_path=None, sigma_target: float = 0.05) -> dict:
    """The same cell at transistor level (sky130 bistable cell at its calibrated biases,
    pdk.mapping): every equilibrium versus a constant input (pdk.schmitt_char.s_curve),
    added to `result` (field `transistor`, trace transistor_x / transistor_u); returns
    the folds (units) and their errors (fractions of beta2 / beta1 and of the width)."""
    from ..hw.kinds import get_kind
    from ..pdk.mapping import load_calibration, map_cells
    from ..pdk.schmitt_char import s_curve

    kind = get_kind(result.kind)
    if kind.has_ladder:
        return transistor_ladder(ir, result, calib_path, sigma_target)
    if result.kind == "bmru":
        return transistor_bmru(ir, result, calib_path, sigma_target)
    if not kind.first_quadrant:
        raise InputError(f"--level transistor: layer {result.layer} ({result.kind}) has no transistor-level "
                         "fixed-point sweep yet (first-quadrant, BMRU cells and CMRU ladders)")
    calib = load_calibration(calib_path)
    rows = {(r["layer"], r["channel"]): r for r in map_cells(ir, calib, sigma_target)}
    m = rows[(result.layer, result.channel)]
    na = ir.timing.i_unit_a / 1e-9
    sc = s_curve(m["ithresh_na"], m["iwidth_na"], m["igain_na"], msize=m["msize"], corner=calib["corner"],
                 temp_c=calib["temp_c"])
    up, down = sc["fold_up"] / na, sc["fold_down"] / na
    result.trace["transistor_x"] = sc["input_na"] / na
    result.trace["transistor_u"] = sc["state"]
    result.transistor = {
        "corner": calib["corner"], "temp_c": calib["temp_c"], "msize": m["msize"],
        "biases_na": {k: m[f"{k}_na"] for k in ("ithresh", "iwidth", "igain")},
        "fold_up": up, "fold_down": down, "alpha": sc["alpha_na"] / na,
        "err_beta2": up / result.beta2 - 1, "err_beta1": down / result.beta1 - 1,
        "err_up_of_width": (up - result.beta2) / result.width,
        "err_down_of_width": (down - result.beta1) / result.width}
    return result.transistor


def transistor_bmru(ir, result, calib_path=None, sigma_target: float = 0.05) -> dict:
    """A BMRU channel at transistor level: the clocked cell as the model runs it, its
    candidate held for one step per value up and down at a constant |beta|
    (pdk.staircase.bmru_loop). Each step's state is the cell's equilibrium for that
    input from the state it had (the latch holds between clock pulses), so the rise
    traces the -1 branch up to its fold and the fall the +1 branch down to its fold;
    the unstable branch is not observable in this cell (its NOR latch has no single
    node to servo). Folds are compared with +-|beta| (result.beta2 / beta1)."""
    from ..pdk.mapping import load_calibration
    from ..pdk.netlist import PdkSetup
    from ..pdk.staircase import bmru_loop

    calib = load_calibration(calib_path)
    pdk = PdkSetup(calib["corner"], calib["temp_c"], calib_path=calib_path, sigma_target=sigma_target)
    lp = bmru_loop(ir, result.layer, result.channel, result.beta2, pdk)
    result.trace["transistor_x"], result.trace["transistor_u"] = lp["c"], (lp["state"] + 1) / 2
    up, down = lp["up"], lp["down"]
    rel = lambda v, ref: None if v is None else v / ref - 1             # noqa: E731
    width = lambda v, ref: None if v is None else (v - ref) / result.width  # noqa: E731
    result.transistor = {
        "corner": pdk.corner, "temp_c": pdk.temp_c, "msize": pdk.size("bmru")["msize"],
        "what": "stable state after each clock, input stepped up then down",
        "biases_na": {"igain": float(ir.layers[result.layer].alpha[result.channel]) * ir.timing.i_unit_a / 1e-9},
        "fold_up": up, "fold_down": down, "alpha": lp["alpha"],
        "err_beta2": rel(up, result.beta2), "err_beta1": rel(down, result.beta1),
        "err_up_of_width": width(up, result.beta2), "err_down_of_width": width(down, result.beta1)}
    return result.transistor


def transistor_ladder(ir, result, calib_path=None, sigma_target: float = 0.05, hold_steps: int = 10,
                      jobs: int = 2) -> dict:
    """The channel's ladder at transistor level (sky130, pdk.register_ladder) started on
    every rung -K..K and held with no update for `hold_steps` steps (partitioned transistor
    backend, `jobs` rungs at a time): its levels I(out)/alpha per step go into
    result.trace["transistor_ladder"] (2K+1, hold_steps) and result.transistor (max level
    error in rungs, all held)."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    import numpy as np

    from ..backends import simulate
    from ..backends.transistor import channel_ir
    from ..pdk.netlist import PdkSetup

    layer = ir.layers[result.layer]
    K = layer.ladder_k
    pdk = PdkSetup(calib_path=calib_path, sigma_target=sigma_target)
    x = np.tile([[0.0, 1.0]], (1, hold_steps, 1))              # |c| < |beta|: no update

    def held(k: int) -> np.ndarray:
        sub = channel_ir(ir, replace(layer, init_state=np.full(layer.n, float(k))), result.channel)
        return simulate(sub, x, backend="transistor", pdk=pdk, jobs=1).states[0][0, :, 0]

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        meas = np.array(list(pool.map(held, range(-K, K + 1))))
    err = np.abs(meas - np.arange(-K, K + 1)[:, None])
    result.trace["transistor_ladder"] = meas
    result.transistor = {"corner": pdk.corner, "temp_c": pdk.temp_c, "hold_steps": hold_steps,
                         "max_level_err": float(err.max()),
                         "all_held": bool((np.round(meas) == np.arange(-K, K + 1)[:, None]).all())}
    return result.transistor


def plot(result, path, ir=None, title: str | None = None) -> Path:
    """Fixed-point figure (S-curve + circuit sweeps; ladder panel for CMRU)."""
    from ..plots.fixedpoints import plot_fixed_points

    iu = ir.timing.i_unit_a if ir is not None else 1e-9
    return plot_fixed_points(result, path, title=title, i_unit_a=iu)


def format_summary(r, i_unit_a: float = 1e-9, goal: float = GOAL) -> str:
    from ..hw.kinds import get_kind

    nA = i_unit_a / 1e-9
    lines = [f"fixed points, layer {r.layer} channel {r.channel} ({get_kind(r.kind).title}), dynamic model: "
             f"loop gain {r.loopgain:g}, k = {r.k:.4g}/unit, w_i = {r.wi:.4g}, t_i = {r.ti:.4g} units",
             f"  model: stable branches end at state {r.u_fold_low:.3f} (low, at beta2) and "
             f"{r.u_fold_high:.3f} (high, at beta1); unstable branch over "
             f"[{r.unstable_x[0] * nA:.4f}, {r.unstable_x[1] * nA:.4f}] nA = [beta1, beta2] = "
             f"[{r.beta1 * nA:.4f}, {r.beta2 * nA:.4f}] nA ({'exact' if r.unstable_exact else 'MISMATCH'})",
             "  fixed points found: " + ", ".join(f"{n} at {x * nA:.4f} nA"
                                                  for x, n in r.n_fixed_points.items())]
    c = r.circuit
    if c is not None:
        def pct(v):
            return "none" if v is None else f"{100 * v:+.2f}%"
        ok = (c.fold_err_up is not None and c.fold_err_down is not None
              and max(abs(c.fold_err_up), abs(c.fold_err_down)) <= goal)
        fu = "none" if c.fold_up is None else f"{c.fold_up * nA:.4f}"
        fd = "none" if c.fold_down is None else f"{c.fold_down * nA:.4f}"
        lines += [f"  circuit sweep: up fold {fu} nA (beta2 {r.beta2 * nA:.4f}, {pct(c.fold_err_up)} "
                  f"of width), down fold {fd} nA (beta1 {r.beta1 * nA:.4f}, "
                  f"{pct(c.fold_err_down)}) {'ok' if ok else 'FAIL'}",
                  f"  branches: max distance from the predicted stable branch {c.max_dist:.2e} "
                  f"(min(|dx|/width, |du|)), state error away from the folds {c.max_state_err:.2e}; "
                  f"{c.n_transition}/{c.n_samples} samples in the jumps; ngspice {r.wall_s:.2f} s"]
    lad = r.ladder
    if lad is not None:
        lines.append(f"  ladder: K = {lad.K}, stable levels k*alpha = "
                     f"{', '.join(f'{v * nA:.3g}' for v in lad.levels)} nA")
        if lad.max_level_err is not None:
            lines.append(f"  circuit ladder held every rung with no input: "
                         f"{'yes' if lad.all_held else 'NO'}, max level error "
                         f"{lad.max_level_err:.2e} rung")
    t = r.transistor
    if t is not None and "max_level_err" in t:
        lines.append(f"  transistor ladder (sky130 {t['corner']}/{t['temp_c']:g} °C) held every rung for "
                     f"{t['hold_steps']} steps: {'yes' if t['all_held'] else 'NO'}, max level error "
                     f"{t['max_level_err']:.2e} rung")
    elif t is not None:
        def fold(v, e, ew, name):
            return (f"{name} fold none" if v is None else
                    f"{name} fold {v * nA:.4f} nA ({100 * e:+.2f}% of beta{'2' if name == 'up' else '1'}, "
                    f"{100 * ew:+.2f}% of width)")
        lines.append(f"  transistor (sky130 {t['corner']}/{t['temp_c']:g} °C, calibrated, msize {t['msize']:.3g}"
                     f"{', ' + t['what'] if 'what' in t else ''}): "
                     f"{fold(t['fold_up'], t['err_beta2'], t['err_up_of_width'], 'up')}, "
                     f"{fold(t['fold_down'], t['err_beta1'], t['err_down_of_width'], 'down')}, "
                     f"high level {t['alpha'] * nA:.4g} nA")
    if r.note:
        lines.append(f"  note: {r.note}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI

EPILOG = """examples:
  cosim fixedpoints models/schmitt_digits --layer 0 --channel 3 --out fp_schmitt3.png
  cosim fixedpoints models/bmru_flipflop --channel 0 --out fp_bmru0.png
  cosim fixedpoints models/cmru_counting --channel 2 --out fp_cmru2.png    # stage + ladder levels
  cosim fixedpoints netlists/schmitt_digits.hw.json --channel 12 --out fp12.png --json fp12.json
  cosim fixedpoints models/schmitt_digits --channel 3 --level transistor --out fp3_sky130.png
  cosim fixedpoints models/bmru_flipflop --channel 1 --level transistor --out fp1_sky130.png

MODEL is a checkpoint folder (quantized with --bits, default 6) or a .hw.json IR
file. The S-curve is that of the dynamic cell model (bist_dyn, folds calibrated
to beta2 / beta1); the circuit markers come from a slow ngspice sweep up and down."""


def _cmd_fixedpoints(args) -> None:
    out = check_figure_path(args.out, args.force)
    ir = load_ir(args.model, bits=args.bits)
    res = fixedpoints(ir, args.layer, args.channel, loopgain=args.loopgain,
                      timeout_s=args.timeout)
    title = None
    if args.level == "transistor":
        transistor_curve(ir, res, args.calib, args.sigma_target)
        title = (f"fixed points: layer {args.layer} channel {args.channel}: software/dynamic model, "
                 f"behavioral sweep and transistor (sky130 {res.transistor['corner']}/"
                 f"{res.transistor['temp_c']:g} °C, calibrated)")
    plot(res, out, ir, title=title)
    print(format_summary(res, ir.timing.i_unit_a))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.json, json.dumps(res.to_dict(), indent=1))
        print(f"  wrote {out}, {args.json}")
    else:
        print(f"  wrote {out}")


def add_cli(sub) -> argparse.ArgumentParser:
    """Register `fixedpoints` on an argparse subparsers object (handler in `func`)."""
    p = sub.add_parser("fixedpoints", help="fixed-point (bifurcation) diagram of one cell: "
                                           "model S-curve / CMRU ladder vs ngspice sweeps",
                       description="Fixed points (stable and unstable) of a cell's state versus a "
                                   "constant input, from the dynamic cell equations, compared with "
                                   "slow ngspice sweeps from both sides; for CMRU also the ladder "
                                   "of stable levels.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("model", help="checkpoint folder or .hw.json IR file")
    p.add_argument("--layer", type=at.int_range(0, 63), default=0, help="cell layer index (default 0)")
    p.add_argument("--channel", type=at.int_range(0, 4095), default=0, help="channel index (default 0)")
    p.add_argument("--out", required=True, help="figure to write (.png, .svg or .pdf)")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--loopgain", type=at.float_range(4, 1e4, lo_open=True), default=20.0,
                   help="dynamic cell loop gain m = k*w_i (> 4; default 20, the library's)")
    p.add_argument("--bits", type=at.bits, default=6, help="quantization bits for a checkpoint (default 6)")
    p.add_argument("--json", default=None, help="also write the result as JSON here")
    p.add_argument("--timeout", type=at.timeout_s, default=120.0, help="ngspice time limit (s, > 0)")
    p.add_argument("--level", choices=["behavioral", "transistor"], default="behavioral",
                   help="transistor: also trace every equilibrium of the cell at transistor level "
                        "(sky130, calibrated biases; first-quadrant cells)")
    p.add_argument("--calib", default=None, help="calibration JSON for --level transistor "
                                                 "(default: calib/sky130_tt_27c.json)")
    p.add_argument("--sigma-target", type=at.float_range(1e-4, 0.5), default=0.05,
                   help="mismatch budget that sizes the transistor cell (fraction, default 0.05)")
    p.set_defaults(func=_cmd_fixedpoints)
    return p
