"""Monte-Carlo study of CMRU ladder exactness under per-stage mismatch (SPEC 3.4).

Units and conventions:
    sigma   relative standard deviation of each per-stage factor (a fraction,
            0.025 = 2.5%): every stage parameter is multiplied by 1 + N(0, sigma^2).
            Drawn by `cosim.hw.mismatch.perturb_ir` with {"ladder": 3 * sigma}
            (its p is "+-p at 3 sigma").
    params  "all" perturbs alpha, c0, h, w, a and tau of every stage together;
            a single name (e.g. "w") keeps only that parameter's factors and sets
            every other factor back to 1.0 (same draw, so "w" alone sees exactly
            the W factors of "all").
    seeds   draw i uses the mismatch seed of run i of `run_seeds(root_seed, draws)`,
            the same for every sigma and parameter set (common random numbers: a
            larger sigma scales the same normal deviates).

One draw = one transient run of the default staircase (`ladder_bench`: up past
+K, hold, down past -K, hold, back to 0) on one channel of one CMRU layer.

    exact              the ladder state (number of stages on, node `lvl`, in rungs)
                       settles on the ideal clipped rung after every update step
    max_level_error    max over steps of |state - ideal rung| (rungs)
    exact_current      the output current / nominal alpha rounds to the ideal rung
                       after every step (also sees alpha mismatch: uneven rungs)
    max_current_error  max over steps of |I / alpha - ideal rung| (rungs)

A draw that ngspice cannot simulate, or that perturb_ir rejects (a factor <= 0,
possible only for sigma of tens of percent), is recorded with `error` and counts
as not exact (`errors` in the summary).
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from ..analysis.ladder import analyse_ladder
from ..errors import InputError
from ..hw.ir import HardwareIR, IRError
from ..hw.mismatch import LADDER_PARAMS, perturb_ir
from ..netlist.ladder_bench import ladder_bench
from ..netlist.stimulus import sample_times
from ..spice import SpiceError, run_netlist
from .seeds import run_seeds

PARAM_SETS = ("all",) + LADDER_PARAMS


def draw_ir(ir: HardwareIR, sigma: float, seed: int, params: str = "all") -> HardwareIR:
    """The IR with per-stage ladder mismatch sigma on `params` ("all" or one of LADDER_PARAMS)."""
    if params not in PARAM_SETS:
        raise InputError(f"params must be one of {PARAM_SETS}, got {params!r}")
    out = perturb_ir(ir, {"ladder": 3.0 * sigma}, seed)
    if params != "all":
        for layer in out.layers:
            for scale in layer.ladder_scale or []:
                for key in scale:
                    if key != params:
                        scale[key] = [1.0] * len(scale[key])
    return out


def run_draw(ir: HardwareIR, layer: int = 0, channel: int = 0, updates=None,
             timeout_s: float = 120.0) -> dict:
    """Simulate one (already perturbed) ladder; the per-draw fields of the module doc."""
    bench = ladder_bench(ir, layer, channel, updates)
    res = run_netlist(bench.text, timeout_s=timeout_s)
    ts = sample_times(len(bench.updates), ir.timing.dt_s, ir.timing.sample_frac)
    state = analyse_ladder(res.sample(bench.level_probe, ts), bench.updates, bench.s0, bench.K)
    current = analyse_ladder(res.sample(bench.current_probe, ts) / bench.alpha_a,
                             bench.updates, bench.s0, bench.K)
    return {"exact": state.exact_rungs, "max_level_error": state.max_level_error_frac,
            "wrong_steps": len(state.wrong_steps),
            "exact_current": current.exact_rungs, "max_current_error": current.max_level_error_frac}


def _task(args) -> dict:
    ir, sigma, params, draw, seed, layer, channel = args
    rec = {"draw": draw, "seed": seed}
    try:
        rec.update(run_draw(draw_ir(ir, sigma, seed, params), layer, channel))
    except (IRError, SpiceError) as exc:
        rec.update(exact=False, exact_current=False, error=str(exc).splitlines()[0])
    return rec


def ladder_study(ir: HardwareIR, sigmas, draws: int = 32, root_seed: int = 0, params=None,
                 layer: int = 0, channel: int = 0, workers: int = 1) -> dict:
    """Exact ladders out of `draws` for each sigma x parameter set.

    params: parameter sets to run, each "all" or one of LADDER_PARAMS (default ("all",)).
    Returns plain data: {"root_seed", "draws", "layer", "channel", "K", "results": [
    {"sigma", "params", "exact", "exact_current", "errors", "worst_level_error",
     "worst_current_error", "draws": [per-draw dicts, see module doc]}]}.
    """
    params = ("all",) if params is None else tuple(params)
    for p in params:
        if p not in PARAM_SETS:
            raise InputError(f"params must be in {PARAM_SETS}, got {p!r}")
    seeds = [m for m, _ in run_seeds(root_seed, draws)]
    cases = [(float(s), p) for s in sigmas for p in params]
    tasks = [(ir, s, p, i, seed, layer, channel) for s, p in cases for i, seed in enumerate(seeds)]
    if workers > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            records = list(pool.map(_task, tasks, chunksize=max(1, len(tasks) // (8 * workers))))
    else:
        records = [_task(t) for t in tasks]
    results = []
    for k, (sigma, p) in enumerate(cases):
        recs = records[k * draws:(k + 1) * draws]
        ok = [r for r in recs if "error" not in r]
        results.append({
            "sigma": sigma, "params": p,
            "exact": sum(r["exact"] for r in recs),
            "exact_current": sum(r["exact_current"] for r in recs),
            "errors": len(recs) - len(ok),
            "worst_level_error": max((r["max_level_error"] for r in ok), default=None),
            "worst_current_error": max((r["max_current_error"] for r in ok), default=None),
            "draws": recs})
    return {"root_seed": root_seed, "draws": draws, "layer": layer, "channel": channel,
            "K": ir.layers[layer].ladder_k, "results": results}
