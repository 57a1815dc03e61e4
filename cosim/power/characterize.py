"""Fit the analytical power model (power.model) of each transistor cell kind to
transistor runs: random cells of the kind (biases over the shipped models' ranges)
under random piecewise-constant drives that hold, cross and re-cross their
thresholds, each run alone at the corner and temperature (backends.transistor
partitions), supply power averaged per step. The fit is least squares over every
step; phi (the fraction of a switching step spent in the old state) by a grid.

The result is the calibration file's "power" section:
    {kind: {cell, features, coef_nw_per_na, phi, rms_nw, max_abs_err_nw, mean_nw, runs, steps}}
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..backends.transistor import channel_ir, run_partition
from ..hw.ir import CellLayer, LadderDesign, MirrorBank
from ..pdk.clocked_char import one_layer_ir
from .model import FEATURES, step_features

PHI_GRID = np.linspace(0.0, 1.0, 21)
CELLS = {"schmitt": "sky130_schmitt_clk", "bmru": "sky130_bmru_clk", "cmru": "sky130 ladder (K=4)"}


def _levels(rng, T: int, pick) -> np.ndarray:
    """Piecewise-constant drive: runs of 1-4 steps, each level from pick(rng)."""
    out = []
    while len(out) < T:
        out += [pick(rng)] * int(rng.integers(1, 5))
    return np.asarray(out[:T], np.float64)


def _bench_cells(kind: str, rng, n: int, T: int) -> list:
    """[(layer of one cell, drive (T, 1|2))] for random cells of `kind`."""
    out = []
    for _ in range(n):
        if kind == "schmitt":
            b1, d, a = rng.uniform(0.2, 1.5), rng.uniform(0.05, 2.5), rng.uniform(0.5, 6.0)
            b2 = b1 + d
            pick = lambda r: r.choice([0.0, r.uniform(0, b1), r.uniform(b1, b2), r.uniform(b2, b2 + 1.5)])  # noqa: E731
            layer = CellLayer(kind="schmitt", candidate=MirrorBank(np.eye(1), np.zeros(1)), threshold=None,
                              alpha=np.array([a]), init_state=np.zeros(1), beta1=np.array([b1]), delta=np.array([d]))
            x = _levels(rng, T, pick)[:, None]
        elif kind == "bmru":
            a = rng.uniform(0.5, 2.5)
            layer = CellLayer(kind="bmru", candidate=MirrorBank(np.eye(1, 2), np.zeros(1)),
                              threshold=MirrorBank(np.eye(1, 2, 1), np.zeros(1)), alpha=np.array([a]),
                              init_state=np.array([-1.0]))
            beta = _levels(rng, T, lambda r: r.choice([-1, 1]) * r.uniform(0.2, 1.5))
            c = _levels(rng, T, lambda r: r.uniform(-2.5, 2.5))
            x = np.stack([c, beta], axis=-1)
        else:
            a = rng.uniform(1.0, 3.0)
            layer = CellLayer(kind="cmru", candidate=MirrorBank(np.eye(1, 2), np.zeros(1)),
                              threshold=MirrorBank(np.eye(1, 2, 1), np.zeros(1)), alpha=np.array([a]),
                              init_state=np.zeros(1), ladder_k=4,
                              ladder=LadderDesign(c0=1.0, h=0.25, w=1 / 3, a=1 / 6, tau_s=2e-3))
            # runs of rising then falling updates, so the ladder visits every rung
            c = np.where(np.sin(np.arange(T) * 2 * np.pi / 24) > 0, 1.0, -1.0) * (np.arange(T) % 2)
            x = np.stack([c, np.full(T, 0.5)], axis=-1)
        out.append((layer, x))
    return out


def _fit(layers_x_states_power: list) -> dict:
    from ..hw.reference import run_layer

    best = None
    for phi in PHI_GRID:
        F, P = [], []
        for layer, x, _, power in layers_x_states_power:
            tr = run_layer(layer, x[None])
            f = step_features(layer, np.asarray(tr.candidate), np.asarray(tr.threshold), tr.state,
                              layer.init_state, phi)
            F.append(f[0, :, 0])
            P.append(power)
        F, P = np.concatenate(F), np.concatenate(P)
        coef, *_ = np.linalg.lstsq(F, P, rcond=None)
        rms = float(np.sqrt(np.mean((F @ coef - P) ** 2)))
        if best is None or rms < best["rms_nw"]:
            best = {"phi": float(phi), "coef_nw_per_na": coef.tolist(), "rms_nw": rms,
                    "max_abs_err_nw": float(np.abs(F @ coef - P).max()), "mean_nw": float(P.mean()),
                    "steps": int(len(P))}
    return best


def characterize_power(corner: str = "tt", temp_c: float = 27.0, seed: int = 0, *, runs=None, steps=None,
                       jobs: int = 2, timeout_s: float = 600.0, progress=print) -> dict:
    """The calibration's "power" section (module doc). runs/steps: cells and steps per kind."""
    from ..pdk.netlist import PdkSetup

    runs = runs or {"schmitt": 12, "bmru": 8, "cmru": 3}
    steps = steps or {"schmitt": 48, "bmru": 48, "cmru": 72}
    pdk = PdkSetup(corner, temp_c)
    rng = np.random.default_rng(seed)
    doc = {"corner": corner, "temp_c": temp_c, "seed": seed, "units": "coefficients nW per nA of each feature"}
    for kind in FEATURES:
        progress(f"  power: {runs[kind]} {kind} cells x {steps[kind]} steps ...")
        cells = _bench_cells(kind, rng, runs[kind], steps[kind])
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futs = [pool.submit(run_partition, channel_ir(one_layer_ir(layer, "power bench"), layer, 0), x, pdk,
                                timeout_s, seed,
                                1) for layer, x in cells]
            results = [f.result() for f in futs]
        fitted = _fit([(layer, x, r[0], r[4]) for (layer, x), r in zip(cells, results)])
        doc[kind] = {"cell": CELLS[kind], "features": FEATURES[kind][1], "runs": runs[kind], **fitted}
    return doc


def summary_lines(doc: dict) -> list:
    lines = []
    for kind in FEATURES:
        if kind in doc:
            m = doc[kind]
            lines.append(f"  power model {kind:8s}: mean {m['mean_nw']:.1f} nW per cell, fit rms {m['rms_nw']:.2f} nW "
                         f"(max {m['max_abs_err_nw']:.1f}), phi {m['phi']:.2f} ({m['runs']} cells, {m['steps']} steps)")
    return lines
