"""Readout filters as a plug-in: the continuous-time Gm-C filter bank between the
last cells and the readout sum (IR field `filters`, a FilterBank).

Like a cell kind, the object owns its IR fields (with units) and their
validation, its software step (exact zero-order-hold discretization,
hw.filters), its device mismatch and its circuit implementations behind fixed
ports: inputs are the sense sources of the readout inputs, `levels[j]` the two
output levels of input j (None: not two-level), the last layer's clock node;
it returns the sense sources of the filter states u (units) that the readout
bank sums. "behavioral": clocked input copies, then capacitors, leaks and
coupling transconductors (circuits of SPEC-style first/second order).
"""
from __future__ import annotations

import math

import numpy as np

from ..filters import run_filters
from ..ir import HOLD_TAU_FRAC, IRError, MirrorBank, check_bank, check_finite
from . import pick_implementation


def hold(bld, p: str, inputs: list, levels: list, clk: str) -> list:
    """Each sensed readout input copied (unit mirror) into a clocked copy on the
    last layer's clock; returns the sense sources of the copies. levels[j]: the
    alpha of a first-quadrant cell output (0 or alpha: a `bist_latch_clk` copy with
    its threshold at alpha/2, preset 0, switching at the same instant as the last
    layer's cells), or None (signed or ladder levels: a `track_hold`)."""
    tau = HOLD_TAU_FRAC * bld.timing.pulse_width_s
    out = []
    for j, (src, alpha) in enumerate(zip(inputs, levels)):
        bld.add("cccs", f"{p}q{j}", "0", f"{p}q{j}", value=1, control=src)
        if alpha is not None:
            bld.instance(f"{p}qx{j}", "bist_latch_clk", f"{p}q{j}", clk, f"{p}qh{j}",
                         igain=alpha * bld.iu, ithresh=alpha / 2 * bld.iu, iwidth=0, iunit=bld.iu, s0=0)
        else:
            bld.instance(f"{p}qx{j}", "track_hold", f"{p}q{j}", clk, f"{p}qh{j}", iunit=bld.iu, tau=tau)
        out.append(bld.sense(f"{p}qh{j}", f"{p}qh{j}"))
    return out


def behavioral(bld, p: str, bank, inputs: list, levels: list, clk: str) -> list:
    """Clocked copies of the inputs (`hold`), then the library's Gm-C filters
    (`gmc_lp`, `gmc_res` in circuits/cosim.lib: per state a capacitor C = G tau,
    a leak G, the u leak through a 0 V sense source whose current is the state
    u, and the coupling transconductors), G = i_unit / volts_per_unit; states
    start at 0 V. Returns the sense sources of the u states."""
    inputs = hold(bld, p, inputs, levels, clk)
    G = bld.iu / bank.volts_per_unit
    nf = bank.n_filters
    n = len(bank.drive_u.gains)
    us = [f"{p}f{i // nf}_{i % nf}u" for i in range(n)]
    vs = [f"{p}f{i // nf}_{i % nf}v" for i in range(n)]
    res = [bank.resonant[i % nf] for i in range(n)]
    bld.bank(f"{p}fu", bank.drive_u, inputs, us)
    drive_v = MirrorBank([row for row, r in zip(bank.drive_v.gains, res) if r],
                         [b for b, r in zip(bank.drive_v.bias, res) if r])
    bld.bank(f"{p}fv", drive_v, inputs, [v for v, r in zip(vs, res) if r])
    senses = []
    for i, (u, v) in enumerate(zip(us, vs)):
        j, k = divmod(i, nf)
        (tu, tv), (kuv, kvu) = bank.tau_s[j][k], bank.coupling[j][k]
        if res[i]:
            bld.instance(f"{p}f{i}", "gmc_res", u, f"{u}s", v, c_u=G * tu, c_v=G * tv, g=G,
                         kuv=kuv, kvu=kvu)
        else:
            bld.instance(f"{p}f{i}", "gmc_lp", u, f"{u}s", c=G * tu, g=G)
        senses.append(bld.sense(f"{u}s", f"{u}s"))
        bld.start_at_zero(u)
        if res[i]:
            bld.start_at_zero(v)
    return senses


class ReadoutFilters:
    """The `filters` field of an IR: one object, like a cell kind (see module doc)."""
    name = "filters"
    fields = {"resonant": "per filter: second order (bool)", "tau_s": "s (n_outputs, n_filters, 2)",
              "coupling": "dimensionless k_uv, k_vu (n_outputs, n_filters, 2)",
              "drive_u": "mirror bank (gains, bias in units)", "drive_v": "mirror bank (gains, bias in units)",
              "volts_per_unit": "V per unit (behavioral state scale)"}
    implementations = {"behavioral": behavioral}

    def validate(self, f, n_outputs: int, width: int, gain_max: float) -> None:
        nf = f.n_filters
        if nf < 1 or any(r not in (True, False) for r in f.resonant):
            raise IRError("filters.resonant must be a non-empty list of booleans")
        for name in ("tau_s", "coupling"):
            arr = getattr(f, name)
            if (len(arr) != n_outputs or any(len(row) != nf for row in arr)
                    or any(len(pair) != 2 for row in arr for pair in row)):
                raise IRError(f"filters.{name} must be {n_outputs} x {nf} x 2")
            check_finite(f"filters.{name}", [v for row in arr for pair in row for v in pair])
        if min(v for row in f.tau_s for pair in row for v in pair) <= 0:
            raise IRError("filters.tau_s: time constants must be > 0 s")
        for name in ("drive_u", "drive_v"):
            bank = getattr(f, name)
            if bank.n_out != n_outputs * nf:
                raise IRError(f"filters.{name} must have {n_outputs * nf} rows")
            check_bank(f"filters.{name}", bank, width, gain_max)
        if not (math.isfinite(f.volts_per_unit) and f.volts_per_unit > 0):
            raise IRError("filters.volts_per_unit must be > 0")

    def run(self, f, h: np.ndarray, dt_s: float) -> np.ndarray:
        """Filter states u (batch, time, n_outputs * n_filters), units, from the
        readout inputs h (batch, time, width) held over each step."""
        return run_filters(f, h, dt_s)

    def perturb(self, f, rng, spec: dict, bank, factors) -> None:
        """Mismatch in place: drive banks (bank(rng, b, spec)), then time constants and couplings."""
        f.drive_u, f.drive_v = bank(rng, f.drive_u, spec), bank(rng, f.drive_v, spec)
        tau, coup = np.asarray(f.tau_s), np.asarray(f.coupling)
        f.tau_s = tau * factors(rng, spec["filter"], tau.shape)
        f.coupling = coup * factors(rng, spec["filter"], coup.shape)

    def implementation(self, name: str = "behavioral"):
        return pick_implementation(self.implementations, name, "the readout filter bank")


FILTERS = ReadoutFilters()
