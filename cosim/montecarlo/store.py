"""Run records on disk: one JSON object per line, appended and fsync'ed as each
run finishes. A partial last line (a kill mid-write) is ignored and cut off on
resume, so no finished run is lost and the file never stays corrupt."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path


class RunStore:
    def __init__(self, path):
        self.path = Path(path)

    def load(self) -> list:
        """Complete records; truncates a trailing partial line."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        good_end = data.rfind(b"\n") + 1
        if good_end != len(data):
            with open(self.path, "r+b") as fh:
                fh.truncate(good_end)
        records = []
        for line in data[:good_end].splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a torn line from an old crash: its run is redone
        return records

    def append(self, records: list) -> None:
        with open(self.path, "a") as fh:
            for rec in records:
                fh.write(json.dumps(rec) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


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
