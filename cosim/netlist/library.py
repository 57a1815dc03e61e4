"""The shipped subcircuit library (repository folder circuits/): location and ports."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["CIRCUITS_DIR", "LIBRARY", "Library", "behavioral_library", "read_library", "include_line"]

#: circuits/ folder ($COSIM_CIRCUITS overrides; default: next to the package).
CIRCUITS_DIR = Path(os.environ.get("COSIM_CIRCUITS",
                                   Path(__file__).resolve().parents[2] / "circuits"))
#: the behavioral subcircuit library (mirror, bist_*, dpi*, track_hold), ngspice dialect.
LIBRARY = CIRCUITS_DIR / "cosim.lib"


@dataclass(frozen=True)
class Library:
    """A subcircuit library file: ports (name -> port names) from its `.subckt` lines."""
    path: Path
    ports: dict
    dialect: str = "ngspice"

    def text(self) -> str:
        return self.path.read_text()


@lru_cache(maxsize=None)
def read_library(path: Path) -> Library:
    """A subcircuit library file with the ports of each `.subckt` (cached per path)."""
    ports = {}
    for line in path.read_text().splitlines():
        tok = line.split()
        if tok and tok[0].lower() == ".subckt":
            ports[tok[1].lower()] = tuple(t.lower() for t in tok[2:] if "=" not in t)
    return Library(path, ports)


def behavioral_library() -> Library:
    """circuits/cosim.lib with the ports of each of its subcircuits."""
    return read_library(LIBRARY)


def include_line(path: str | Path = LIBRARY) -> str:
    """``.include "<absolute path>"`` line for a netlist.

    ngspice 39 keeps the case of ``.include`` paths (checked), but lower-cases
    file names in ``.model`` lines (e.g. XSPICE filesource): keep those
    lower case."""
    return f'.include "{Path(path).resolve()}"'
