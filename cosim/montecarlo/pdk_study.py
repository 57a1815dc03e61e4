"""`cosim montecarlo --level transistor --pdk-mismatch`: Monte Carlo with the PDK's own
device mismatch.

Run i draws mismatch seed m_i from the study's root seed (seeds.run_seeds); every
cell then runs under the corner's `_mm` models with its own ngspice seed
cell_seed(m_i, layer, channel) (backends.transistor), in every netlist that holds it, so the
same seed gives the same draw: the held-out sequences (backends.transistor) and a
measurement of the cell itself. The measurement drives each first-quadrant cell
alone with a staircase, a fine ramp across its beta2 and then one down across its
beta1 (pdk.staircase.measure_cells), and reads where the drawn cell switches and what it
outputs when high: its beta2, beta1 and alpha in that draw. The run's software side
is the IR with those measured values, so a difference between circuit and software
is a difference the calibrated model cannot explain (timing, loading, settling),
not the draw itself; the agreement with the nominal software is recorded too.
BMRU cells are measured at |beta| = 1 nA and enter the software side as a threshold
gain and a candidate offset (calibrated_ir); CMRU ladders keep their nominal software
side (a drawn ladder is not measured).

Study folder: study.json, study.lock, runs.jsonl (one record per run, appended as it
finishes; --resume runs the missing ones), summary.json, thresholds.png (histograms).
Runs go one after another here, each run's cells through `jobs` ngspice processes, or
one Dask task per run (--scheduler local | tcp://HOST:PORT, --workers processes of a
local cluster); the workers get the IR and the calibration as data.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..pdk.staircase import measure_cells
from . import study
from .seeds import run_seeds
from .store import RunStore, write_csv


def calibrated_ir(ir, measured: list):
    """The IR with each measured cell as drawn (a cell that did not switch keeps its
    nominal values):
      first-quadrant: its beta1, delta and alpha;
      BMRU: its alpha, and its switching points as a common threshold gain and a
        candidate offset: the threshold row scaled by 1 + (theta+ + theta-)/2 and
        (theta- - theta+)/2 * BMRU_BETA added to the candidate, which puts the
        software cell's switching points exactly on the measured ones at |beta| =
        BMRU_BETA (1 nA) and moves them with |beta| by that common gain; a draw whose
        two comparators differ in gain is then off by (theta+ - theta-)/2 of the
        distance of |beta| from 1 nA."""
    from ..pdk.staircase import BMRU_BETA

    layers = []
    for layer, m in zip(ir.layers, measured):
        if m is None:
            layers.append(layer)
            continue
        if "theta_plus" in m:
            ok = np.isfinite(m["theta_plus"]) & np.isfinite(m["theta_minus"]) & np.isfinite(m["alpha"])
            tp, tm = np.where(ok, m["theta_plus"], 0.0), np.where(ok, m["theta_minus"], 0.0)
            gain = 1.0 + (tp + tm) / 2
            thr, cand = layer.threshold, layer.candidate
            layers.append(replace(
                layer, alpha=np.where(ok, m["alpha"], layer.alpha),
                threshold=replace(thr, gains=thr.gains * gain[:, None], bias=thr.bias * gain),
                candidate=replace(cand, bias=cand.bias + (tm - tp) / 2 * BMRU_BETA)))
            continue
        ok = np.isfinite(m["beta1"]) & np.isfinite(m["beta2"]) & np.isfinite(m["alpha"])
        b1 = np.where(ok, m["beta1"], layer.beta1)
        d = np.where(ok, np.maximum(m["beta2"] - m["beta1"], 0.0), layer.delta)
        a = np.where(ok, m["alpha"], layer.alpha)
        layers.append(replace(layer, beta1=b1, delta=d, alpha=a))
    return replace(ir, layers=layers)


def _run_one(ir, x, y, kind, ref_nominal, pdk, jobs, timeout_s) -> dict:
    from ..analysis.agreement import compare
    from ..backends import simulate

    measured = measure_cells(ir, pdk, jobs, timeout_s)
    sim = simulate(ir, x, backend="transistor", pdk=pdk, jobs=jobs, timeout_s=timeout_s)
    cal = calibrated_ir(ir, measured)
    ref_cal = simulate(cal, x, backend="reference").detail
    vs_cal = compare(cal, ref_cal, sim.states, sim.outputs, y, kind)
    vs_nom = compare(ir, ref_nominal, sim.states, sim.outputs, y, kind)
    rec = {"state_agreement_calibrated": vs_cal.state_agreement,
           "state_agreement_nominal": vs_nom.state_agreement,
           "decision_agreement_calibrated": vs_cal.decision_agreement,
           "decision_agreement_nominal": vs_nom.decision_agreement,
           "circuit_score": vs_cal.circuit_score, "software_score_calibrated": vs_cal.software_score,
           "software_score_nominal": vs_nom.software_score,
           "cells_nw": float(sum(p.sum(axis=2).mean() for p in sim.detail["power_nw"]))}
    for l, (layer, m) in enumerate(zip(ir.layers, measured)):
        if m is not None and "theta_plus" in m:
            rec[f"l{l}_theta_plus_rel"] = m["theta_plus"].tolist()
            rec[f"l{l}_theta_minus_rel"] = m["theta_minus"].tolist()
            rec[f"l{l}_alpha_rel"] = (m["alpha"] / np.asarray(layer.alpha) - 1).tolist()
        elif m is not None:
            rec[f"l{l}_beta2_rel"] = (m["beta2"] / (np.asarray(layer.beta1) + np.asarray(layer.delta)) - 1).tolist()
            rec[f"l{l}_beta1_rel"] = (m["beta1"] / np.asarray(layer.beta1) - 1).tolist()
            rec[f"l{l}_alpha_rel"] = (m["alpha"] / np.asarray(layer.alpha) - 1).tolist()
    return rec


#: measured quantities (record keys l<l>_<name>_rel): relative errors against the IR
NAMES = ("beta2", "beta1", "theta_plus", "theta_minus", "alpha")


def summarize(records: list, kind: str) -> dict:
    ok = [r for r in records if r.get("ok")]
    key = "decision_agreement" if kind == "classify_last" else "state_agreement"
    full = lambda r, side: r[f"{key}_{side}"] is not None and r[f"{key}_{side}"] >= 1.0 - 1e-12  # noqa: E731
    s = {"runs": len(records), "succeeded": len(ok), "failed": len(records) - len(ok), "measure": key}
    if ok:
        for side in ("calibrated", "nominal"):
            vals = np.array([r[f"{key}_{side}"] for r in ok], float)
            s[f"runs_fully_agreeing_{side}"] = int(sum(full(r, side) for r in ok))
            s[f"{key}_{side}_mean"] = float(vals.mean())
            s[f"{key}_{side}_min"] = float(vals.min())
        for side in ("calibrated", "nominal"):
            s[f"state_agreement_{side}_mean"] = float(np.mean([r[f"state_agreement_{side}"] for r in ok]))
        rel = {}
        for name in NAMES:
            v = np.concatenate([np.asarray(r[k], float) for r in ok for k in r if k.endswith(f"_{name}_rel")] or [[]])
            v = v[np.isfinite(v)]
            if v.size:
                rel[name] = {"mean": float(v.mean()), "sigma": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                             "cells": int(v.size)}
        s["measured_vs_ir"] = rel
        s["cells_nw_mean"] = float(np.mean([r["cells_nw"] for r in ok]))
    return s


def plot_histograms(records: list, path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import save_figure

    ok = [r for r in records if r.get("ok")]
    values = {}
    for name in NAMES:
        v = np.concatenate([np.asarray(r[k], float) for r in ok for k in r if k.endswith(f"_{name}_rel")] or [[]])
        if v.size:
            values[name] = v[np.isfinite(v)]
    if not values:              # no measured cells (a CMRU model: its drawn ladders are not measured)
        return False
    fig, axes = plt.subplots(1, len(values), figsize=(3.4 * len(values), 3.2), squeeze=False)
    axes = axes[0]
    for ax, (name, v) in zip(axes, values.items()):
        ax.hist(100 * v, bins=20, color="C0")
        ax.set_xlabel(f"measured {name} vs IR (%)" if "theta" not in name else f"{name} (% of |beta|)")
        ax.set_title(f"{v.size} cells, σ {100 * v.std(ddof=1) if v.size > 1 else 0:.1f}%", fontsize=9)
    axes[0].set_ylabel("cells")
    fig.suptitle(f"PDK mismatch: each cell as drawn, {len(ok)} runs", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return True


def pdk_run(ir_doc: dict, x, y, kind: str, corner: str, temp_c: float, calib_doc: dict, sigma_target: float,
            mismatch_seed: int, jobs: int, timeout_s: float) -> dict:
    """One run of the study under PDK draw `mismatch_seed` (in this process or as a Dask
    task: plain data in, a record out): its cells measured, the sequences simulated,
    agreement against the software as drawn and the nominal one. A run that fails in
    ngspice or on bad input gives a failed record (--resume retries it)."""
    import time

    from ..backends import simulate
    from ..hw.ir import HardwareIR
    from ..pdk.netlist import PdkSetup
    from ..spice import SpiceError

    t0 = time.time()
    ir = HardwareIR.from_dict(ir_doc)
    pdk = PdkSetup(corner, temp_c, None, sigma_target, mismatch_seed=mismatch_seed, _calib=calib_doc)
    try:
        ref_nominal = simulate(ir, x, backend="reference").detail
        rec = {"mismatch_seed": mismatch_seed, "ok": True,
               **_run_one(ir, x, y, kind, ref_nominal, pdk, jobs, timeout_s)}
    except (SpiceError, InputError) as exc:
        rec = {"mismatch_seed": mismatch_seed, "ok": False, "error": str(exc).splitlines()[0][:300]}
    rec["wall_s"] = time.time() - t0
    return rec


def _in_process(tasks: list):
    for i, args in tasks:
        yield i, pdk_run(*args)


def _on_dask(client, tasks: list):
    """Each run a Dask task; a task that fails on the worker (KilledWorker, ...) is a
    failed record."""
    from dask.distributed import as_completed

    futs = {client.submit(pdk_run, *args, pure=False): i for i, args in tasks}
    for fut in as_completed(list(futs)):
        try:
            yield futs[fut], fut.result()
        except Exception as exc:
            yield futs[fut], {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}


def run_pdk_study(model, out, *, runs: int, sequences: int, seed: int = 0, bits: int = 6,
                  corner: str = "tt", temp_c: float = 27.0, calib=None, sigma_target: float = 0.05,
                  jobs: int | None = None, timeout_s: float = 900.0, resume: bool = False,
                  scheduler: str | None = None, workers: int = 1, progress=print) -> dict:
    """Run (or resume) the study (module doc); returns the summary. scheduler: None (runs
    one after another here, each on `jobs` ngspice processes), 'local' (a Dask
    LocalCluster of `workers` processes) or tcp://HOST:PORT: one Dask task per run."""
    import os

    from ..hw.source import load_source
    from ..pdk.mapping import load_calibration
    from .runner import _close, _connect

    out = Path(out)
    study.check_folder(out)
    src = load_source(model, bits)
    ir, task = src.ir, src.task
    if ir.mismatch:
        raise InputError("--pdk-mismatch draws the PDK's mismatch: give the nominal model, not a perturbed IR")
    calib_doc = load_calibration(calib)            # fail before any simulation; workers get the document
    x, y = task.x_test[:sequences], task.y_test[:sequences]
    jobs = jobs or min(4, os.cpu_count() or 1)
    params = {"model_sha256": study.model_sha256(ir.to_dict(), x, y), "runs": runs,
              "mismatch": f"pdk {corner}_mm {temp_c:g} C sigma-target {sigma_target:g}", "noise_na": 0.0,
              "sequences": int(len(x)), "seed": seed, "bits": bits, "engine": "transistor",
              "model": str(model), "level": "transistor", "pdk_mismatch": True}
    study.make_folder(out)
    store = RunStore(out / study.RUNS_FILE)
    with study.StudyLock(out):
        study.open_study(out, params, resume)
        store.repair()
        done = {r["run"] for r in store.load() if r.get("ok")}
        seeds = dict(enumerate(mseed for mseed, _ in run_seeds(seed, runs)))
        tasks = [(i, (ir.to_dict(), x, y, task.kind, corner, temp_c, calib_doc, sigma_target, seeds[i], jobs,
                      timeout_s)) for i in range(runs) if i not in done]
        conn = _connect(scheduler, workers) if scheduler and tasks else None
        try:
            for i, rec in (_on_dask(conn[0], tasks) if conn else _in_process(tasks)):
                rec = {"run": i, "mismatch_seed": seeds[i], **rec}
                store.append([rec])
                if progress:
                    key = "decision_agreement" if task.kind == "classify_last" else "state_agreement"
                    progress(f"  run {i + 1}/{runs} (seed {seeds[i]}): " + (
                        f"{key} {rec[key + '_calibrated']:.4f} vs the software as drawn, "
                        f"{rec[key + '_nominal']:.4f} vs nominal ({rec['wall_s']:.0f} s)" if rec["ok"] else
                        f"FAILED: {rec['error']}"))
        finally:
            _close(conn)
        records = store.load()
        summary = {**params, "scheduler": scheduler or "in process", **summarize(records, task.kind)}
        study.write_json(out / "summary.json", summary)
        write_csv(records, out / "runs.csv")
        if summary["succeeded"]:
            plot_histograms(records, out / "thresholds.png")
    return summary


def format_summary(s: dict) -> str:
    if not s["succeeded"]:
        return f"{s['runs']} runs, all failed (see runs.jsonl)"
    m, lines = s["measure"], []
    lines.append(f"{s['succeeded']}/{s['runs']} runs with the PDK's mismatch ({s['mismatch']}), "
                 f"{s['sequences']} sequences each:")
    lines.append(f"  circuit = software as drawn (measured cells) in {s['runs_fully_agreeing_calibrated']}/"
                 f"{s['succeeded']} runs ({m} mean {s[m + '_calibrated_mean']:.4f}, min {s[m + '_calibrated_min']:.4f})")
    lines.append(f"  circuit = nominal software in {s['runs_fully_agreeing_nominal']}/{s['succeeded']} runs "
                 f"({m} mean {s[m + '_nominal_mean']:.4f}, min {s[m + '_nominal_min']:.4f})")
    lines.append(f"  per-step state agreement: {100 * s['state_agreement_calibrated_mean']:.2f}% with the "
                 f"software as drawn, {100 * s['state_agreement_nominal_mean']:.2f}% with the nominal (mean)")
    rel = s.get("measured_vs_ir", {})
    if rel:
        lines.append("  measured cells vs the IR: " + ", ".join(
            f"{k} {100 * v['mean']:+.1f}% ± {100 * v['sigma']:.1f}% (σ, {v['cells']} cells)" for k, v in rel.items()))
    lines.append(f"  power of the cells {s['cells_nw_mean']:.1f} nW (mean over runs)")
    return "\n".join(lines)
