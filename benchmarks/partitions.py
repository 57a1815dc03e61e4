"""Transistor level: one whole-model netlist against the partitioned backend (one cell per
netlist, layer by layer, fed the measured output currents), in one run.

    .venv/bin/python benchmarks/partitions.py [--model models/bmru_flipflop] [--steps 64] [--sequences 1]

Prints the wall time of each, the ratio, and what partitioning changes: differing states
and the largest output-current difference (the cells' ports are driven by ideal
behavioral mirrors in both, so any difference comes from the simulation itself: one
shared time step in the whole netlist, one per cell in the partitions).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import cosim
from cosim.hw.kinds import get_kind
from cosim.hw.source import load_source
from cosim.netlist.builder import build_netlist
from cosim.netlist.sampling import step_signals
from cosim.pdk.netlist import PdkSetup
from cosim.spice import run_netlist


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/bmru_flipflop")
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--sequences", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    src = load_source(a.model)
    ir = src.ir
    x = src.task.x_test[:a.sequences, :a.steps]
    pdk = PdkSetup()
    t0 = time.perf_counter()
    net = build_netlist(ir, x, level="transistor", pdk=pdk)
    sig = step_signals(run_netlist(net.text, timeout_s=3600, threads=1), net, ir.timing)
    whole_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    part = cosim.simulate(ir, x, backend="transistor", pdk=pdk, jobs=a.jobs)
    part_s = time.perf_counter() - t0
    ref = cosim.simulate(ir, x, backend="reference")
    n_cells = sum(layer.n for layer in ir.layers)
    print(f"{a.model}: {n_cells} transistor cells x {len(x)} sequence(s) x {x.shape[1]} steps")
    print(f"  one netlist   {whole_s:8.1f} s wall (one ngspice thread, as each partition)")
    print(f"  partitions    {part_s:8.1f} s wall ({part.detail['partitions']} netlists, {a.jobs} at a time): "
          f"{whole_s / part_s:.2f}x faster")
    for l in range(len(ir.layers)):
        whole = np.stack([s[l] for s in sig.states])
        kind = ir.layers[l].kind
        snap = get_kind(kind).snap
        diff = int((snap(whole) != snap(part.states[l])).sum())
        vs_sw = int((snap(part.states[l]) != ref.states[l]).sum())
        print(f"  layer {l}: {diff} of {whole.size} cell-steps differ between the two "
              f"({vs_sw} partitions vs software)")
    out = np.stack(sig.outputs)
    err = np.abs(out - part.outputs).max()
    print(f"  readout currents: largest difference {err:.3g} nA "
          f"({err / max(np.abs(out).max(), 1e-30):.2e} of the largest output)")


if __name__ == "__main__":
    main()
