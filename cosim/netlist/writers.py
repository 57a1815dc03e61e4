"""Netlist dialects by name: `write_netlist(circuit, dialect)` -> text.

A dialect is a function Circuit -> str registered here; `ngspice` is the one
today (netlist.ngspice). A new simulator's dialect is one module with a
`write` function plus a line in DIALECTS."""
from __future__ import annotations

from importlib import import_module

from ..errors import InputError
from .circuit import Circuit

#: dialect name -> module holding its `write(circuit) -> str`
DIALECTS = {"ngspice": "cosim.netlist.ngspice"}


def write_netlist(circuit: Circuit, dialect: str = "ngspice") -> str:
    if dialect not in DIALECTS:
        raise InputError(f"unknown netlist dialect {dialect!r}; known: {', '.join(sorted(DIALECTS))}")
    return import_module(DIALECTS[dialect]).write(circuit)
