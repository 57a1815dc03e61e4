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


def run_demo(models_dir="models", seed: int = 0) -> None:
    torch.manual_seed(seed)
    folders = sorted(p.parent for p in Path(models_dir).glob("*/config.json"))
    if not folders:
        raise FileNotFoundError(f"no checkpoints found under {models_dir}/ (expected */config.json)")
    for folder in folders:
        show_model(folder)
