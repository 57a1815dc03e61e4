"""Netlists from the hardware IR (PySpice), stimulus, structural graph checks, export."""
from .builder import Netlist, Probes, build_netlist, replace_analysis
from .graph import NetlistCheckError, check_netlist

__all__ = ["build_netlist", "replace_analysis", "Netlist", "Probes", "check_netlist",
           "NetlistCheckError"]
