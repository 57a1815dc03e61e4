"""Driver 1: ``ngspice -b -r out.raw net.cir`` in a child process.

Crash-isolated and parallel-safe (one process per run, 10-30 ms start-up).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from .messages import clean_log
from .rawfile import RawFileError, read_raw
from .result import SpiceError

__all__ = ["run_subprocess", "ngspice_executable"]


def ngspice_executable() -> str:
    """Path of the ngspice binary ($NGSPICE overrides); SpiceError if absent."""
    exe = os.environ.get("NGSPICE") or shutil.which("ngspice")
    if not exe:
        raise SpiceError("ngspice executable not found: install the Debian package "
                         "'ngspice' (apt-get install -y ngspice) or set $NGSPICE")
    return exe


def run_subprocess(netlist: str, timeout_s: float, workdir: str | Path | None, threads: int | None = None
                   ) -> tuple[dict[str, np.ndarray] | None, str, str, float]:
    """Run one netlist; return (vectors or None, plotname, log, wall seconds).

    vectors is None when no raw file / no plot could be read (the caller
    classifies the log). Raises SpiceError on timeout (process killed).
    Files: ``net.cir`` and ``out.raw`` in ``workdir`` (kept) or in a
    temporary directory (removed). threads: ngspice's device-evaluation threads,
    set through a ``.spiceinit`` in the working folder (None: $COSIM_NGSPICE_THREADS,
    else ngspice's default).
    """
    exe = ngspice_executable()
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="cosim_ngspice_")
        wd = Path(tmp.name)
    else:
        wd = Path(workdir)
        wd.mkdir(parents=True, exist_ok=True)
    try:
        cir, raw = wd / "net.cir", wd / "out.raw"
        raw.unlink(missing_ok=True)
        cir.write_text(netlist)
        threads = threads if threads is not None else os.environ.get("COSIM_NGSPICE_THREADS")
        if threads is not None:
            (wd / ".spiceinit").write_text(f"set num_threads={int(threads)}\n")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([exe, "-b", "-r", str(raw.resolve()), str(cir.resolve())],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, cwd=wd,   # side files (bsim4v5.out) stay there
                                  timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:  # run() has killed the child
            wall = time.perf_counter() - t0
            log = clean_log((exc.stdout or b"").decode("utf-8", "replace"))
            raise SpiceError(f"ngspice timed out after {timeout_s:g} s (killed after "
                             f"{wall:.1f} s wall)", log, kind="timeout") from None
        wall = time.perf_counter() - t0
        log = clean_log(proc.stdout.decode("utf-8", "replace"))
        if proc.returncode != 0:
            log += f"\n[cosim] ngspice exit status {proc.returncode}"
        try:
            plots = read_raw(raw)
        except RawFileError as exc:
            return None, "", log + f"\n[cosim] {exc}", wall
        plot = plots[-1]
        if plot.n_points == 0 or proc.returncode != 0:
            return None, plot.plotname, log, wall
        vecs = {k: np.asarray(v) for k, v in plot.vectors.items()}
        return vecs, plot.plotname, log, wall
    finally:
        if tmp is not None:
            tmp.cleanup()
