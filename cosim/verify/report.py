"""`cosim verify`: export + simulate + compare for one model, written as a report.

Runs, on the quantized hardware IR of a checkpoint: hysteresis sweeps of every
cell, the fixed-point diagram of one cell, the ladder staircase of every CMRU
channel, end-to-end agreement on held-out task sequences, the same state
agreement on a seeded adversarial input suite (random inputs over the
training range, candidates near thresholds, sign changes of beta), and the
margin report (distance of every candidate to its nearest threshold on the
test split; quantized and float IR). State agreement is tie-aware: a step
whose margin is inside the circuit's switching ramp is a tie, reported apart;
acceptance is on the other steps. Writes report.json, the plots (PNG) and the
ngspice logs into the output folder, then exits 3 when a check failed. With
--html also report.html, one self-contained page of it all (cosim/verify/html.py).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import CheckFailed, InputError

# The simulation, torch and matplotlib imports live in the functions that use
# them, so that `cosim --help` (which registers this command) stays light.

HYSTERESIS_GOAL = 0.02      # switching-point error, fraction of the hysteresis width
LADDER_GOAL = 0.01          # level error, fraction of alpha


def _hysteresis(ir, out: Path, timeout_s: float = 120.0) -> dict:
    from .hysteresis import hysteresis, plot

    cells, worst = [], 0.0
    for l in range(len(ir.layers)):
        results = hysteresis(ir, l, timeout_s=timeout_s)
        for r in results:
            cells.append(r.to_dict())
            errs = [r.err_up, r.err_down]
            worst = max(worst, *(abs(e) if e is not None else float("inf") for e in errs))
        plot(results, out / f"hysteresis_l{l}.png")
    return {"cells": cells, "max_error_frac": worst, "ok": worst <= HYSTERESIS_GOAL}


def _fixedpoints(ir, out: Path, timeout_s: float = 120.0) -> dict:
    from ..hw.kinds import get_kind
    from ..hw.windows import cell_window
    from .fixedpoints import fixedpoints, format_summary, plot

    layer = ir.layers[0]
    # first-quadrant cells: the widest window shows best; others: channel 0
    first_quadrant = get_kind(layer.kind).first_quadrant
    widths = [cell_window(ir, 0, c).width if first_quadrant else 1.0 for c in range(layer.n)]
    channel = max(range(layer.n), key=lambda c: widths[c])
    r = fixedpoints(ir, 0, channel, timeout_s=timeout_s)
    plot(r, out / f"fixedpoints_l0_c{channel}.png", ir)
    return {**r.to_dict(), "summary": format_summary(r, ir.timing.i_unit_a).splitlines()[0]}


def _ladders(ir, out: Path, timeout_s: float = 120.0) -> dict:
    from ..hw.kinds import get_kind
    from ..plots.ladder import plot_ladder
    from .ladder import run_ladder

    results = []
    for l, layer in enumerate(ir.layers):
        if not get_kind(layer.kind).has_ladder:
            continue
        for c in range(layer.n):
            r, trace = run_ladder(ir, l, c, timeout_s=timeout_s)
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


PARTS = ("hysteresis", "fixedpoints", "ladder", "agreement", "adversarial", "margins")


def failed_checks(report: dict) -> list:
    """Names of the checks in `report` whose "ok" is false."""
    return [k for k in PARTS if isinstance(report.get(k), dict) and report[k].get("ok") is False] + \
        (["fixed points"] if report.get("fixedpoints") and not report["fixedpoints"].get("unstable_exact", True)
         else [])


def verify_model(model_dir, out_dir, *, n_sequences: int = 20, bits: int = 6, seed: int = 0,
                 progress: bool = True, parts=PARTS, timeout_s: float = 600.0,
                 adversarial_per_family: int = 4, adversarial_steps: int = 64, command: str | None = None) -> dict:
    """Run the checks on `model_dir` and write `out_dir`/report.json; returns the report.
    timeout_s: limit of each ngspice run (s); command: the command line, recorded as is."""
    from ..analysis.margins import margin_report
    from ..hw.mapping import model_to_ir
    from ..hw.source import load_source
    from ..models.train import evaluate
    from ..plots.agreement import plot_state_traces
    from .adversarial import run_adversarial
    from .agreement import run_agreement

    if n_sequences < 1:
        raise InputError("--sequences must be >= 1")
    if not timeout_s > 0:
        raise InputError(f"--timeout must be > 0 seconds, got {timeout_s:g}")
    src = load_source(model_dir, bits)
    ir, task, model = src.ir, src.task, src.model
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = ir.name
    ir.save(out / f"{name}.hw.json")
    report = {"model": str(model_dir), "bits": ir.quantization.get("bits"), "seed": seed,
              "ir": f"{name}.hw.json"}
    if command:
        report["command"] = command
    if "hysteresis" in parts:
        report["hysteresis"] = _hysteresis(ir, out, timeout_s)
    if "fixedpoints" in parts:
        report["fixedpoints"] = _fixedpoints(ir, out, timeout_s)
    if "ladder" in parts:
        report["ladder"] = _ladders(ir, out, timeout_s)
    if "agreement" in parts:
        x, y = task.x_test[:n_sequences], task.y_test[:n_sequences]
        float_score = evaluate(model, task, x, y) if model is not None else None   # an IR file: no float model
        res, states, ref = run_agreement(ir, x, y, task.kind, float_score, seed=seed,
                                         log_dir=out / "logs", progress=progress, timeout_s=timeout_s)
        report["agreement"] = {**res.to_dict(), "ok": res.n_disagreements == 0
                               and res.decision_agreement in (None, 1.0)}
        plot_state_traces(states[0][0], ref.layers[0].state[0], ir.timing.dt_s,
                          out / "states_seq0_l0.png",
                          f"{name}: layer 0 states, sequence 0 (circuit vs software)")
    if "adversarial" in parts:
        report["adversarial"] = run_adversarial(ir, task.x_train, seed=seed, per_family=adversarial_per_family,
                                                T=adversarial_steps, timeout_s=timeout_s,
                                                log_dir=out / "logs")
    if "margins" in parts:
        float_ir = model_to_ir(model, src.doc, bits=None, name=name)[0] if model is not None else None
        report["margins"] = {"quantized": margin_report(ir, task.x_test),
                             "float": margin_report(float_ir, task.x_test) if float_ir else None}
    report["plots"] = sorted(p.name for p in out.glob("*.png"))
    tmp = out / ".report.json.tmp"
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(out / "report.json")
    return report


def format_report(report: dict, out_dir) -> str:
    from ..analysis.margins import format_margins

    """The short printed table of a verify run."""
    rows = [f"verify {report['model']} ({report['bits']} bits) -> {Path(out_dir) / 'report.json'}",
            f"  {'check':<22}{'result':<62}{'goal':<8}"]

    def row(check, result, goal="", ok=None):
        status = "" if ok is None else ("ok" if ok else "FAIL")
        rows.append(f"  {check:<22}{result:<62} {goal:<8}{status}")

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
        row("state agreement", f"{_ties(a)}, {a['sequences']} seq x {a['steps']} steps", "100%", a["ok"])
        row("output current error", f"max {a['output_error_max']:.3g} nA ({a['output_error_max'] / max(a['output_scale'], 1e-30):.2%} "
            f"of the largest output), mean {a['output_error_mean']:.3g} nA")
        if a.get("decision_agreement") is not None:
            row("decisions = software", f"{a['decision_agreement']:.2%}")
        fs = "" if a["float_score"] is None else f", float {a['float_score']:.4f}"
        row(f"task {a['metric']}", f"circuit {a['circuit_score']:.4f}, software {a['software_score']:.4f}{fs}")
        for d in a["disagreements"][:5]:
            rows.append(f"    disagreement: seq {d['sequence']} step {d['step']} layer {d['layer']} "
                        f"ch {d['channel']}: circuit {d['circuit']:g} vs {d['software']:g}, margin {d['margin']:.3g}"
                        f" ({d.get('kind', 'disagree')})")
    adv = report.get("adversarial")
    if adv:
        fams = ", ".join(f"{k} {v['n_disagreements']}" for k, v in adv["families"].items())
        row("adversarial states", f"{_ties(adv)}", "100%", adv["ok"])
        rows.append(f"  {'':<22}{adv['per_family']} seq x {adv['steps']} steps per family, seed {adv['seed']}; "
                    f"disagreements: {fams}")
    m = report.get("margins")
    if m:
        for line in format_margins(m["quantized"]):
            rows.append(f"  {'margin':<22}{line}")
        for line in format_margins(m["float"]) if m["float"] else []:
            rows.append(f"  {'margin (float IR)':<22}{line}")
    return "\n".join(rows)


def _ties(a: dict) -> str:
    """agree / tie / disagree counts of a (tie-aware) state agreement."""
    ties = a.get("n_ties", 0)
    after = a.get("n_after_tie", 0)
    down = a.get("n_downstream", 0)
    return (f"{100 * a.get('agreement_non_tie', a['state_agreement']):.3f}% of non-tie steps; "
            f"{a.get('n_agree', '?')} agree, {ties} ties ({a.get('n_tie_differ', 0)} differ"
            f"{f', {after} after a tie' if after else ''}), "
            f"{f'{down} downstream of a differing cell, ' if down else ''}{a['n_disagreements']} disagree")


EPILOG = """examples:
  cosim verify models/cmru_counting --out reports/cmru_counting
  cosim verify models/schmitt_digits --sequences 50 --out reports/digits
  cosim verify models/bmru_flipflop --html --out reports/ff     # + reports/ff/report.html, one page
  cosim verify models/bmru_flipflop --level transistor --corners tt,ss,ff --temps=-20,27,85 --vdds 1.62,1.8,1.98 --out reports/ff_sky130"""


def check_report_folder(out, force: bool) -> None:
    """Before any work: `out` is a new or empty folder, or --force replaces its report."""
    from ..errors import InputError
    from ..fileio import check_output

    out = Path(out)
    check_output(out, "--out", kind="dir")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"--out {out}: the folder is not empty; add --force to overwrite its report")


def command_line(argv=None) -> str | None:
    """The `cosim verify ...` command line (shell-quoted) from sys.argv; None when cosim was
    called from Python (main(argv)), where sys.argv is another program's."""
    import shlex
    import sys

    argv = sys.argv[1:] if argv is None else argv
    return "cosim " + shlex.join(argv) if argv[:1] == ["verify"] else None


def _html(args) -> None:
    if args.html:
        from .html import render_html

        print(f"  page: {render_html(args.out)}")


def _cmd_verify(args) -> None:
    check_report_folder(args.out, args.force)
    command = command_line()
    if args.level == "transistor":
        from .transistor import format_report as format_transistor, verify_transistor

        report = verify_transistor(args.model, args.out, n_sequences=args.sequences, bits=args.bits,
                                   corners=args.corners, temps=args.temps, vdds=args.vdds, jobs=args.jobs,
                                   calib=args.calib, sigma_target=args.sigma_target,
                                   timeout_s=args.timeout or 3600.0, max_step_s=args.max_step,
                                   banks=args.banks, progress=None if args.quiet else print, command=command)
        print(format_transistor(report))
        _html(args)
        if not report["ok"]:
            bad = [f"{e['corner']}/{e['vdd_v']:g} V/{e['temp_c']:g} C" for e in report["matrix"] if not e["ok"]]
            raise CheckFailed(f"transistor agreement below goal at {', '.join(bad)} "
                              f"(report written to {Path(args.out) / 'report.json'})")
        return
    report = verify_model(args.model, args.out, n_sequences=args.sequences, bits=args.bits,
                          seed=args.seed, progress=not args.quiet, timeout_s=args.timeout or 600.0, command=command)
    print(format_report(report, args.out))
    print(f"  plots: {', '.join(report['plots'])}")
    _html(args)
    failed = failed_checks(report)
    if failed:
        raise CheckFailed(f"{', '.join(failed)} (report written to {Path(args.out) / 'report.json'})")


def add_cli(sub):
    """Register `verify` on an argparse subparsers object."""
    import argparse

    from .. import argtypes as at
    from ..limits import VDD_RANGE

    p = sub.add_parser("verify", help="export + simulate + compare a model end to end; report and plots",
                       description=__doc__, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="checkpoint folder (quantized with --bits) or an exported .hw.json IR file")
    p.add_argument("--out", required=True, help="report folder (report.json, PNG plots, ngspice logs)")
    p.add_argument("--force", action="store_true", help="overwrite the report in a non-empty --out folder")
    p.add_argument("--sequences", type=at.int_range(1, 10_000), default=20,
                   help="held-out sequences for the agreement check")
    p.add_argument("--bits", type=at.bits, default=6, help="quantization bits (2-16)")
    p.add_argument("--seed", type=at.seed, default=0, help="ngspice seed (recorded)")
    p.add_argument("--timeout", type=at.timeout_s, default=None,
                   help="time limit of each ngspice run (s, > 0; default 600, 3600 at --level transistor: a "
                        "256-step counter channel with its register ladder takes over 600 s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--html", action="store_true",
                   help="also write report.html: one self-contained page (figures embedded, no script)")
    p.add_argument("--level", choices=["behavioral", "transistor"], default="behavioral",
                   help="transistor: the cells at transistor level (sky130, calibrated), each "
                        "corner x temperature against the software cell (agreement only)")
    p.add_argument("--corners", type=at.choice_list(("tt", "ss", "ff", "sf", "fs")), default=["tt"],
                   help="process corners of --level transistor, comma-separated (default tt)")
    p.add_argument("--temps", type=at.float_list(-40, 125), default=[27.0],
                   help="temperatures (°C) of --level transistor, comma-separated; write --temps=-20,27 "
                        "when the first is negative (default 27)")
    p.add_argument("--vdds", type=at.float_list(*VDD_RANGE), default=[1.8],
                   help="supply voltages (V) of --level transistor, comma-separated (default 1.8; the "
                        "biases stay at their calibrated currents)")
    p.add_argument("--jobs", type=at.int_range(1, 256), default=None,
                   help="ngspice runs in parallel for --level transistor (default: cores, at most 4)")
    p.add_argument("--calib", default=None, help="calibration JSON (default: calib/sky130_tt_27c.json)")
    p.add_argument("--sigma-target", type=at.float_range(1e-4, 0.5), default=0.05,
                   help="mismatch budget that sizes the transistor cells (fraction)")
    p.add_argument("--max-step", type=at.float_range(1e-7, 1e-2), default=None,
                   help="largest transient time step of --level transistor (s; default: ngspice's own "
                        "control). A check on an entry whose differences sit far from any threshold")
    p.add_argument("--banks", choices=("behavioral", "transistor"), default="behavioral",
                   help="mirror banks of --level transistor: ideal sums, or sky130 mirrors, each bank "
                        "simulated alone (the cells then see what the banks deliver; whole-model power)")
    p.set_defaults(func=_cmd_verify)
    return p
