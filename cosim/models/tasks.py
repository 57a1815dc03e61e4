"""Tasks that need no download. Each returns a `TaskData` with a fixed test split.

Arrays are float32 inputs (batch, time, features) and targets:
- "classify_last": int targets (batch,), scored at the last step;
- "classify_each": int targets (batch, time), scored at every step where mask is true;
- "regress_last": float targets (batch, outputs), scored by mean absolute error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..limits import MAX_LADDER, MAX_SEQUENCES, MAX_T

TEST_SEED_OFFSET = 10_007  # test split drawn from its own stream: fixed whatever the train size


@dataclass
class TaskData:
    name: str
    kind: str                 # classify_last | classify_each | regress_last
    n_inputs: int
    n_outputs: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def flipflop(n: int, T: int, rng: np.random.Generator, p_write: float = 0.05):
    """Remember the last written symbol through stretches of distractors.

    Channels: 0 = write symbol A, 1 = write symbol B, 2 = distractor (uniform
    noise in [0, 1) on steps without a write, 0 on writes). Step 0 is always a
    write. Target at every step: the last written symbol (0 = A, 1 = B).
    """
    write = rng.random((n, T)) < p_write
    write[:, 0] = True
    symbol = rng.integers(0, 2, (n, T))
    x = np.zeros((n, T, 3), np.float32)
    x[..., 0] = write & (symbol == 0)
    x[..., 1] = write & (symbol == 1)
    x[..., 2] = np.where(write, 0.0, rng.random((n, T)))
    idx = np.where(write, np.arange(T), 0)
    last = np.maximum.accumulate(idx, axis=1)
    y = np.take_along_axis(symbol, last, axis=1)
    return x, y.astype(np.int64)


def counting(n: int, T: int, rng: np.random.Generator, K: int = 4, p_event: float = 0.06):
    """Saturating up/down counter. Channels: 0 = up event, 1 = down event.

    Target at every step: the running count clipped at each step to [-K, K],
    as class index count + K (2K + 1 classes).
    """
    event = rng.random((n, T)) < p_event
    up = rng.random((n, T)) < 0.5
    x = np.zeros((n, T, 2), np.float32)
    x[..., 0] = event & up
    x[..., 1] = event & ~up
    count = np.zeros(n, np.int64)
    y = np.zeros((n, T), np.int64)
    step = x[..., 0].astype(np.int64) - x[..., 1].astype(np.int64)
    for t in range(T):
        count = np.clip(count + step[:, t], -K, K)
        y[:, t] = count + K
    return x, y


def copy_first(n: int, T: int, rng: np.random.Generator, noise: float = 0.1):
    """Reproduce the first input after T steps. Channel 0 = value in [-1, 1] at
    step 0 plus Gaussian noise (std `noise`) at every step; channel 1 = a marker
    (1 at step 0). Target: the clean first value."""
    value = rng.uniform(-1, 1, n).astype(np.float32)
    x = np.zeros((n, T, 2), np.float32)
    x[:, :, 0] = rng.normal(0, noise, (n, T))
    x[:, 0, 0] += value
    x[:, 0, 1] = 1.0
    return x, value[:, None]


def digits(per_step: int = 1, test_fraction: float = 0.2):
    """scikit-learn's bundled 8x8 digits read in raster order, `per_step` pixels
    per step (1: pixel by pixel, 64 steps; 8: row by row, 8 steps), values in [0, 1].
    Fixed split: a permutation with seed 0, the last `test_fraction` held out."""
    from sklearn.datasets import load_digits

    if per_step not in (1, 2, 4, 8):
        raise InputError(f"digits: per_step must be 1, 2, 4 or 8, got {per_step}")
    data = load_digits()
    x = (data.images.reshape(-1, 64 // per_step, per_step) / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    train, test = order[:-n_test], order[-n_test:]
    return x[train], y[train], x[test], y[test]


TASKS = ("flipflop", "counting", "copyfirst", "digits", "kws")




def make_task_params_error(params: dict) -> str | None:
    """What is wrong with the parameters of `make_task` (None: nothing)."""
    known = {"name", "T", "n_train", "n_test", "seed", "K", "per_step"}
    unknown = sorted(set(params) - known)
    if unknown:
        return f"unknown task parameters {unknown}"
    bounds = {"T": (1, MAX_T), "n_train": (1, MAX_SEQUENCES), "n_test": (1, MAX_SEQUENCES),
              "K": (1, MAX_LADDER), "seed": (0, 2 ** 63 - 1)}
    for key, (lo, hi) in bounds.items():
        value = params.get(key, lo)
        if type(value) is not int or not lo <= value <= hi:
            return f"{key} must be an integer in [{lo}, {hi}], got {value!r}"
    if params.get("per_step", 1) not in (1, 2, 4, 8) or isinstance(params.get("per_step"), bool):
        return f"per_step must be 1, 2, 4 or 8, got {params.get('per_step')!r}"
    return None


def make_task(name: str, *, T: int = 256, n_train: int = 2000, n_test: int = 500,
              seed: int = 0, K: int = 4, per_step: int = 1) -> TaskData:
    """Build a task by name. The test split depends only on (name, T, n_test, K)."""
    problem = make_task_params_error(dict(name=name, T=T, n_train=n_train, n_test=n_test,
                                          seed=seed, K=K, per_step=per_step))
    if problem:
        raise InputError(problem)
    train_rng = np.random.default_rng(seed)
    test_rng = np.random.default_rng(TEST_SEED_OFFSET)
    if name == "flipflop":
        xs, ys = flipflop(n_train, T, train_rng)
        xt, yt = flipflop(n_test, T, test_rng)
        return TaskData(name, "classify_each", 3, 2, xs, ys, xt, yt)
    if name == "counting":
        xs, ys = counting(n_train, T, train_rng, K)
        xt, yt = counting(n_test, T, test_rng, K)
        return TaskData(name, "classify_each", 2, 2 * K + 1, xs, ys, xt, yt)
    if name == "copyfirst":
        xs, ys = copy_first(n_train, T, train_rng)
        xt, yt = copy_first(n_test, T, test_rng)
        return TaskData(name, "regress_last", 2, 1, xs, ys, xt, yt)
    if name == "digits":
        xs, ys, xt, yt = digits(per_step)
        return TaskData(name, "classify_last", per_step, 10, xs, ys, xt, yt)
    if name == "kws":
        from .kws import load
        xs, ys, xt, yt = load()
        return TaskData(name, "classify_last", xs.shape[2], 2, xs, ys, xt, yt)
    raise InputError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")


def from_arrays(x_train, y_train, x_test, y_test, kind: str, n_outputs: int, name="user"):
    """A user task from arrays (checked for shape and finiteness)."""
    arrays = [np.asarray(a) for a in (x_train, y_train, x_test, y_test)]
    for a in (arrays[0], arrays[2]):
        if a.ndim != 3 or not np.isfinite(a).all():
            raise InputError("inputs must be finite arrays shaped (batch, time, features)")
    if kind not in ("classify_last", "classify_each", "regress_last"):
        raise InputError(f"unknown task kind {kind!r}")
    return TaskData(name, kind, arrays[0].shape[2], n_outputs,
                    arrays[0].astype(np.float32), arrays[1], arrays[2].astype(np.float32), arrays[3])
