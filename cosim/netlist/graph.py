"""Structural checks of a netlist as a networkx graph (elements <-> nets).

Checks: every instance has as many connections as its subcircuit has ports,
every controlled source references an existing voltage source, no net has
fewer than two connections (a floating node), and every net is connected to
ground. A failure raises NetlistCheckError naming the element or node.
"""
from __future__ import annotations

import re

import networkx as nx

from ..errors import InputError

TWO_TERMINAL = set("VIBRCLDFH")   # F/H: 2 nodes + a controlling source
FOUR_TERMINAL = set("GE")


class NetlistCheckError(InputError):
    """A structural problem in a netlist; the message names the node or element."""


def _logical_lines(text: str) -> list:
    """Lines with '+' continuations joined; comments dropped."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("*"):
            continue
        if line.startswith("+") and out:
            out[-1] += " " + line[1:]
        else:
            out.append(line)
    return out


def subckt_ports(text: str) -> dict:
    """name -> number of ports, from every `.subckt` line in `text`."""
    ports = {}
    for line in _logical_lines(text):
        tok = line.split()
        if tok[0].lower() == ".subckt":
            ports[tok[1].lower()] = len([t for t in tok[2:] if "=" not in t])
    return ports


def top_level_elements(text: str) -> list:
    """[(element name, [nets], controlling source or None, subckt or None)] outside .subckt blocks."""
    ports = subckt_ports(text)
    elems, depth = [], 0
    for line in _logical_lines(text)[1:]:           # first line is the title
        tok = line.split()
        head = tok[0].lower()
        if head == ".subckt":
            depth += 1
            continue
        if head == ".ends":
            depth -= 1
            continue
        if depth or head.startswith("."):
            continue
        kind = head[0].upper()
        if kind == "X":
            args = [t for t in tok[1:] if "=" not in t]
            sub = args[-1].lower()
            if sub not in ports:
                raise NetlistCheckError(f"instance {tok[0]}: unknown subcircuit {sub!r}")
            nets = args[:-1]
            if len(nets) != ports[sub]:
                raise NetlistCheckError(f"instance {tok[0]}: {len(nets)} connections, "
                                        f"subcircuit {sub} has {ports[sub]} ports")
            elems.append((head, [n.lower() for n in nets], None, sub))
        elif kind == "B":  # behavioral source: nodes it reads through v(...) also count
            expr = line.split(None, 3)[3].lower() if len(tok) > 3 else ""
            sensed = re.findall(r"\bv\(\s*([\w.]+)\s*\)", expr)
            ctrl = re.findall(r"\bi\(\s*([\w.]+)\s*\)", expr)
            elems.append((head, [tok[1].lower(), tok[2].lower()] + sensed, ctrl or None, None))
        elif kind in TWO_TERMINAL:
            ctrl = [tok[3].lower()] if kind in "FH" else None
            elems.append((head, [tok[1].lower(), tok[2].lower()], ctrl, None))
        elif kind in FOUR_TERMINAL:
            elems.append((head, [t.lower() for t in tok[1:5]], None, None))
        else:
            raise NetlistCheckError(f"element {tok[0]}: type {kind} not understood by the checker")
    return elems


def netlist_graph(text: str) -> nx.MultiGraph:
    """Bipartite multigraph: element vertices ('e', name) and net vertices ('n', net)."""
    g = nx.MultiGraph()
    elems = top_level_elements(text)
    vsources = {name for name, *_ in elems if name.startswith("v")}
    for name, nets, ctrl, _ in elems:
        for src in ctrl or ():
            if src not in vsources:
                raise NetlistCheckError(f"element {name}: controlling source {src} does not exist")
        g.add_node(("e", name))
        for net in nets:
            g.add_edge(("e", name), ("n", "0" if net in ("0", "gnd") else net))
    return g


def check_netlist(text: str) -> nx.MultiGraph:
    """Run every structural check; returns the graph when all pass."""
    g = netlist_graph(text)
    if ("n", "0") not in g:
        raise NetlistCheckError("no ground node (0) in the netlist")
    for v in g.nodes:
        if v[0] == "n" and v[1] != "0" and g.degree(v) < 2:
            raise NetlistCheckError(f"node {v[1]} is floating (only one connection)")
    grounded = nx.node_connected_component(g, ("n", "0"))
    for v in g.nodes:
        if v not in grounded:
            raise NetlistCheckError(f"{'node' if v[0] == 'n' else 'element'} {v[1]} has no path to ground")
    return g
