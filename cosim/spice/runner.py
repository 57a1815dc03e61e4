"""run_netlist: the one entry point to ngspice (driver choice, seed, retry)."""
from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import InputError
from .messages import classify
from .netlist_ops import ensure_seed, safer_options
from .result import SimResult, SpiceError

__all__ = ["run_netlist", "DRIVERS"]

DRIVERS = ("subprocess", "shared")


def _run_once(netlist: str, driver: str, timeout_s: float, workdir, threads=None):
    if driver == "subprocess":
        from .subprocess_driver import run_subprocess
        return run_subprocess(netlist, timeout_s, workdir, threads)
    from .shared_driver import run_shared
    if workdir is not None:  # keep the netlist for reference (no raw file in this mode)
        Path(workdir).mkdir(parents=True, exist_ok=True)
        (Path(workdir) / "net.cir").write_text(netlist)
    return run_shared(netlist, timeout_s)


# Lines that would make ngspice run commands (a `.control` block can `shell`).
# cosim never writes them; a netlist holding one was built from unescaped user text.
_ACTIVE = re.compile(r"^\s*(\.control|\.endc|shell\b)", re.IGNORECASE | re.MULTILINE)


def check_inert(netlist: str) -> None:
    """SpiceError if the netlist holds a control block or shell command."""
    m = _ACTIVE.search(netlist)
    if m:
        raise SpiceError(f"refusing to run a netlist with a {m.group(1).strip()!r} line "
                         "(control blocks can run shell commands)", "", kind="error")


def run_netlist(netlist: str, *, driver: str = "subprocess", timeout_s: float = 120.0,
                workdir: str | Path | None = None, seed: int = 0, threads: int | None = None) -> SimResult:
    """Simulate a complete netlist and return its waveforms.

    netlist: full SPICE text (title line, ``.include`` with absolute
        paths, elements, one analysis ``.tran``/``.op``/``.ac``, ``.end``).
    driver: ``"subprocess"`` (``ngspice -b``, raw file read with numpy) or
        ``"shared"`` (libngspice via PySpice, one instance per process).
    timeout_s: wall-clock limit per attempt (s; a retry gets its own); exceeded -> SpiceError
        (kind ``"timeout"``).
    workdir: where the subprocess driver keeps ``net.cir``/``out.raw``
        (default: a temporary directory, removed afterwards); the shared
        driver writes only ``net.cir`` there.
    seed: cosim seed (>= 0), written as ``.options seed=<seed + 1>`` (ngspice
        rejects 0) unless the netlist sets a seed; recorded in the result.
    threads: device-evaluation threads of the subprocess driver's ngspice (None: its
        default, 2). Give 1 when several ngspice run at once: two 2-thread BSIM4 runs on
        2 cores took 12-18x the time of one (the threads spin-wait for each other).

    Non-convergence (timestep too small, singular matrix, ...) triggers one
    retry with ``method=gear``, relaxed ``reltol`` and half the maximum time
    step; if that fails too, SpiceError (kind ``"convergence"``) with the
    log tail. Any other ngspice error or a missing raw file / empty plot
    raises SpiceError at once.
    """
    if driver not in DRIVERS:
        raise InputError(f"driver must be one of {DRIVERS}, got {driver!r}")
    if not (isinstance(timeout_s, (int, float)) and math.isfinite(timeout_s) and timeout_s > 0):
        raise InputError(f"timeout must be a finite number of seconds > 0, got {timeout_s!r}")
    check_inert(netlist)
    text, seed_used = ensure_seed(netlist, seed)
    wall = 0.0
    logs: list[str] = []
    for attempt in (0, 1):
        vecs, plotname, log, w = _run_once(text, driver, timeout_s, workdir, threads)
        wall += w
        logs.append(log if attempt == 0 else "[cosim] retry with safer options\n" + log)
        kind, msg = classify(log, vecs is not None)
        if kind == "ok":
            return SimResult(waveforms=vecs, log="\n".join(logs), wall_s=wall,
                             plotname=plotname, seed=seed_used, driver=driver,
                             retried=attempt == 1, netlist=text)
        if kind != "convergence":
            raise SpiceError(f"ngspice error: {msg}", "\n".join(logs), kind="error")
        if attempt == 0:
            text = safer_options(text)
    raise SpiceError(f"ngspice did not converge, also with safer options "
                     f"(method=gear, smaller maxstep): {msg}", "\n".join(logs),
                     kind="convergence")
