"""Software-side robustness: every parameter of the trained float model multiplied
by (1 + N(0, (p/3)^2)), `trials` draws per p, scored on the held-out split."""
from __future__ import annotations

import copy

import numpy as np
import torch

from ..models import checkpoint
from ..models.recipe import task_from_config
from ..models.train import evaluate
from .summary import YIELD_MARGIN


def float_sweep(model_dir, ps, trials: int = 10, seed: int = 0) -> list:
    """[{"p", "scores", "nominal", "yield_float"}] for each p (fractions)."""
    model, doc = checkpoint.load(model_dir)
    task = task_from_config(doc)
    nominal = evaluate(model, task)
    lower_is_better = task.kind == "regress_last"
    out = []
    for p in ps:
        gen = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, int(round(p * 1e6))]).generate_state(1)[0]))
        scores = []
        for _ in range(trials):
            noisy = copy.deepcopy(model)
            with torch.no_grad():
                for prm in noisy.parameters():
                    prm.mul_(1 + torch.randn(prm.shape, generator=gen) * p / 3)
            scores.append(evaluate(noisy, task))
        ok = [(s <= nominal + YIELD_MARGIN) if lower_is_better else (s >= nominal - YIELD_MARGIN)
              for s in scores]
        out.append({"p": p, "scores": scores, "nominal": nominal, "yield_float": float(np.mean(ok))})
    return out
