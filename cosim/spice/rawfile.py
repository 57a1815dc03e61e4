"""Reader for ngspice raw files (binary or ASCII, real or complex data).

ngspice writes ``-r out.raw`` as text header lines followed by ``Binary:``
(little-endian float64, point-major: for each point one value per variable,
two for complex data) or ``Values:`` (ASCII). A file can hold several plots
one after the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["RawPlot", "read_raw", "RawFileError"]


class RawFileError(ValueError):
    """The raw file is missing, truncated or not in ngspice's raw format."""


@dataclass
class RawPlot:
    """One plot of a raw file.

    ``vectors`` maps each variable name exactly as in the header (ngspice
    writes them lower case: ``time``, ``v(out)``, ``i(vsense)``) to a 1-D
    array of length ``n_points`` (float64, or complex128 for complex plots).
    """

    title: str
    plotname: str
    flags: str
    vectors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        return len(next(iter(self.vectors.values()))) if self.vectors else 0


def _readline(buf: bytes, pos: int) -> tuple[str, int]:
    end = buf.find(b"\n", pos)
    if end < 0:
        raise RawFileError("raw file truncated inside its header")
    return buf[pos:end].decode("latin-1").rstrip("\r"), end + 1


def _parse_plot(buf: bytes, pos: int) -> tuple[RawPlot, int]:
    head: dict[str, str] = {}
    names: list[str] = []
    types: list[str] = []
    while True:
        line, pos = _readline(buf, pos)
        if not line.strip():
            continue
        key, _, val = line.partition(":")
        key = key.strip().lower()
        if key == "variables":
            nvar = int(head.get("no. variables", "0"))
            if val.strip():  # some writers put the first variable on this line
                raise RawFileError("unsupported raw variable layout")
            for _ in range(nvar):
                vline, pos = _readline(buf, pos)
                parts = vline.split()
                if len(parts) < 3:
                    raise RawFileError(f"bad variable line {vline!r}")
                names.append(parts[1].lower())
                types.append(parts[2].lower())
        elif key in ("binary", "values"):
            break
        else:
            head[key] = val.strip()
    nvar = len(names)
    if nvar == 0:
        raise RawFileError("raw plot has no variables")
    flags = head.get("flags", "real").lower()
    is_complex = "complex" in flags
    npts = int(head.get("no. points", "0") or 0)
    width = 2 if is_complex else 1
    if key == "binary":
        row = 8 * nvar * width
        avail = (len(buf) - pos) // row
        # ngspice rewrites "No. Points" at the end; an aborted run can leave
        # it stale, so trust the bytes when the header disagrees.
        if npts <= 0 or npts > avail:
            npts = avail
        data = np.frombuffer(buf, dtype="<f8", count=npts * nvar * width, offset=pos)
        data = data.reshape(npts, nvar * width)
        pos += npts * row
        if is_complex:
            data = data[:, 0::2] + 1j * data[:, 1::2]
    else:  # ASCII "Values:" block: "idx<tab>v0" then one value per line
        rows = []
        for _ in range(npts):
            toks: list[str] = []
            while len(toks) < nvar + 1:
                if pos >= len(buf):
                    break
                line, pos = _readline(buf, pos) if buf.find(b"\n", pos) >= 0 else (
                    buf[pos:].decode("latin-1"), len(buf))
                toks += line.split()
            if len(toks) < nvar + 1:
                break  # truncated run: keep the complete points
            vals = toks[1:nvar + 1]
            if is_complex:
                rows.append([complex(*map(float, v.split(","))) for v in vals])
            else:
                rows.append([float(v) for v in vals])
        npts = len(rows)
        data = np.array(rows, dtype=complex if is_complex else float).reshape(npts, nvar)
    plot = RawPlot(title=head.get("title", ""), plotname=head.get("plotname", ""), flags=flags)
    for j, (n, t) in enumerate(zip(names, types)):
        col = np.array(data[:, j])
        if is_complex and j == 0 and t in ("frequency", "time"):
            col = col.real.copy()  # scale vector: imaginary part is noise
        plot.vectors[n] = col
    return plot, pos


def read_raw(path: str | Path) -> list[RawPlot]:
    """Read every plot of an ngspice raw file; raises RawFileError."""
    p = Path(path)
    if not p.is_file():
        raise RawFileError(f"raw file {p} was not written")
    buf = p.read_bytes()
    if not buf.strip():
        raise RawFileError(f"raw file {p} is empty")
    plots: list[RawPlot] = []
    pos = 0
    while pos < len(buf):
        # skip whitespace between plots
        while pos < len(buf) and buf[pos:pos + 1] in (b"\n", b"\r", b" ", b"\t"):
            pos += 1
        if pos >= len(buf):
            break
        plot, pos = _parse_plot(buf, pos)
        plots.append(plot)
    if not plots:
        raise RawFileError(f"raw file {p} holds no plot")
    return plots
