"""`cosim montecarlo`: argument parsing only; the work is in runner.py."""
from __future__ import annotations

import argparse
import math

from .. import argtypes as at
from ..errors import CheckFailed

EPILOG = """examples:
  cosim montecarlo models/bmru_flipflop --runs 200 --mismatch 0.05 --noise 0.02 --workers 2 --out runs/ff_mc
  cosim montecarlo models/bmru_flipflop --runs 200 --mismatch 0.05 --out runs/ff_mc --resume
  cosim montecarlo models/schmitt_digits --runs 100 --mismatch 0.05,0.10,0.15 --out runs/digits_sweep
  cosim montecarlo models/bmru_flipflop --runs 500 --scheduler tcp://10.0.0.5:8786 --out runs/big
  cosim montecarlo models/kws_fq_bmru --level transistor --pdk-mismatch --runs 10 --sequences 5 --out runs/kws_pdk_mc"""


def _cmd_pdk(args) -> None:
    from ..errors import InputError
    from .pdk_study import format_summary, run_pdk_study

    if not args.pdk_mismatch:
        raise InputError("--level transistor runs the PDK's own mismatch: add --pdk-mismatch")
    if args.noise or args.spot_check:
        raise InputError("--level transistor --pdk-mismatch takes no --noise or --spot-check "
                         "(the PDK's mismatch is the only perturbation; every run is a transistor run)")
    # here: each run's cells on --workers ngspice processes; on Dask: one run per task (--workers local
    # processes), its cells on 2 one-thread ngspice processes (a 2-thread ngspice spin-waits on a busy core)
    s = run_pdk_study(args.model, args.out, runs=args.runs, sequences=args.sequences, seed=args.seed,
                      bits=args.bits, corner=args.corner, temp_c=args.temp, calib=args.calib,
                      sigma_target=args.sigma_target, jobs=2 if args.scheduler else args.workers,
                      timeout_s=args.timeout or 3600.0, resume=args.resume, scheduler=args.scheduler,
                      workers=args.workers or 1, progress=None if args.quiet else print)
    print(format_summary(s))
    print(f"results in {args.out}")
    if s["failed"]:
        raise CheckFailed(f"{s['failed']} run(s) failed (see runs.jsonl in {args.out}); "
                          f"rerun with --resume to retry them")


def _fractions(text: str) -> list:
    """--mismatch: fractions in [0, 1) (p at 3 sigma), one or a comma list."""
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected fractions like 0.05 or 0.05,0.1, got {text!r}") from None
    if not vals:
        raise argparse.ArgumentTypeError("give at least one mismatch value")
    bad = [v for v in vals if not (math.isfinite(v) and 0 <= v < 1)]
    if bad:
        raise argparse.ArgumentTypeError(f"fractions must be in [0, 1) (0.05 = +-5% at 3 sigma), "
                                         f"got {bad[0]:g}")
    return vals


def _noise(text: str) -> float:
    """--noise: nA per step, finite, in [0, runner.NOISE_MAX_NA]."""
    from .runner import NOISE_MAX_NA

    return at.float_range(0.0, NOISE_MAX_NA)(text)


def _cmd(args) -> None:
    if args.level == "transistor" or args.pdk_mismatch:
        return _cmd_pdk(args)
    from .sweep import run_sweep
    from .runner import run_study

    kw = dict(runs=args.runs, noise_na=args.noise, sequences=args.sequences, batch=args.batch,
              workers=args.workers, seed=args.seed, resume=args.resume, scheduler=args.scheduler,
              timeout_s=args.timeout or 300.0, bits=args.bits, progress=not args.quiet, engine=args.engine,
              device=args.device)
    if len(args.mismatch) == 1:
        s = run_study(args.model, args.out, mismatch=args.mismatch[0], spot_check=args.spot_check, **kw)
        print(_line(s))
        failed = s["failed"]
        spot = s.get("spot_check")
        if spot is not None:
            print(f"spot check: {len(spot['runs'])} run(s) re-simulated in ngspice, "
                  f"{spot['disagreements']} real state difference(s)")
            if spot["disagreements"]:
                raise CheckFailed(f"spot check: the fast engine and ngspice differ on "
                                  f"{spot['disagreements']} state(s) outside ties (summary.json in {args.out})")
    else:
        points = run_sweep(args.model, args.out, args.mismatch, **kw)
        for pt in points:
            print(f"p = {100 * pt['p']:g}%: yield circuit {100 * pt['yield_circuit']:.1f}%, "
                  f"software {100 * pt['yield_software']:.1f}%"
                  + (f", float model {100 * pt['yield_float']:.1f}%" if pt["yield_float"] is not None else ""))
        failed = sum(pt["failed"] for pt in points)
    print(f"results in {args.out}")
    if failed:
        raise CheckFailed(f"{failed} run(s) failed (see summary.json in {args.out}); "
                          f"rerun with --resume to retry them")


def _line(s: dict) -> str:
    if not s.get("succeeded"):
        return f"{s['runs']} runs, all failed (see summary.json)"
    c = s["circuit_score"]
    return (f"{s['succeeded']}/{s['runs']} runs ok ({s['failed']} failed), batch {s['batch']}: "
            f"circuit {s['metric']} {c['mean']:.4f} +- {c['std']:.4f} (p5 {c['p5']:.4f}), "
            f"nominal {s['nominal_circuit_score']:.4f}, yield {100 * s['yield_circuit']:.1f}% "
            f"(software {100 * s['yield_software']:.1f}%), circuit = software in "
            f"{s['runs_fully_agreeing']}/{s['succeeded']} runs")


def add_cli(sub):
    p = sub.add_parser("montecarlo", help="mismatch / noise Monte Carlo in ngspice and software",
                       description="Each run draws device mismatch on the hardware IR (and input "
                                   "noise), simulates held-out sequences in ngspice and in the "
                                   "software reference of the same perturbed IR.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="checkpoint folder (quantized with --bits) or an exported .hw.json IR file")
    p.add_argument("--out", required=True, help="study folder (runs.jsonl, summary.json, runs.csv, plots)")
    p.add_argument("--runs", type=at.int_range(1), default=200)
    p.add_argument("--mismatch", type=_fractions, default=[0.05],
                   help="p at 3 sigma as a fraction (0.05 = +-5%%), or a comma list for a yield-vs-p sweep")
    p.add_argument("--noise", type=_noise, default=0.0,
                   help="input-current noise std per step, nA (0 to 10)")
    p.add_argument("--sequences", type=at.int_range(1), default=8, help="held-out sequences per run")
    p.add_argument("--batch", type=at.int_range(1), default=1,
                   help="runs per netlist (default 1: packing copies slows each copy down)")
    p.add_argument("--workers", type=at.int_range(1), default=2, help="ngspice worker processes (--engine ngspice)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address tcp://HOST:PORT, or 'local' for a LocalCluster")
    p.add_argument("--resume", action="store_true", help="continue a study: run the runs not finished or failed")
    p.add_argument("--timeout", type=at.timeout_s, default=None,
                   help="ngspice time limit per netlist (s, > 0; default 300, 3600 at --level transistor)")
    p.add_argument("--bits", type=at.bits, default=6)
    p.add_argument("--seed", type=at.seed, default=0, help="root seed of every mismatch/noise draw")
    p.add_argument("--engine", choices=["fast", "ngspice"], default="fast",
                   help="the batched fast engine (default; cosim.engine, same draws, checked against "
                        "ngspice by --spot-check) or ngspice netlists in the worker pool / on Dask")
    p.add_argument("--spot-check", type=at.int_range(0), default=0,
                   help="re-simulate this many random runs in ngspice and compare (fails on a difference)")
    p.add_argument("--device", default="cpu", help="torch device of the fast engine (cpu, cuda)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--level", choices=["behavioral", "transistor"], default="behavioral",
                   help="transistor: the cells at transistor level (sky130) with --pdk-mismatch")
    p.add_argument("--pdk-mismatch", action="store_true",
                   help="draw device mismatch through the PDK's own statistical models (the corner's _mm "
                        "section), one recorded seed per run; the software side uses each cell as measured "
                        "in the same draw (first-quadrant cells)")
    from ..pdk.sky130 import CORNERS
    p.add_argument("--corner", choices=CORNERS, default="tt", help="process corner (--pdk-mismatch)")
    p.add_argument("--temp", type=at.float_range(-40.0, 125.0), default=27.0, help="°C (--pdk-mismatch)")
    p.add_argument("--calib", default=None, help="calibration JSON (--pdk-mismatch)")
    p.add_argument("--sigma-target", type=at.float_range(1e-4, 0.5), default=0.05,
                   help="mismatch budget that sizes the transistor cells (--pdk-mismatch)")
    p.set_defaults(func=_cmd)
    return p
