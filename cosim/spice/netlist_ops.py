"""Small text transforms on complete SPICE netlists (no parsing of devices)."""
from __future__ import annotations

import re

from ..errors import InputError

__all__ = ["parse_number", "insert_before_end", "ensure_seed",
           "safer_options", "format_number"]

_SUFFIX = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "mil": 25.4e-6,
           "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}
_NUM = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(meg|mil|[tgkmunpf])?[a-z]*$",
                  re.IGNORECASE)
_END = re.compile(r"^\s*\.end\s*$", re.IGNORECASE)


def parse_number(tok: str) -> float:
    """SPICE number with optional scale suffix: '10u' -> 1e-05, '1meg' -> 1e6."""
    m = _NUM.match(tok.strip())
    if not m:
        raise InputError(f"not a SPICE number: {tok!r}")
    val = float(m.group(1))
    if m.group(2):
        val *= _SUFFIX[m.group(2).lower()]
    return val


def format_number(x: float) -> str:
    """Short plain notation (12 significant digits), e.g. 5e-07."""
    return f"{x:.12g}"


def _logical_lines(netlist: str) -> list[str]:
    """Join '+' continuation lines (for searching only)."""
    out: list[str] = []
    for ln in netlist.splitlines():
        if ln.lstrip().startswith("+") and out:
            out[-1] += " " + ln.lstrip()[1:]
        else:
            out.append(ln)
    return out


def insert_before_end(netlist: str, lines: list[str]) -> str:
    """Insert ``lines`` just before the final ``.end`` (appending one if absent)."""
    rows = netlist.rstrip("\n").splitlines()
    for i in range(len(rows) - 1, -1, -1):
        if _END.match(rows[i]):
            return "\n".join(rows[:i] + lines + rows[i:]) + "\n"
    return "\n".join(rows + lines + [".end"]) + "\n"


def ensure_seed(netlist: str, seed: int) -> tuple[str, int]:
    """Add ``.options seed=<seed + 1>`` unless the netlist sets a seed.

    ngspice rejects ``seed=0``, so cosim seed s maps to ngspice option
    seed s + 1 (s >= 0). Returns (netlist, cosim seed in effect; for a seed
    already in the netlist, its value minus 1). ngspice 39 uses the option
    for its random functions; ``trrandom`` needs ``set rndseed`` instead.
    """
    if int(seed) < 0:
        raise InputError(f"seed must be >= 0, got {seed}")
    for ln in _logical_lines(netlist):
        s = ln.strip()
        if re.match(r"^\.options?\b", s, re.IGNORECASE):
            m = re.search(r"(?:^|\s)seed\s*=\s*(\S+)", s, re.IGNORECASE)
            if m:
                try:
                    return netlist, int(parse_number(m.group(1))) - 1
                except ValueError:
                    return netlist, int(seed)
    return insert_before_end(netlist, [f"* cosim seed {int(seed)} (ngspice option seed = seed + 1)",
                                       f".options seed={int(seed) + 1}"]), int(seed)


def safer_options(netlist: str, maxstep_factor: float = 0.5) -> str:
    """Netlist for the non-convergence retry.

    Adds ``.options method=gear reltol=2e-3 itl1=500 itl4=100 gminsteps=20
    srcsteps=20`` (later options override earlier ones) and shrinks the
    ``.tran`` maximum step to ``maxstep_factor`` times the one in effect
    (given TMAX, else ngspice's default min(TSTEP, (TSTOP-TSTART)/50)).
    """
    rows = netlist.splitlines()
    for i, ln in enumerate(rows):
        toks = ln.split()
        if not toks or toks[0].lower() != ".tran":
            continue
        args = toks[1:]
        flags = [a for a in args if a.lower() == "uic"]
        nums = [a for a in args if a.lower() != "uic"]
        try:
            vals = [parse_number(a) for a in nums]
        except ValueError:
            break  # expressions: leave the analysis line alone
        if len(vals) < 2:
            break
        tstep, tstop = vals[0], vals[1]
        tstart = vals[2] if len(vals) > 2 else 0.0
        tmax = vals[3] if len(vals) > 3 else min(tstep, (tstop - tstart) / 50)
        new = [nums[0], nums[1], format_number(tstart), format_number(tmax * maxstep_factor)]
        rows[i] = " ".join([toks[0]] + new + flags)
        break
    text = "\n".join(rows) + "\n"
    return insert_before_end(text, [
        "* cosim retry after non-convergence: safer integration options",
        ".options method=gear reltol=2e-3 itl1=500 itl4=100 gminsteps=20 srcsteps=20",
    ])
