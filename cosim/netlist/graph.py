"""Structural checks of a circuit (netlist.circuit) as a networkx graph (elements <-> nets).

Checks: every instance names a known subcircuit and has as many connections
as it has ports, every controlled source references an existing sense
(voltage) source, no net has fewer than two connections (a floating node),
and every net is connected to ground. A failure raises NetlistCheckError
naming the element or node. Element vertices are named as SPICE writes them
(type letter + name, lower case).
"""
from __future__ import annotations

import networkx as nx

from ..errors import InputError
from .circuit import GROUND, Circuit

LETTER = {"isource": "i", "vsource": "v", "resistor": "r", "capacitor": "c", "cccs": "f",
          "vccs": "g", "behavioral": "b", "instance": "x"}


class NetlistCheckError(InputError):
    """A structural problem in a netlist; the message names the node or element."""


def netlist_graph(circuit: Circuit) -> nx.MultiGraph:
    """Bipartite multigraph: element vertices ('e', name) and net vertices ('n', net)."""
    g = nx.MultiGraph()
    vsources = {e.name.lower() for e in circuit.elements if e.kind == "vsource"}
    for e in circuit.elements:
        name = LETTER[e.kind] + e.name.lower()
        if e.kind == "instance":
            ports = circuit.ports(e.subckt)
            if ports is None:
                raise NetlistCheckError(f"instance {name}: unknown subcircuit {e.subckt!r}")
            if len(e.nodes) != len(ports):
                raise NetlistCheckError(f"instance {name}: {len(e.nodes)} connections, "
                                        f"subcircuit {e.subckt} has {len(ports)} ports")
        for src in e.controls():
            if src.lower() not in vsources:
                raise NetlistCheckError(f"element {name}: controlling source v{src.lower()} does not exist")
        g.add_node(("e", name))
        for net in e.nets():
            g.add_edge(("e", name), ("n", net.lower()))
    return g


def check_netlist(circuit: Circuit) -> nx.MultiGraph:
    """Run every structural check; returns the graph when all pass."""
    g = netlist_graph(circuit)
    if ("n", GROUND) not in g:
        raise NetlistCheckError("no ground node (0) in the netlist")
    for v in g.nodes:
        if v[0] == "n" and v[1] != GROUND and g.degree(v) < 2:
            raise NetlistCheckError(f"node {v[1]} is floating (only one connection)")
    grounded = nx.node_connected_component(g, ("n", GROUND))
    for v in g.nodes:
        if v not in grounded:
            raise NetlistCheckError(f"{'node' if v[0] == 'n' else 'element'} {v[1]} has no path to ground")
    return g
