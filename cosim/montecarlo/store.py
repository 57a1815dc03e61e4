"""Run records on disk: one JSON object per line, appended and fsync'ed as each
batch finishes.

Reading (`load`) never changes the file, so anyone may read a study while it
runs. Only the study's writer (the process holding the study lock, see
study.py) calls `repair`, which cuts off a torn last line (a kill mid-write)
before the first append. Malformed lines are skipped with a warning on
stderr; their runs count as not done and are run again. Several records of
one run (a failed run retried on resume) collapse into one: the first
successful record, else the last one.
"""
from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

from ..errors import InputError


class RunStore:
    def __init__(self, path):
        self.path = Path(path)

    def _lines(self, warn: bool) -> list:
        """Parsed complete lines (dicts with a "run"), in file order."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        complete = data[:data.rfind(b"\n") + 1]      # a partial last line is not a record yet
        records = []
        for n, line in enumerate(complete.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict) or not isinstance(rec.get("run"), int):
                    raise InputError("not a run record")
            except ValueError:                       # JSONDecodeError is a ValueError
                if warn:
                    print(f"warning: {self.path} line {n} is malformed; skipped (its run "
                          f"will be run again)", file=sys.stderr)
                continue
            records.append(rec)
        return records

    def load(self, warn: bool = False) -> list:
        """One record per run id (sorted by run): the first ok record, else the last."""
        best: dict = {}
        for rec in self._lines(warn):
            old = best.get(rec["run"])
            if old is None or not old.get("ok"):
                best[rec["run"]] = rec
        return [best[k] for k in sorted(best)]

    def repair(self) -> None:
        """Cut off a torn last line (writer only, under the study lock)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return
        data = self.path.read_bytes()
        good_end = data.rfind(b"\n") + 1
        if good_end != len(data):
            print(f"warning: {self.path}: dropped a truncated last line (its run will be "
                  f"run again)", file=sys.stderr)
            with open(self.path, "r+b") as fh:
                fh.truncate(good_end)

    def append(self, records: list) -> None:
        """Append complete lines with one write (an interrupt leaves whole lines or a
        torn last line that `repair` removes), then fsync."""
        self.repair()
        blob = "".join(json.dumps(rec) + "\n" for rec in records).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)


def write_csv(records: list, path) -> None:
    """Scalar fields of every record, one row per run (sorted by run index)."""
    keys = []
    for rec in records:
        for k, v in rec.items():
            if k not in keys and not isinstance(v, (list, dict)):
                keys.append(k)
    tmp = Path(path).with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for rec in sorted(records, key=lambda r: r["run"]):
            w.writerow(rec)
    tmp.replace(path)
