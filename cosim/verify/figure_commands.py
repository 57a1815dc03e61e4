"""The figure commands of a verify report's folder (`figure_commands`) and the small readers
the HTML page (verify.html) shares with it."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path


def read_json(path: Path):
    """The JSON object in `path`, or None (missing, unreadable, not an object)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def model_arg(report: dict) -> str:
    return shlex.quote(str(report.get("model", "MODEL")))


def figure_commands(report: dict, folder: Path) -> dict:
    """{figure file name: command that makes it} for the figures of `folder`."""
    model, bits = model_arg(report), report.get("bits")
    b = f" --bits {bits}" if isinstance(bits, int) else ""
    own = report.get("command") or "the cosim verify run above"
    pj, cmds = read_json(folder / "power.json") or {}, {}
    for p in folder.glob("*.png"):
        n, out = p.name, shlex.quote(str(p))
        if m := re.fullmatch(r"hysteresis_l(\d+)\.png", n):
            cmds[n] = f"cosim hysteresis {model} --layer {m[1]}{b} --out {out}"
        elif m := re.fullmatch(r"fixedpoints_l(\d+)_c(\d+)\.png", n):
            cmds[n] = f"cosim fixedpoints {model} --layer {m[1]} --channel {m[2]}{b} --out {out}"
        elif re.fullmatch(r"(ladder_l\d+_c\d+|states_seq\d+_l\d+|transistor_matrix)\.png", n):
            cmds[n] = own
        elif n in ("power_breakdown.png", "power_time.png"):
            cmds[n] = (f"cosim power {shlex.quote(str(pj.get('model', report.get('model', 'MODEL'))))} --level "
                       f"{pj.get('level', 'behavioral')} --sequences {pj.get('sequences', 20)} "
                       f"--out {shlex.quote(str(folder))}")
    return cmds
