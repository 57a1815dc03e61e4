"""`cosim export`: checkpoint -> quantized hardware IR -> checked ngspice netlist.

Writes NAME.cir, NAME.hw.json, NAME.quant.json and the bundle files
NAME.inputs.npy (stimulus) and NAME.probes.json (probe map) next to each other, each
through a temporary file renamed into place, only after every check passed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import atomic_write_all, check_output, check_path_text
from ..hw.ir import mirror_banks, round_floats
from ..hw.mapping import DEFAULT_GAIN_MAX, model_to_ir
from ..hw.reference import run_reference, score_outputs
from ..models import checkpoint
from ..models.recipe import task_from_config
from ..models.train import evaluate
from .builder import Netlist, build_netlist
from .bundle import bundle_paths, inputs_bytes, probes_json
from .graph import check_netlist
from .writers import write_netlist


# Scores in NAME.quant.json: 6 significant digits (the float score comes from
# torch's float32 kernels, whose last bits depend on the CPU).
SCORE_DIGITS = 6


@dataclass
class ExportResult:
    netlist_path: Path
    ir_path: Path
    report_path: Path
    summary: dict
    netlist: Netlist          # text and probe names
    inputs: np.ndarray        # (batch, time, n_inputs) stimulus, units
    ir: object                # the HardwareIR written to ir_path


# Largest input current accepted, in units (1 unit = 1 nA: 1 uA). Far beyond any
# trained range; larger values only make ngspice fail later.
MAX_INPUT_UNITS = 1e3
MAX_STIMULUS_STEPS = 1_000_000     # batch x time of one exported stimulus


def load_inputs(path, n_inputs: int) -> np.ndarray:
    """Input sequences from a .npy file (no pickles): (batch, time, n_inputs) or
    (time, n_inputs), real, finite, |x| <= MAX_INPUT_UNITS units."""
    try:
        x = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"--inputs {path}: no such file") from None
    except (ValueError, EOFError, OSError) as exc:
        raise InputError(f"--inputs {path}: not a plain numeric .npy array ({exc or 'empty file'})") from None
    if not isinstance(x, np.ndarray):   # an .npz archive under a .npy name
        if hasattr(x, "close"):
            x.close()
        raise InputError(f"--inputs {path}: an .npz archive, not a .npy array (save one array with np.save)")
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[2] != n_inputs or x.shape[1] < 1 or x.shape[0] < 1:
        raise InputError(f"--inputs {path}: inputs must be (batch, time, {n_inputs}) or "
                         f"(time, {n_inputs}) with batch, time >= 1, got {x.shape}")
    if x.shape[0] * x.shape[1] > MAX_STIMULUS_STEPS:
        raise InputError(f"--inputs {path}: {x.shape[0]} x {x.shape[1]} steps is more than "
                         f"{MAX_STIMULUS_STEPS} in one netlist; split the batch")
    if np.iscomplexobj(x) or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise InputError(f"--inputs {path}: inputs must be real numbers, got dtype {x.dtype}")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise InputError(f"--inputs {path}: inputs hold NaN or infinite values")
    if np.abs(x).max() > MAX_INPUT_UNITS:
        raise InputError(f"--inputs {path}: |input| up to {np.abs(x).max():.3g} units; currents "
                         f"beyond {MAX_INPUT_UNITS:g} units (1 unit = 1 nA) are refused")
    return x


def export_paths(out) -> tuple[Path, ...]:
    """(NAME.cir, NAME.hw.json, NAME.quant.json, NAME.inputs.npy, NAME.probes.json)."""
    b = bundle_paths(out)
    return b["cir"], b["ir"], Path(out).with_name(f"{Path(out).stem}.quant.json"), b["inputs"], b["probes"]


def check_export_paths(out, force: bool = False) -> None:
    """Before any work: a .cir name, writable folder, no output overwritten without force."""
    out = Path(out)
    if out.suffix != ".cir":
        raise InputError(f"--out {out}: the netlist name must end in .cir")
    for path in export_paths(out):
        check_output(path, "--out", force=force)


def export_model(model_dir, out, *, bits: int = 6, per_channel: bool = False,
                 gain_max: float = DEFAULT_GAIN_MAX, inputs=None, task_samples: int = 1,
                 force: bool = False, level: str = "behavioral", pdk=None,
                 current_scale: float = 1.0) -> ExportResult:
    """Export the checkpoint at `model_dir` to the netlist `out` (.cir); existing
    outputs are replaced only with `force`. All files (see export_paths) are
    written together at the end (temp files, then renames), after every check passed.
    level "transistor" with `pdk` (pdk.netlist.PdkSetup): every cell with a sky130
    design at transistor level (calibrated biases), the rest behavioral. current_scale:
    every current after the inputs times this (hw.current_scale; 1: as trained)."""
    out = Path(out)
    check_export_paths(out, force)
    check_path_text(model_dir, "MODEL")
    if task_samples < 1:
        raise InputError("--task-samples must be >= 1")
    model, doc = checkpoint.load(model_dir)
    name = out.stem
    ir, quant = model_to_ir(model, doc, bits=bits, per_channel=per_channel, gain_max=gain_max,
                            name=name, source=str(model_dir))
    if current_scale != 1.0:
        from ..hw.current_scale import scale_currents

        ir = scale_currents(ir, current_scale)
    task = task_from_config(doc)
    float_score = evaluate(model, task)
    quant_score = score_outputs(run_reference(ir, task.x_test).outputs, task.y_test, task.kind, ir.pool)
    x = load_inputs(inputs, ir.n_inputs) if inputs is not None else task.x_test[:task_samples]
    net = build_netlist(ir, x, title=f"cosim {name}: {doc['model']['cell']} from {model_dir}",  # escaped
                        level=level, pdk=pdk)
    graph = check_netlist(net.circuit)
    kind = "MAE" if task.kind == "regress_last" else "accuracy"
    gains = [abs(v) for _, bank in mirror_banks(ir) for row in bank.gains for v in row if v != 0]
    summary = {
        "name": name, "cell": doc["model"]["cell"], "bits": bits, "per_channel": per_channel,
        "cells": sum(layer.n for layer in ir.layers), "layers": len(ir.layers),
        "devices": net.devices, "nodes": net.nodes, "graph_vertices": graph.number_of_nodes(),
        "sequences": net.copies, "steps": net.n_steps,
        "metric": kind, "float_score": float_score, "quantized_score": quant_score,
        "mirror_gain_range": [min(gains), max(gains)] if gains else [0, 0],
        "mirror_width_um_range": ([min(gains) * ir.timing.w_unit_um, max(gains) * ir.timing.w_unit_um]
                                  if gains else [0, 0]),
        "sim_time_s": net.n_steps * ir.timing.dt_s,
        "level": level, "blocks": dict(sorted(net.levels.items())),
    }
    if current_scale != 1.0:
        summary["current_scale"] = current_scale
    if pdk is not None:
        summary["pdk"] = {"name": "sky130", "corner": pdk.corner, "temp_c": pdk.temp_c,
                          "sigma_target": pdk.sigma_target,
                          "calibration": f"{pdk.calib['corner']}/{pdk.calib['temp_c']:g} C"}
    out.parent.mkdir(parents=True, exist_ok=True)
    _, ir_path, report_path, inputs_path, probes_path = export_paths(out)
    summary["float_score"], summary["quantized_score"] = (
        round_floats([summary["float_score"], summary["quantized_score"]], SCORE_DIGITS))
    atomic_write_all({
        report_path: json.dumps(round_floats({"summary": summary, "tensors": quant}), indent=1),
        ir_path: ir.to_json(),
        inputs_path: inputs_bytes(x),
        probes_path: probes_json(net),
        out: with_print(net.circuit, net.probes.outputs[0])})
    return ExportResult(out, ir_path, report_path, summary, net, x, ir)


def with_print(circuit, vectors: list) -> str:
    """The netlist text with a `.print tran` of `vectors`, so that a plain
    `ngspice -b NAME.cir` runs the transient and prints the readout currents."""
    return write_netlist(replace(circuit, prints=list(vectors)))


def format_summary(s: dict) -> str:
    """A one-screen text summary of an export."""
    return "\n".join([
        f"{s['name']}: {s['cell']} model, {s['layers']} layer(s), {s['cells']} cells",
        f"  netlist: {s['devices']} devices, {s['nodes']} nodes, {s['sequences']} sequence(s) x "
        f"{s['steps']} steps ({s['sim_time_s']:g} s simulated); graph checks passed",
        f"  weights: {s['bits']} bits ({'per channel' if s['per_channel'] else 'per tensor'}), "
        f"mirror gains {s['mirror_gain_range'][0]:.3g}..{s['mirror_gain_range'][1]:.3g} "
        f"(widths {s['mirror_width_um_range'][0]:.2g}..{s['mirror_width_um_range'][1]:.2g} um)",
        f"  test {s['metric']}: float {s['float_score']:.4f}, quantized {s['quantized_score']:.4f}",
    ] + _level_lines(s))


def _level_lines(s: dict) -> list:
    if s.get("level", "behavioral") == "behavioral":
        return []
    p = s["pdk"]
    blocks = ", ".join(f"{k}: {v}" for k, v in s["blocks"].items())
    return [f"  level: {s['level']} (sky130 {p['corner']}, {p['temp_c']:g} °C, biases from the "
            f"{p['calibration']} calibration, sigma target {p['sigma_target']:g}); {blocks}; "
            "mirror banks: behavioral"]
