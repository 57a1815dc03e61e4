"""One self-contained HTML page of a verify report (`cosim verify --html`): `render(report, folder)` turns a
report.json dict (behavioral or `--level transistor`) and its folder into the page (figures as base64 PNG data
URIs, inline CSS, no script, no external URL, every report or path string escaped); `render_html(folder)` writes
folder/report.html from folder/report.json (atomically), so a finished report renders again without simulating.
"""
from __future__ import annotations

import base64
import html
import json
import re
import shlex
from pathlib import Path

from ..errors import InputError
from ..fileio import atomic_write_text
from .figure_commands import figure_commands, model_arg, read_json
from .report import failed_checks

SECTIONS = ("model", "hysteresis", "fixedpoints", "ladder", "agreement", "margins", "montecarlo",
            "power", "commands")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_CSS = ("body{font:15px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1120px;color:#1d2330;padding:0 16px}"
        "h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;border-bottom:2px solid #c9d3e3;margin-top:30px}"
        "h3{font-size:15px;margin:16px 0 6px}table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}"
        "th,td{border:1px solid #cfd6e0;padding:3px 8px;text-align:left;vertical-align:top}th{background:#eef2f8}"
        "td.n{text-align:right}.ok{color:#13702d;font-weight:600}.fail{color:#b3121f;font-weight:600}"
        ".absent{color:#5b6475;font-style:italic}figure{margin:10px 0 18px}figure img{max-width:100%}"
        "figcaption{font-size:12px;color:#4a5365}code{background:#f2f4f8;padding:1px 4px;word-break:break-all}"
        "nav a{margin-right:10px}")


def e(value) -> str:
    """Escaped text of any value (None -> dash)."""
    return "–" if value is None else html.escape(str(value), quote=True)


def _num(v, fmt: str = ".4g", scale: float = 1.0, unit: str = "") -> str:
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    return e(f"{v * scale:{fmt}}{unit}") if number else e(v)


def _pct(v, fmt: str = ".3f") -> str:
    return _num(v, fmt, 100.0, "%")


def _ok(ok) -> str:
    return "–" if ok is None else ('<span class="ok">ok</span>' if ok else '<span class="fail">FAIL</span>')


def _table(headers, rows) -> str:
    """Plain cells are escaped here; a 1-tuple (markup,) is a number cell built (escaped) in this module."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="n">{c[0]}</td>' if isinstance(c, tuple) else f"<td>{e(c)}</td>"
                                    for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _p(text: str, cls: str = "") -> str:
    """A paragraph of already-escaped markup."""
    return f'<p class="{cls}">{text}</p>' if cls else f"<p>{text}</p>"


def _nat(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _figures(folder: Path, pattern: str, commands: dict) -> str:
    """Every PNG of `folder` matching `pattern` (natural order) as an embedded figure."""
    out = []
    for path in sorted(folder.glob(pattern), key=lambda p: _nat(p.name)):
        if path.is_symlink() or not path.is_file() or not (data := path.read_bytes()).startswith(_PNG_MAGIC):
            continue
        cmd = commands.get(path.name)
        cap = e(path.name) + (f": <code>{e(cmd)}</code>" if cmd else "")
        out.append(f'<figure><img alt="{e(path.name)}" src="data:image/png;base64,'
                   f'{base64.b64encode(data).decode("ascii")}"><figcaption>{cap}</figcaption></figure>')
    return "".join(out)


def _absent(report: dict, what: str) -> str:
    return _p(f"{e(what)} {'not run at transistor level' if _transistor(report) else 'not in this report'}.", "absent")


def _transistor(report: dict) -> bool:
    return report.get("level") == "transistor"


def _sec_model(report: dict, folder: Path, _cmds) -> str:
    q = [("level", report.get("level", "behavioral"))] + [
        (k, report[k]) for k in ("model", "bits", "seed", "pdk", "calibration", "sigma_target", "task", "sequences",
                                 "steps") if report.get(k) is not None]
    parts = [_table(["field", "value"], q)]
    name = report.get("ir")
    ir = read_json(folder / name) if isinstance(name, str) and Path(name).name == name else None
    if ir is None:
        why = "the transistor report keeps no hardware IR" if _transistor(report) else "no IR file beside the report"
        parts.append(_p(f"Layers and weight statistics not shown: {e(why)}.", "absent"))
        if levels := ((report.get("matrix") or [{}])[0].get("levels") or {}):
            parts.append(_p(e("Blocks: " + ", ".join(f"{k}: {v}" for k, v in levels.items()) + "; mirrors behavioral")))
        return "".join(parts)
    qz, t = ir.get("quantization") or {}, ir.get("timing") or {}
    parts.append(_p(f"IR <code>{e(report.get('ir'))}</code>: {e(ir.get('n_inputs'))} inputs, "
                    f"{e(ir.get('n_outputs'))} outputs, {len(ir.get('layers') or [])} layer(s); "
                    f"quantization {e(qz.get('bits'))} bits, per channel {e(qz.get('per_channel'))}, "
                    f"largest mirror gain {e(qz.get('gain_max'))}; step {_num(t.get('dt_s'), '.3g', 1e3, ' ms')}, "
                    f"1 unit = {_num(t.get('i_unit_a'), '.3g', 1e9, ' nA')}."))
    rows = []
    for name, kind, branch, blk in _weight_blocks(ir):
        gains = blk.get("gains") or [[]]
        g, bias = _numbers(v for row in gains for v in row), _numbers(blk.get("bias") or [])
        rows.append([name, kind, branch, f"{len(gains)} x {len(gains[0])}", (str(len(g)),),
                     (_num(min(g, default=None)),), (_num(max(g, default=None)),),
                     (_num(sum(abs(v) for v in g) / len(g) if g else None),), (str(len(set(g))),),
                     (_num(min(bias, default=None)) + " .. " + _num(max(bias, default=None)),)])
    parts.append(_table(["layer", "kind", "branch", "out x in", "weights", "min", "max", "mean |w|",
                         "distinct values", "bias range (units)"], rows))
    return "".join(parts)


def _numbers(values) -> list:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _weight_blocks(ir: dict):
    for l, layer in enumerate(ir.get("layers") or []):
        for branch in ("candidate", "threshold"):
            if isinstance(layer.get(branch), dict):
                yield f"layer {l}", layer.get("kind"), branch, layer[branch]
    for name in ("proj", "readout"):
        if isinstance(ir.get(name), dict):
            yield name, "", "gains", ir[name]


def _sec_hysteresis(report: dict, folder: Path, cmds) -> str:
    h = report.get("hysteresis")
    if not h:
        return _absent(report, "The hysteresis sweep was")
    rows = [[c.get("layer"), c.get("channel"), c.get("kind"), (_num(c.get("expected_up")),),
             (_num(c.get("measured_up")),), (_pct(c.get("err_up"), ".2f"),), (_num(c.get("expected_down")),),
             (_num(c.get("measured_down")),), (_pct(c.get("err_down"), ".2f"),), c.get("note") or ""]
            for c in h.get("cells", [])]
    return (_p(f"{len(h.get('cells', []))} cells, largest switching-point error {_pct(h.get('max_error_frac'), '.2f')} "
               f"of the hysteresis width (goal ≤ 2%): {_ok(h.get('ok'))}. Thresholds in units of the IR.")
            + _table(["layer", "ch", "kind", "up expected", "up measured", "up error (% width)", "down expected",
                      "down measured", "down error (% width)", "note"], rows)
            + _figures(folder, "hysteresis_*.png", cmds))


def _sec_fixedpoints(report: dict, folder: Path, cmds) -> str:
    fp = report.get("fixedpoints")
    if not fp:
        return _absent(report, "The fixed-point diagram was")
    c = fp.get("circuit") or {}
    return (_p(f"Layer {e(fp.get('layer'))} channel {e(fp.get('channel'))} ({e(fp.get('kind'))}): "
               f"{e(fp.get('summary', ''))}. Unstable branch = [β1, β2] = [{_num(fp.get('beta1'))}, "
               f"{_num(fp.get('beta2'))}] units: {_ok(fp.get('unstable_exact'))}; circuit folds "
               f"{_pct(c.get('fold_err_up'), '+.2f')} / {_pct(c.get('fold_err_down'), '+.2f')} of the width.")
            + _figures(folder, "fixedpoints_*.png", cmds))


def _sec_ladder(report: dict, folder: Path, cmds) -> str:
    lad = report.get("ladder")
    if lad == {}:
        return _p("No CMRU layer in this model: there is no ladder to check.", "absent")
    if not lad:
        return _absent(report, "The CMRU ladder check was")
    rows = [[ch.get("layer"), ch.get("channel"), ch.get("K"), (_pct(ch.get("max_level_error_frac")),),
             (_ok(ch.get("exact_rungs")),), (_ok(ch.get("saturates_top")),), (_ok(ch.get("saturates_bottom")),),
             len(ch.get("wrong_steps") or [])] for ch in lad.get("channels", [])]
    return (_p(f"Largest level error {_pct(lad.get('max_level_error_frac'))} of α (goal ≤ 1%): {_ok(lad['ok'])}.")
            + _table(["layer", "ch", "K", "max level error (% α)", "exact rungs", "saturates +K", "saturates −K",
                      "wrong steps"], rows) + _figures(folder, "ladder_*.png", cmds))


def _counts(a: dict) -> list:
    return [(e(a.get("states")),), (e(a.get("n_agree")),), (e(a.get("n_ties", 0)),),
            (e(a.get("n_tie_differ", 0)),), (e(a.get("n_downstream", 0)),), (e(a.get("n_disagreements")),),
            (_pct(a.get("agreement_non_tie", a.get("state_agreement"))),)]


def _sec_agreement(report: dict, folder: Path, cmds) -> str:
    if _transistor(report):
        return _matrix(report, folder, cmds)
    a, adv, parts = report.get("agreement"), report.get("adversarial"), []
    head = ["states", "agree", "ties", "ties that differ", "downstream", "disagree", "agreement (non-tie steps)"]
    if a:
        ratio = a["output_error_max"] / max(a["output_scale"], 1e-30) if "output_error_max" in a else None
        parts += ["<h3>Nominal: held-out task sequences</h3>", _p(
            f"{e(a.get('sequences'))} sequences x {e(a.get('steps'))} steps: {_ok(a.get('ok'))}."),
            _table(head, [_counts(a)]),
            _table(["output error max (units)", "of largest output", "decisions = software",
                    f"circuit {a.get('metric', 'score')}", "software", "float"],
                   [[(_num(a.get("output_error_max"), ".3g"),), (_pct(ratio, ".2f"),),
                     (_pct(a.get("decision_agreement"), ".2f"),), (_num(a.get("circuit_score")),),
                     (_num(a.get("software_score")),), (_num(a.get("float_score")),)]]),
            _disagreements(a.get("disagreements") or []), _figures(folder, "states_*.png", cmds)]
    else:
        parts.append(_absent(report, "The nominal agreement check was"))
    if adv:
        parts += ["<h3>Adversarial suite</h3>", _p(
            f"{e(adv.get('per_family'))} sequences x {e(adv.get('steps'))} steps per family, "
            f"seed {e(adv.get('seed'))}: {_ok(adv.get('ok'))}."),
            _table(["family"] + head, [[k] + _counts(v) for k, v in (adv.get("families") or {}).items()])]
    else:
        parts.append(_absent(report, "The adversarial suite was"))
    return "".join(parts)


def _disagreements(ds: list, n: int = 20) -> str:
    rows = [[d.get("sequence"), d.get("step"), d.get("layer"), d.get("channel"), (_num(d.get("circuit")),),
             (_num(d.get("software")),), (_num(d.get("margin"), ".3g"),), d.get("kind", "disagree")]
            for d in ds[:n]]
    return (_p(f"First {len(rows)} of {len(ds)} listed state differences:") + _table(
        ["seq", "step", "layer", "ch", "circuit", "software", "margin (units)", "kind"], rows)) if rows else ""


def _vdd(entry: dict) -> str:
    """An entry's supply (reports written before the supply axis ran at 1.8 V)."""
    return _num(entry.get("vdd_v", 1.8), "g", 1, " V")


def _matrix(report: dict, folder: Path, cmds) -> str:
    m = report.get("matrix") or []
    if not m:
        return _p("The corner x supply x temperature matrix is empty (the run stopped before its first entry).",
                  "absent")
    rows = [[x.get("corner"), (_vdd(x),), (_num(x.get("temp_c"), "g", 1, " °C"),),
             (_pct(x.get("state_agreement"), ".2f"),), (_pct(x.get("agreement_non_tie"), ".2f"),),
             (e(x.get("n_disagreements")),), (e(x.get("n_downstream", 0)),), (e(x.get("n_ties")),),
             (_pct(x.get("decision_agreement"), ".1f"),), (_num(x.get("circuit_score")),),
             (_num(x.get("software_score")),), (_ok(x.get("ok")),), (_num(x.get("wall_s"), ".0f", 1, " s"),)]
            for x in m]
    cells = [[x.get("corner"), (_vdd(x),), (_num(x.get("temp_c"), "g"),), c.get("layer"), c.get("channel"),
              (e(c.get("count")),), (_num(c.get("margin_median"), ".3g"),),
              (_pct(c.get("margin_median_of_window"), ".2g"),)]
             for x in m for c in (x.get("cells") or [])[:3]]
    return (_p(f"Corner x supply x temperature matrix, {e(report.get('sequences'))} sequences x "
               f"{e(report.get('steps'))} steps each, against the software cell: {_ok(report.get('ok'))}.")
            + _table(["corner", "supply", "temperature", "states", "non-tie steps", "disagree", "downstream", "ties",
                      "decisions", "circuit score", "software", "", "wall"], rows)
            + (_p("Cells that disagree most (up to 3 per entry):") + _table(
                ["corner", "V", "°C", "layer", "ch", "steps", "median margin (units)", "of window"], cells)
                * bool(cells))
            + _figures(folder, "transistor_matrix.png", cmds)
            + _p("Held-out task sequences only: the adversarial suite is not run at transistor level.", "absent"))


def _sec_margins(report: dict, folder: Path, _cmds) -> str:
    m = report.get("margins")
    if not m:
        return _absent(report, "The margin report was")
    parts = []
    for label, rep in (("quantized IR", m.get("quantized")), ("float IR", m.get("float"))):
        if not rep:
            parts.append(_p(f"{e(label)}: not available (no float model, e.g. an IR file was verified).", "absent"))
            continue
        rows = []
        for d in rep.get("layers", []):
            u, w = d.get("margin_units") or {}, d.get("margin_pct_width") or {}
            rows.append([d.get("layer"), d.get("kind"), (e(d.get("cell_steps")),)] +
                        [(_num(u.get(k), ".3g"),) for k in ("p0", "p1", "p5", "p50")] +
                        [(_num(w.get(k), ".2f"),) for k in ("p1", "p5", "p50")] +
                        [(e(d.get("ties")),), (_pct(d.get("tie_fraction")),),
                         ", ".join(str(c) for c in (d.get("channels_with_ties") or [])[:8])])
        parts.append(f"<h3>{e(label)}</h3>" + _p(
            f"Distance of every candidate to its nearest threshold, {e(rep.get('sequences'))} test sequences x "
            f"{e(rep.get('steps'))} steps, in units and in % of the window width.") + _table(
            ["layer", "kind", "cell-steps", "min", "p1", "p5", "median", "p1 %w", "p5 %w", "median %w",
             "tie steps", "ties", "channels with ties"], rows))
    return "".join(parts)


def _sec_montecarlo(report: dict, folder: Path, _cmds) -> str:
    """From report["montecarlo"], or the summary.json of a study in folder/montecarlo or folder."""
    found = [(report["montecarlo"], folder)] if isinstance(report.get("montecarlo"), dict) else []
    found += [(s, d) for d in (folder / "montecarlo", folder) if "runs" in (s := read_json(d / "summary.json") or {})]
    s, where = found[0] if found else (None, None)
    if s is None:
        cmd = f"cosim montecarlo {model_arg(report)} --runs 200 --out {shlex.quote(str(folder / 'montecarlo'))}"
        return _p(f"No Monte Carlo study in this folder; run one with <code>{e(cmd)}</code> "
                  "and render the page again.", "absent")
    rows = [[k, (_num(v.get("mean")),), (_num(v.get("std"), ".3g"),), (_num(v.get("p5")),), (_num(v.get("p50")),),
             (_num(v.get("p95")),), (_num(v.get("min")),), (_num(v.get("max")),)]
            for k in ("circuit_score", "software_score", "agreement_software", "agreement_nominal", "state_flips")
            if isinstance(v := s.get(k), dict)]
    mm = s.get("mismatch")
    mm_txt = ", ".join(f"{e(k)} {_pct(v, '.1f')}" for k, v in mm.items()) if isinstance(mm, dict) else e(mm)
    return (_p(f"{e(s.get('succeeded'))} of {e(s.get('runs'))} runs succeeded ({e(s.get('engine', ''))} engine); "
               f"yield {_pct(s.get('yield_circuit'), '.1f')} (circuit within 1 point of the nominal "
               f"{e(s.get('metric', 'score'))} {_num(s.get('nominal_circuit_score'))}), software "
               f"{_pct(s.get('yield_software'), '.1f')}; mismatch {mm_txt}; noise {_num(s.get('noise_na'), 'g')} nA.")
            + _table(["quantity", "mean", "std", "p5", "median", "p95", "min", "max"], rows)
            + _figures(where, "*_hist.png", {}))


def _sec_power(report: dict, folder: Path, cmds) -> str:
    """Measured (transistor report), the analytical estimate (power.json of `cosim power --out`), plots."""
    m, pj = report.get("matrix") or [], read_json(folder / "power.json") or {}
    rows = [[x.get("corner"), (_vdd(x),), (_num(x.get("temp_c"), "g", 1, " °C"),), (_num(p.get("total_nw"), ".3g"),)]
            + [(f"{_num(q.get('mean_nw'), '.3g')} ({_num(q.get('cell_nw_min'), '.3g')}–"
                f"{_num(q.get('cell_nw_max'), '.3g')})",) for q in p.get("per_layer") or []]
            + [(_num(p.get(k), ".3g"),) for k in ("energy_per_step_pj", "energy_per_sequence_nj",
                                                   "estimate_over_measured")]
            for x in m if isinstance(p := x.get("power"), dict)]
    head = (["corner", "supply", "temperature", "cells (nW)"] + [f"layer {i} nW (per cell)" for i in range(
        max((len(r) for r in rows), default=7) - 7)] + ["energy per step (pJ)", "per sequence (nJ)", "estimate / this"])
    parts = [_p("Measured supply power of the transistor-level cells (the mirror banks are not in these "
                "columns; <code>cosim power --level transistor</code> measures them too), "
                "mean over the held-out sequences; energy of one inference.") + _table(head, rows) if rows else
             _p(f"No transistor-level measurement: <code>cosim verify {e(model_arg(report))} --level transistor "
                "--out DIR</code> measures the cells.", "absent")]
    est, tr = pj.get("estimate") or report.get("power_estimate"), pj.get("transistor") or {}
    if isinstance(est, dict):
        trl = tr.get("cells_nw_per_layer") or []
        blocks = [(f"layer {i} cells", v, trl[i] if i < len(trl) else None)
                  for i, v in enumerate(est.get("cells_nw_per_layer") or [])]
        trb = tr.get("banks_nw") or {}
        blocks += [(f"mirror bank {k}", v, trb.get(k)) for k, v in (est.get("banks_nw") or {}).items()]
        blocks += [("whole model", est.get("total_nw"), tr.get("total_nw"))]
        parts.append(_p(f"Analytical estimate ({e(pj.get('calibration', report.get('calibration')))} models, "
                        f"{'power.json' if pj else 'this report'}): {_num(est.get('energy_per_sequence_nj'), '.3g')}"
                        " nJ per inference; the transistor run simulates the cells and each mirror bank alone.")
                     + _table(["block", "estimate (nW)", "transistor (nW)"],
                              [[b, (_num(v, ".3g"),), (_num(t, ".3g"),)] for b, v, t in blocks]))
    else:
        parts.append(_p(f"No power estimate; <code>cosim power {e(model_arg(report))} --out "
                        f"{e(shlex.quote(str(folder)))}</code> writes one (power.json and its plots).", "absent"))
    return "".join(parts) + _figures(folder, "power_breakdown.png", cmds) + _figures(folder, "power_time.png", cmds)


def _sec_commands(report: dict, folder: Path, cmds) -> str:
    cmd = report.get("command")
    again = "python -c " + shlex.quote(f"import cosim.verify.html as h; h.render_html({json.dumps(str(folder))})")
    parts = [_p(f"This report: <code>{e(cmd)}</code>" if cmd else
                "The command line of this report was not recorded (reports written before "
                "<code>cosim verify</code> kept it).", "" if cmd else "absent"),
             _p(f"This page again, without re-simulating: <code>{e(again)}</code>")]
    table = _table(["figure", "command"], [[n, cmds[n]] for n in sorted(cmds, key=_nat)]) if cmds else ""
    return "".join(parts) + table


TITLES = {"model": "Model and quantization", "hysteresis": "Hysteresis loops", "fixedpoints": "Fixed points",
          "ladder": "CMRU ladder", "agreement": "Agreement with the software cell", "margins": "Margin report",
          "montecarlo": "Monte Carlo yield", "power": "Power", "commands": "Commands"}


def _section(name: str, report: dict, folder: Path, cmds: dict) -> str:
    """One section's body; a report too malformed for it says so instead of stopping the page."""
    try:
        return globals()[f"_sec_{name}"](report, folder, cmds)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return _p(f"This section could not be read from the report ({e(type(exc).__name__)}: {e(exc)}).", "fail")


def render(report: dict, folder) -> str:
    """The page's HTML text for `report` (a report.json dict) whose figures lie in `folder`."""
    folder = Path(folder)
    cmds = figure_commands(report, folder)
    level = "transistor level (sky130)" if _transistor(report) else "behavioral circuits"
    failed = [] if _transistor(report) else failed_checks(report)
    ok = report.get("ok") if _transistor(report) else not failed
    verdict = _ok(ok) + (e(f" ({', '.join(failed)})") if failed else "")
    body = "".join(f'<section id="{s}"><h2>{e(TITLES[s])}</h2>{_section(s, report, folder, cmds)}</section>'
                   for s in SECTIONS)
    nav = "".join(f'<a href="#{s}">{e(TITLES[s])}</a>' for s in SECTIONS)
    title = f"cosim verify: {report.get('model', '?')}"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>"
            f"<p>{e(level)}, {e(report.get('bits'))} bits; checks: {verdict}</p><nav>{nav}</nav>{body}</body></html>\n")


def render_html(report_dir) -> Path:
    """Write report_dir/report.html from report_dir/report.json (atomic); returns its path."""
    folder = Path(report_dir)
    if (report := read_json(folder / "report.json")) is None:
        raise InputError(f"{folder}: no readable report.json")
    return atomic_write_text(folder / "report.html", render(report, folder))
