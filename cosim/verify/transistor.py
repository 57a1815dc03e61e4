"""`cosim verify --level transistor`: the model's cells at transistor level (sky130) against
the software cell, for each process corner x supply voltage x temperature.

For every (corner, supply, temperature) the held-out sequences run through the partitioned
transistor backend (backends.transistor: each cell alone, layer by layer, at the
calibrated tt/27 °C biases) and are compared with the IR's software reference:
per-step state agreement (tie-aware, analysis.agreement), decision agreement and
task score. Where cells disagree the report names them (layer, channel), with how
often and by how small a margin (the distance of the drive to the nearest
threshold, units and % of the hysteresis window) they disagreed. The report
(report.json) is rewritten after every entry, so an interrupted run keeps what it
measured; a heat map (transistor_matrix.png) shows the matrix. The supply moves the
rails only: every bias is an ideal current source set from the tt/27 °C, 1.8 V
calibration, as at every corner.

Acceptance (per entry): state agreement >= 99% and the task score within 0.5 point
of the software's for per-step tasks; decision agreement >= 95% for sequence
classifiers.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..limits import VDD_RANGE

STATE_GOAL = 0.99
SCORE_GOAL = 0.005
DECISION_GOAL = 0.95
VDD_NOMINAL = 1.8


def _cells(disagreements: list, ir) -> list:
    """Disagreeing cells, most frequent first: count and the margins they failed at."""
    from ..analysis.agreement import window
    from ..hw.kinds import get_kind

    by_cell: dict = {}
    for d in disagreements:
        if d["kind"] == "disagree":
            by_cell.setdefault((d["layer"], d["channel"]), []).append(d["margin"])
    rows = []
    for (l, c), margins in sorted(by_cell.items(), key=lambda kv: -len(kv[1])):
        layer = ir.layers[l]
        kind = get_kind(layer.kind)
        thr = np.asarray(layer.beta1)[c] + np.asarray(layer.delta)[c] if kind.first_quadrant else None
        w = None if thr is None else float(window(layer.kind, thr, kind.beta1(layer)[c]))
        rows.append({"layer": l, "channel": c, "count": len(margins), "margin_min": float(min(margins)),
                     "margin_median": float(np.median(margins)),
                     "margin_median_of_window": None if not w else float(np.median(margins)) / w})
    return rows


def _power(power_nw: list, dt_s: float, banks: dict | None = None) -> dict:
    """Supply power of the transistor cells: per layer (mean, per cell min..max), the cells'
    total, and energy per step and per sequence (inference); with the transistor banks
    (banks: {name: (batch, time) nW}) also each bank and the whole model."""
    per_layer = [{"mean_nw": float(p.sum(axis=2).mean()), "cell_nw_min": float(p.mean(axis=(0, 1)).min()),
                  "cell_nw_max": float(p.mean(axis=(0, 1)).max())} for p in power_nw]
    total = float(sum(p.sum(axis=2).mean() for p in power_nw))
    T = power_nw[0].shape[1]
    out = {"per_layer": per_layer, "total_nw": total, "energy_per_step_pj": total * dt_s * 1e3,
           "energy_per_sequence_nj": total * dt_s * T}
    if banks:
        out["banks_nw"] = {k: float(v.mean()) for k, v in banks.items()}
        out["whole_model_nw"] = total + sum(out["banks_nw"].values())
        out["whole_model_energy_per_sequence_nj"] = out["whole_model_nw"] * dt_s * T
    return out


def _entry(ir, task, x, y, ref, corner: str, vdd_v: float, temp_c: float, pdk_kw: dict, jobs, timeout_s,
           progress=None) -> dict:
    from ..analysis.agreement import compare
    from ..backends import simulate
    from ..pdk.netlist import PdkSetup

    t0 = time.time()
    def tick(done, total):
        if progress and (done % max(1, total // 10) == 0 or done == total):
            progress(f"    {corner}/{vdd_v:g} V/{temp_c:g} °C: {done}/{total} cells simulated "
                     f"({time.time() - t0:.0f} s)")

    sim = simulate(ir, x, backend="transistor", pdk=PdkSetup(corner, temp_c, vdd_v=vdd_v, **pdk_kw), jobs=jobs,
                   timeout_s=timeout_s, progress=tick)
    res = compare(ir, ref, sim.states, sim.outputs, y, task.kind, max_listed=100_000)
    e = {"corner": corner, "vdd_v": vdd_v, "temp_c": temp_c, "state_agreement": res.state_agreement,
         "agreement_non_tie": res.agreement_non_tie, "n_disagreements": res.n_disagreements,
         "n_ties": res.n_ties, "n_downstream": res.n_downstream, "states": res.states, "per_layer": res.per_layer,
         "decision_agreement": res.decision_agreement, "circuit_score": res.circuit_score,
         "software_score": res.software_score, "output_error_max": res.output_error_max,
         "output_scale": res.output_scale, "cells": _cells(res.disagreements, ir),
         "disagreements": [d for d in res.disagreements if d["kind"] == "disagree"][:50],
         "levels": sim.detail["levels"], "wall_s": time.time() - t0,
         "power": _power(sim.detail["power_nw"], ir.timing.dt_s, sim.detail.get("bank_power_nw")),
         "ngspice_wall_s": sim.detail["ngspice_wall_s"]}
    if task.kind == "classify_last":
        e["ok"] = bool(res.decision_agreement >= DECISION_GOAL)
    else:
        e["ok"] = bool(res.state_agreement >= STATE_GOAL
                       and abs(res.circuit_score - res.software_score) <= SCORE_GOAL)
    return e


def verify_transistor(model_dir, out_dir, *, n_sequences: int = 20, bits: int = 6,
                      corners=("tt",), temps=(27.0,), vdds=(VDD_NOMINAL,), jobs: int | None = None, calib=None,
                      sigma_target: float = 0.05, timeout_s: float = 900.0, max_step_s=None,
                      banks: str = "behavioral", progress=print, command: str | None = None) -> dict:
    """Run the corner x supply (V) x temperature (°C) matrix; writes out_dir/report.json
    (after each entry) and transistor_matrix.png; returns the report. command: the command
    line, recorded as is. banks: "behavioral" or "transistor" (pdk.netlist.PdkSetup)."""
    from ..backends import simulate
    from ..hw.source import load_source
    from ..pdk.mapping import load_calibration

    for v in vdds:
        if not VDD_RANGE[0] <= float(v) <= VDD_RANGE[1]:
            raise InputError(f"supply {v:g} V outside the sky130 1.8 V devices' {VDD_RANGE[0]:g}-{VDD_RANGE[1]:g} V")
    src = load_source(model_dir, bits)
    ir, task = src.ir, src.task
    calib_doc = load_calibration(calib)          # fail before any simulation
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x, y = task.x_test[:n_sequences], task.y_test[:n_sequences]
    ref = simulate(ir, x, backend="reference").detail
    report = {"model": str(model_dir), "bits": ir.quantization.get("bits"), "level": "transistor",
              "pdk": "sky130", "calibration": f"{calib_doc['corner']}/{calib_doc['temp_c']:g} C",
              "sigma_target": sigma_target, "max_step_s": max_step_s, "banks": banks, "sequences": len(x), "steps": int(x.shape[1]),
              "task": task.kind, "matrix": []}
    if command:
        report["command"] = command
    if "power" in calib_doc:     # the analytical estimate beside each measured entry (cosim power)
        from ..power.estimate import estimate_power

        report["power_estimate"] = estimate_power(ir, x, calib_doc["power"], calib_doc["vdd_v"]).summary()
    pdk_kw = {"calib_path": calib, "sigma_target": sigma_target, "max_step_s": max_step_s, "banks": banks}
    for corner in corners:
        for vdd in vdds:
            for temp in temps:
                e = _entry(ir, task, x, y, ref, corner, float(vdd), float(temp), pdk_kw, jobs, timeout_s, progress)
                if "power_estimate" in report and float(vdd) == calib_doc["vdd_v"]:   # the estimate's supply
                    e["power"]["estimate_over_measured"] = report["power_estimate"]["cells_nw"] / e["power"]["total_nw"]
                report["matrix"].append(e)
                report["ok"] = all(m["ok"] for m in report["matrix"])
                _write(out / "report.json", report)
                if progress:
                    progress(format_entry(e))
    plot_matrix(report, out / "transistor_matrix.png")
    report["plots"] = ["transistor_matrix.png"]
    _write(out / "report.json", report)
    return report


def _write(path: Path, report: dict) -> None:
    from ..fileio import atomic_write_text

    atomic_write_text(path, json.dumps(report, indent=1))


def _downstream(e: dict) -> str:
    n = e.get("n_downstream", 0)
    return f", {n} downstream of a differing cell" if n else ""


def format_entry(e: dict) -> str:
    dec = "" if e["decision_agreement"] is None else f", decisions {100 * e['decision_agreement']:.1f}%"
    line = (f"  {e['corner']:>2} {e.get('vdd_v', VDD_NOMINAL):g} V {e['temp_c']:>5g} °C: states {100 * e['state_agreement']:.2f}% "
            f"({100 * e['agreement_non_tie']:.2f}% of non-tie steps, {e['n_disagreements']} disagree"
            f"{_downstream(e)}){dec}, "
            f"score {e['circuit_score']:.4f} vs software {e['software_score']:.4f} "
            f"[{'ok' if e['ok'] else 'FAIL'}] ({e['wall_s']:.0f} s)")
    p = e["power"]
    line += (f"\n      power of the cells {p['total_nw']:.3g} nW ("
             + ", ".join(f"layer {i}: {q['mean_nw']:.3g} nW, {q['cell_nw_min']:.3g}-{q['cell_nw_max']:.3g} per cell"
                         for i, q in enumerate(p["per_layer"]))
             + f"), {p['energy_per_step_pj']:.3g} pJ per step, {p['energy_per_sequence_nj']:.3g} nJ per sequence")
    if "estimate_over_measured" in p:
        line += f"; the analytical estimate (tt/27 °C models) is {p['estimate_over_measured']:.3f} x this"
    if "whole_model_nw" in p:
        line += (f"\n      whole model with the transistor banks {p['whole_model_nw']:.3g} nW ("
                 + ", ".join(f"{k} {v:.3g}" for k, v in p["banks_nw"].items())
                 + f" nW), {p['whole_model_energy_per_sequence_nj']:.3g} nJ per sequence")
    for c in e["cells"][:3]:
        of_w = "" if c["margin_median_of_window"] is None else f" = {100 * c['margin_median_of_window']:.2g}% of its window"
        line += (f"\n      layer {c['layer']} ch {c['channel']}: {c['count']} steps, median margin "
                 f"{c['margin_median']:.3g} nA{of_w}")
    return line


def format_report(report: dict) -> str:
    head = (f"verify {report['model']} at transistor level (sky130, biases from the {report['calibration']} "
            f"calibration): {report['sequences']} sequences x {report['steps']} steps")
    levels = {"mirror banks": "behavioral", **(report["matrix"][0]["levels"] if report["matrix"] else {})}
    blocks = ", ".join(f"{k}: {v}" for k, v in levels.items())
    return "\n".join([head, f"  blocks: {blocks}"] +
                     [format_entry(e) for e in report["matrix"]])


def plot_matrix(report: dict, path: Path) -> Path:
    """Heat map: corners (x supplies, where more than one) down, temperatures across,
    colour = state agreement, text = agreement (and decision agreement for sequence
    classifiers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import save_figure

    several = len({e.get("vdd_v", VDD_NOMINAL) for e in report["matrix"]}) > 1

    def row(e):
        return f"{e['corner']} {e.get('vdd_v', VDD_NOMINAL):g} V" if several else e["corner"]

    corners = list(dict.fromkeys(row(e) for e in report["matrix"]))
    temps = list(dict.fromkeys(e["temp_c"] for e in report["matrix"]))
    grid = np.full((len(corners), len(temps)), np.nan)
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(temps) + 0.5 * several, 1.2 + 0.8 * len(corners)))
    for e in report["matrix"]:
        i, j = corners.index(row(e)), temps.index(e["temp_c"])
        grid[i, j] = 100 * e["state_agreement"]
        txt = f"{grid[i, j]:.2f}%"
        if e["decision_agreement"] is not None:
            txt += f"\ndec {100 * e['decision_agreement']:.0f}%"
        ax.text(j, i, txt, ha="center", va="center", fontsize=9)
    im = ax.imshow(grid, cmap="RdYlGn", vmin=90, vmax=100, aspect="auto")
    ax.set_xticks(range(len(temps)), [f"{t:g} °C" for t in temps])
    ax.set_yticks(range(len(corners)), corners)
    fig.colorbar(im, ax=ax, label="state agreement (%)")
    ax.set_title(f"{Path(report['model']).name}: transistor vs software", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
    return path
