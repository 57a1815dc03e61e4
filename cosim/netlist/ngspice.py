"""The ngspice dialect: netlist text from a `circuit.Circuit`, and ngspice's vector names.

The only module that knows ngspice syntax for generated circuits: element
cards (written through PySpice's `Circuit`), the element letters, PWL and
PULSE values, the behavioral-source expressions (B-source ternaries), the
`.save`/`.ic`/`.options`/`.tran`/`.print` lines, and the names of the vectors
ngspice writes (`i(vNAME)` through a 0 V source, `v(xINST.node)` inside an
instance). The subcircuit library and the generated ladders are ngspice text
already (circuits/cosim.lib, netlist.ladder).

Options: `xtrtol=7` (ngspice's truncation-error tolerance; the default 7 is
restated so a user's .spiceinit cannot change it) on every netlist, and
`method=gear` when the transient asks for gear integration.
"""
from __future__ import annotations

from PySpice.Spice.Netlist import Circuit as PySpiceCircuit

from .circuit import Circuit, Element, Pulse, Pwl, Rectifier, SignGate
from .escape import safe_title

__all__ = ["write", "current_vector", "internal_vector", "with_analysis", "OPTIONS"]

OPTIONS = "xtrtol=7"


def num(v) -> str:
    """A number as netlist text: integers as they are, floats with 12 significant digits."""
    if isinstance(v, str):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return f"{float(v):.12g}"


def current_vector(sense: str) -> str:
    """Vector of the current through the 0 V sense source `sense` (A)."""
    return f"i(v{sense.lower()})"


def internal_vector(instance: str, node: str) -> str:
    """Vector of the voltage of `node` inside the subcircuit instance `instance` (V)."""
    return f"v(x{instance.lower()}.{node})"


def pwl_text(points) -> str:
    """"PWL(t0 v0 t1 v1 ...)", 12 significant digits, no units (PySpice's own
    PWL sources sum unit objects quadratically: 5 ms per 512-point source)."""
    return "PWL(" + " ".join(f"{t:.12g} {v:.12g}" for t, v in points) + ")"


def _behavioral(v) -> str:
    if isinstance(v, Rectifier):
        gain = "" if v.gain == 1 else f"{num(v.gain)}*"
        return f"max({gain}{current_vector(v.control)}, 0)"
    if isinstance(v, SignGate):
        c, b = current_vector(v.candidate), current_vector(v.threshold)
        return (f"{num(v.amplitude_a)}*v({v.clock})*(({c} >= abs({b})) ? 1 : "
                f"((-{c} >= abs({b})) ? -1 : 0))")
    raise TypeError(f"no ngspice form for behavioral value {v!r}")


def _card(c: PySpiceCircuit, e: Element) -> None:
    n, v = e.nodes, e.value
    if e.kind == "isource":
        c.I(e.name, *n, pwl_text(v.points) if isinstance(v, Pwl) else num(v))
    elif e.kind == "vsource":
        if isinstance(v, Pulse):
            c.PulseVoltageSource(e.name, *n, initial_value=v.initial, pulsed_value=v.pulsed,
                                 delay_time=v.delay_s, rise_time=v.rise_s, fall_time=v.fall_s,
                                 pulse_width=v.width_s, period=v.period_s)
        else:
            c.V(e.name, *n, v)
    elif e.kind == "resistor":
        c.R(e.name, *n, num(v))
    elif e.kind == "capacitor":
        c.C(e.name, *n, num(v))
    elif e.kind == "cccs":
        c.F(e.name, *n, f"V{e.control}", num(v))
    elif e.kind == "vccs":
        c.VCCS(e.name, *n, num(v))
    elif e.kind == "behavioral":
        c.B(e.name, *n, i=_behavioral(v))
    elif e.kind == "instance":
        c.X(e.name, e.subckt, *n, **{k: num(p) for k, p in e.params})
    else:
        raise TypeError(f"element kind {e.kind!r} has no ngspice card")


def write(circuit: Circuit) -> str:
    """Netlist text: title and element cards, the library and generated
    subcircuits, `.save`, `.ic`, options, the analysis, `.print`, `.end`."""
    c = PySpiceCircuit(safe_title(circuit.title))
    for e in circuit.elements:
        _card(c, e)
    body = str(c).rstrip()
    if body.endswith(".end"):
        body = body[: -len(".end")].rstrip()
    lines = [body]
    if circuit.library is not None:
        lines += ["* ---- subcircuit library (circuits/cosim.lib and generated ladders) ----",
                  circuit.library.text()]
    lines += [s.text for s in circuit.subckts.values()]
    if circuit.saves:
        lines.append(".save " + " ".join(circuit.saves))
    ic = [f"v({n})=0" for n in circuit.initial_zero] + [f"v({n})={num(v)}" for n, v in circuit.initial_v.items()]
    if ic:
        lines.append(".ic " + " ".join(ic))
    if circuit.temp_c is not None:
        lines.append(f".temp {num(circuit.temp_c)}")
    a = circuit.analysis
    if a is not None:
        gear = a.method == "gear" and "method=" not in circuit.options
        parts = [f".options {OPTIONS}", circuit.options, "method=gear" if gear else ""]
        lines.append(" ".join(p for p in parts if p))
        tran = f".tran {num(a.step_s)} {num(a.stop_s)}"
        if a.max_step_s is not None:
            tran += f" 0 {num(a.max_step_s)}"
        lines.append(tran)
    if circuit.prints:
        lines.append(".print tran " + " ".join(circuit.prints))
    return "\n".join(lines + [".end", ""])


def with_analysis(text: str, analysis: str) -> str:
    """The same netlist text with its `.tran`/`.print` lines replaced by `analysis`
    (e.g. ".op" or ".tran 0.5m 50m")."""
    kept = [ln for ln in text.splitlines()
            if not ln.lower().startswith((".tran", ".print")) and ln.strip().lower() != ".end"]
    return "\n".join(kept + [analysis, ".end", ""])
