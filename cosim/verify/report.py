"""`cosim verify`: export + simulate + compare for one model, written as a report.

Runs, on the quantized hardware IR of a checkpoint: hysteresis sweeps of every
cell, the fixed-point diagram of one cell, the ladder staircase of every CMRU
channel, and end-to-end agreement on held-out task sequences. Writes
report.json, the plots (PNG) and the ngspice logs into the output folder.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..hw.mapping import model_to_ir
from ..models import checkpoint
from ..models.recipe import task_from_config
from ..models.train import evaluate
from ..plots.agreement import plot_state_traces
from ..plots.ladder import plot_ladder
from .agreement import run_agreement
from .ladder import run_ladder

HYSTERESIS_GOAL = 0.02      # switching-point error, fraction of the hysteresis width
LADDER_GOAL = 0.01          # level error, fraction of alpha


def _hysteresis(ir, out: Path) -> dict:
    from .hysteresis import hysteresis, plot

    cells, worst = [], 0.0
    for l in range(len(ir.layers)):
        results = hysteresis(ir, l)
        for r in results:
            cells.append(r.to_dict())
            errs = [r.err_up, r.err_down]
            worst = max(worst, *(abs(e) if e is not None else float("inf") for e in errs))
        plot(results, out / f"hysteresis_l{l}.png")
    return {"cells": cells, "max_error_frac": worst, "ok": worst <= HYSTERESIS_GOAL}


def _fixedpoints(ir, out: Path) -> dict:
    from .fixedpoints import fixedpoints, format_summary, plot

    layer = ir.layers[0]
    widths = [b for b in (layer.delta or [])] if layer.kind == "schmitt" else [1.0] * layer.n
    channel = max(range(layer.n), key=lambda c: widths[c])   # the widest window shows best
    r = fixedpoints(ir, 0, channel)
    plot(r, out / f"fixedpoints_l0_c{channel}.png", ir)
    return {**r.to_dict(), "summary": format_summary(r, ir.timing.i_unit_a).splitlines()[0]}


def _ladders(ir, out: Path) -> dict:
    results = []
    for l, layer in enumerate(ir.layers):
        if layer.kind != "cmru":
            continue
        for c in range(layer.n):
            r, trace = run_ladder(ir, l, c)
            results.append({"layer": l, "channel": c, **r.to_dict()})
            if c == 0:
                plot_ladder(trace, out / f"ladder_l{l}_c{c}.png",
                            f"CMRU ladder, {ir.name} layer {l} channel {c} (K = {r.K})")
    if not results:
        return {}
    worst = max(r["max_level_error_frac"] for r in results)
    ok = worst <= LADDER_GOAL and all(r["exact_rungs"] and r["saturates_top"] and r["saturates_bottom"]
                                      for r in results)
    return {"channels": results, "max_level_error_frac": worst, "ok": ok}


def verify_model(model_dir, out_dir, *, n_sequences: int = 20, bits: int = 6, seed: int = 0,
                 progress: bool = True, parts=("hysteresis", "fixedpoints", "ladder", "agreement")) -> dict:
    """Run the checks on `model_dir` and write `out_dir`/report.json; returns the report."""
    if n_sequences < 1:
        raise ValueError("--sequences must be >= 1")
    model, doc = checkpoint.load(model_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = Path(model_dir).name
    ir, _ = model_to_ir(model, doc, bits=bits, name=name, source=str(model_dir))
    ir.save(out / f"{name}.hw.json")
    task = task_from_config(doc)
    report = {"model": str(model_dir), "bits": bits, "seed": seed, "ir": f"{name}.hw.json"}
    if "hysteresis" in parts:
        report["hysteresis"] = _hysteresis(ir, out)
    if "fixedpoints" in parts:
        report["fixedpoints"] = _fixedpoints(ir, out)
    if "ladder" in parts:
        report["ladder"] = _ladders(ir, out)
    if "agreement" in parts:
        x, y = task.x_test[:n_sequences], task.y_test[:n_sequences]
        float_score = evaluate(model, task, x, y)
        res, states, ref = run_agreement(ir, x, y, task.kind, float_score, seed=seed,
                                         log_dir=out / "logs", progress=progress)
        report["agreement"] = {**res.to_dict(), "ok": res.n_disagreements == 0
                               and res.decision_agreement in (None, 1.0)}
        plot_state_traces(states[0][0], ref.layers[0].state[0], ir.timing.dt_s,
                          out / "states_seq0_l0.png",
                          f"{name}: layer 0 states, sequence 0 (circuit vs software)")
    report["plots"] = sorted(p.name for p in out.glob("*.png"))
    tmp = out / ".report.json.tmp"
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(out / "report.json")
    return report


def format_report(report: dict, out_dir) -> str:
    """The short printed table of a verify run."""
    rows = [f"verify {report['model']} ({report['bits']} bits) -> {Path(out_dir) / 'report.json'}",
            f"  {'check':<22}{'result':<62}{'goal':<8}"]

    def row(check, result, goal="", ok=None):
        status = "" if ok is None else ("ok" if ok else "FAIL")
        rows.append(f"  {check:<22}{result:<62}{goal:<8}{status}")

    h = report.get("hysteresis")
    if h:
        row("hysteresis", f"{len(h['cells'])} cells, max error {100 * h['max_error_frac']:.2f}% of width",
            "<= 2%", h["ok"])
    fp = report.get("fixedpoints")
    if fp:
        c = fp.get("circuit") or {}
        row("fixed points", f"l{fp['layer']} ch {fp['channel']}: unstable branch = [beta1, beta2]: "
            f"{fp['unstable_exact']}; folds {100 * (c.get('fold_err_up') or 0):+.2f}% / "
            f"{100 * (c.get('fold_err_down') or 0):+.2f}% of width", "", fp["unstable_exact"])
    lad = report.get("ladder")
    if lad:
        K = lad["channels"][0]["K"]
        row("ladder", f"{len(lad['channels'])} channels, max level error "
            f"{100 * lad['max_level_error_frac']:.3f}% of alpha, saturates at +-{K}", "<= 1%", lad["ok"])
    a = report.get("agreement")
    if a:
        row("state agreement", f"{100 * a['state_agreement']:.3f}% ({a['n_disagreements']} disagreements), "
            f"{a['sequences']} seq x {a['steps']} steps", "100%", a["ok"])
        row("output current error", f"max {a['output_error_max']:.3g} nA ({a['output_error_max'] / max(a['output_scale'], 1e-30):.2%} "
            f"of the largest output), mean {a['output_error_mean']:.3g} nA")
        if a.get("decision_agreement") is not None:
            row("decisions = software", f"{a['decision_agreement']:.2%}")
        fs = "" if a["float_score"] is None else f", float {a['float_score']:.4f}"
        row(f"task {a['metric']}", f"circuit {a['circuit_score']:.4f}, software {a['software_score']:.4f}{fs}")
        for d in a["disagreements"][:5]:
            rows.append(f"    disagreement: seq {d['sequence']} step {d['step']} layer {d['layer']} "
                        f"ch {d['channel']}: circuit {d['circuit']:g} vs {d['software']:g}, margin {d['margin']:.3g}")
    return "\n".join(rows)


EPILOG = """examples:
  cosim verify models/cmru_counting --out reports/cmru_counting
  cosim verify models/schmitt_digits --sequences 50 --out reports/digits"""


def _cmd_verify(args) -> None:
    report = verify_model(args.model, args.out, n_sequences=args.sequences, bits=args.bits,
                          seed=args.seed, progress=not args.quiet)
    print(format_report(report, args.out))
    print(f"  plots: {', '.join(report['plots'])}")


def add_cli(sub):
    """Register `verify` on an argparse subparsers object."""
    import argparse

    p = sub.add_parser("verify", help="export + simulate + compare a model end to end; report and plots",
                       description=__doc__, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="checkpoint folder")
    p.add_argument("--out", required=True, help="report folder (report.json, PNG plots, ngspice logs)")
    p.add_argument("--sequences", type=int, default=20, help="held-out sequences for the agreement check")
    p.add_argument("--bits", type=int, default=6, help="quantization bits (2-16)")
    p.add_argument("--seed", type=int, default=0, help="ngspice seed (recorded)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_verify)
    return p
