"""Transistor-level CMRU ladder in sky130 (SPEC 3.4), generator of its ``.subckt`` text.

The behavioural ladder (cosim/netlist/ladder.py) is rebuilt here from FETs:
2K current-mode Schmitt comparators (``sky130_lad_cell``), one switched DPI
per stage (``sky130_lad_dpi``, both in circuits/sky130_ladder.lib), and
cascoded current mirrors that form each stage's input

    I_in(stage k) = S*[ (c0 - A) + A*D_below + A*D_above + W*(u_up - u_dn) ]   P side
    (P1/N1:         S*[  c0      - A*D_other1 + A*D_above + W*(...)        ])

with u_dn and u_up swapped on the N side. S = ``scale`` is an internal current
scale: the comparator's speed is set by the overdrive S*(W - h), and at S = 1
(83 pA) a comparator cannot switch within the ~0.19 ms that the update pulse
stays above threshold; S = 4 switches it ~60-80 us after threshold.
The D terms are DPI outputs whose full scale is S*A (set by the DPI gain bias
``ig``), not mirrored currents; the ladder only needs D at its two ends
(0 and S*A), so the DPI's power-law gain is irrelevant once ig is calibrated.
"""
from __future__ import annotations

from fractions import Fraction

from ..errors import InputError

__all__ = ["ladder_subckt", "ladder_ic", "ladder_stages"]

NF = "sky130_fd_pr__nfet_01v8"
PF = "sky130_fd_pr__pfet_01v8"


def _f(x: float) -> str:
    return f"{x:.6g}"


def _m(n: int) -> str:
    return "" if n == 1 else f" m={n} mult={n}"


def ladder_stages(K: int) -> list[str]:
    """Stage ids in netlist order: p1..pK, n1..nK."""
    return [f"p{k}" for k in range(1, K + 1)] + [f"n{k}" for k in range(1, K + 1)]


def ladder_subckt(K: int, name: str | None = None, *, alpha: float = 1e-9, c0: float = 1e-9,
                  h: float = 0.25e-9, w: float | None = None, a: float | None = None,
                  iunit: float = 1e-9, scale: float = 4.0, itau: float = 20e-12,
                  ig: float | None = None, idpi: float = 2e-9, cdpi: float = 1e-12, ib: float = 1e-9,
                  max_den: int = 8) -> str:
    """``.subckt`` text of a transistor-level CMRU ladder with K stages per side.

    Ports ``up dn out vdd vss``:
      up, dn  update inputs: a unit update is a current pulse of ``iunit`` (A)
              delivered INTO ``up`` (+1 rung) or INTO ``dn`` (-1 rung). Each port
              is a stacked (cascode) nFET diode node (~0.5-0.8 V while on, 0 V
              at rest), so only non-negative current is meaningful.
      out     level current: each P stage that is on delivers ``alpha`` (A) into
              ``out``, each N stage that is on draws ``alpha`` out of it, so the
              current into ``out`` is alpha*(sum P - sum N). Cascoded; hold
              ``out`` at a mid voltage (0.9 V tested).
      vdd     1.8 V supply;  vss  ground / substrate.
    Design (A, behavioural values at scale 1): c0, h, w (= W, default 4h/3),
    a (= A, default 2h/3); the circuit runs them at ``scale`` times (dimensionless);
    the update mirror gain W*scale/iunit is realised as a ratio of multiplier
    counts (denominator <= max_den). DPI: leak ``itau`` (A; tau ~2 ms at 20 pA and
    ``cdpi`` = 1 pF, F), tail ``idpi`` (A), gain bias ``ig`` (A; default calibrated
    so the DPI full scale is a*scale: 14 pA for 0.667 nA at itau=20p, idpi=2n).
    Header parameters (overridable on the X line, all A): alpha, ith (=S(c0+h)),
    iw (=2Sh), icb (=S(c0-A)), icb1 (=S c0), idpi, itau, ig, cdpi (F).
    Bias currents are ideal sources inside the subckt, one per bias, each
    feeding one reference diode (stack) shared by all stages (a stand-in for a
    bias generator).
    Internal nodes (prefix with the instance name, e.g. ``v(xl.s_p1)``):
      s_<id>  stage state (vdd = on, 0 = off), id in p1..pK, n1..nK;
      i_<id>  stage input node;  vc_<id> DPI capacitor node.
    Initial rung: not a parameter; put :func:`ladder_ic` into the bench
    (``.ic`` on the state and comparison nodes; the DPIs then start at their
    steady state through the operating point).
    """
    if K < 1:
        raise InputError("K must be >= 1")
    w = 4 * h / 3 if w is None else w
    a = 2 * h / 3 if a is None else a
    if not (0 < a < h < w and w - a < h):
        raise InputError("need 0 < A < h < W and W - A < h (SPEC 3.4)")
    if ig is None:
        ig = 14e-12 * (a * scale / 0.6667e-9)
    name = name or f"sky130_ladder_k{K}"
    if name != name.lower():
        raise InputError("subcircuit names must be lower case")
    g = Fraction(w * scale / iunit).limit_denominator(max_den)
    num, den = g.numerator, g.denominator
    S = scale
    L = [f"* transistor-level CMRU ladder, K={K} per side, scale={_f(S)}, update gain "
         f"{num}/{den} (W*scale/iunit={_f(w * scale / iunit)}); cosim.pdk.ladder.ladder_subckt",
         f".subckt {name} up dn out vdd vss alpha={_f(alpha)} ith={_f(S * (c0 + h))} "
         f"iw={_f(S * 2 * h)} icb={_f(S * (c0 - a))} icb1={_f(S * c0)} idpi={_f(idpi)} "
         f"ib={_f(ib)} itau={_f(itau)} ig={_f(ig)} cdpi={_f(cdpi)}"]
    # shared bias references (ideal sources stand in for a bias generator)
    L += ["* --- shared references",
          "ith tp2 vss {ith}",
          f"XBT1 tp1 tp1 vdd vdd {PF} w=4 l=1", f"XBT2 tp2 tp2 tp1 tp1 {PF} w=4 l=1",
          "iw vdd wn2 {iw}",
          f"XBW1 wn1 wn1 vss vss {NF} w=2 l=4", f"XBW2 wn2 wn2 wn1 vss {NF} w=1 l=2",
          "icb cb1 vss {icb}", f"XBC1 cb1 cb1 vdd vdd {PF} w=4 l=1",
          "icb1 cc1 vss {icb1}", f"XBE1 cc1 cc1 vdd vdd {PF} w=4 l=1",
          "iap ap2 vss {alpha}",
          f"XBA1 ap1 ap1 vdd vdd {PF} w=2 l=4", f"XBA2 ap2 ap2 ap1 ap1 {PF} w=1 l=2",
          "ian vdd an2 {alpha}",
          f"XBA3 an1 an1 vss vss {NF} w=2 l=4", f"XBA4 an2 an2 an1 vss {NF} w=1 l=2",
          "ibd vdd vbd {idpi}",
          f"XBD1 vbd vbd rbd vss {NF} w=2 l=4", f"XBD2 rbd vdd vss vss {NF} w=1 l=0.5",
          "itb vtau vss {itau}", f"XBD3 vtau vtau vdd vdd {PF} w=2 l=4",
          "igb vthr vss {ig}", f"XBD4 vthr vthr vdd vdd {PF} w=2 l=4"]
    # update inputs: nFET cascode diodes; sinks (gain num/den) on the side they
    # push down, and a 1:1 transfer into a pFET diode that sources into the side
    # they push up
    for port, plus, minus in (("up", "p", "n"), ("dn", "n", "p")):
        # standing bias ib keeps the mirror nodes at their operating point (a mirror
        # starting from 0 A is far too slow for a 0.25 ms pulse); the constant part
        # g*ib cancels in every stage: +g*ib from one port's source, -g*ib from the
        # other port's sink
        L += [f"* --- update input {port}: +W into {plus} stages, -W from {minus} stages",
              f"ib{port} vdd {port} {{ib}}",
              f"XU{port}1 {port}a {port}a vss vss {NF} w=1 l=1{_m(den)}",
              f"XU{port}2 {port} {port} {port}a vss {NF} w=1 l=1{_m(den)}",
              f"XU{port}3 {port}t {port}a vss vss {NF} w=1 l=1{_m(den)}",
              f"XU{port}4 {port}q {port} {port}t vss {NF} w=1 l=1{_m(den)}",
              f"XU{port}5 {port}q {port}q vdd vdd {PF} w=2 l=1{_m(den)}"]
        for k in range(1, K + 1):
            L += [f"XU{port}s{minus}{k}a {port}s{minus}{k} {port}a vss vss {NF} w=1 l=1{_m(num)}",
                  f"XU{port}s{minus}{k}b i_{minus}{k} {port} {port}s{minus}{k} vss {NF} w=1 l=1{_m(num)}",
                  f"XU{port}r{plus}{k} i_{plus}{k} {port}q vdd vdd {PF} w=2 l=1{_m(num)}"]
    for side in ("p", "n"):
        other = "n" if side == "p" else "p"
        for k in range(1, K + 1):
            sid = f"{side}{k}"
            cb = "cc1" if k == 1 else "cb1"
            L += [f"* --- stage {sid.upper()}",
                  f"xs_{sid} i_{sid} s_{sid} sb_{sid} vdd vss tp1 tp2 wn1 wn2 sky130_lad_cell",
                  f"XC{sid} i_{sid} {cb} vdd vdd {PF} w=4 l=1",
                  f"xd_{sid} s_{sid} vc_{sid} vdd vss vbd vtau vthr sky130_lad_dpi c={{cdpi}}"]
            # copies of this stage's D to its neighbours
            if k > 1:
                L.append(f"XO{sid}b i_{side}{k - 1} vc_{sid} vdd vdd {PF} w=2 l=4")
            if k < K:
                L.append(f"XO{sid}a i_{side}{k + 1} vc_{sid} vdd vdd {PF} w=2 l=4")
            if k == 1:  # -A*D into the other side's first stage, through an nFET cascode mirror
                L += [f"XO{sid}x kx_{sid} vc_{sid} vdd vdd {PF} w=2 l=4",
                      f"XK{sid}1 ka_{sid} ka_{sid} vss vss {NF} w=2 l=4",
                      f"XK{sid}2 kx_{sid} kx_{sid} ka_{sid} vss {NF} w=1 l=2",
                      f"XK{sid}3 kc_{sid} ka_{sid} vss vss {NF} w=2 l=4",
                      f"XK{sid}4 i_{other}1 kx_{sid} kc_{sid} vss {NF} w=1 l=2"]
            if side == "p":
                L += [f"XA{sid}a a1_{sid} ap1 vdd vdd {PF} w=2 l=4",
                      f"XA{sid}b a2_{sid} ap2 a1_{sid} a1_{sid} {PF} w=1 l=2",
                      f"XA{sid}c out sb_{sid} a2_{sid} vdd {PF} w=1 l=1"]
            else:
                L += [f"XA{sid}a a1_{sid} an1 vss vss {NF} w=2 l=4",
                      f"XA{sid}b a2_{sid} an2 a1_{sid} vss {NF} w=1 l=2",
                      f"XA{sid}c out s_{sid} a2_{sid} vss {NF} w=1 l=1"]
    L.append(f".ends {name}")
    return "\n".join(L) + "\n"


def ladder_ic(inst: str, K: int, s0: int, vdd: float = 1.8) -> str:
    """``.ic`` line putting ladder instance ``inst`` (e.g. ``"xl"``) on rung s0.

    Sets each stage's state node s_<id> (vdd on / 0 off) and its comparison
    node x (0 on / vdd off). Works with plain ``.tran`` (no uic): the operating
    point is solved with these nodes held, so the DPIs start settled.
    """
    if abs(s0) > K:
        raise InputError(f"s0={s0} outside [-{K}, {K}]")
    parts = []
    for sid in ladder_stages(K):
        k = int(sid[1:])
        on = (s0 >= k) if sid[0] == "p" else (-s0 >= k)
        parts += [f"v({inst}.s_{sid})={vdd if on else 0:g}",
                  f"v({inst}.xs_{sid}.x)={0 if on else vdd:g}"]
    return ".ic " + " ".join(parts)
