"""run_netlist: the one entry point to ngspice (driver choice, seed, retry)."""
from __future__ import annotations

from pathlib import Path

from .messages import classify
from .netlist_ops import ensure_seed, safer_options
from .result import SimResult, SpiceError

__all__ = ["run_netlist", "DRIVERS"]

DRIVERS = ("subprocess", "shared")


def _run_once(netlist: str, driver: str, timeout_s: float, workdir):
    if driver == "subprocess":
        from .subprocess_driver import run_subprocess
        return run_subprocess(netlist, timeout_s, workdir)
    from .shared_driver import run_shared
    if workdir is not None:  # keep the netlist for reference (no raw file in this mode)
        Path(workdir).mkdir(parents=True, exist_ok=True)
        (Path(workdir) / "net.cir").write_text(netlist)
    return run_shared(netlist, timeout_s)


def run_netlist(netlist: str, *, driver: str = "subprocess", timeout_s: float = 120.0,
                workdir: str | Path | None = None, seed: int = 0) -> SimResult:
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

    Non-convergence (timestep too small, singular matrix, ...) triggers one
    retry with ``method=gear``, relaxed ``reltol`` and half the maximum time
    step; if that fails too, SpiceError (kind ``"convergence"``) with the
    log tail. Any other ngspice error or a missing raw file / empty plot
    raises SpiceError at once.
    """
    if driver not in DRIVERS:
        raise ValueError(f"driver must be one of {DRIVERS}, got {driver!r}")
    text, seed_used = ensure_seed(netlist, seed)
    wall = 0.0
    logs: list[str] = []
    for attempt in (0, 1):
        vecs, plotname, log, w = _run_once(text, driver, timeout_s, workdir)
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
