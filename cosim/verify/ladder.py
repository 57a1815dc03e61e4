"""Ladder staircase run: one CMRU channel driven up and down through both ends."""
from __future__ import annotations

from ..analysis.ladder import LadderResult, analyse_ladder, ideal_levels
from ..hw.ir import HardwareIR
from ..netlist.ladder_bench import ladder_bench
from ..netlist.stimulus import sample_times
from ..spice import run_netlist


def run_ladder(ir: HardwareIR, layer: int, channel: int, updates=None, timeout_s: float = 120.0):
    """(LadderResult, trace dict for plotting: t_s, level (rungs, continuous), samples)."""
    bench = ladder_bench(ir, layer, channel, updates)
    res = run_netlist(bench.text, timeout_s=timeout_s)
    ts = sample_times(len(bench.updates), ir.timing.dt_s, ir.timing.sample_frac)
    levels = res.sample(bench.current_probe, ts) / bench.alpha_a
    result: LadderResult = analyse_ladder(levels, bench.updates, bench.s0, bench.K)
    trace = {"t_s": res.time, "level": res[bench.current_probe] / bench.alpha_a,
             "sample_t_s": ts, "sampled": levels,
             "ideal": ideal_levels(bench.updates, bench.s0, bench.K), "updates": bench.updates,
             "dt_s": ir.timing.dt_s, "alpha_na": bench.alpha_a / 1e-9, "K": bench.K, "s0": bench.s0}
    return result, trace
