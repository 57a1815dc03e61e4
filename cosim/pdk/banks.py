"""Transistor mirror banks (sky130), each simulated alone: the currents they deliver and
their supply power.

A bank and its cells in one netlist at transistor level ran over 13 min for 100 steps
of one cell, so the partitioned backend (backends.transistor, with
PdkSetup(banks="transistor")) simulates each bank alone, one netlist per bank and
sequence: driven by the currents the bank sees in the model (the previous block's
delivered or measured outputs), its outputs held at LOAD_V by ideal sources standing
in for the inputs they feed. What the loads take where the cells read them is the
drive of the next block. What partitioning leaves out: the loads are voltage sources,
not the cells' input nodes, so the banks' output resistance against a moving node is
not seen.

The bank, per input j (SPEC 3.1: the negative weights are a second, sinking bank):
  - the positive part of h_j enters a cascoded n diode of D unit devices, whose n
    outputs of |k_ij| units sink the weights w_ij < 0 from output i; one n output
    of D units copies h_j into a cascoded p diode of D units, whose p outputs of
    k_ij units push the weights w_ij > 0 into output i;
  - the negative part of h_j is drawn out of a cascoded p diode of D units, whose p
    outputs push the weights w_ij < 0 (w h > 0); one p output of D units copies it
    into an n diode, whose n outputs sink the weights w_ij > 0.
The gain of a weight is k_ij / D with integer unit counts (`m=N mult=N`); D is the
smallest reference count (at most MAX_REFERENCE) that puts every weight within
COUNT_TOL of an integer count, and the worst residual gain error is recorded. The
unit device has the mirror banks' area for the mismatch budget (pdk.mapping.cell_size).
Biases stay ideal sources (a bias generator's job): a positive bias pushes b_i from
the bank's supply, a negative one sinks.

Supplies: every output, copy and the copies' diodes run from BANK_SUPPLY (counted);
the input p diodes run from INPUT_SUPPLY. Their current is the negative part of the
input: drawn by whatever sinks it, so it counts as the bank's own only where the
input is another bank's output node (a projection feeding a signed layer; a
first-quadrant layer's bank sees its inputs rectified), as in power.estimate.bank_inputs.
"""
from __future__ import annotations

import numpy as np

from ..hw.reference import apply_bank
from ..netlist.circuit import Pwl
from ..netlist.stimulus import pwl_points
from .bench import bench, run
from .cells import Unit, mirror_bank

COUNT_TOL = 0.005            # largest |k / (|w| D) - 1| accepted when choosing D
MAX_REFERENCE = 64           # largest reference count D tried
LOAD_V = 0.9                 # V at every output node (every copy stays in saturation)
BANK_SUPPLY, INPUT_SUPPLY = "vbank", "vin"


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


def bank_circuit(bank, h: np.ndarray, dt_s: float, edge_frac: float, pdk, unit: Unit):
    """(circuit, record) of one bank (module doc) driven by h (time, n_in) in units (1 nA)."""
    D, k, err = reference_count(bank.gains)
    n_out, n_in = k.shape
    c = bench("cosim mirror bank", pdk.corner, vdd=pdk.vdd_v)
    c.add("vsource", BANK_SUPPLY[1:], BANK_SUPPLY, "0", value=pdk.vdd_v)
    c.add("vsource", INPUT_SUPPLY[1:], INPUT_SUPPLY, "0", value=pdk.vdd_v)
    outs = [f"o{i}" for i in range(n_out)]
    for i, node in enumerate(outs):
        c.add("vsource", f"load{i}", node, "0", value=LOAD_V)
        b = float(bank.bias[i]) * 1e-9
        if b > 0:
            c.isource(f"bias{i}", BANK_SUPPLY, node, b)
        elif b < 0:
            c.isource(f"bias{i}", node, "0", -b)
    for j in range(n_in):
        col = k[:, j]
        for sign, first, other in ((1, "n", "p"), (-1, "p", "n")):
            part = np.maximum(sign * np.asarray(h[:, j], np.float64), 0)
            if not part.any() or not col.any():
                continue
            d, e = f"d{first}{j}", f"e{first}{j}"
            pts = Pwl(tuple(pwl_points(part, dt_s, edge_frac, 1e-9)))
            if first == "n":
                c.isource(f"in{j}", "0", d, pts)           # pushed into the n diode
            else:
                c.isource(f"in{j}m", d, "0", pts)          # drawn out of the p diode
            direct = [(outs[i], -col[i]) for i in range(n_out) if col[i] < 0]
            flipped = [(outs[i], col[i]) for i in range(n_out) if col[i] > 0]
            rails = {"vdd": BANK_SUPPLY} if first == "p" else {}
            mirror_bank(c, f"m{first}{j}", d, direct + ([(e, D)] if flipped else []), polarity=first,
                        unit=unit, n_in=D, diode_rail=INPUT_SUPPLY if first == "p" else None, **rails)
            if flipped:
                mirror_bank(c, f"f{first}{j}", e, flipped, polarity=other, unit=unit, n_in=D,
                            **({"vdd": BANK_SUPPLY} if other == "p" else {}))
    return c, {"reference_count": D, "worst_gain_error": err, "unit_um": [unit.w_um, unit.l_um]}


def simulate_bank(bank, h: np.ndarray, timing, pdk, unit: Unit, timeout_s: float = 900.0) -> tuple:
    """(bank supply nW (time,), input p diodes nW (time,), record, delivered (time, n_out)
    units): each supply's current averaged over each step, times vdd, and the output
    currents the loads take where the cells read them (at `timing.sample_frac` of each
    step). The record also holds how far those are from the bank's sums (g h + b):
    output_error_max_na, and output_scale_na (the largest |sum|)."""
    from ..backends.transistor import step_means

    dt_s = timing.dt_s
    c, rec = bank_circuit(bank, h, dt_s, timing.edge_frac, pdk, unit)
    T = h.shape[0]
    w = run(c, f".tran {dt_s / 100:g} {T * dt_s:g}", temp_c=pdk.temp_c, timeout_s=timeout_s, threads=1)
    nw = [pdk.vdd_v * 1e9 * step_means(w["time"], -w[f"i({s})"], dt_s, T) for s in (BANK_SUPPLY, INPUT_SUPPLY)]
    at = (np.arange(T) + timing.sample_frac) * dt_s
    delivered = np.stack([np.interp(at, w["time"], w[f"i(vload{i})"]) * 1e9 for i in range(len(bank.bias))], -1)
    ideal = apply_bank(bank, h)
    rec = {**rec, "output_error_max_na": float(np.abs(delivered - ideal).max()),
           "output_scale_na": float(np.abs(ideal).max())}
    return nw[0], nw[1], rec, delivered


class TransistorBanks:
    """A model's mirror banks at transistor level for the partitioned backend: each bank,
    for each sequence, is one netlist (simulate_bank) run in `pool`; what it delivers feeds
    the next block. Keeps each bank's supply power (power[name]: (batch, time) nW; a bank
    fed by another bank's node also counts its input p diodes, module doc) and its
    record with the largest output error over the sequences (records[name])."""

    def __init__(self, pdk, pool, timing, timeout_s: float):
        self.pdk, self.pool, self.timing, self.timeout_s = pdk, pool, timing, timeout_s
        self.unit = unit_for(min(50.0, pdk.size()["mirror_unit_area_um2"]))
        self.power, self.records = {}, {}

    def sums(self, name: str, banks: list, h: list, fed_by_bank: bool = False) -> list:
        """Delivered outputs [(time, n_out) units per sequence] of banks[b] on inputs h[b]
        (time, n_in) units."""
        futures = [self.pool.submit(simulate_bank, bank, np.asarray(x, np.float64), self.timing, self.pdk, self.unit,
                                    self.timeout_s) for bank, x in zip(banks, h)]
        runs = [f.result() for f in futures]
        self.power[name] = np.stack([own + (diodes if fed_by_bank else 0.0) for own, diodes, _, _ in runs])
        self.records[name] = max((r[2] for r in runs), key=lambda rec: rec["output_error_max_na"])
        return [r[3] for r in runs]
