"""Checkpoints: a folder with `config.json` and `weights.pt`.

Weights are a plain tensor dict loaded with `torch.load(weights_only=True)`,
which cannot execute code. Loading checks the schema version, the config, the
set of tensor names, their shapes and that every value is finite; any problem
raises `CheckpointError` naming the file and the problem.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from ..errors import InputError
from ..fileio import atomic_write_bytes, atomic_write_text
from .stack import Model, ModelConfig

SCHEMA_VERSION = 1
CONFIG_FILE, WEIGHTS_FILE = "config.json", "weights.pt"


class CheckpointError(InputError):
    """A checkpoint that cannot be used; the message names the file and the problem."""


def save(folder, model: Model, meta: dict) -> Path:
    """Write `model` and `meta` (task, command, seed, metrics, ...) into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(folder / WEIGHTS_FILE, buf.getvalue())
    doc = {"schema_version": SCHEMA_VERSION, "model": model.cfg.to_dict(), **meta}
    atomic_write_text(folder / CONFIG_FILE, json.dumps(doc, indent=2, sort_keys=False) + "\n")
    return folder


def read_config(folder) -> dict:
    """The checkpoint's config.json as a dict (schema checked)."""
    path = Path(folder) / CONFIG_FILE
    if not Path(folder).is_dir():
        raise CheckpointError(f"{folder}: not a checkpoint folder (expected a folder with {CONFIG_FILE} and {WEIGHTS_FILE})")
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        found = doc.get("schema_version") if isinstance(doc, dict) else None
        raise CheckpointError(f"{path}: unsupported schema_version {found!r} (this cosim reads {SCHEMA_VERSION})")
    return doc


def load(folder) -> tuple[Model, dict]:
    """(model in eval mode, config dict) from a checkpoint folder."""
    doc = read_config(folder)
    cfg_path = Path(folder) / CONFIG_FILE
    try:
        cfg = ModelConfig.from_dict(dict(doc["model"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{cfg_path}: bad model config ({exc})") from None
    check_task(doc, cfg_path)
    wpath = Path(folder) / WEIGHTS_FILE
    try:
        state = torch.load(wpath, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{wpath}: missing") from None
    except Exception as exc:  # empty or truncated zip, pickle with code, random bytes
        first = (str(exc).splitlines() or [""])[0][:120]
        raise CheckpointError(f"{wpath}: unreadable or unsafe weights file "
                              f"({type(exc).__name__}{': ' + first if first else ''})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{wpath}: expected a dict of tensors")
    with torch.device("meta"):   # shapes only: nothing allocated before they match the weights
        expected = Model(cfg).state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{wpath}: tensors do not match the config (missing {missing[:3]}, unexpected {extra[:3]})")
    for name, ref in expected.items():
        if tuple(state[name].shape) != tuple(ref.shape):
            raise CheckpointError(f"{wpath}: tensor {name} has shape {tuple(state[name].shape)}, config needs {tuple(ref.shape)}")
        if state[name].is_floating_point() and not torch.isfinite(state[name]).all():
            raise CheckpointError(f"{wpath}: tensor {name} holds NaN or infinite values")
    model = Model(cfg)
    model.load_state_dict(state)
    model.eval()
    return model, doc


def check_task(doc: dict, path) -> dict:
    """The checkpoint's task parameters, checked (name and sizes); CheckpointError if bad."""
    from .tasks import TASKS, make_task_params_error

    task = doc.get("task")
    if not isinstance(task, dict) or not isinstance(task.get("name"), str):
        raise CheckpointError(f"{path}: missing or malformed 'task' (expected an object with a name)")
    if task["name"] not in TASKS:
        raise CheckpointError(f"{path}: unknown task {task['name']!r} (one of {', '.join(TASKS)})")
    problem = make_task_params_error(task)
    if problem:
        raise CheckpointError(f"{path}: task: {problem}")
    return task
