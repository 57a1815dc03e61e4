"""Where a hardware IR comes from: a checkpoint folder or an exported `.hw.json`.

The one place where a checkpoint becomes an IR for the commands downstream of
export (verify, montecarlo, hysteresis, fixedpoints, noise): a folder is loaded
and quantized to `bits`; an IR file is read as it is (its own quantization),
and its `task` field rebuilds the task's held-out data. Only a checkpoint has a
float model (float score, float-IR margins, float-model yield).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from .ir import HardwareIR

IR_SUFFIX = ".hw.json"


@dataclass
class Source:
    """An IR with what it was made from. model/doc: the checkpoint (None for an IR file)."""
    ir: "HardwareIR"
    task: object                  # models.tasks.TaskData (held-out split of ir's task)
    model: object | None = None   # models.stack.Model in eval mode
    doc: dict | None = None       # the checkpoint's config.json


def is_ir_file(path) -> bool:
    return Path(path).name.endswith(".json") and Path(path).is_file()


def _from_checkpoint(folder: Path, bits: int) -> tuple:
    """(model, config doc, IR quantized to `bits`) of a checkpoint folder."""
    from ..models import checkpoint
    from .mapping import model_to_ir

    model, doc = checkpoint.load(folder)
    ir, _ = model_to_ir(model, doc, bits=bits, name=folder.absolute().name, source=str(folder))
    return model, doc, ir


def load_ir(path, bits: int = 6) -> "HardwareIR":
    """HardwareIR from a checkpoint folder (quantized to `bits`) or a `.hw.json` IR file."""
    from .ir import HardwareIR

    p = Path(path)
    if p.is_dir():
        return _from_checkpoint(p, bits)[2]
    if is_ir_file(p):
        return HardwareIR.load(p)
    if p.exists():
        raise InputError(f"{path}: expected a checkpoint folder or a {IR_SUFFIX} IR file")
    raise InputError(f"{path}: no such checkpoint folder or {IR_SUFFIX} IR file")


def load_source(path, bits: int = 6) -> Source:
    """Source (IR, task, and the float model when `path` is a checkpoint folder)."""
    from ..models import checkpoint
    from ..models.recipe import task_from_config

    p = Path(path)
    if p.is_dir():
        model, doc, ir = _from_checkpoint(p, bits)
        return Source(ir, task_from_config(doc), model, doc)
    ir = load_ir(p, bits)
    if not isinstance(ir.task, dict):
        raise InputError(f"{path}: the IR names no task, so there are no held-out sequences to use")
    try:
        task = task_from_config({"task": ir.task})
    except checkpoint.CheckpointError as exc:
        raise InputError(f"{path}: {exc}") from None
    return Source(ir, task)
