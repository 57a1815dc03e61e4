"""Location of the shipped subcircuit library (repository folder circuits/)."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CIRCUITS_DIR", "LIBRARY", "include_line"]

#: circuits/ folder ($COSIM_CIRCUITS overrides; default: next to the package).
CIRCUITS_DIR = Path(os.environ.get("COSIM_CIRCUITS",
                                   Path(__file__).resolve().parents[2] / "circuits"))
#: the behavioral subcircuit library (mirror, bist_*, dpi*).
LIBRARY = CIRCUITS_DIR / "cosim.lib"


def include_line(path: str | Path = LIBRARY) -> str:
    """``.include "<absolute path>"`` line for a netlist.

    ngspice 39 keeps the case of ``.include`` paths (checked), but lower-cases
    file names in ``.model`` lines (e.g. XSPICE filesource): keep those
    lower case."""
    return f'.include "{Path(path).resolve()}"'
