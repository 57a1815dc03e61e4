"""cosim.spice: the only module that talks to ngspice.

    run_netlist(netlist, driver="subprocess"|"shared", timeout_s, workdir, seed)
        -> SimResult(waveforms={"time": ..., "v(node)": ..., "i(vsrc)": ...},
                     log, wall_s, ...)

Raises SpiceError (one-line summary + log tail) on errors, non-convergence
(after one retry with safer options) and timeouts. Use the subprocess driver
for parallel or crash-isolated runs (one process each); the shared driver
holds one libngspice instance per process, serialised by a lock. Subcircuit library:
``LIBRARY`` (circuits/cosim.lib); CMRU ladders: ``ladder_subckt``.
"""
from .result import SimResult, SpiceError
from .runner import DRIVERS, run_netlist
from .library import CIRCUITS_DIR, LIBRARY, include_line
from .ladder import ladder_subckt, ladder_timing

__all__ = ["run_netlist", "SpiceError", "SimResult", "DRIVERS", "CIRCUITS_DIR",
           "LIBRARY", "include_line", "ladder_subckt", "ladder_timing"]
