"""`cosim characterize`'s "clocked" section: the cells the models run (the clocked
first-quadrant cell, the signed BMRU cell, the CMRU ladder), measured as the models run
them (pdk.staircase, backends.transistor partitions: one 10 ms step per drive value,
the update pulse mid-step) at the characterization's corner and temperature, biased
through the calibration file's fit (tt/27 °C unless given another).

- schmitt_clk: three cells over the shipped models' range of (beta2, delta, alpha):
  switching points and level against the intended values (fractions); mismatch: each
  cell in `draws` PDK draws at the 5%-budget size, σ of beta2, beta1, width, alpha
  relative to the nominal cell.
- bmru_clk: the loop at |beta| = 0.3, 1 and 3 nA (switching points, fractions of
  |beta|) and alpha; mismatch at |beta| = 1 nA: σ of both switching points and alpha,
  and sigma_x_msize (σ of the worse switching point times the msize it was measured
  at; σ scales as 1 / msize) from which pdk.mapping.cell_size sizes this cell.
- ladder: K = 4 at alpha 1 nA from rung -4: 9 up pulses then 9 down pulses, each
  followed by a step without update: rungs right (one per pulse, saturating at +-4),
  held between pulses, the worst level error (rungs); the same in each mismatch draw,
  with σ of the held levels about their rungs (rungs).
"""
from __future__ import annotations

import numpy as np

from ..hw.ir import CellLayer, HardwareIR, LadderDesign, MirrorBank
from ..hw.timing import Timing

SCHMITT_CELLS = ((0.3, 0.4, 1.0), (1.0, 0.5, 2.0), (0.4, 1.6, 4.0))   # (beta1, delta, alpha) nA
BMRU_BETAS = (0.3, 1.0, 3.0)                                         # |beta| of the loops, nA
BMRU_ALPHAS = (0.5, 1.0, 2.0)                                        # cells of the mismatch draws, nA
LADDER_K = 4


def one_layer_ir(layer: CellLayer, name: str = "characterize") -> HardwareIR:
    """A model of one cell layer whose inputs are its candidate (and threshold) drive."""
    n_in = layer.candidate.gains.shape[1]
    return HardwareIR(name=name, n_inputs=n_in, n_outputs=layer.n, layers=[layer],
                      readout=MirrorBank(np.eye(layer.n), np.zeros(layer.n)), timing=Timing())


def schmitt_layer(cells=SCHMITT_CELLS) -> CellLayer:
    b1, d, a = (np.array(v, np.float64) for v in zip(*cells))
    n = len(cells)
    return CellLayer("schmitt", MirrorBank(np.ones((n, 1)), np.zeros(n)), a, np.zeros(n), beta1=b1, delta=d)


def bmru_layer(alphas=BMRU_ALPHAS) -> CellLayer:
    n = len(alphas)
    return CellLayer("bmru", MirrorBank(np.tile([[1.0, 0.0]], (n, 1)), np.zeros(n)), np.array(alphas, np.float64),
                     -np.ones(n), threshold=MirrorBank(np.tile([[0.0, 1.0]], (n, 1)), np.zeros(n)))


def ladder_layer(alpha: float = 1.0) -> CellLayer:
    return CellLayer("cmru", MirrorBank(np.eye(1, 2), np.zeros(1)), np.array([alpha]), np.array([-float(LADDER_K)]),
                     threshold=MirrorBank(np.eye(1, 2, 1), np.zeros(1)), ladder_k=LADDER_K,
                     ladder=LadderDesign(c0=1.0, h=0.25, w=1 / 3, a=1 / 6, tau_s=2e-3))


def _sigma(rel: list) -> float:
    v = np.asarray(rel, np.float64)
    v = v[np.isfinite(v)]
    return float(v.std(ddof=1)) if v.size > 1 else float("nan")


def _schmitt(pdk_for, draws: int, jobs: int) -> dict:
    from .staircase import measure_cells

    ir = one_layer_ir(schmitt_layer())
    layer = ir.layers[0]
    want = {"beta2": layer.beta1 + layer.delta, "beta1": layer.beta1, "alpha": layer.alpha}
    nom = measure_cells(ir, pdk_for(None), jobs)[0]
    nom["width"] = nom["beta2"] - nom["beta1"]
    want["width"] = layer.delta
    out = {"cells_na": [list(c) for c in SCHMITT_CELLS],
           "error": {k: (nom[k] / want[k] - 1).tolist() for k in ("beta2", "beta1", "width", "alpha")}}
    rel = {k: [] for k in ("beta2", "beta1", "width", "alpha")}
    for d in range(draws):
        m = measure_cells(ir, pdk_for(d), jobs)[0]
        m["width"] = m["beta2"] - m["beta1"]
        for k in rel:
            rel[k] += (m[k] / nom[k] - 1).tolist()
    out["mismatch"] = {"draws": draws, "cells": draws * layer.n, "msize": pdk_for(None).size()["msize"],
                       **{f"sigma_{k}": _sigma(v) for k, v in rel.items()}}
    return out


def _bmru(pdk_for, draws: int, jobs: int) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from .staircase import measure_cells, bmru_loop

    ir = one_layer_ir(bmru_layer((1.0,)))
    pdk = pdk_for(None)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        loops = [f.result() for f in [pool.submit(bmru_loop, ir, 0, 0, b, pdk) for b in BMRU_BETAS]]
    out = {"betas_na": list(BMRU_BETAS),
           "up_error": [None if lp["up"] is None else lp["up"] / b - 1 for lp, b in zip(loops, BMRU_BETAS)],
           "down_error": [None if lp["down"] is None else -lp["down"] / b - 1 for lp, b in zip(loops, BMRU_BETAS)],
           "alpha_error": float(np.median([lp["alpha"] for lp in loops]) - 1.0)}
    ir = one_layer_ir(bmru_layer())
    nom = measure_cells(ir, pdk, jobs)[0]
    rel = {"theta_plus": [], "theta_minus": [], "alpha": []}
    for d in range(draws):
        m = measure_cells(ir, pdk_for(d), jobs)[0]
        rel["theta_plus"] += (m["theta_plus"] - nom["theta_plus"]).tolist()
        rel["theta_minus"] += (m["theta_minus"] - nom["theta_minus"]).tolist()
        rel["alpha"] += (m["alpha"] / nom["alpha"] - 1).tolist()
    sig = {f"sigma_{k}": _sigma(v) for k, v in rel.items()}
    msize = pdk.size("bmru")["msize"]
    out["mismatch"] = {"draws": draws, "cells": draws * len(BMRU_ALPHAS), "beta_na": 1.0, "msize": msize, **sig,
                       "sigma_x_msize": max(sig["sigma_theta_plus"], sig["sigma_theta_minus"]) * msize}
    return out


def ladder_drive(K: int = LADDER_K) -> np.ndarray:
    """(time, 2) candidate and threshold: 2K+1 up pulses then 2K+1 down pulses from rung
    -K, each followed by a step with no update (|c| < |beta| = 0.5)."""
    c = [0.0] + [v for s in (1.0, -1.0) for _ in range(2 * K + 1) for v in (s, 0.0)]
    return np.stack([np.array(c), np.full(len(c), 0.5)], axis=-1)


def _ladder_run(pdk, seed_draw):
    from ..backends.transistor import channel_ir, run_partition
    from ..hw.reference import run_layer

    layer = ladder_layer()
    ir = one_layer_ir(layer)
    x = ladder_drive()
    seed = 0 if seed_draw is None else seed_draw
    st = run_partition(channel_ir(ir, layer, 0), x, pdk, 900.0, seed, 1)[0]
    want = run_layer(layer, x[None]).state[0, :, 0]
    return {"rungs_right": bool((np.round(st) == want).all()), "max_level_err": float(np.abs(st - want).max()),
            "steps_right": float(np.mean(np.round(st) == want)),
            "held_err": (st[0::2] - want[0::2]).tolist()}      # the steps without an update


def _ladder(pdk_for, draws: int, jobs: int) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        nom = pool.submit(_ladder_run, pdk_for(None), None)
        runs = [pool.submit(_ladder_run, pdk_for(d), pdk_for(d).mismatch_seed) for d in range(draws)]
        nom, runs = nom.result(), [r.result() for r in runs]
    errs = np.concatenate([r["held_err"] for r in runs]) if runs else np.zeros(0)
    return {"K": LADDER_K, "alpha_na": 1.0, "pulses": 2 * (2 * LADDER_K + 1), "rungs_right": nom["rungs_right"],
            "max_level_err": nom["max_level_err"],
            "mismatch": {"draws": draws, "rungs_right": int(sum(r["rungs_right"] for r in runs)),
                         "steps_right": [r["steps_right"] for r in runs],
                         "sigma_level": _sigma(errs), "max_level_err": float(np.abs(errs).max()) if errs.size else None}}


def characterize_clocked(corner: str = "tt", temp_c: float = 27.0, seed: int = 0, calib=None, *,
                         draws: int = 4, jobs: int = 2, sigma_target: float = 0.05, progress=print) -> dict:
    """The "clocked" section (module doc); calib: the calibration document or file whose
    fit biases the cells (default: calib/sky130_tt_27c.json)."""
    from .netlist import PdkSetup

    def pdk_for(draw):
        return PdkSetup(corner, temp_c, calib_path=None if isinstance(calib, dict) else calib,
                        sigma_target=sigma_target, _calib=calib if isinstance(calib, dict) else None,
                        mismatch_seed=None if draw is None else 1000 * seed + 17 + draw)

    doc = {"corner": corner, "temp_c": temp_c, "seed": seed, "sigma_target": sigma_target,
           "units": "errors and sigmas as fractions (BMRU switching points: of |beta|; ladder: rungs)"}
    progress(f"  clocked first-quadrant cell: {len(SCHMITT_CELLS)} cells, {draws} mismatch draws ...")
    doc["schmitt_clk"] = _schmitt(pdk_for, draws, jobs)
    progress(f"  signed BMRU cell: loops at |beta| {', '.join(f'{b:g}' for b in BMRU_BETAS)} nA, {draws} draws ...")
    doc["bmru_clk"] = _bmru(pdk_for, draws, jobs)
    progress(f"  CMRU ladder (K = {LADDER_K}): pulses up and down, {draws} draws ...")
    doc["ladder"] = _ladder(pdk_for, draws, jobs)
    return doc


def _pct(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:+.2f}%"


def summary_lines(doc: dict) -> list:
    s, b, lad = doc["schmitt_clk"], doc["bmru_clk"], doc["ladder"]
    worst = {k: max(abs(v) for v in s["error"][k]) for k in s["error"]}
    sm, bm, lm = s["mismatch"], b["mismatch"], lad["mismatch"]
    return [
        f"  clocked first-quadrant cell ({doc['corner']}/{doc['temp_c']:g} °C): worst error beta2 "
        f"{100 * worst['beta2']:.2f}%, beta1 {100 * worst['beta1']:.2f}%, width {100 * worst['width']:.2f}%, "
        f"alpha {100 * worst['alpha']:.2f}%; mismatch at msize {sm['msize']:.2f} ({sm['cells']} cells): σ beta2 "
        f"{100 * sm['sigma_beta2']:.1f}%, beta1 {100 * sm['sigma_beta1']:.1f}%, width {100 * sm['sigma_width']:.1f}%, "
        f"alpha {100 * sm['sigma_alpha']:.1f}%",
        "  signed BMRU cell: switching points past +-|beta| at " + ", ".join(
            f"{v:g} nA {_pct(u)}/{_pct(d)}" for v, u, d in zip(b["betas_na"], b["up_error"], b["down_error"]))
        + f"; alpha {_pct(b['alpha_error'])}; mismatch at msize {bm['msize']:.2f} ({bm['cells']} cells): σ "
        f"{100 * bm['sigma_theta_plus']:.1f}% / {100 * bm['sigma_theta_minus']:.1f}% of |beta|, alpha "
        f"{100 * bm['sigma_alpha']:.1f}%",
        f"  CMRU ladder K={lad['K']}: {lad['pulses']} pulses {'all right' if lad['rungs_right'] else 'NOT all right'}, "
        f"max level error {lad['max_level_err']:.1e} rung; mismatch: {lm['rungs_right']}/{lm['draws']} draws "
        f"right (" + ", ".join(f"{100 * v:.0f}%" for v in lm["steps_right"]) + " of steps), σ of held levels "
        f"{lm['sigma_level']:.2g} rung"]
