"""`cosim yield`: rare-event failure probability of a model under device mismatch.

A draw (every device class at p at 3 sigma, as in `cosim montecarlo`; no
input noise) fails a spec when, on the held-out sequences, the circuit
evaluated by the fast engine

    state     ... has any cell state different from the nominal circuit's
    decision  ... takes any class decision different from the nominal circuit's

Plain counting (`--brute N`) gives the failure probability with a
Clopper-Pearson interval; scaled-sigma sampling (analysis.rare) runs the same
draws with p * s for the scales s and extrapolates to s = 1, which reaches
probabilities far below 1/N. `--target T`: the check passes when the upper
bound of the interval is below T (exit 3 otherwise).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .. import argtypes as at
from ..errors import CheckFailed, InputError

SPECS = ("state", "decision")
CHUNK = 500                    # draws per engine call
EPILOG = """examples:
  cosim yield models/bmru_flipflop --p 0.02 --spec state --target 1e-4
  cosim yield models/bmru_flipflop --p 0.03 --brute 200000 --json ff_yield.json --plot ff_yield.png"""


def _seeds(seed: int, stream: int, n: int) -> list:
    import numpy as np

    return [int(v) for v in np.random.SeedSequence([seed, stream]).generate_state(n)]


def count_failures(ir, x, kind: str, spec: str, p: float, seeds: list, device: str = "cpu") -> int:
    """Draws (one per seed, mismatch p) that fail `spec` against the nominal circuit."""
    from ..analysis.agreement import decisions
    from ..engine.draws import draw_batch
    from ..engine.model import FastModel

    nom_states, nom_out = FastModel(ir, device=device).run(x)
    nom_dec = decisions(nom_out[0].cpu().numpy(), kind, ir.pool)
    if spec == "decision" and nom_dec is None:
        raise InputError("--spec decision needs a classification task; use --spec state")
    fails = 0
    for i in range(0, len(seeds), CHUNK):
        part = seeds[i:i + CHUNK]
        states, out = FastModel(draw_batch(ir, p, part), device=device).run(x)
        if spec == "state":
            bad = sum((s != n).reshape(len(part), -1).any(1) for s, n in zip(states, nom_states))
            fails += int((bad > 0).sum())
        else:
            out = out.cpu().numpy()
            fails += sum(int((decisions(out[d], kind, ir.pool) != nom_dec).any()) for d in range(len(part)))
    return fails


def run_yield(model, *, p: float, spec: str = "state", scales=(2.0, 2.5, 3.0, 3.5, 4.0),
              runs: int = 4000, brute: int = 0, sequences: int = 8, seed: int = 0, bits: int = 6,
              device: str = "cpu") -> dict:
    """Failure probability of `spec` at mismatch p: scaled-sigma estimate (and brute force)."""
    import numpy as np

    from ..analysis.rare import clopper_pearson, sss_estimate
    from ..hw.source import load_source

    if spec not in SPECS:
        raise InputError(f"--spec must be one of {', '.join(SPECS)}, got {spec!r}")
    if not 0 < p < 1 or any(not (s >= 1 and p * s < 1) for s in scales):
        raise InputError(f"need 0 < p < 1 and scales >= 1 with p * scale < 1 (got p {p}, scales {list(scales)})")
    src = load_source(model, bits=bits)
    x = np.asarray(src.task.x_test[:sequences], np.float64)
    start = time.perf_counter()
    fails = [count_failures(src.ir, x, src.task.kind, spec, p * s, _seeds(seed, k + 1, runs), device)
             for k, s in enumerate(scales)]
    out = {"model": str(model), "spec": spec, "p": p, "sequences": len(x), "seed": seed,
           "sss": sss_estimate(list(scales), fails, [runs] * len(scales), seed=seed)}
    if brute:
        k = count_failures(src.ir, x, src.task.kind, spec, p, _seeds(seed, 0, brute), device)
        out["brute"] = {"fails": k, "runs": brute, "p_fail": k / brute, "ci": list(clopper_pearson(k, brute))}
    out["wall_s"] = time.perf_counter() - start
    return out


def format_yield(r: dict) -> str:
    s = r["sss"]
    lines = [f"{r['model']}: spec '{r['spec']}' at mismatch p = {100 * r['p']:g}% ({r['sequences']} held-out "
             f"sequences, fast engine, {r['wall_s']:.1f} s)"]
    for pt in s["points"]:
        lines.append(f"  scale {pt['scale']:g}: {pt['fails']}/{pt['runs']} fail "
                     f"(P = {pt['p']:.3g}, 95% CI {pt['ci'][0]:.2g}..{pt['ci'][1]:.2g})")
    lines.append(f"  scaled-sigma estimate P_fail = {s['p_fail']:.3g} (95% CI {s['ci'][0]:.3g}..{s['ci'][1]:.3g}), "
                 f"yield {1 - s['p_fail']:.6f}")
    if "brute" in r:
        b = r["brute"]
        lines.append(f"  brute force: {b['fails']}/{b['runs']} fail, P_fail = {b['p_fail']:.3g} "
                     f"(95% CI {b['ci'][0]:.3g}..{b['ci'][1]:.3g})")
    return "\n".join(lines)


def _cmd(args) -> None:
    from ..fileio import atomic_write_text, check_output

    for path, name in ((args.json, "--json"), (args.plot, "--plot")):
        if path:
            check_output(path, name, force=args.force)
    r = run_yield(args.model, p=args.p, spec=args.spec, scales=args.scales, runs=args.runs,
                  brute=args.brute, sequences=args.sequences, seed=args.seed, bits=args.bits,
                  device=args.device)
    print(format_yield(r))
    if args.json:
        atomic_write_text(Path(args.json), json.dumps(r, indent=1))
    if args.plot:
        from ..plots.rare import plot_sss

        plot_sss(r, args.plot)
    if args.target is not None:
        high = r["sss"]["ci"][1]
        if not high < args.target:
            raise CheckFailed(f"failure probability up to {high:.3g} (95% CI) is not below the target "
                              f"{args.target:g}")
        print(f"target met: P_fail < {args.target:g} at 95% confidence")


def _scales(text: str) -> list:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if len(vals) < 3 or any(not v >= 1 for v in vals):
        raise argparse.ArgumentTypeError(f"need >= 3 scales, each >= 1, got {text!r}")
    return vals


def add_cli(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("yield", help="rare-event failure probability under mismatch (scaled-sigma sampling, "
                                     "fast engine)",
                       description=__doc__.split("\n\n")[1], epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="checkpoint folder or .hw.json IR file")
    p.add_argument("--p", type=at.float_range(1e-6, 0.999), default=0.05,
                   help="mismatch at 3 sigma, every device class (0.05 = 5%%)")
    p.add_argument("--spec", choices=SPECS, default="state", help="what counts as a failure (see above)")
    p.add_argument("--scales", type=_scales, default=[2.0, 2.5, 3.0, 3.5, 4.0],
                   help="sigma scales of the sampling (>= 3, each >= 1; p * scale < 1)")
    p.add_argument("--runs", type=at.int_range(100), default=4000, help="draws per scale")
    p.add_argument("--brute", type=at.int_range(0), default=0, help="also count this many plain draws at p")
    p.add_argument("--target", type=at.float_range(1e-15, 1.0), default=None,
                   help="pass when the failure probability's 95%% upper bound is below this")
    p.add_argument("--sequences", type=at.int_range(1), default=8, help="held-out sequences per draw")
    p.add_argument("--seed", type=at.seed, default=0)
    p.add_argument("--bits", type=at.bits, default=6)
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    p.add_argument("--json", default=None, help="write the estimate as JSON here")
    p.add_argument("--plot", default=None, help="write the scaled-sigma figure here (.png, .svg, .pdf)")
    p.add_argument("--force", action="store_true", help="overwrite existing --json / --plot files")
    p.set_defaults(func=_cmd)
    return p
