"""`cosim demo`: what the tool does, end to end, on the shipped models."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .models import checkpoint
from .models.recipe import task_from_config
from .models.train import evaluate

N_SEQUENCES = 20


def _trace_line(states: np.ndarray, width: int = 64) -> str:
    """One channel's state over the first `width` steps, as compact integers."""
    return " ".join(f"{v:g}" for v in states[:width])


def show_model(folder: Path) -> None:
    model, doc = checkpoint.load(folder)
    task = task_from_config(doc)
    x, y = task.x_test[:N_SEQUENCES], task.y_test[:N_SEQUENCES]
    score = evaluate(model, task, x, y)
    with torch.no_grad():
        _, traces = model(torch.as_tensor(x), trace=True)
    states = traces[0]["state"][0].numpy()            # (time, channels) of sequence 0, layer 0
    channel = int(np.argmax([len(np.unique(states[:, c])) for c in range(states.shape[1])]))
    kind = "MAE" if task.kind == "regress_last" else "accuracy"
    print(f"== {folder.name}: {doc['model']['cell']} on {task.name} "
          f"({doc['model']['layers']} layer(s) x {doc['model']['hidden']} channels)")
    print(f"   {kind} on {len(x)} held-out sequences: {score:.4f}  "
          f"(model card: {doc['metrics']['test_score']:.4f} on {doc['metrics']['n_test']})")
    print(f"   layer 0, channel {channel}, state for the first 64 steps:")
    print(f"   {_trace_line(states[:, channel])}")


def export_and_simulate(folder: Path, out_dir: Path, samples: int = 2, timeout_s: float = 300.0) -> None:
    """Export one model to a netlist, run it in ngspice (at most timeout_s s), compare
    with the IR reference. The demo's own output folder is rewritten on every run."""
    from .hw.reference import run_reference
    from .netlist.export import export_model, format_summary
    from .netlist.sampling import step_signals
    from .spice import run_netlist

    res = export_model(folder, out_dir / f"{folder.name}.cir", bits=6, task_samples=samples, force=True)
    print(format_summary(res.summary))
    print(f"  wrote {res.netlist_path}")
    sim = run_netlist(res.netlist.text, timeout_s=timeout_s)
    circuit = step_signals(sim, res.netlist, res.ir.timing)
    ref = run_reference(res.ir, res.inputs)
    agree = np.mean([np.round(circuit.states[b][l]) == ref.layers[l].state[b]
                     for b in range(len(res.inputs)) for l in range(len(ref.layers))])
    print(f"  ngspice transient: {sim.wall_s:.2f} s wall; circuit vs software state agreement "
          f"({len(ref.layers)} layer(s), {len(res.inputs)} sequence(s)): {100 * agree:.2f}%")
    if res.ir.filters is not None:
        last = [int(np.argmax(o[-1])) for o in circuit.outputs]
        print(f"  readout filters: circuit class {last}, software class "
              f"{[int(c) for c in ref.outputs[:, -1].argmax(-1)]}, largest output error "
              f"{max(np.abs(o - r).max() for o, r in zip(circuit.outputs, ref.outputs)):.3f} nA")


def run_demo(models_dir="models", seed: int = 0, out_dir="netlists/demo", timeout_s: float = 300.0) -> None:
    torch.manual_seed(seed)
    folders = sorted(p.parent for p in Path(models_dir).glob("*/config.json"))
    if not folders:
        raise FileNotFoundError(f"no checkpoints found under {models_dir}/ (expected */config.json)")
    for folder in folders:
        show_model(folder)
    # the counting CMRU (ladders) and the digits model (readout filters) as circuits
    circuits = {"cmru_counting": 2, "schmitt_digits": 1}
    for folder in [f for f in folders if f.name in circuits] or folders[:1]:
        print()
        export_and_simulate(folder, Path(out_dir), circuits.get(folder.name, 2), timeout_s)
