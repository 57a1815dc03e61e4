"""ngspice cost per cell-step: the sky130 transistor bistable cell vs the behavioral latch, one run.

    .venv/bin/python benchmarks/transistor.py [--steps 1000] [--cells 1]

Both cells get the same input: a current held for each step of 10 ms at a
random level around the window (seeded), for --steps steps, as a PWL
source; the output is held at 0.6 V. CPU seconds of the ngspice child
process per run (model loading included: the trimmed PDK library), and the
ratio. Also: the load time of the trimmed library against the full combined
sky130.lib.spice (one `.op` of a single mirror).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from cosim.netlist.circuit import Circuit, Pwl
from cosim.netlist.library import behavioral_library
from cosim.pdk.bench import bench, run
from cosim.pdk.cells import mirror_bank
from cosim.pdk.schmitt_char import CELL
from cosim.pdk.sky130 import combined_library

DT = 10e-3
BETA2, WIDTH, ALPHA = 1.0e-9, 0.4e-9, 1.0e-9


def child_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def stimulus(steps: int, seed: int = 0) -> Pwl:
    rng = np.random.default_rng(seed)
    levels = rng.uniform(0.2 * BETA2, 1.6 * BETA2, steps)
    pts = []
    for k, v in enumerate(levels):
        pts += [(k * DT + (1e-4 if k else 0.0), float(v)), ((k + 1) * DT, float(v))]
    return Pwl(tuple(pts))


def cell_run(level: str, steps: int, cells: int) -> tuple:
    """(CPU s, wall s) of one ngspice run of `cells` cells for `steps` steps."""
    if level == "transistor":
        c = bench("transistor cells")
        sub, extra = CELL, ("vdd", "0")
        params = dict(ithresh=BETA2, iwidth=WIDTH, igain=ALPHA)
    else:
        c = Circuit("behavioral cells", library=behavioral_library())
        sub, extra = "bist_latch", ()
        params = dict(igain=ALPHA, ithresh=BETA2, iwidth=WIDTH, iunit=1e-9, eps=0.01, s0=0)
    for k in range(cells):
        c.add("isource", f"x{k}", "0", f"in{k}", value=stimulus(steps, k))
        c.add("vsource", f"out{k}", f"out{k}", "0", value=0.6)
        c.instance(f"c{k}", sub, f"in{k}", f"out{k}", *extra, **params)
    c.saves.extend([f"i(vout{k})" for k in range(cells)])
    start, wall = child_cpu(), time.perf_counter()
    if level == "transistor":
        run(c, f".tran {DT / 20:g} {steps * DT:g} 0 {DT / 5:g}", timeout_s=3600)
    else:
        from cosim.netlist.ngspice import with_analysis, write
        from cosim.spice import run_netlist
        run_netlist(with_analysis(write(c), f".options xtrtol=7\n.tran {DT / 20:g} {steps * DT:g} 0 {DT / 5:g}"))
    return child_cpu() - start, time.perf_counter() - wall


def load_cost() -> tuple:
    """(CPU s trimmed, CPU s full) of a one-mirror `.op`."""
    out = []
    for full in (False, True):
        c = bench("load")
        if full:
            c = Circuit("load full", library=type("L", (), {"ports": {}, "text": staticmethod(
                lambda: f'.lib "{combined_library()}" tt')})())
            c.add("vsource", "dd", "vdd", "0", value=1.8)
        c.isource("in", "vdd", "inp", 1e-9)
        c.add("vsource", "o", "o", "0", value=0.9)
        mirror_bank(c, "m", "inp", [("o", 1)])
        start = child_cpu()
        run(c, ".op")
        out.append(child_cpu() - start)
    return tuple(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--cells", type=int, default=1)
    args = ap.parse_args()
    trimmed, full = load_cost()
    print(f"model loading (one mirror .op): trimmed library {trimmed:.2f} s CPU, full sky130.lib.spice "
          f"{full:.2f} s ({full / trimmed:.0f}x)")
    (beh, beh_w), (tr, tr_w) = (cell_run(level, args.steps, args.cells) for level in ("behavioral", "transistor"))
    n = args.steps * args.cells
    print(f"{args.cells} cell(s) x {args.steps} steps: behavioral {beh:.2f} s CPU ({1e3 * beh / n:.2f} ms per "
          f"cell-step), transistor {tr:.2f} s ({1e3 * tr / n:.2f} ms per cell-step): {tr / beh:.0f}x CPU; "
          f"wall {beh_w:.2f} s vs {tr_w:.2f} s ({tr_w / beh_w:.0f}x; ngspice's device evaluation is multithreaded)")


if __name__ == "__main__":
    main()
