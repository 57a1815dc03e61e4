"""`cosim export`: checkpoint -> quantized hardware IR -> checked ngspice netlist.

Writes NAME.cir, NAME.hw.json and NAME.quant.json next to each other, each
through a temporary file renamed into place, only after every check passed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..hw.ir import round_floats
from ..hw.mapping import DEFAULT_GAIN_MAX, model_to_ir
from ..hw.reference import run_reference, score
from ..models import checkpoint
from ..models.recipe import task_from_config
from ..models.train import evaluate
from .builder import Netlist, build_netlist
from .graph import check_netlist


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


def load_inputs(path, n_inputs: int) -> np.ndarray:
    """Input sequences from a .npy file (no pickles): (batch, time, n_inputs) or (time, n_inputs)."""
    try:
        x = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such inputs file") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a plain numeric .npy array ({exc})") from None
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[2] != n_inputs or x.shape[1] < 1:
        raise ValueError(f"{path}: inputs must be (batch, time, {n_inputs}) or (time, {n_inputs}), got {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
        raise ValueError(f"{path}: inputs must be finite numbers")
    return x.astype(np.float64)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def export_model(model_dir, out, *, bits: int = 6, per_channel: bool = False,
                 gain_max: float = DEFAULT_GAIN_MAX, inputs=None, task_samples: int = 1) -> ExportResult:
    """Export the checkpoint at `model_dir` to the netlist `out` (.cir)."""
    out = Path(out)
    if out.suffix != ".cir":
        raise ValueError(f"{out}: the netlist name must end in .cir")
    if task_samples < 1:
        raise ValueError("--task-samples must be >= 1")
    model, doc = checkpoint.load(model_dir)
    name = out.stem
    ir, quant = model_to_ir(model, doc, bits=bits, per_channel=per_channel, gain_max=gain_max,
                            name=name, source=str(model_dir))
    task = task_from_config(doc)
    float_score = evaluate(model, task)
    quant_score = score(ir, run_reference(ir, task.x_test), task.y_test, task.kind)
    x = load_inputs(inputs, ir.n_inputs) if inputs is not None else task.x_test[:task_samples]
    net = build_netlist(ir, x, title=f"cosim {name}: {doc['model']['cell']} from {model_dir}")
    graph = check_netlist(net.text)
    kind = "MAE" if task.kind == "regress_last" else "accuracy"
    gains = [abs(v) for bank in _banks(ir) for row in bank.gains for v in row if v != 0]
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
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    ir_path = out.with_name(f"{name}.hw.json")
    report_path = out.with_name(f"{name}.quant.json")
    summary["float_score"], summary["quantized_score"] = (
        round_floats([summary["float_score"], summary["quantized_score"]], SCORE_DIGITS))
    _write(report_path, json.dumps(round_floats({"summary": summary, "tensors": quant}), indent=1))
    _write(ir_path, ir.to_json())
    _write(out, with_print(net.text, net.probes.outputs[0]))
    return ExportResult(out, ir_path, report_path, summary, net, x, ir)


def with_print(text: str, vectors: list) -> str:
    """The netlist with a `.print tran` of `vectors`, so that a plain
    `ngspice -b NAME.cir` runs the transient and prints the readout currents."""
    head, end = text.rstrip().rsplit("\n", 1)
    assert end.strip().lower() == ".end"
    return f"{head}\n.print tran {' '.join(vectors)}\n.end\n"


def _banks(ir):
    if ir.proj is not None:
        yield ir.proj
    for layer in ir.layers:
        yield layer.candidate
        if layer.threshold is not None:
            yield layer.threshold
    yield ir.readout


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
    ])
