"""The CMRU ladder in sky130 as a register (SPEC 3.4's ladder, replaced): generator of its ``.subckt``.

The ladder's state s in -K..K is held as a thermometer code of 2K bits b_1..b_2K,
b_j = 1 iff s >= j - K, in static CMOS latches (circuits/sky130_register.lib). An update
pulse into ``up`` shifts a 1 in from below (b_j <- b_(j-1), b_0 = 1), a pulse into ``dn``
shifts a 0 in from above (b_j <- b_(j+1), b_(2K+1) = 0): one rung per pulse, saturating
at +-K, held with no input for as long as the supply is on. Stages P_k = b_(K+k) and
N_k = not b_(K-k+1) switch a cascoded alpha source into ``out``, as in the DPI ladder.

Why not the DPI ladder (pdk.ladder): its stages compare currents with static margins of
h/3, 7-8% of the currents that set them, and the PDK's mismatch moves those currents by
14-37% at its device sizes (update mirrors 1 um2, bias copies 4 um2): 0 of 4 drawn ladders
counted right, and 3x larger devices did not change that (they slow its update path).
The register's only analog decision is each port's comparison of the pulse with half a
unit (a 50% margin); mismatch and temperature move the level current, not the count.
"""
from __future__ import annotations

from ..errors import InputError

__all__ = ["register_ladder_subckt", "register_ladder_ic", "register_stages"]

NF = "sky130_fd_pr__nfet_01v8"
PF = "sky130_fd_pr__pfet_01v8"


def _f(x: float) -> str:
    return f"{x:.6g}"


def register_stages(K: int) -> list[str]:
    """Stage ids of the level output: p1..pK, n1..nK."""
    return [f"p{k}" for k in range(1, K + 1)] + [f"n{k}" for k in range(1, K + 1)]


def _stage_bit(sid: str, K: int) -> int:
    """The bit j whose complement qb_j drives stage sid's output switch."""
    k = int(sid[1:])
    return K + k if sid[0] == "p" else K - k + 1


def register_ladder_subckt(K: int, name: str | None = None, *, alpha: float = 1e-9,
                           iunit: float = 1e-9, istarve: float = 2e-9,
                           source_area_um2: float = 8.0) -> str:
    """``.subckt`` text of a register ladder with K rungs per side.

    Ports ``up dn out vdd vss`` as pdk.ladder.ladder_subckt: a unit update is a current
    pulse of ``iunit`` (A) into ``up`` (+1 rung) or ``dn`` (-1 rung), counted while it is
    above iunit/2; ``out`` carries alpha*(sum P - sum N) (A; hold it near 0.9 V);
    ``vdd`` 1.8 V. Header parameters (overridable on the X line): alpha (A); istarve (A),
    the logic's starving current I_s (circuits/sky130_register.lib: it sets the edges).
    source_area_um2: W*L of each alpha source device and its reference (um2, W:L = 1:2;
    8 = 2x4 um, at most 50 = 5x10 um): the mismatch budget of the level current
    (pdk.mapping.cell_size's mirror unit area). The count does not depend on it.
    Internal nodes (prefix the instance name): ``xb<j>.q`` / ``xb<j>.qb`` bit j and its
    complement, j = 1..2K; ``dir`` the direction latch.
    """
    if not (isinstance(K, int) and K >= 1):
        raise InputError("K must be an integer >= 1")
    if not 8.0 <= source_area_um2 <= 50.0:
        raise InputError(f"alpha source area {source_area_um2:g} um2 outside 8..50 um2")
    sw = (source_area_um2 / 2) ** 0.5
    src = f"w={_f(sw)} l={_f(2 * sw)}"
    name = name or f"sky130_register_k{K}"
    if name != name.lower():
        raise InputError("subcircuit names must be lower case")

    n = 2 * K
    L = [f"* CMRU ladder as a {n}-bit thermometer register, K={K} per side; "
         "cosim.pdk.register_ladder.register_ladder_subckt",
         f".subckt {name} up dn out vdd vss alpha={_f(alpha)} iref={_f(iunit / 2)} istarve={_f(istarve)}",
         "* --- references (ideal sources standing in for a bias generator): the ports' half",
         "* unit, the logic's starving current (pFET rail vbp, nFET rail vbn)",
         "iref vref vss {iref}", f"XR vref vref vdd vdd {PF} w=2 l=4",
         "isp vbp vss {istarve}", f"XSP vbp vbp vdd vdd {PF} w=0.42 l=4",
         "isn vdd vbn {istarve}", f"XSN vbn vbn vss vss {NF} w=0.42 l=4",
         "* bias rails decoupled (1 pF MIM each): gate edges do not kick the shared rails",
         "XCBP vbp vdd sky130_fd_pr__cap_mim_m3_1 w=22.21 l=22.21",
         "XCBN vbn vss sky130_fd_pr__cap_mim_m3_1 w=22.21 l=22.21",
         "xpu up upl vdd vss vref vbp vbn sky130_reg_port",
         "xpd dn dnl vdd vss vref vbp vbn sky130_reg_port",
         "xck upl dnl dir dirb p1 p1b p2 p2b vdd vss vbp vbn sky130_reg_clock",
         "* --- bits b1..b2K (b0 = vdd, b2K+1 = vss)"]
    for j in range(1, n + 1):
        lo = "vdd" if j == 1 else f"q{j - 1}"
        hi = "vss" if j == n else f"q{j + 1}"
        L.append(f"xb{j} {lo} {hi} q{j} qb{j} dir dirb p1 p1b p2 p2b vdd vss vbp vbn sky130_reg_bit")
    L += ["* --- level output: alpha per stage, cascoded pFET (P) and nFET (N) mirrors",
          "iap ap2 vss {alpha}",
          f"XBA1 ap1 ap1 vdd vdd {PF} {src}", f"XBA2 ap2 ap2 ap1 ap1 {PF} w=1 l=2",
          "ian vdd an2 {alpha}",
          f"XBA3 an1 an1 vss vss {NF} {src}", f"XBA4 an2 an2 an1 vss {NF} w=1 l=2"]
    for sid in register_stages(K):
        qb = f"qb{_stage_bit(sid, K)}"
        if sid[0] == "p":   # on when b = 1: qb low opens the pFET switch
            L += [f"XA{sid}a a1_{sid} ap1 vdd vdd {PF} {src}",
                  f"XA{sid}b a2_{sid} ap2 a1_{sid} a1_{sid} {PF} w=1 l=2",
                  f"XA{sid}c out {qb} a2_{sid} vdd {PF} w=1 l=1"]
        else:               # on when b = 0: qb high closes the nFET switch
            L += [f"XA{sid}a a1_{sid} an1 vss vss {NF} {src}",
                  f"XA{sid}b a2_{sid} an2 a1_{sid} vss {NF} w=1 l=2",
                  f"XA{sid}c out {qb} a2_{sid} vss {NF} w=1 l=1"]
    L.append(f".ends {name}")
    return "\n".join(L) + "\n"


def register_ladder_ic(K: int, s0: int, vdd: float = 1.8) -> dict:
    """Initial node voltages (node inside the instance -> V) that put the register on rung s0:
    every latch node of every bit, and the direction latch (up)."""
    if abs(s0) > K:
        raise InputError(f"s0={s0} outside [-{K}, {K}]")
    out = {"dir": vdd, "dirb": 0.0}
    for j in range(1, 2 * K + 1):
        hi, lo = (vdd, 0.0) if s0 >= j - K else (0.0, vdd)
        out |= {f"q{j}": hi, f"qb{j}": lo, f"xb{j}.ma": hi, f"xb{j}.mab": lo, f"xb{j}.mf": hi,
                f"xb{j}.sf": lo}
    return out
