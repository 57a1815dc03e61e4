"""Netlists from the hardware IR (PySpice), stimulus, structural graph checks, export."""
from .builder import Netlist, Probes, build_netlist
from .graph import NetlistCheckError, check_netlist

__all__ = ["build_netlist", "Netlist", "Probes", "check_netlist",
           "NetlistCheckError"]
