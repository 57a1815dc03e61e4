"""Driver 2: ngspice as a shared library through PySpice's NgSpiceShared.

One library instance per process (ngspice keeps global state); calls are
serialised with a lock. Messages are collected and classified by cosim, not
by PySpice (PySpice 1.5 would raise on harmless ngspice lines).
"""
from __future__ import annotations

import ctypes.util
import logging
import os
import re
import threading
import time

import numpy as np

from .messages import clean_log
from .result import SpiceError

__all__ = ["run_shared", "library_path"]

_LOCK = threading.Lock()
_INSTANCE = None


def library_path() -> str:
    """libngspice to load: $NGSPICE_LIBRARY_PATH, else the bare
    ``libngspice.so`` (libngspice0-dev), else the versioned file that
    ``ctypes.util.find_library('ngspice')`` finds (libngspice0 only)."""
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env:
        return env
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib",
              "/usr/local/lib"):
        p = os.path.join(d, "libngspice.so")
        if os.path.exists(p):
            return p
    found = ctypes.util.find_library("ngspice")
    if found:
        return found
    raise SpiceError("libngspice not found: apt-get install -y libngspice0 "
                     "(or set NGSPICE_LIBRARY_PATH)")


def _instance():
    """The process-wide ngspice shared instance (created on first use)."""
    global _INSTANCE
    if _INSTANCE is not None:
        return _INSTANCE
    pys_logger = logging.getLogger("PySpice")
    old = pys_logger.level
    pys_logger.setLevel(logging.CRITICAL)  # hides "Unsupported Ngspice version"
    try:
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

        class _CosimNgSpice(NgSpiceShared):
            """NgSpiceShared that only records messages (classification is ours)."""

            @staticmethod
            def _send_char(message_c, ngspice_id, user_data):
                self = ffi.from_handle(user_data)
                msg = ffi.string(message_c).decode("utf-8", "replace")
                prefix, _, content = msg.partition(" ")
                self._cosim_log.append(content if prefix in ("stdout", "stderr") else msg)
                return 0

            @staticmethod
            def _exit(exit_status, immediate_unloding, quit_exit, ngspice_id, user_data):
                self = ffi.from_handle(user_data)
                self._cosim_log.append(f"[cosim] ngspice requested exit (status {exit_status})")
                self._cosim_exited = True
                return exit_status

            @staticmethod
            def _background_thread_running(noruns, ngspice_id, user_data):
                self = ffi.from_handle(user_data)
                if noruns:
                    self._cosim_done.set()
                return 0

        _CosimNgSpice.LIBRARY_PATH = library_path()
        _CosimNgSpice._cosim_done = threading.Event()
        _CosimNgSpice._cosim_log = []
        _CosimNgSpice._cosim_exited = False
        inst = _CosimNgSpice(ngspice_id=0, send_data=False)
        inst._cosim_ffi = ffi
    finally:
        pys_logger.setLevel(old)
    _INSTANCE = inst
    return inst


def _cmd(inst, command: str) -> None:
    inst._ngspice_shared.ngSpice_Command(command.encode("ascii"))


_SV_VOLTAGE = 3  # ngspice's vector type code for node voltages


def _vector_name(name: str, vtype: int) -> str:
    """Shared-library vector name -> raw-file name (``out`` -> ``v(out)``,
    ``vs#branch`` -> ``i(vs)``, ``a.x1.a1#branch_1_0`` -> ``i(a.x1.a1)``;
    scale vectors such as ``time`` and ``frequency`` unchanged)."""
    n = name.lower()
    if "(" in n or n.startswith("@"):
        return n
    m = re.match(r"^(.*)#branch(_\d+_\d+)?$", n)
    if m:
        return f"i({m.group(1)})"
    return f"v({n})" if vtype == _SV_VOLTAGE else n


def run_shared(netlist: str, timeout_s: float
               ) -> tuple[dict[str, np.ndarray] | None, str, str, float]:
    """Run one netlist in the shared library; same return as run_subprocess."""
    with _LOCK:
        inst = _instance()
        ffi, lib = inst._cosim_ffi, inst._ngspice_shared
        if inst._cosim_exited:
            raise SpiceError("the ngspice shared library exited earlier in this process; "
                             "use driver='subprocess'")
        inst._cosim_log.clear()
        _cmd(inst, "destroy all")
        _cmd(inst, "remcirc")
        inst._cosim_log.clear()
        lines = [ln for ln in netlist.splitlines() if ln.strip()] + [""]
        keep = [ffi.new("char[]", ln.encode("utf-8")) for ln in lines] + [ffi.NULL]
        arr = ffi.new("char *[]", keep)
        t0 = time.perf_counter()
        lib.ngSpice_Circ(arr)
        log_so_far = "\n".join(inst._cosim_log)
        if re.search(r"circuit not parsed|there aren't any circuits|simulation interrupted",
                     log_so_far, re.IGNORECASE):
            return None, "", clean_log(log_so_far), time.perf_counter() - t0
        plots_before = set(_plot_names(inst))
        inst._cosim_done.clear()
        _cmd(inst, "bg_run")
        deadline = t0 + timeout_s
        idle = 0
        while not inst._cosim_done.wait(0.005):
            # bg_run may refuse to start (nothing to run): no thread, no callback
            idle = 0 if lib.ngSpice_running() else idle + 1
            if idle > 100:
                break
            if time.perf_counter() > deadline:
                _cmd(inst, "bg_halt")
                inst._cosim_done.wait(5.0)
                log = clean_log("\n".join(inst._cosim_log))
                _cmd(inst, "destroy all")
                raise SpiceError(f"ngspice timed out after {timeout_s:g} s (halted after "
                                 f"{time.perf_counter() - t0:.1f} s wall)", log, kind="timeout")
        wall = time.perf_counter() - t0
        log = clean_log("\n".join(inst._cosim_log))
        names = _plot_names(inst)
        new = [p for p in names if p not in plots_before and p != "const"]
        if not new:
            return None, "", log, wall
        plot = new[0]  # ngSpice_AllPlots lists the newest first
        vecs, plotname = _read_plot(inst, plot)
        _cmd(inst, "destroy all")
        if not vecs or max(len(v) for v in vecs.values()) == 0:
            return None, plotname, log, wall
        return vecs, plotname, log, wall


def _plot_names(inst) -> list[str]:
    ffi, lib = inst._cosim_ffi, inst._ngspice_shared
    arr = lib.ngSpice_AllPlots()
    out, i = [], 0
    while arr[i] != ffi.NULL:
        out.append(ffi.string(arr[i]).decode())
        i += 1
    return out


_PLOT_TITLES = {"tran": "Transient Analysis", "op": "Operating Point", "dc": "DC transfer characteristic",
                "ac": "AC Analysis", "noise": "Noise Spectral Density Curves"}


def _read_plot(inst, plot: str) -> tuple[dict[str, np.ndarray], str]:
    ffi, lib = inst._cosim_ffi, inst._ngspice_shared
    arr = lib.ngSpice_AllVecs(plot.encode())
    vecs: dict[str, np.ndarray] = {}
    i = 0
    while arr[i] != ffi.NULL:
        vname = ffi.string(arr[i]).decode()
        i += 1
        info = lib.ngGet_Vec_Info(f"{plot}.{vname}".encode())
        if info == ffi.NULL:
            continue
        n = info.v_length
        if info.v_realdata != ffi.NULL:
            a = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
        elif info.v_compdata != ffi.NULL:
            c = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.float64)
            a = c[0::2] + 1j * c[1::2]
            if info.v_type != _SV_VOLTAGE and "#" not in vname:
                a = a.real.copy()
        else:
            continue
        vecs[_vector_name(vname, info.v_type)] = a
    kind = re.sub(r"\d+$", "", plot)
    return vecs, _PLOT_TITLES.get(kind, plot)
