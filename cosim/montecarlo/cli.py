"""`cosim montecarlo`: argument parsing only; the work is in runner.py."""
from __future__ import annotations

import argparse

EPILOG = """examples:
  cosim montecarlo models/bmru_flipflop --runs 200 --mismatch 0.05 --noise 0.02 --workers 2 --out runs/ff_mc
  cosim montecarlo models/bmru_flipflop --runs 200 --mismatch 0.05 --out runs/ff_mc --resume
  cosim montecarlo models/schmitt_digits --runs 100 --mismatch 0.05,0.10,0.15 --out runs/digits_sweep
  cosim montecarlo models/bmru_flipflop --runs 500 --scheduler tcp://10.0.0.5:8786 --out runs/big"""


def _fractions(text: str) -> list:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected fractions like 0.05 or 0.05,0.1, got {text!r}") from None
    if not vals:
        raise argparse.ArgumentTypeError("give at least one mismatch value")
    return vals


def _cmd(args) -> None:
    from .sweep import run_sweep
    from .runner import run_study

    kw = dict(runs=args.runs, noise_na=args.noise, sequences=args.sequences, batch=args.batch,
              workers=args.workers, seed=args.seed, resume=args.resume, scheduler=args.scheduler,
              timeout_s=args.timeout, bits=args.bits, progress=not args.quiet)
    if len(args.mismatch) == 1:
        s = run_study(args.model, args.out, mismatch=args.mismatch[0], **kw)
        print(_line(s))
    else:
        points = run_sweep(args.model, args.out, args.mismatch, **kw)
        for pt in points:
            print(f"p = {100 * pt['p']:g}%: yield circuit {100 * pt['yield_circuit']:.1f}%, "
                  f"software {100 * pt['yield_software']:.1f}%, float model {100 * pt['yield_float']:.1f}%")
    print(f"results in {args.out}")


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
    p.add_argument("model", help="checkpoint folder")
    p.add_argument("--out", required=True, help="study folder (runs.jsonl, summary.json, runs.csv, plots)")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--mismatch", type=_fractions, default=[0.05],
                   help="p at 3 sigma as a fraction (0.05 = +-5%%), or a comma list for a yield-vs-p sweep")
    p.add_argument("--noise", type=float, default=0.0, help="input-current noise std per step, nA")
    p.add_argument("--sequences", type=int, default=8, help="held-out sequences per run")
    p.add_argument("--batch", type=int, default=None, help="runs per netlist (default: automatic)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address tcp://HOST:PORT, or 'local' for a LocalCluster")
    p.add_argument("--resume", action="store_true", help="continue a study, skipping finished runs")
    p.add_argument("--timeout", type=float, default=300.0, help="ngspice time limit per batch (s)")
    p.add_argument("--bits", type=int, default=6)
    p.add_argument("--seed", type=int, default=0, help="root seed of every mismatch/noise draw")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd)
    return p
