"""The study folder: who may write it, what it must hold, and where scratch goes.

Rules (all refusals are `InputError`: one line, exit 2):
    - A folder that is neither absent, empty nor a study (no study.json) but
      holds other files is never written: it may be the user's.
    - An existing study is continued only with --resume, and only with the same
      parameters and the same model content (`model_sha256`: a hash of the
      hardware IR and the held-out sequences, so the same checkpoint given as
      models/x, models/x/ or /abs/models/x is the same study, and a retrained
      checkpoint at the same path is a different one).
    - A study that holds no run (a failed start) never blocks a rerun: it is
      started afresh, with or without --resume.
    - One writer at a time: `StudyLock` holds an fcntl.flock on study.lock for
      the whole run; a second process is refused at once.
    - Worker scratch (ngspice's temporary folders) lives under `.scratch/` in
      the study and is removed at the start and at the end of every run, so a
      killed worker leaks nothing past the next run of the study.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import InputError

STUDY_FILE = "study.json"
LOCK_FILE = "study.lock"
SCRATCH_DIR = ".scratch"
PROBE_FILE = ".write_test"
RUNS_FILE = "runs.jsonl"
NOMINAL_FILE = "nominal.npz"
# parameters that must match on --resume ("model" is informative: the hash decides)
IDENTITY = ("model_sha256", "runs", "mismatch", "noise_na", "sequences", "seed", "bits", "engine")


def model_sha256(ir_dict: dict, x, y) -> str:
    """Hex SHA-256 of what the study simulates: the IR (canonical JSON, without its
    name and source: a copy of the checkpoint elsewhere is the same model) and the
    held-out inputs x and targets y."""
    content = {k: v for k, v in ir_dict.items() if k not in ("name", "source")}
    h = hashlib.sha256(json.dumps(content, sort_keys=True).encode())
    for arr in (x, y):
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _holds_runs(out: Path) -> bool:
    runs = out / RUNS_FILE
    return runs.exists() and runs.stat().st_size > 0


def check_folder(out: Path) -> None:
    """Refuse an --out that is a file, or a non-empty folder that is not a study."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder")
    if out.is_dir() and not (out / STUDY_FILE).exists():
        others = sorted(p.name for p in out.iterdir() if p.name not in (LOCK_FILE, SCRATCH_DIR, PROBE_FILE))
        if others:
            raise InputError(f"--out {out} is not a Monte-Carlo study but holds files "
                             f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); "
                             f"choose a new or empty folder")


def make_folder(out: Path) -> None:
    """mkdir -p with a one-line error (permission, read-only file system, ...)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / PROBE_FILE
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


class StudyLock:
    """Exclusive, non-blocking fcntl.flock on OUT/study.lock (released on exit,
    also when the process dies: the kernel drops the lock with the file)."""

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK_FILE
        self.fd = None

    def __enter__(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)   # not inherited by children
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise InputError(f"{self.path.parent} is locked: another process (pid {holder}) "
                                 f"is running this study; wait for it or choose another --out"
                                 ) from None
            raise InputError(f"{self.path}: cannot lock ({exc.strerror})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc):
        os.ftruncate(self.fd, 0)
        os.close(self.fd)        # closing drops the flock
        self.fd = None
        return False


def write_json(path: Path, doc) -> None:
    """Write JSON atomically (a temporary file, then a rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(path)


def _start_afresh(out: Path) -> None:
    """Remove what an earlier start without any run left behind."""
    for name in (STUDY_FILE, NOMINAL_FILE, RUNS_FILE):
        (out / name).unlink(missing_ok=True)


def open_study(out: Path, params: dict, resume: bool) -> None:
    """Check or write OUT/study.json (call under the lock); see the module doc."""
    path = out / STUDY_FILE
    if path.exists() and not _holds_runs(out):
        _start_afresh(out)
    if path.exists():
        if not resume:
            raise InputError(f"{out} already holds a study: pass --resume to continue it, "
                             f"or choose another --out")
        try:
            old = json.loads(path.read_text())
        except ValueError:
            raise InputError(f"{path} is unreadable; choose another --out") from None
        if "model_sha256" not in old:
            raise InputError(f"{out} was started by an older cosim (no model hash to check "
                             f"the model against); use another --out")
        if old.get("model_sha256") != params["model_sha256"]:
            raise InputError(f"{out}: the model has changed since this study was started "
                             f"(content hash differs); use another --out")
        old.setdefault("engine", "ngspice")          # studies started before --engine existed
        if old["engine"] != params["engine"]:
            raise InputError(f"{out} was run with --engine {old['engine']}: pass --engine {old['engine']} "
                             f"to resume it, or use another --out")
        diff = [k for k in IDENTITY if old.get(k) != params[k]]
        if diff:
            raise InputError(f"{out}: --resume with different parameters ({', '.join(diff)}); "
                             f"use another --out")
        return
    write_json(path, params)


def scratch(out: Path, clear: bool = True) -> Path:
    """OUT/.scratch, emptied (workers' temporary folders live there)."""
    path = Path(out) / SCRATCH_DIR
    if clear:
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(exist_ok=True)
    return path


def remove_scratch(out: Path) -> None:
    shutil.rmtree(Path(out) / SCRATCH_DIR, ignore_errors=True)
