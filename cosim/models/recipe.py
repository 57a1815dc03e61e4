"""Train a model on a named task and save it as a checkpoint with its card."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from . import checkpoint
from .card import write_card
from .stack import Model, ModelConfig
from .tasks import make_task
from .train import TrainConfig, evaluate, train


def task_from_config(doc: dict):
    """Rebuild the task a checkpoint was trained on (same fixed test split)."""
    t = dict(checkpoint.check_task(doc, "config.json"))
    return make_task(t.pop("name"), **t)


def train_and_save(out, cell: str, task_params: dict, train_cfg: TrainConfig,
                   command: str, progress: bool = True, **model_kw) -> dict:
    """Train `cell` on the task described by `task_params` (name, T, n_train, ...),
    save the checkpoint to `out` with metrics and loss curve; return the config dict."""
    task = make_task(**task_params)
    cfg = ModelConfig(cell=cell, n_inputs=task.n_inputs, n_outputs=task.n_outputs, **model_kw)
    torch.manual_seed(train_cfg.seed)
    model = Model(cfg)
    hist = train(model, task, train_cfg, progress=progress)
    test_score = evaluate(model, task)
    meta = {
        "name": Path(out).name,
        "task": task_params,
        "command": command,
        "seed": train_cfg.seed,
        "train": asdict(train_cfg),
        "metrics": {"kind": task.kind, "test_score": test_score, "n_test": len(task.x_test),
                    "train_score": hist.train_score[-1], "final_loss": hist.loss[-1],
                    "epochs": train_cfg.epochs, "train_seconds": hist.seconds,
                    "threads": torch.get_num_threads()},
        "history": {"loss": hist.loss, "train_score": hist.train_score, "eps": hist.eps},
    }
    checkpoint.save(out, model, meta)
    write_card(out)
    return checkpoint.read_config(out)
