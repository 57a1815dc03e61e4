"""Training loop: AdamW, gradient clipping, eps annealing, held-out evaluation."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from ..errors import InputError
from .stack import Model
from .tasks import TaskData


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    clip: float = 1.0
    seed: int = 0
    # eps schedule as fractions of all epochs: hold eps_start, decay linearly, hold eps_end
    eps_start: float | None = None
    eps_end: float | None = None
    eps_hold: float = 0.3
    eps_decay: float = 0.4


def eps_at(epoch: int, cfg: TrainConfig, default: float) -> float:
    """Annealing schedule: hold eps_start, decay linearly to eps_end, then hold it."""
    start = default if cfg.eps_start is None else cfg.eps_start
    end = default if cfg.eps_end is None else cfg.eps_end
    frac = epoch / max(cfg.epochs, 1)
    if frac < cfg.eps_hold:
        return start
    if frac < cfg.eps_hold + cfg.eps_decay:
        return start + (end - start) * (frac - cfg.eps_hold) / cfg.eps_decay
    return end


def loss_and_score(model: Model, task_kind: str, y, target):
    """(loss, score) for one batch. Score: accuracy in [0,1], or MAE for regression."""
    if task_kind == "classify_each":
        loss = F.cross_entropy(y.reshape(-1, y.shape[-1]), target.reshape(-1))
        score = (y.argmax(-1) == target).float().mean()
    elif task_kind == "classify_last":
        out = model.sequence_output(y)
        loss = F.cross_entropy(out, target)
        score = (out.argmax(-1) == target).float().mean()
    elif task_kind == "regress_last":
        out = model.sequence_output(y)
        loss = F.mse_loss(out, target)
        score = (out - target).abs().mean()
    else:
        raise InputError(f"unknown task kind {task_kind!r}")
    return loss, score


@torch.no_grad()
def evaluate(model: Model, task: TaskData, x=None, y=None, batch_size: int = 256) -> float:
    """Test accuracy (classification) or MAE (regression) on the held-out split."""
    x = task.x_test if x is None else x
    y = task.y_test if y is None else y
    model.eval()
    total, n = 0.0, 0
    for i in range(0, len(x), batch_size):
        xb, yb = torch.as_tensor(x[i:i + batch_size]), torch.as_tensor(y[i:i + batch_size])
        _, score = loss_and_score(model, task.kind, model(xb), yb)
        total += float(score) * len(xb)
        n += len(xb)
    return total / n


@dataclass
class History:
    loss: list = field(default_factory=list)
    train_score: list = field(default_factory=list)
    eps: list = field(default_factory=list)
    seconds: float = 0.0


def train(model: Model, task: TaskData, cfg: TrainConfig, progress: bool = True) -> History:
    """Train in place; returns per-epoch mean loss, train score and eps."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    hist = History()
    default_eps = model.cfg.eps
    start = time.perf_counter()
    bar = tqdm(range(cfg.epochs), disable=not progress, desc="train", unit="epoch")
    for epoch in bar:
        eps = eps_at(epoch, cfg, default_eps)
        model.set_eps(eps)
        model.train()
        order = rng.permutation(len(task.x_train))
        losses, scores = [], []
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            xb = torch.as_tensor(task.x_train[idx])
            yb = torch.as_tensor(task.y_train[idx])
            loss, score = loss_and_score(model, task.kind, model(xb), yb)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            losses.append(loss.item())
            scores.append(score.item())
        sched.step()
        hist.loss.append(float(np.mean(losses)))
        hist.train_score.append(float(np.mean(scores)))
        hist.eps.append(eps)
        bar.set_postfix(loss=f"{hist.loss[-1]:.4f}", score=f"{hist.train_score[-1]:.4f}",
                        eps=f"{eps:.2f}")
    final_eps = eps_at(cfg.epochs, cfg, default_eps)
    model.set_eps(final_eps)
    hist.seconds = time.perf_counter() - start
    return hist
