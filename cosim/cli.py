"""The `cosim` command: thin argument parsing over the library."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from . import argtypes as at
from .errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_INTERRUPTED, CheckFailed, InputError
from .fileio import check_output, check_path_text
from .limits import CURRENT_SCALE_RANGE, MAX_LADDER, MAX_LAYERS, MAX_SEQUENCES, MAX_T, MAX_WIDTH


def _taus(text: str) -> list:
    try:
        taus = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not taus or min(taus) < 1.0:
        raise argparse.ArgumentTypeError(f"time constants must be >= 1 step, got {text!r}")
    return taus


def _periods(text: str) -> list:
    try:
        periods = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not periods or any(q != 0 and q < 2 for q in periods):
        raise argparse.ArgumentTypeError(f"periods must be 0 or >= 2 steps, got {text!r}")
    return periods


def check_train_out(out, force: bool) -> None:
    """Before training: `out` must be a new or empty folder, or --force."""
    out = Path(out)
    check_output(out, "--out", kind="dir")
    if out.is_dir() and any(out.iterdir()) and not force:
        what = "a checkpoint" if (out / "config.json").exists() else "a non-empty folder"
        raise InputError(f"--out {out}: is {what}; add --force to overwrite it")


def _cmd_train(args) -> None:
    check_train_out(args.out, args.force)
    from .models.recipe import train_and_save
    from .models.train import TrainConfig

    task = {"name": args.task, "T": args.T, "n_train": args.n_train, "seed": args.seed}
    if args.task in ("counting",):
        task["K"] = args.task_k
    if args.task == "digits":
        task = {"name": "digits", "per_step": args.per_step}
    if args.task == "kws":
        task = {"name": "kws"}
    tcfg = TrainConfig(epochs=args.epochs, lr=args.lr, seed=args.seed, batch_size=args.batch_size,
                       eps_start=args.eps_start, eps_end=args.eps_end)
    command = "cosim " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    doc = train_and_save(args.out, args.cell, task, tcfg, command, progress=not args.quiet,
                         hidden=args.hidden, layers=args.layers, ladder=args.ladder,
                         init_state=args.init_state, pool=args.pool, proj=args.proj,
                         readout_all=args.readout_all, taus=args.taus,
                         learn_taus=not args.fixed_taus, periods=args.periods,
                         eps=args.eps_end if args.eps_end is not None else None)
    m = doc["metrics"]
    print(f"test score ({m['kind']}): {m['test_score']:.4f}  -> {args.out}")


def _cmd_export(args) -> None:
    from .netlist.export import export_model, format_summary

    pdk = None
    if args.level == "transistor":
        from .pdk.netlist import PdkSetup

        pdk = PdkSetup(args.corner, args.temp, args.calib, args.sigma_target)
    res = export_model(args.model, args.out, bits=args.bits, per_channel=args.per_channel,
                       gain_max=args.gain_max, inputs=args.inputs, task_samples=args.task_samples,
                       force=args.force, level=args.level, pdk=pdk, current_scale=args.current_scale)
    print(format_summary(res.summary))
    print(f"  wrote {res.netlist_path}, {res.ir_path}, {res.report_path} "
          f"(+ .inputs.npy, .probes.json: the stimulus and probe map to re-run it)")


def _cmd_demo(args) -> None:
    from .demo import run_demo

    run_demo(args.models, seed=args.seed, timeout_s=args.timeout)


def build_parser() -> argparse.ArgumentParser:
    p = at.Parser(prog="cosim", description=(
        "Analog co-design simulator: train BMRU/CMRU cells, export them to ngspice netlists, "
        "and check the circuits against the software cells."))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train a model on a built-in task and save a checkpoint",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  cosim train --cell cmru --task counting --ladder 4 "
                              "--init-state 0 --out models/my_counter")
    t.add_argument("--cell", required=True, choices=["bmru", "cmru", "acmru", "schmitt"])
    t.add_argument("--task", required=True, choices=["flipflop", "counting", "copyfirst", "digits", "kws"])
    t.add_argument("--out", required=True, help="checkpoint folder to write (new or empty)")
    t.add_argument("--force", action="store_true", help="overwrite an existing checkpoint folder")
    t.add_argument("--hidden", type=at.int_range(1, MAX_WIDTH), default=8, help="channels per layer")
    t.add_argument("--layers", type=at.int_range(1, MAX_LAYERS), default=1)
    t.add_argument("--proj", type=at.int_range(1, MAX_WIDTH), default=None,
                   help="width of an input projection")
    t.add_argument("--ladder", type=at.int_range(1, MAX_LADDER), default=None, help="finite ladder K (|s| <= K)")
    t.add_argument("--init-state", type=at.float_range(-MAX_LADDER, MAX_LADDER), default=None,
                   help="fix the initial state (default: learn it in {-1,+1})")
    t.add_argument("--pool", choices=["last", "mean", "lowpass"], default="last",
                   help="sequence output: last step, mean over steps, or last step of a "
                        "filter bank on the readout inputs (low-pass, see --taus/--periods)")
    t.add_argument("--readout-all", action="store_true",
                   help="read out from all layers' outputs, not only the last layer")
    t.add_argument("--taus", type=_taus, default=None,
                   help="lowpass: comma-separated time constants in steps (>= 1; "
                        "default 1,2,4,8,16,32,64)")
    t.add_argument("--periods", type=_periods, default=None,
                   help="lowpass: comma-separated resonator periods in steps, one bank of "
                        "filters per period for every tau; 0 = plain first-order low-pass "
                        "(default 0)")
    t.add_argument("--fixed-taus", action="store_true",
                   help="lowpass: keep the time constants fixed (default: learn them)")
    t.add_argument("--eps-start", type=at.float_range(0, 1), default=None,
                   help="eps held at first (annealing)")
    t.add_argument("--eps-end", type=at.float_range(0, 1), default=None,
                   help="eps after annealing (exported)")
    t.add_argument("--epochs", type=at.int_range(1, 100_000), default=30)
    t.add_argument("--lr", type=at.float_range(0, 10, lo_open=True), default=3e-3)
    t.add_argument("--batch-size", type=at.int_range(1, 1_000_000), default=64)
    t.add_argument("--T", type=at.int_range(1, MAX_T), default=256, help="sequence length (synthetic tasks)")
    t.add_argument("--n-train", type=at.int_range(1, MAX_SEQUENCES), default=2000,
                   help="training sequences (synthetic tasks)")
    t.add_argument("--task-k", type=at.int_range(1, MAX_LADDER), default=4, help="counting: clip the count to +-K")
    t.add_argument("--per-step", type=int, default=1, choices=[1, 2, 4, 8],
                   help="digits: pixels read per step (1 = pixel by pixel, 8 = row by row)")
    t.add_argument("--seed", type=at.seed, default=0)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("export", help="quantize a model and write its ngspice netlist + hardware IR",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  cosim export models/cmru_counting --bits 6 "
                              "--out netlists/cmru_counting.cir")
    e.add_argument("model", help="checkpoint folder")
    e.add_argument("--out", required=True, help="netlist to write (NAME.cir; NAME.hw.json, NAME.quant.json, "
                                                "NAME.inputs.npy and NAME.probes.json are written beside it)")
    e.add_argument("--force", action="store_true", help="overwrite existing output files")
    e.add_argument("--bits", type=at.bits, default=6, help="weight/bias bits (2-16)")
    e.add_argument("--per-channel", action="store_true", help="one quantization step per output channel")
    e.add_argument("--gain-max", type=at.float_range(0, 1e3, lo_open=True), default=8.0,
                   help="largest realisable mirror gain")
    e.add_argument("--current-scale", type=at.float_range(*CURRENT_SCALE_RANGE), default=1.0,
                   help="every current after the inputs times this (first-quadrant and BMRU models): the "
                        "same states at that fraction of the power (cosim.hw.current_scale)")
    src = e.add_mutually_exclusive_group()
    src.add_argument("--inputs", help="stimulus: .npy array (batch, time, inputs) in units of 1 nA")
    src.add_argument("--task-samples", type=at.int_range(1, 10_000), default=1,
                     help="stimulus: the first N held-out sequences of the model's task")
    e.add_argument("--level", choices=["behavioral", "transistor"], default="behavioral",
                   help="transistor: every cell with a sky130 design at transistor level, calibrated "
                        "(the others, and the mirror banks, stay behavioral: the summary says which)")
    e.add_argument("--pdk", choices=["sky130"], default="sky130", help="PDK of --level transistor")
    e.add_argument("--corner", choices=["tt", "ss", "ff", "sf", "fs"], default="tt",
                   help="process corner of --level transistor (biases stay the calibration's)")
    e.add_argument("--temp", type=at.float_range(-40, 125), default=27.0, help="temperature (°C)")
    e.add_argument("--calib", default=None, help="calibration JSON (default: calib/sky130_tt_27c.json)")
    e.add_argument("--sigma-target", type=at.float_range(1e-4, 0.5), default=0.05,
                   help="mismatch budget that sizes the transistor cells (fraction)")
    e.set_defaults(func=_cmd_export)

    d = sub.add_parser("demo", help="run the shipped models end to end",
                       epilog="example:\n  cosim demo")
    d.add_argument("--models", default="models", help="folder of shipped checkpoints")
    d.add_argument("--seed", type=at.seed, default=0)
    d.add_argument("--timeout", type=at.timeout_s, default=300.0, help="ngspice time limit per run (s)")
    d.set_defaults(func=_cmd_demo)

    from .montecarlo.cli import add_cli as add_montecarlo
    from .montecarlo.yield_study import add_cli as add_yield
    from .pdk.cli import add_characterize, add_map_cells
    from .power.report import add_cli as add_power
    from .verify.fixedpoints import add_cli as add_fixedpoints
    from .verify.hysteresis import add_cli as add_hysteresis
    from .verify.noise import add_cli as add_noise
    from .verify.report import add_cli as add_verify
    from .verify.rerun import add_cli as add_rerun

    add_verify(sub)
    add_hysteresis(sub)
    add_fixedpoints(sub)
    add_montecarlo(sub)
    add_noise(sub)
    add_rerun(sub)
    add_yield(sub)
    add_characterize(sub)
    add_map_cells(sub)
    add_power(sub)
    return p


PATH_ARGS = ("model", "models", "out", "json", "inputs", "scheduler", "netlist", "plot")


def _preflight(args) -> None:
    """Checks every command shares, before any work: no control characters in
    paths, and the output files/folders can be written."""
    for name in PATH_ARGS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            check_path_text(value, f"--{name}" if name not in ("model", "netlist") else name.upper())
    if getattr(args, "json", None):
        check_output(args.json, "--json", force=getattr(args, "force", False))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .spice import SpiceError

    try:
        _preflight(args)
        args.func(args)
    except SpiceError as exc:
        print(f"cosim {args.command}: error: {exc.summary}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:   # unwritable folder, disk full, ...: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"cosim {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CheckFailed as exc:
        print(f"cosim {args.command}: check failed: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    except KeyboardInterrupt:
        print(f"cosim {args.command}: interrupted; finished results were kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InputError as exc:   # every cosim bad-input error (checkpoint, IR, export, ...) is one
        print(f"cosim {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
