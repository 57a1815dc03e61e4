"""Result and error types shared by both ngspice drivers."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SimResult", "SpiceError", "log_tail"]


def log_tail(log: str, n: int = 20) -> str:
    """Last ``n`` non-empty lines of an ngspice log."""
    lines = [ln for ln in log.splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


class SpiceError(RuntimeError):
    """ngspice failed: parse error, non-convergence, timeout or no data.

    ``str(err)`` is a one-line summary, a blank line, then the last ~20
    lines of the ngspice log. ``err.kind`` is one of ``"error"``,
    ``"convergence"``, ``"timeout"``, ``"no-data"``; ``err.log`` is the whole
    log.
    """

    def __init__(self, summary: str, log: str = "", kind: str = "error"):
        self.summary = summary.strip().splitlines()[0] if summary.strip() else "ngspice failed"
        self.log = log
        self.kind = kind
        tail = log_tail(log)
        msg = self.summary + ("\n\nlast lines of the ngspice log:\n" + tail if tail else "")
        super().__init__(msg)


@dataclass
class SimResult:
    """Waveforms of one ngspice analysis.

    waveforms: vector name -> 1-D float64 array of length n_points. Names are
        lower case, as ngspice writes them in a raw file:
        ``time`` (transient scale, s), ``v(node)`` (V; subcircuit-internal
        nodes as ``v(x1.node)``), ``i(vname)`` (A; branch current of a voltage
        source, positive when flowing from its + node through the source to
        its - node; sources inside subcircuits as ``i(v.x1.vs)``, other
        branch devices as ``i(h.x1.h1)``, ``i(a.x1.a1)``).
    log: full ngspice output (stdout + stderr; progress lines removed).
    wall_s: wall-clock seconds of the ngspice run(s), retries included.
    plotname: ngspice plot name, e.g. ``Transient Analysis``.
    seed: value of ``.options seed`` used.  driver: which driver ran it.
    retried: True if a non-convergence retry with safer options was needed.
    netlist: the netlist text actually simulated (after option insertion).
    """

    waveforms: dict[str, np.ndarray]
    log: str
    wall_s: float
    plotname: str = ""
    seed: int = 0
    driver: str = "subprocess"
    retried: bool = False
    netlist: str = field(default="", repr=False)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.waveforms[name.lower()]

    @property
    def time(self) -> np.ndarray:
        """Transient time axis (s), shape (n_points,)."""
        return self.waveforms["time"]

    def voltage(self, node: str) -> np.ndarray:
        """Voltage of ``node`` (V); ``node`` may be ``x1.u`` for internal nodes."""
        key = f"v({node.lower()})"
        if key not in self.waveforms:
            raise KeyError(f"no vector {key!r}; have {sorted(self.waveforms)[:20]}")
        return self.waveforms[key]

    def current(self, source: str) -> np.ndarray:
        """Branch current (A) of voltage source ``source`` (e.g. a 0 V sense).

        Top-level source ``vout`` -> ``i(vout)``; a source ``vs`` inside
        instance ``x1`` may be given as ``v.x1.vs`` or ``x1.vs``. Positive
        when current enters the source's + node (first node) from the
        circuit, i.e. for ``vout out 0 0`` the current delivered into ``out``.
        """
        s = source.lower()
        cands = [f"i({s})"]
        if "." in s and not s.startswith("v."):
            cands.append(f"i(v.{s})")
        for c in cands:
            if c in self.waveforms:
                return self.waveforms[c]
        raise KeyError(f"no branch current for {source!r} (tried {cands}); "
                       f"have {sorted(k for k in self.waveforms if k.startswith('i('))[:20]}")

    def sample(self, name: str, t: np.ndarray | float) -> np.ndarray:
        """Linear interpolation of vector ``name`` at times ``t`` (s)."""
        return np.interp(t, self.time, self[name])
