"""Transistor mirror banks for the candidate sums of first-quadrant layers (sky130).

A first-quadrant layer's candidate is c_i = ReLU(sum_j w_ij ReLU(h_j) + b_i): its inputs
are never negative, so each input j needs one current direction only. Per input j:
  - its current (the driving block's output, copied by one ideal CCCS: in silicon
    that block's own output mirror) enters a cascoded n diode of D unit devices;
  - n outputs of |k_ij| units sink w_ij < 0 from cell i's input node;
  - one n output of D units feeds a cascoded p diode of D units (its reference
    branch), whose p outputs of k_ij units source w_ij > 0 into cell i's input.
The gain of a weight is k_ij / D with integer unit counts (`m=N mult=N`, pdk.cells);
D per layer is the smallest reference count that puts every weight within
COUNT_TOL of an integer (a 6-bit layer: D ~ 1 / its weight step), and the
residual gain errors are recorded. The bias b_i stays an ideal source (a bias
generator's job). A negative net current pulls the cell's input node to ground and
the sink devices out of saturation: that is the ReLU.

Supplies: the p references run from `vbref`, the p outputs from `vbank` (both
1.8 V), so a partition that holds one cell of a layer (backends.transistor) can
report its own bank outputs and the layer's references, which every cell of the
layer shares, can be counted once.
"""
from __future__ import annotations

import numpy as np

from .cells import Unit, mirror_bank

COUNT_TOL = 0.005            # largest |k / (|w| D) - 1| accepted when choosing D
MAX_REFERENCE = 64           # largest reference count D tried
BANK_SUPPLY, REF_SUPPLY = "vbank", "vbref"


def reference_count(gains) -> tuple:
    """(D, counts (n_out, n_in) signed ints, worst |relative gain error|) for gains."""
    g = np.abs(np.asarray(gains, np.float64))
    nz = g > 0
    best = None
    for D in range(1, MAX_REFERENCE + 1):
        k = np.rint(g * D)
        if (k[nz] == 0).any():
            continue
        err = float(np.abs(k[nz] / (g[nz] * D) - 1).max()) if nz.any() else 0.0
        if best is None or err < best[2] - 1e-12:
            best = (D, k, err)
        if err <= COUNT_TOL:
            break
    D, k, err = best
    return D, (k * np.sign(gains)).astype(int), err


def unit_for(area_um2: float) -> Unit:
    """A unit device of `area_um2` with L = 2 W (the cell mirrors' aspect)."""
    w = float(np.sqrt(area_um2 / 2))
    return Unit(w, 2 * w)


def candidate_bank(bld, p: str, bank, inputs: list, targets: list, unit: Unit, vdd_v: float) -> dict:
    """Build the bank (module doc) into the builder's circuit: inputs are sense sources
    (the layer's rectified inputs), targets the cells' input nodes. Returns the record
    {reference_count, worst_gain_error, unit_um, devices}."""
    c = bld.c
    for supply in (BANK_SUPPLY, REF_SUPPLY):
        if not any(e.name == supply[1:] and e.kind == "vsource" for e in c.elements):
            c.add("vsource", supply[1:], supply, "0", value=vdd_v)
    D, k, err = reference_count(bank.gains)
    n_out, n_in = k.shape
    before = len(c.elements)
    for j, src in enumerate(inputs):
        d, e = f"{p}bd{j}", f"{p}be{j}"
        c.cccs(f"{p}bk{j}", "0", d, src, 1.0)
        sinks = [(targets[i], -k[i, j]) for i in range(n_out) if k[i, j] < 0]
        mirror_bank(c, f"{p}bn{j}", d, sinks + [(e, D)], polarity="n", unit=unit, n_in=D)
        sources = [(targets[i], k[i, j]) for i in range(n_out) if k[i, j] > 0]
        mirror_bank(c, f"{p}bp{j}", e, sources, polarity="p", unit=unit, n_in=D,
                    vdd=BANK_SUPPLY, ref_supply=REF_SUPPLY)
    for i, b in enumerate(bank.bias):
        if b != 0:
            c.isource(f"{p}bb{i}", "0", targets[i], float(b * bld.iu))
    return {"reference_count": D, "worst_gain_error": err, "unit_um": [unit.w_um, unit.l_um],
            "devices": len(c.elements) - before}
