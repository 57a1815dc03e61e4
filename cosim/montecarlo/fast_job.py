"""Monte-Carlo runs through the fast engine, and the ngspice spot check.

`run_batch_fast` makes the same records as `job.run_batch` (same seeds, the
same mismatch draw and noise per run) from one engine call for the whole
batch. Without per-stage ladder mismatch the engine is the software
reference of each draw, bit for bit (tests/test_engine.py), so the software
side equals the circuit side; with it, the circuit's ladders are integrated
in time (engine.ladder) and the software side is the same draw's discrete
counter (`agreement_software`: the fraction of equal states). What says
whether the engine stands for the circuit is `spot_check`: chosen runs
re-simulated in ngspice and compared with the engine state by state (ties of
the cell decisions excused), any real difference fails the study.
"""
from __future__ import annotations

import time

import numpy as np

from ..analysis.agreement import snap_states, state_agreement
from ..backends import simulate
from ..hw.ir import CellLayer, HardwareIR, MirrorBank
from ..hw.kinds import get_kind
from ..hw.mismatch import perturb_ir
from ..hw.reference import score_outputs
from .job import layer_noise


def _take(a, d):
    return None if a is None else np.asarray(a)[d]


def layer_of_draw(layer: CellLayer, d: int) -> CellLayer:
    """Draw d of a batched layer (engine.draws), for the kind's `drawn` histograms."""
    bank = (lambda b: None if b is None else MirrorBank(b.gains[d], b.bias[d]))
    scale = None if layer.ladder_scale is None else [{k: _take(v, d) for k, v in (ch or {}).items()}
                                                     for ch in layer.ladder_scale]
    return CellLayer(layer.kind, bank(layer.candidate), _take(layer.alpha, d), layer.init_state,
                     threshold=bank(layer.threshold), beta1=_take(layer.beta1, d),
                     delta=_take(layer.delta, d), ladder_k=layer.ladder_k, ladder=layer.ladder,
                     ladder_scale=scale)


def run_batch_fast(ir_dict: dict, runs: list, p, noise_na: float, x, y, kind: str,
                   nominal_states: list, device: str = "cpu") -> list:
    """runs: [(index, mismatch_seed, noise_seed)]; x (S, time, n_in). One record per run."""
    from ..engine.draws import draw_batch
    from ..engine.model import FastModel

    start = time.perf_counter()
    nominal = HardwareIR.from_dict(ir_dict)
    x = np.asarray(x, np.float64)
    batched = draw_batch(nominal, p, [m for _, m, _ in runs])
    noise = None
    if noise_na > 0:
        per_run = [layer_noise(nominal, n, x.shape[:2], noise_na) for _, _, n in runs]
        noise = [np.stack([nz[l] for nz in per_run]) for l in range(len(nominal.layers))]
    model = FastModel(batched, device=device)
    states, outputs = model.run(x, noise)
    states = [s.cpu().numpy() for s in states]
    outputs = outputs.cpu().numpy()
    soft_states, soft_out = states, outputs
    if model.ladder_dynamics:
        soft_states, soft_out = FastModel(batched, device=device, ideal_ladders=True).run(x, noise)
        soft_states, soft_out = [s.cpu().numpy() for s in soft_states], soft_out.cpu().numpy()
    wall = (time.perf_counter() - start) / len(runs)
    cells = sum(s.size for s in nominal_states)
    records = []
    for r, (i, m, n) in enumerate(runs):
        score = score_outputs(outputs[r], y, kind, nominal.pool)
        soft = score_outputs(soft_out[r], y, kind, nominal.pool)
        same = sum(int((s[r] == t[r]).sum()) for s, t in zip(states, soft_states))
        flips = sum(int((snap_states(layer.kind, s[r]) != nom).sum())
                    for layer, s, nom in zip(nominal.layers, states, nominal_states))
        drawn = {}
        for l, layer in enumerate(batched.layers):
            drawn.update(get_kind(layer.kind).drawn(layer_of_draw(layer, r), l))
        records.append({"run": i, "mismatch_seed": m, "noise_seed": n, "p": p, "noise_na": noise_na,
                        "ok": True, "engine": "fast", "circuit_score": score, "software_score": soft,
                        "agreement_software": same / cells, "agreement_nominal": 1 - flips / cells,
                        "state_flips": flips, "wall_s": wall,
                        **{k: np.asarray(v).tolist() for k, v in drawn.items()}})
    return records


def spot_check(ir: HardwareIR, runs: list, p, noise_na: float, x, timeout_s: float = 300.0,
               device: str = "cpu") -> dict:
    """Re-simulate `runs` [(index, mismatch_seed, noise_seed)] in ngspice; per run the
    states where ngspice and the engine differ outside a tie of a cell decision
    (the reference trace of the same draw gives the margins)."""
    checked = []
    for i, m, n in runs:
        one = perturb_ir(ir, p, m)
        nz = layer_noise(ir, n, x.shape[:2], noise_na)
        spice = simulate(one, x, backend="ngspice", noise=nz, timeout_s=timeout_s)
        ref = simulate(one, x, backend="reference", noise=nz).detail
        fast = simulate(one, x, backend="fast", noise=nz, device=device)
        for trace, state in zip(ref.layers, fast.states):
            trace.state = state                   # compare ngspice with the engine, ties from the trace
        real = state_agreement(one, ref, spice.states, max_listed=5)
        checked.append({"run": i, "mismatch_seed": m, "noise_seed": n,
                        "ngspice_disagreements": real.n_disagreements, "ties": real.n_ties,
                        "examples": [d for d in real.disagreements if d["kind"] == "disagree"][:5]})
    bad = sum(c["ngspice_disagreements"] for c in checked)
    return {"runs": checked, "disagreements": bad}
