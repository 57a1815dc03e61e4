"""Adversarial (non-task) inputs for the circuit-vs-software check (SPEC 6).

Task data exercise only the input patterns a model was trained on. A circuit
that implements the cell must agree with the software cell on any input, so
`cosim verify` also drives each model with three seeded families of input
sequences (piecewise constant per step, like task data), all within the
training range of every input channel:

- random:    each step holds the previous input (p = 1/2) or draws a new one,
             uniform over the range, each input zero with p = 0.3 (event
             tasks are mostly zeros);
- near:      every other step puts one random first-layer candidate within
             0.5-5 % of the half window beyond or short of a threshold
             (|c| vs |beta|; beta1 / beta2), found by bisection on a segment
             between two random inputs;
- beta_sign: signed kinds (bmru, cmru): pairs of steps between which one channel's threshold
             beta changes sign while the channel holds at both ends (the
             hazard: a continuous comparator sees |c| > |beta| while beta
             passes zero); first-quadrant cells (constant thresholds):
             jumps between above beta2, inside the window and below beta1.

Only the first layer is targeted directly; later layers see the first
layer's switching. The suite is deterministic (`seed`) and small (default
3 x 4 sequences of 64 steps). Only states are compared: the readout filters
are left out of these netlists (`states_only`), which makes the filter models
cheap to run.
"""
from __future__ import annotations

import copy

import numpy as np

from ..hw.ir import HardwareIR, MirrorBank
from ..hw.kinds import get_kind
from ..hw.reference import apply_bank

FAMILIES = ("random", "near", "beta_sign")
NEAR_RANGE = (0.005, 0.05)     # |offset| from the threshold, fraction of the half window


def input_range(x_train: np.ndarray) -> tuple:
    """(low, high) per input channel over the training inputs."""
    x = np.asarray(x_train, np.float64).reshape(-1, np.asarray(x_train).shape[-1])
    return x.min(axis=0), x.max(axis=0)


def _draw(rng, lo, hi, n) -> np.ndarray:
    x = rng.uniform(lo, hi, (n, len(lo)))
    return np.where(rng.random(x.shape) < 0.3, np.clip(0.0, lo, hi), x)


def _first_layer(ir: HardwareIR, x: np.ndarray) -> tuple:
    """Candidate, threshold(s) of layer 0 for inputs x (n, n_inputs): (c, beta) or (c, beta1, beta2)."""
    h = apply_bank(ir.proj, x) if ir.proj is not None else x
    layer = ir.layers[0]
    kind = get_kind(layer.kind)
    c, thr, _, _ = kind.signals(layer, h, 0.0)
    if kind.first_quadrant:
        return c, np.broadcast_to(kind.beta1(layer), c.shape), thr
    return c, thr


def _near_point(ir: HardwareIR, rng, lo, hi, tries: int = 30):
    """An input putting one layer-0 candidate within NEAR_RANGE of a threshold, or None."""
    layer = ir.layers[0]
    n = layer.n
    for _ in range(tries):
        a, b = _draw(rng, lo, hi, 2)
        i = int(rng.integers(n))
        r = rng.uniform(*NEAR_RANGE) * rng.choice([-1.0, 1.0])
        if get_kind(layer.kind).first_quadrant:
            up = rng.random() < 0.5
            half = max(layer.delta[i] / 2, 1e-3 * (layer.beta1[i] + layer.delta[i]))

            def f(x, i=i, up=up, r=r, half=half):
                c, b1, b2 = _first_layer(ir, x[None])
                return c[0, i] - ((b2 if up else b1)[0, i] + r * half)
        else:
            def f(x, i=i, r=r):
                c, beta = _first_layer(ir, x[None])
                return abs(c[0, i]) - (1 + r) * abs(beta[0, i])
        fa, fb = f(a), f(b)
        if fa == 0 or np.sign(fa) == np.sign(fb):
            continue
        for _ in range(60):            # bisection on the segment a -> b
            m = (a + b) / 2
            fm = f(m)
            if np.sign(fm) == np.sign(fa):
                a, fa = m, fm
            else:
                b = m
        return (a + b) / 2
    return None


def _pairs(ir: HardwareIR, rng, lo, hi, T: int) -> np.ndarray:
    """beta_sign family (see module doc): T steps built from a pool of random inputs."""
    pool = _draw(rng, lo, hi, 4096)
    layer = ir.layers[0]
    out = _draw(rng, lo, hi, T)
    if get_kind(layer.kind).first_quadrant:
        c, b1, b2 = _first_layer(ir, pool)
        groups = [[np.flatnonzero(c[:, i] > b2[:, i]), np.flatnonzero((c[:, i] >= b1[:, i]) & (c[:, i] <= b2[:, i])),
                   np.flatnonzero(c[:, i] < b1[:, i])] for i in range(layer.n)]
        for t in range(T):
            i = int(rng.integers(layer.n))
            choice = [g for g in groups[i] if len(g)]
            if choice:
                g = choice[int(rng.integers(len(choice)))]
                out[t] = pool[g[int(rng.integers(len(g)))]]
        return out
    c, beta = _first_layer(ir, pool)
    hold = np.abs(c) < np.abs(beta)
    for t in range(0, T - 1, 2):
        i = int(rng.integers(layer.n))
        pos = np.flatnonzero(hold[:, i] & (beta[:, i] > 0))
        neg = np.flatnonzero(hold[:, i] & (beta[:, i] < 0))
        if len(pos) and len(neg):
            first, second = (pos, neg) if rng.random() < 0.5 else (neg, pos)
            out[t] = pool[first[int(rng.integers(len(first)))]]
            out[t + 1] = pool[second[int(rng.integers(len(second)))]]
    return out


def adversarial_inputs(ir: HardwareIR, x_train, *, seed: int = 0, per_family: int = 4,
                       T: int = 64) -> dict:
    """{family: (per_family, T, n_inputs)} input sequences in units (deterministic in seed)."""
    lo, hi = input_range(x_train)
    rng = np.random.default_rng([seed, 0xAD5])
    out = {}
    seqs = []
    for _ in range(per_family):
        x = _draw(rng, lo, hi, T)
        for t in range(1, T):
            if rng.random() < 0.5:
                x[t] = x[t - 1]
        seqs.append(x)
    out["random"] = np.stack(seqs)
    seqs = []
    for _ in range(per_family):
        x = _draw(rng, lo, hi, T)
        for t in range(1, T, 2):
            p = _near_point(ir, rng, lo, hi)
            if p is not None:
                x[t] = p
        seqs.append(x)
    out["near"] = np.stack(seqs)
    out["beta_sign"] = np.stack([_pairs(ir, rng, lo, hi, T) for _ in range(per_family)])
    return out


def states_only(ir: HardwareIR) -> HardwareIR:
    """The same cells with the readout filters removed and a zero readout: for
    checks that compare states only (the filter models then run fast)."""
    out = copy.deepcopy(ir)
    if out.filters is None:
        return out
    width = sum(layer.n for layer in out.layers) if out.readout_all else out.layers[-1].n
    out.filters = None
    out.readout = MirrorBank([[0.0] * width for _ in range(out.n_outputs)], [0.0] * out.n_outputs)
    return out


def run_adversarial(ir: HardwareIR, x_train, *, seed: int = 0, per_family: int = 4, T: int = 64,
                    timeout_s: float = 600.0, log_dir=None, progress: bool = False) -> dict:
    """Simulate the suite in ngspice and compare states with the reference (tie-aware)."""
    from ..analysis.agreement import state_agreement
    from ..backends import simulate

    sir = states_only(ir)
    suite = adversarial_inputs(ir, x_train, seed=seed, per_family=per_family, T=T)
    result = {"seed": seed, "per_family": per_family, "steps": T, "families": {}}
    tot = dict(states=0, n_agree=0, n_ties=0, n_tie_differ=0, n_after_tie=0, n_downstream=0, n_disagreements=0)
    for fam, x in suite.items():
        circuit = simulate(sir, x, backend="ngspice", chunk=len(x), timeout_s=timeout_s, progress=progress,
                           log_dir=None if log_dir is None else f"{log_dir}/adversarial_{fam}")
        ref = simulate(sir, x, backend="reference").detail
        sa = state_agreement(sir, ref, circuit.states, max_listed=20)
        d = sa.to_dict()
        result["families"][fam] = d
        for k in tot:
            tot[k] += d[k]
    excluded = tot["n_ties"] + tot["n_after_tie"] + tot["n_downstream"]
    result.update(tot)
    result["state_agreement"] = tot["n_agree"] / max(tot["states"], 1)
    result["agreement_non_tie"] = 1 - tot["n_disagreements"] / max(tot["states"] - excluded, 1)
    result["ok"] = tot["n_disagreements"] == 0
    return result
