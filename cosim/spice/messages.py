"""Classify ngspice output: which lines are errors, which are harmless.

ngspice prints notes, warnings, XSPICE info and (through PySpice) an
"Unsupported Ngspice version" line; none of those is an error. An error is
a line reporting a parse failure, a missing file/model/subcircuit, or an
aborted analysis. Non-convergence is a failed run whose log mentions
timestep / singular matrix / convergence trouble.
"""
from __future__ import annotations

import re

__all__ = ["classify", "clean_log", "first_error"]

_CONV = re.compile(
    r"timestep too small|singular matrix|no convergence|convergence problem|"
    r"iteration limit|gmin stepping failed|source stepping failed|op failed|"
    r"transient solution failed|too many iterations",
    re.IGNORECASE)
_ERROR = re.compile(
    r"^\s*(error\b|fatal\b)|error on line|simulation interrupted due to error|"
    r"run simulation\(s\) aborted|could not find|unknown subckt|unknown model|"
    r"unable to find definition|circuit not parsed|there aren't any circuits|"
    r"no such file|cannot open|can't open",
    re.IGNORECASE)
_HARMLESS = re.compile(
    r"^\s*(note:|warning:|unsupported ngspice version|reducing trtol|circuit:|title:|"
    r"using spice|xspice|\*\*)",
    re.IGNORECASE)
_PROGRESS = re.compile(r"\s*(Reference value|%)\s*:\s*[-+0-9.eE]+\s*")


def clean_log(text: str) -> str:
    """Drop ngspice's carriage-return progress fragments ("Reference value : ...")."""
    text = text.replace("\r", "\n")
    text = _PROGRESS.sub(" ", text)
    return "\n".join(ln.rstrip() for ln in text.splitlines() if ln.strip())


def first_error(log: str) -> str | None:
    """First line that reports an error (not a note or warning), or None."""
    lines = [ln for ln in log.splitlines() if ln.strip()]
    for i, ln in enumerate(lines):
        if _HARMLESS.match(ln):
            continue
        if _ERROR.search(ln):
            msg = ln.strip()
            if msg.endswith(":"):  # "Error on line 4 or its substitute:" + 2 detail lines
                msg += " " + " | ".join(x.strip() for x in lines[i + 1:i + 3])
            return msg
    return None


def classify(log: str, have_data: bool) -> tuple[str, str]:
    """Return (kind, message): kind is ``ok``, ``convergence`` or ``error``.

    have_data: whether the driver got a non-empty plot. A run with data and
    no error line is ``ok`` even if the log shows warnings (e.g. "singular
    matrix" during gmin stepping that later succeeded).
    """
    err = first_error(log)
    conv = None
    conv_rank = -1
    for ln in log.splitlines():
        if not _CONV.search(ln) or _HARMLESS.match(ln):
            continue
        low = ln.lower()
        rank = 2 if "timestep too small" in low else (1 if low.lstrip().startswith("error") else 0)
        if rank >= conv_rank:
            conv, conv_rank = ln.strip(), rank
    if conv is None:  # only warnings mention it (e.g. "Warning: singular matrix")
        conv = next((ln.strip() for ln in log.splitlines() if _CONV.search(ln)), None)
    failed = err is not None or not have_data
    if not failed:
        return "ok", ""
    if conv is not None and (err is None or _CONV.search(err) or "aborted" in err.lower()):
        return "convergence", conv
    if err is not None:
        return "error", err
    return "error", "ngspice produced no data"
