"""cosim.spice: the only module that talks to ngspice.

    run_netlist(netlist, driver="subprocess"|"shared", timeout_s, workdir, seed)
        -> SimResult(waveforms={"time": ..., "v(node)": ..., "i(vsrc)": ...},
                     log, wall_s, ...)

Raises SpiceError (one-line summary + log tail) on errors, non-convergence
(after one retry with safer options) and timeouts. Use the subprocess driver
for parallel or crash-isolated runs (one process each); the shared driver
holds one libngspice instance per process, serialised by a lock. Netlist text
(the subcircuit library, CMRU ladders) is made in `cosim.netlist`.
"""
from .result import SimResult, SpiceError
from .runner import DRIVERS, run_netlist

__all__ = ["run_netlist", "SpiceError", "SimResult", "DRIVERS"]
