"""PWL current sources vs XSPICE `filesource` inputs: ngspice wall time, one run.

The same whole-model netlist (cosim.netlist.builder.build_netlist) is run in
two forms per case: (a) as the builder writes it, every input a PWL current
source, and (b) with those PWL lines replaced by XSPICE `filesource` blocks
that read the same piecewise-linear waveforms from text files. Prints, per
case, the best ngspice wall time (and ngspice CPU time, less sensitive to other
jobs on the machine) of each form, their ratio, the number of transient time
points, and whether all readout currents, sampled at
cosim.netlist.stimulus.sample_times, agree within 1e-12 A.

Every case runs once in each form; then repeats (best of 2 by default) run,
cheapest case first, as long as the ngspice time stays within --budget
seconds (default: total ~3 min; on an idle 2-core machine all repeats fit,
under load the expensive cases keep 1 run: column 'runs').

    .venv/bin/python benchmarks/stimulus.py              # ~3 min
    .venv/bin/python benchmarks/stimulus.py --budget 0   # always best of 2

The filesource form (what worked on ngspice 39.3):

    afs0 %id([0 b0in0 0 b0in1 ...]) fsm0
    .model fsm0 filesource(file="/tmp/cosim_fs_xxx/stim_g0.txt" amploffset=[0 0 ...]
    + amplscale=[1e-09 1e-09 ...] timeoffset=0 timescale=1 timerelative=false amplstep=false)

`%id(0 node)` drives +value into `node` (the same sign as `I.. 0 node PWL(...)`).
A file holds one row per breakpoint time: `t v_0 v_1 ...`, values in units
(amplscale = i_unit_a keeps rows short). Constraints from filesource's source
(cfunc.mod): each row is read with fgets into a 512-byte buffer, so a longer
row is split and its tail read as a new row (silently wrong); at most 31
channels + time per file here, rows checked < 500 chars (measured: 100
channels in one file read correctly with 369-char rows, 40 channels with
765-char rows came out wrong by ~100%: the limit is the row length, not the
column count). filesource linearly interpolates between rows, so each PWL
corner (k dt and k dt + edge) is one row of its group; channels that do not change at a group's corner repeat
their value. The file is read forward only: a time step that goes back before
the current row interval rewinds and re-reads the file from the start, and
after end of file a rewind is never undone, so a final row past tstop (with
the last values) keeps end-of-file out of the run. filesource sets no
breakpoints: ngspice steps over the input edges instead of landing on both
corners, so it takes fewer time points (column 'tran points'); that, more than
the cost of evaluating long PWLs, is where its speed-up comes from here.
"""
from __future__ import annotations

import argparse
import re
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from cosim.hw.mapping import model_to_ir
from cosim.models import load
from cosim.models.recipe import task_from_config
from cosim.netlist.builder import build_netlist
from cosim.netlist.stimulus import sample_times
from cosim.spice import run_netlist
from cosim.spice.netlist_ops import parse_number

REPEATS = 2
BUDGET_S = 170.0  # ngspice seconds; repeats that would exceed it are skipped
MAX_CHANNELS_PER_FILE = 31  # + the time column = 32 columns
MAX_ROW_CHARS = 500         # filesource reads rows into a 512-byte buffer
TOL_A = 1e-12

_PWL = re.compile(r"^(Ib\d+in\d+)\s+(\S+)\s+(\S+)\s+PWL\((.*)\)\s*$")  # the builder's inputs
_TRAN = re.compile(r"^\.tran\s+(\S+)\s+(\S+)", re.IGNORECASE)

CASES = [  # (label, model dir, copies, steps)
    ("bmru_flipflop x1", "models/bmru_flipflop", 1, 256),
    ("bmru_flipflop x16", "models/bmru_flipflop", 16, 256),
    ("bmru_flipflop x64", "models/bmru_flipflop", 64, 256),
    ("cmru_counting x16", "models/cmru_counting", 16, 256),
    ("schmitt_digits x64", "models/schmitt_digits", 64, 64),
]


def _pwl_channels(text: str):
    """[(line index, element, n+, n-, times, values)] of every PWL current source."""
    lines = text.splitlines()
    out = []
    for i, ln in enumerate(lines):
        m = _PWL.match(ln)
        if not m:
            continue
        if i + 1 < len(lines) and lines[i + 1].lstrip().startswith("+"):
            raise ValueError(f"PWL source {m.group(1)} continues on a '+' line: not handled")
        toks = m.group(4).split()
        if len(toks) % 2:
            raise ValueError(f"odd PWL point list in {m.group(1)}")
        vals = np.array([parse_number(t) for t in toks], np.float64).reshape(-1, 2)
        out.append((i, m.group(1), m.group(2), m.group(3), vals[:, 0], vals[:, 1]))
    return out


def filesource_netlist(text: str, i_unit_a: float, folder: Path) -> tuple[str, int, int]:
    """The builder's netlist with its PWL current sources replaced by filesource
    blocks reading files in `folder` (lowercase absolute path). Returns
    (netlist, number of files, max rows per file)."""
    folder = folder.resolve()
    if str(folder) != str(folder).lower():
        raise ValueError(f"ngspice lowercases file paths: {folder} is not lowercase")
    chans = _pwl_channels(text)
    if not chans:
        raise ValueError("no PWL current sources found")
    tstop = next(parse_number(m.group(2)) for ln in text.splitlines()
                 if (m := _TRAN.match(ln.strip())))
    lines = text.splitlines()
    block, max_rows = [], 0
    groups = [chans[k:k + MAX_CHANNELS_PER_FILE]
              for k in range(0, len(chans), MAX_CHANNELS_PER_FILE)]
    for g, grp in enumerate(groups):
        times = np.unique(np.concatenate([c[4] for c in grp]))
        if times[0] != 0.0:
            raise ValueError("PWL sources must start at t = 0")
        # every channel at every corner of the group: exact, its segments are linear
        cols = [np.interp(times, c[4], c[5]) / i_unit_a for c in grp]
        last_t = max(2.0 * tstop, times[-1] + tstop)  # keeps end of file past tstop
        times = np.append(times, last_t)
        cols = [np.append(c, c[-1]) for c in cols]
        rows = []
        for r, t in enumerate(times):
            row = repr(float(t)) + " " + " ".join(f"{c[r]:.12g}" for c in cols)
            if len(row) >= MAX_ROW_CHARS:
                raise ValueError(f"filesource row of {len(row)} chars (limit {MAX_ROW_CHARS})")
            rows.append(row)
        path = folder / f"stim_g{g}.txt"
        path.write_text("\n".join(rows) + "\n")
        max_rows = max(max_rows, len(rows))
        # %id(n+ n-): the PWL source I n+ n- drives current n+ -> n- through itself
        ports = " ".join(f"{c[2]} {c[3]}" for c in grp)
        n = len(grp)
        block += [
            f"afs{g} %id([{ports}]) fsm{g}",
            f'.model fsm{g} filesource(file="{path}" amploffset=[{" ".join(["0"] * n)}] '
            f'amplscale=[{" ".join([repr(i_unit_a)] * n)}] timeoffset=0 timescale=1 '
            f"timerelative=false amplstep=false)",
        ]
    drop = {c[0] for c in chans}
    first = min(drop)
    out = []
    for i, ln in enumerate(lines):
        if i == first:
            out += block
        if i not in drop:
            out.append(ln)
    return "\n".join(out) + "\n", len(groups), max_rows


def _sampled(res, probes, t) -> np.ndarray:
    return np.array([[res.sample(v, t) for v in copy] for copy in probes])


class Case:
    """One model netlist in both forms; run() adds one timed run of each."""

    def __init__(self, label: str, model_dir: str, copies: int, steps: int):
        m, doc = load(model_dir)
        task = task_from_config(doc)
        ir, _ = model_to_ir(m, doc, bits=6)
        x = np.asarray(task.x_test[:copies, :steps], np.float64)
        if x.shape[:2] != (copies, steps):
            raise ValueError(f"{label}: test set too small: {x.shape}")
        self.label = label
        self.net = build_netlist(ir, x)
        tm = ir.timing
        self.t_s = sample_times(steps, tm.dt_s, tm.sample_frac)
        self.folder = Path(tempfile.mkdtemp(prefix="cosim_fs_", dir="/tmp"))
        chans = _pwl_channels(self.net.text)
        self.sources, self.max_pts = len(chans), max(len(c[4]) for c in chans)
        self.fs_text, self.files, self.rows = filesource_netlist(
            self.net.text, tm.i_unit_a, self.folder)
        self.walls = {"pwl": [], "fs": []}
        self.cpus = {"pwl": [], "fs": []}  # ngspice user + sys s: robust to other jobs' load
        self.tpts, self.outs, self.retried = {}, {}, False

    def run(self) -> float:
        """One run of each form (PWL first); returns the wall time they took."""
        spent = 0.0
        for form, text in (("pwl", self.net.text), ("fs", self.fs_text)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            res = run_netlist(text, timeout_s=300)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            self.walls[form].append(res.wall_s)
            self.cpus[form].append(after.ru_utime + after.ru_stime
                                   - before.ru_utime - before.ru_stime)
            spent += res.wall_s
            self.retried |= res.retried
            self.tpts[form] = len(res.time)
            self.outs[form] = _sampled(res, self.net.probes.outputs, self.t_s)
        return spent

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def row(self) -> str:
        pwl, fs = min(self.walls["pwl"]), min(self.walls["fs"])
        cpwl, cfs = min(self.cpus["pwl"]), min(self.cpus["fs"])
        diff = float(np.max(np.abs(self.outs["pwl"] - self.outs["fs"])))
        note = " (retried)" if self.retried else ""
        return (f"{self.label:<20} {self.net.devices:>7} {self.sources:>5} {self.max_pts:>7} "
                f"{self.files:>5} {self.rows:>5} {len(self.walls['pwl']):>4} "
                f"{pwl:>7.2f} {fs:>7.2f} {pwl / fs:>6.2f}x "
                f"{cpwl:>7.2f} {cfs:>7.2f} {cpwl / cfs:>6.2f}x "
                f"{self.tpts['pwl']:>6}/{self.tpts['fs']:<6} {diff:>9.2e} "
                f"{'yes' if diff <= TOL_A else 'NO'}{note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=REPEATS, help="runs of each form per case")
    ap.add_argument("--budget", type=float, default=BUDGET_S,
                    help="seconds of ngspice time after which further repeats are skipped "
                         "(0: no limit)")
    args = ap.parse_args()
    start = time.perf_counter()
    print(f"ngspice wall time, best of up to {args.repeats} runs (column 'runs'); PWL sources "
          f"as built vs XSPICE filesource; outputs agree if max |diff| <= {TOL_A:g} A "
          f"at the sample times")
    cases = []
    try:
        spent = 0.0
        for spec in CASES:  # pass 1: every case once
            c = Case(*spec)
            cases.append(c)
            spent += c.run()
        for _ in range(args.repeats - 1):  # later passes, cheapest first, within the budget
            for c in sorted(cases, key=lambda c: min(c.walls["pwl"]) + min(c.walls["fs"])):
                cost = min(c.walls["pwl"]) + min(c.walls["fs"])
                if args.budget and spent + cost > args.budget:
                    continue
                spent += c.run()
        head = (f"{'case':<20} {'devices':>7} {'srcs':>5} {'max pts':>7} {'files':>5} "
                f"{'rows':>5} {'runs':>4} {'PWL s':>7} {'fs s':>7} {'PWL/fs':>7} "
                f"{'PWL cpu':>7} {'fs cpu':>7} {'cpu r':>7} "
                f"{'tran points':>13} {'max|diff|':>9} agree")
        print(head)
        print("-" * len(head))
        for c in cases:
            print(c.row())
    finally:
        for c in cases:
            c.close()
    print("srcs: PWL input sources; max pts: points of the longest PWL; files/rows: filesource "
          "files and rows per file; PWL s / fs s: wall; cpu: ngspice user+sys s (best); "
          "tran points: transient time points PWL/filesource; "
          "max|diff| in A")
    print(f"total {time.perf_counter() - start:.0f} s (ngspice {spent:.0f} s)")


if __name__ == "__main__":
    main()
