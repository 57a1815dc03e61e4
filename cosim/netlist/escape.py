"""User text that reaches netlist text (titles, comments) made inert.

A netlist is line-oriented: a newline in a model name would start a new line,
which ngspice reads as an element or a control command (`.include`, `.control`
with `shell`). Titles keep printable ASCII only, on one line, shortened.
"""
from __future__ import annotations

MAX_TITLE = 200


def safe_title(text: str) -> str:
    """`text` as one printable-ASCII line (others -> '?'), at most MAX_TITLE characters."""
    clean = "".join(ch if " " <= ch <= "~" else "?" for ch in str(text))
    return clean[:MAX_TITLE] or "cosim"
