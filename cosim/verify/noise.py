"""Noise tolerance (SPEC 4): state-flip error rate versus input-noise
amplitude for a bistable cell with its trained hysteresis width versus a plain
comparator (width 0), in ngspice and in software, with the suppression factor.

    ir = load_ir("models/schmitt_digits")
    res = noise_experiment(ir, layer=0)            # median-width channel
    print(format_table(res)); plot(res, "noise.png")

See `cosim.analysis.noise` for the stimulus, the counting and the factor,
`cosim.netlist.noise_bench` for the circuit. `add_cli(sub)` registers
`cosim noise`. Heavy imports happen inside the functions.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..errors import InputError
from .. import argtypes as at
from ..fileio import atomic_write_text

__all__ = ["noise_experiment", "format_table", "claim_summary", "plot", "add_cli", "parse_sigmas"]


def parse_sigmas(text: str) -> list:
    """'0.02,0.05,...' -> [0.02, 0.05, ...] (fractions of delta, >= 0)."""
    try:
        vals = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--sigmas {text!r}: expected comma-separated numbers (fractions of delta)")
    if not vals or any(not v >= 0 for v in vals):
        raise InputError(f"--sigmas {text!r}: need one or more values >= 0 (fractions of delta)")
    return vals


def noise_experiment(ir, layer: int = 0, channel: int | None = None, *, sigmas=None,
                     crossings: int = 10, seed: int = 0, samples_per_step: int = 20,
                     ramp_steps: int = 4, hold_steps: int = 1, timeout_s: float = 120.0,
                     driver: str = "subprocess", model_name: str | None = None,
                     keep_trace: bool = True):
    """Run the experiment: every sigma (fractions of delta; default
    analysis.noise.DEFAULT_SIGMAS) as one input row of ONE ngspice netlist,
    both devices per row; software cells on the same sampled inputs.

    Returns analysis.noise.NoiseResult (JSON via .to_dict(); the traces for
    the plot in .trace). ValueError on a bad layer / channel / argument."""
    import numpy as np

    from ..analysis.noise import (DEFAULT_SIGMAS, NoisePoint, NoiseResult, binary_states,
                                  comparator_window, count, noise_traces, partial_samples,
                                  pick_channel,
                                  sigma_seeds, software_counts, suppression, trapezoid)
    from ..netlist.noise_bench import noise_bench
    from ..spice import run_netlist

    t0 = time.perf_counter()
    rel = list(DEFAULT_SIGMAS if sigmas is None else sigmas)
    if not rel or any(not s >= 0 for s in rel):
        raise InputError("sigmas must be one or more values >= 0 (fractions of delta)")
    if crossings < 1:
        raise InputError("crossings must be >= 1")
    ch, win = pick_channel(ir, layer, channel)
    comp = comparator_window(win)
    stim = trapezoid(win, crossings, dt_s=ir.timing.dt_s, samples_per_step=samples_per_step,
                     ramp_steps=ramp_steps, hold_steps=hold_steps)
    seeds = sigma_seeds(seed, len(rel))
    sig = [r * win.width for r in rel]
    x = stim.clean[None, :] + noise_traces(seeds, sig, stim.n)
    iu = ir.timing.i_unit_a
    bench = noise_bench(win, x, stim.tn_s, i_unit_a=iu,
                        title=f"cosim noise bench: {model_name or ir.name} layer {layer} channel {ch}")
    res = run_netlist(bench.text, timeout_s=timeout_s, seed=seed, driver=driver)
    points, trace = [], {"t": stim.times, "clean": stim.clean, "x": x, "hyst": [], "comp": [],
                         "hyst_software": [], "comp_software": []}
    for i, (r, s, sd) in enumerate(zip(rel, sig, seeds)):
        uh = res.sample(bench.hyst_probes[i], stim.times)
        uc = res.sample(bench.comp_probes[i], stim.times)
        h, c = binary_states(uh), binary_states(uc)
        hs, hsc = software_counts(win, x[i], stim)
        cs, csc = software_counts(comp, x[i], stim)
        hc, cc = count(h, stim), count(c, stim)
        f, lb = suppression(hc.error_rate, cc.error_rate, crossings)
        fs, lbs = suppression(hsc.error_rate, csc.error_rate, crossings)
        points.append(NoisePoint(sigma=s, sigma_rel=r, seed=sd, hyst_circuit=hc, comp_circuit=cc,
                                 hyst_software=hsc, comp_software=csc, factor=f,
                                 factor_is_lower_bound=lb, factor_software=fs,
                                 factor_software_is_lower_bound=lbs,
                                 hyst_sample_agreement=float(np.mean(h == hs)),
                                 comp_sample_agreement=float(np.mean(c == cs)),
                                 hyst_partial=partial_samples(uh), comp_partial=partial_samples(uc)))
        for key, v in (("hyst", h), ("comp", c), ("hyst_software", hs), ("comp_software", cs)):
            trace[key].append(v)
    note = ""
    if stim.lo == 0.0:
        note = "the low extreme centre - delta was below 0: clipped at 0 (first-quadrant input)"
    return NoiseResult(
        model=model_name or ir.name, layer=int(layer), channel=ch, beta1=win.down, beta2=win.up,
        delta=win.width, centre=stim.centre, alpha=win.alpha, i_unit_a=iu, dt_s=ir.timing.dt_s,
        tn_s=stim.tn_s, samples_per_step=samples_per_step, ramp_steps=ramp_steps,
        hold_steps=hold_steps, crossings=crossings, lo=stim.lo, hi=stim.hi, n_samples=stim.n,
        root_seed=int(seed), eps=bench.eps, points=points, ngspice_wall_s=res.wall_s,
        wall_s=time.perf_counter() - t0, note=note, trace=trace if keep_trace else {})


def format_table(res) -> str:
    """The printed table: sigma (nA, /delta), flips per crossing of both devices
    (circuit; software in brackets where it differs), suppression factor."""
    na = res.na
    lines = [f"noise tolerance: {res.model}, layer {res.layer} channel {res.channel}: "
             f"window [{res.beta1 * na:.4f}, {res.beta2 * na:.4f}] nA, delta {res.delta * na:.4f} nA; "
             f"comparator at {res.centre * na:.4f} nA",
             f"  input: trapezoid {res.lo * na:.4f} <-> {res.hi * na:.4f} nA, {res.crossings} crossings "
             f"(ramp {res.ramp_steps} steps, hold {res.hold_steps}), noise sample "
             f"{res.tn_s * 1e3:g} ms ({res.samples_per_step}/step), {res.n_samples} samples; "
             f"seed {res.root_seed}; ngspice {res.ngspice_wall_s:.2f} s",
             f"  {'sigma nA':>9} {'sig/delta':>9} {'hysteresis':>11} {'comparator':>11} {'factor':>9}"
             f"   software: {'hyst':>6} {'comp':>6} {'factor':>9}"]
    for p in res.points:
        lines.append(f"  {p.sigma * na:9.4f} {p.sigma_rel:9.3g} {p.hyst_circuit.error_rate:11.3g} "
                     f"{p.comp_circuit.error_rate:11.3g} {p.factor_text():>9}"
                     f"             {p.hyst_software.error_rate:6.3g} {p.comp_software.error_rate:6.3g} "
                     f"{p.factor_text(software=True):>9}")
    lines.append(f"  flips per crossing = (transitions - crossings) / crossings; resolution "
                 f"1/{res.crossings} = {res.resolution:.3g}; '> X': the hysteresis cell made no extra "
                 f"transition (factor = comparator / resolution, a lower bound)")
    agree = min(min(p.hyst_sample_agreement, p.comp_sample_agreement) for p in res.points)
    same = all(p.hyst_circuit == p.hyst_software and p.comp_circuit == p.comp_software
               for p in res.points)
    lines.append("  " + claim_summary(res))
    part = sum(p.hyst_partial + p.comp_partial for p in res.points)
    lines.append(f"  circuit vs software: {'identical counts' if same else 'counts differ'}; "
                 f"per-sample state agreement >= {100 * agree:.2f}%; {part} circuit sample"
                 f"{'s' if part != 1 else ''} caught inside the latch ramp (eps = {res.eps:g} of the "
                 f"half width at a threshold)")
    if res.note:
        lines.append(f"  note: {res.note}")
    return "\n".join(lines)


def claim_summary(res, claim: float | None = None) -> str:
    """One line: at which sigmas the circuit factor meets the >= 20x claim."""
    from ..analysis.noise import CLAIM

    claim = CLAIM if claim is None else claim
    met, open_, miss, na = [], [], [], []
    for p in res.points:
        tag = f"{p.sigma_rel:g}"
        if p.factor is None:
            na.append(tag)
        elif p.factor >= claim:
            met.append(tag)
        elif p.factor_is_lower_bound:
            open_.append(tag)
        else:
            miss.append(tag)
    parts = [f"claim >= {claim:g}x per crossing (sigma/delta): met at {', '.join(met) or 'none'}"]
    if miss:
        parts.append(f"not met at {', '.join(miss)}")
    if open_:
        parts.append(f"inconclusive at {', '.join(open_)} (lower bound below {claim:g}x: "
                     f"more crossings needed)")
    if na:
        parts.append(f"no comparator flips at {', '.join(na)}")
    return "; ".join(parts)


def plot(res, path, title: str | None = None) -> Path:
    from ..plots.noise import plot_noise

    return plot_noise(res, path, title=title)


# --------------------------------------------------------------------------- CLI

EPILOG = """examples:
  cosim noise models/schmitt_digits --out noise.png --json noise.json
  cosim noise models/schmitt_digits --channel 5 --sigmas 0.1,0.2,0.4 --crossings 40 --out n5.png

MODEL is a checkpoint folder (quantized with --bits, default 6) or a .hw.json IR
file; the layer must be a first-quadrant (schmitt) layer. Default channel: the
one with the median hysteresis width delta. The input ramps between
centre - delta and centre + delta (--crossings ramps, holding at the extremes)
plus Gaussian noise of std sigma, piecewise constant per noise sample
(--samples-per-step per step), drawn by numpy from --seed. Both devices get
the same input: the cell with its trained window and a comparator (width 0)
at the window centre. flips/crossing = extra state transitions per window
crossing; factor = comparator / hysteresis (a lower bound '> X' when the
hysteresis cell made none)."""


def _command(args) -> str:
    """The command line that reproduces the run (for the JSON record)."""
    parts = ["cosim noise", str(args.model), f"--layer {args.layer}"]
    if args.channel is not None:
        parts.append(f"--channel {args.channel}")
    if args.sigmas:
        parts.append(f"--sigmas {args.sigmas}")
    parts += [f"--crossings {args.crossings}", f"--seed {args.seed}"]
    if args.samples_per_step != 20:
        parts.append(f"--samples-per-step {args.samples_per_step}")
    if args.bits != 6:
        parts.append(f"--bits {args.bits}")
    parts.append(f"--out {args.out}")
    if args.json:
        parts.append(f"--json {args.json}")
    return " ".join(parts)


def _cmd_noise(args) -> None:
    from .hysteresis import check_figure_path, load_ir

    out = check_figure_path(args.out, args.force)
    sig = parse_sigmas(args.sigmas) if args.sigmas else None
    ir = load_ir(args.model, bits=args.bits)
    res = noise_experiment(ir, args.layer, args.channel, sigmas=sig, crossings=args.crossings,
                           seed=args.seed, samples_per_step=args.samples_per_step,
                           timeout_s=args.timeout, model_name=Path(args.model).name)
    plot(res, out)
    print(format_table(res))
    msg = f"  wrote {out}"
    if args.json:
        d = res.to_dict()
        d["command"] = _command(args)
        d["claim"] = claim_summary(res)
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.json, json.dumps(d, indent=1))
        msg += f", {args.json}"
    print(msg + f" ({res.wall_s:.1f} s)")


def add_cli(sub) -> argparse.ArgumentParser:
    """Register `noise` on an argparse subparsers object (handler in `func`)."""
    p = sub.add_parser("noise", help="state flips per window crossing vs input noise: hysteresis "
                                     "cell vs plain comparator in ngspice, suppression factor",
                       description="Drive one first-quadrant cell and a width-0 comparator with the "
                                   "same slow trapezoid plus seeded Gaussian current noise in "
                                   "ngspice; count extra state transitions per window crossing "
                                   "versus the noise amplitude, also for the software cells; plot.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("model", help="checkpoint folder or .hw.json IR file")
    p.add_argument("--layer", type=at.int_range(0, 63), default=0, help="cell layer index (default 0)")
    p.add_argument("--channel", type=at.int_range(0, 4095), default=None,
                   help="channel index (default: the channel with the median width delta)")
    p.add_argument("--sigmas", default=None,
                   help="noise std as fractions of delta, comma-separated "
                        "(default 0.02,0.05,0.1,0.2,0.3,0.5)")
    p.add_argument("--crossings", type=at.int_range(1, 10_000), default=10,
                   help="window crossings of the trapezoid (default 10; resolution 1/crossings)")
    p.add_argument("--samples-per-step", type=at.int_range(2, 1000), default=20,
                   help="noise samples per recurrent step dt (default 20)")
    p.add_argument("--seed", type=at.seed, default=0, help="root seed of the noise (default 0)")
    p.add_argument("--out", required=True, help="figure to write (.png, .svg or .pdf)")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--json", default=None, help="also write the results as JSON here")
    p.add_argument("--bits", type=at.bits, default=6, help="quantization bits for a checkpoint (default 6)")
    p.add_argument("--timeout", type=at.timeout_s, default=120.0, help="ngspice time limit (s, > 0)")
    p.set_defaults(func=_cmd_noise)
    return p
