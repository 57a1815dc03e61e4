"""Writing results safely: temp file + rename, and output paths checked up front.

A failure (error, Ctrl-C, kill) while writing leaves either the old file or the
new one, never half of one; an output that exists is not replaced unless the
user said `--force`.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError

_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write `data` to `path` through a temp file in the same folder, then rename."""
    atomic_write_all({path: data})
    return Path(path)


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())


def atomic_write_all(files: dict) -> None:
    """Write several files ({path: text or bytes}) so that a failure before the last
    rename leaves none of the new files behind: all temp files first, then renames."""
    temps = []
    try:
        for path, text in files.items():
            path = Path(path)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(text if isinstance(text, bytes) else text.encode())
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise


def check_path_text(path, flag: str) -> None:
    """Refuse paths holding control characters (newlines could reach netlist text)."""
    if any(ch in _CONTROL for ch in str(path)):
        raise InputError(f"{flag} {str(path)!r}: the path holds control characters "
                         "(newline, tab, ...); rename it")


def _nearest_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output(path, flag: str = "--out", *, force: bool = False, kind: str = "file") -> Path:
    """Check, before any work, that `path` can be written: its folder exists or can
    be created and is writable, an existing file is replaced only with `force`,
    a file cannot stand where a folder is wanted (kind "dir") and vice versa."""
    path = Path(path)
    check_path_text(path, flag)
    if path.exists():
        if kind == "file" and path.is_dir():
            raise InputError(f"{flag} {path}: is a folder; give a file name")
        if kind == "dir" and not path.is_dir():
            raise InputError(f"{flag} {path}: is a file; give a folder")
        if kind == "file" and not force:
            raise InputError(f"{flag} {path}: exists; add --force to overwrite it")
    base = _nearest_existing(path.parent if kind == "file" else path)
    if not base.is_dir():
        raise InputError(f"{flag} {path}: {base} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: cannot write in {base} (permission denied)")
    return path
