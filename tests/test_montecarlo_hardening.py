"""Monte Carlo loses nothing and counts nothing twice: failed runs retried on resume,
one writer per study, model content checked, killed workers survived, folders that
are not studies left alone, no leaked ngspice folders, arguments checked at the door.

Real ngspice throughout: faults are real (a failing `ngspice` executable given as
$NGSPICE, a SIGKILL'ed worker process, SIGSTOP/SIGTERM/SIGINT sent to the study).
Small studies (bmru_flipflop, 1 sequence per run) keep the file fast.
"""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch

from cosim.cli import build_parser
from cosim.errors import InputError
from cosim.montecarlo.runner import run_study
from cosim.montecarlo.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "bmru_flipflop"
WAIT_S = 300          # generous upper bound for waits on a loaded machine (never a pass criterion)



def _sigint_default():
    """In the child: Ctrl-C handled as usual even when the suite itself was started as a
    background job (which inherits SIGINT ignored, and Python then keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

def _cli(*args, env=None, timeout=600):
    """`cosim montecarlo ARGS` in a child process: (returncode, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "cosim.cli", "montecarlo", "--engine", "ngspice", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def _start(*args, env=None):
    """`cosim montecarlo ARGS` started in its own session (signals go to the group)."""
    return subprocess.Popen([sys.executable, "-m", "cosim.cli", "montecarlo", "--engine", "ngspice",
                             *map(str, args), "--quiet"], cwd=ROOT, env=env, start_new_session=True,
                            preexec_fn=_sigint_default,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_records(out: Path, n: int, proc) -> None:
    """Wait until runs.jsonl holds >= n records (fails only if the study ends first)."""
    store = RunStore(out / "runs.jsonl")
    deadline = time.time() + WAIT_S
    while len(store.load()) < n:
        assert proc.poll() is None, f"study ended early: {proc.communicate()}"
        assert time.time() < deadline, "no progress"
        time.sleep(0.1)


def _lines(out: Path) -> list:
    return [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]


def _one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def _failing_ngspice(tmp_path: Path, passes: int) -> dict:
    """Environment whose $NGSPICE runs the real ngspice `passes` times, then exits 1."""
    real = shutil.which("ngspice")
    count = tmp_path / "ngspice_calls"
    count.write_text("0")
    wrapper = tmp_path / "ngspice"
    wrapper.write_text(f"""#!/bin/sh
n=$(cat {count}); echo $((n + 1)) > {count}
if [ "$n" -ge {passes} ]; then echo "broken ngspice" >&2; exit 1; fi
exec {real} "$@"
""")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "NGSPICE": str(wrapper)}


# --- section 3 ---------------------------------------------------------------------

def test_failed_runs_exit_3_and_are_retried_on_resume(tmp_path):
    out = tmp_path / "study"
    args = (MODEL, "--runs", 3, "--sequences", 1, "--workers", 1, "--quiet", "--out", out)
    rc, stdout, stderr = _cli(*args, env=_failing_ngspice(tmp_path, passes=0))  # no nominal
    assert rc == 2 and "nominal circuit failed" in _one_line_error(stderr)
    rc, stdout, stderr = _cli(*args, env=_failing_ngspice(tmp_path, passes=1))  # nominal only
    assert rc == 3, (stdout, stderr)
    assert "3 run(s) failed" in _one_line_error(stderr) and "--resume" in stderr
    assert json.loads((out / "summary.json").read_text())["failed"] == 3
    rc, stdout, stderr = _cli(*args, "--resume")                                 # real ngspice
    assert rc == 0, (stdout, stderr)
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["runs"], summary["succeeded"], summary["failed"]) == (3, 3, 0)
    assert "3/3 runs ok" in stdout
    assert len(_lines(out)) == 6                       # 3 failed records, 3 retried ones


def test_second_writer_is_refused_and_nothing_is_counted_twice(tmp_path):
    out = tmp_path / "study"
    args = (MODEL, "--runs", 6, "--sequences", 1, "--workers", 1, "--out", out)
    first = _start(*args)
    try:
        _wait_records(out, 1, first)
        os.killpg(first.pid, signal.SIGSTOP)           # the first writer holds the lock
        rc, stdout, stderr = _cli(*args, "--resume", "--quiet")
        assert rc == 2, (stdout, stderr)
        assert "locked" in _one_line_error(stderr) and str(first.pid) in stderr
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    assert first.wait(WAIT_S) == 0, first.communicate()
    assert sorted(r["run"] for r in _lines(out)) == list(range(6))
    assert json.loads((out / "summary.json").read_text())["runs"] == 6


def test_store_reads_one_record_per_run_and_skips_malformed_lines(tmp_path, capsys):
    store = RunStore(tmp_path / "runs.jsonl")
    store.append([{"run": 0, "ok": False}, {"run": 1, "ok": True, "v": 1}])
    with open(store.path, "a") as fh:
        fh.write("not json\n")
    store.append([{"run": 0, "ok": True, "v": 2}, {"run": 1, "ok": True, "v": 3},
                  {"run": 2, "ok": False, "v": 4}, {"run": 2, "ok": False, "v": 5}])
    got = store.load(warn=True)
    assert [(r["run"], r["ok"], r.get("v")) for r in got] == [(0, True, 2), (1, True, 1),
                                                             (2, False, 5)]
    assert "line 3 is malformed" in capsys.readouterr().err


def _copy_model(tmp_path: Path) -> Path:
    dst = tmp_path / "models" / "x"
    shutil.copytree(MODEL, dst)
    return dst


def test_resume_accepts_path_spellings_and_refuses_a_changed_model(tmp_path, monkeypatch):
    model = _copy_model(tmp_path)
    out = tmp_path / "study"
    kw = dict(runs=1, sequences=1, workers=1, progress=False)
    assert run_study(model, out, **kw)["succeeded"] == 1
    monkeypatch.chdir(tmp_path)
    shutil.copytree(model, tmp_path / "elsewhere")                # same content, other name
    for spelling in ("models/x/", "models/x", str(model.resolve()), "elsewhere"):
        assert run_study(spelling, out, resume=True, **kw)["runs"] == 1
    weights = model / "weights.pt"
    state = torch.load(weights, weights_only=True)             # "retrain" into the same path
    torch.save({k: v * 1.7 if v.is_floating_point() else v for k, v in state.items()}, weights)
    with pytest.raises(InputError, match="model has changed"):
        run_study("models/x", out, resume=True, **kw)
    assert len(_lines(out)) == 1


def _worker_pids(pid: int) -> list:
    """Pids of the multiprocessing pool workers below process `pid`."""
    pids = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                pids.append(child.pid)
        except psutil.Error:          # exited meanwhile (an ngspice child, ...)
            pass
    return pids


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:              # gone, or a zombie psutil cannot inspect
        return False


def test_killed_worker_is_retried_and_the_study_completes(tmp_path):
    out = tmp_path / "study"
    proc = _start(MODEL, "--runs", 8, "--sequences", 1, "--workers", 1, "--out", out)
    _wait_records(out, 1, proc)
    os.killpg(proc.pid, signal.SIGSTOP)                 # hold still while we pick the worker
    try:
        workers = _worker_pids(proc.pid)
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)             # as the out-of-memory killer would
    finally:
        os.killpg(proc.pid, signal.SIGCONT)
    stdout, stderr = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, (stdout, stderr)
    assert "BrokenProcessPool" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["runs"], summary["succeeded"]) == (8, 8)


def test_unreachable_scheduler_is_one_line_and_does_not_block_a_rerun(tmp_path):
    out = tmp_path / "study"
    args = (MODEL, "--runs", 1, "--sequences", 1, "--workers", 1, "--quiet", "--out", out)
    rc, stdout, stderr = _cli(*args, "--scheduler", "tcp://127.0.0.1:9")
    assert rc == 2, (stdout, stderr)
    assert "--scheduler tcp://127.0.0.1:9" in _one_line_error(stderr)
    rc, stdout, stderr = _cli(*args)                     # same --out, no --resume
    assert rc == 0, (stdout, stderr)
    assert "1/1 runs ok" in stdout


def test_out_that_is_not_a_study_or_an_existing_study_is_refused(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "runs.csv").write_text("my data\n")
    args = (MODEL, "--runs", 1, "--sequences", 1, "--workers", 1, "--quiet")
    rc, stdout, stderr = _cli(*args, "--out", out)
    assert rc == 2 and "not a Monte-Carlo study" in _one_line_error(stderr)
    rc, stdout, stderr = _cli(*args, "--out", out, "--mismatch", "0.05,0.1")   # a sweep
    assert rc == 2 and "not a yield sweep" in _one_line_error(stderr)
    assert sorted(p.name for p in out.iterdir()) == ["runs.csv"]
    assert (out / "runs.csv").read_text() == "my data\n"
    study = tmp_path / "study"
    assert run_study(MODEL, study, runs=1, sequences=1, workers=1, progress=False)["succeeded"]
    rc, stdout, stderr = _cli(*args, "--out", study)     # a study with runs, no --resume
    assert rc == 2 and "--resume" in _one_line_error(stderr)


def test_unwritable_out_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("")
    rc, stdout, stderr = _cli(MODEL, "--runs", 1, "--out", tmp_path / "afile" / "study")
    assert rc == 2 and "cannot write" in _one_line_error(stderr)


def test_sigterm_stops_cleanly_without_leaking_ngspice_folders(tmp_path):
    """SIGTERM to the study process: exit 130, workers stopped, no cosim_ngspice_*
    folder left in $TMPDIR or in the study; complete lines only; resume finishes it."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    out = tmp_path / "study"
    args = (MODEL, "--runs", 8, "--sequences", 1, "--workers", 2, "--out", out)
    proc = _start(*args, env=env)
    _wait_records(out, 1, proc)
    workers = _worker_pids(proc.pid)
    os.kill(proc.pid, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert workers and not any(_alive(w) for w in workers)
    assert not list(tmpdir.glob("cosim_ngspice_*")) and not (out / ".scratch").exists()
    assert (out / "runs.jsonl").read_bytes().endswith(b"\n")
    rc, stdout, stderr = _cli(*args, "--resume", "--quiet", env=env)
    assert rc == 0 and "8/8 runs ok" in stdout, (stdout, stderr)


def test_kill_leaves_folders_only_in_the_study_and_resume_removes_them(tmp_path):
    """SIGKILL of everything (no clean-up possible): ngspice folders of the workers
    are under the study's .scratch, never in $TMPDIR, and the resume removes them;
    a malformed line in runs.jsonl is skipped with a warning and its run redone."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    out = tmp_path / "study"
    args = (MODEL, "--runs", 6, "--sequences", 1, "--workers", 1, "--out", out)
    proc = _start(*args, env=env)
    _wait_records(out, 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not list(tmpdir.glob("cosim_ngspice_*"))
    lines = (out / "runs.jsonl").read_text().splitlines(keepends=True)
    bad_run = json.loads(lines[0])["run"]
    lines[0] = '{"run": ' + str(bad_run) + ', "ok": tr\n'           # a corrupt record
    (out / "runs.jsonl").write_text("".join(lines) + '{"run": 5, "o')  # and a torn last line
    rc, stdout, stderr = _cli(*args, "--resume", "--quiet", env=env)
    assert rc == 0 and "6/6 runs ok" in stdout, (stdout, stderr)
    assert "malformed" in stderr and "Traceback" not in stderr
    assert not (out / ".scratch").exists()
    redone = [json.loads(ln) for ln in (out / "runs.jsonl").read_text().splitlines()[1:]]
    assert sum(r["run"] == bad_run for r in redone) == 1              # redone once


def test_sigint_to_the_group_leaves_a_resumable_study(tmp_path):
    """Ctrl-C (SIGINT to the whole process group): exit 130, complete lines only."""
    out = tmp_path / "study"
    args = (MODEL, "--runs", 6, "--sequences", 1, "--workers", 1, "--out", out)
    proc = _start(*args)
    _wait_records(out, 1, proc)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 130, (stdout, stderr)
    assert (out / "runs.jsonl").read_bytes().endswith(b"\n")
    assert not (out / ".scratch").exists()
    rc, stdout, stderr = _cli(*args, "--resume", "--quiet")
    assert rc == 0 and "6/6 runs ok" in stdout, (stdout, stderr)


def test_one_model_copy_per_netlist_by_default(tmp_path):
    assert build_parser().parse_args(["montecarlo", "m", "--out", "o"]).batch == 1
    s = run_study(MODEL, tmp_path / "s", runs=2, sequences=1, workers=1, progress=False, engine="ngspice")
    assert s["batch"] == 1


# --- section 2, montecarlo rows ------------------------------------------------------

@pytest.mark.parametrize("flag,value", [
    ("--timeout", "0"), ("--timeout", "-1"), ("--timeout", "nan"), ("--timeout", "inf"),
    ("--noise", "1e30"), ("--noise", "-0.1"), ("--noise", "nan"), ("--noise", "inf"),
    ("--runs", "0"), ("--sequences", "0"), ("--workers", "0"), ("--batch", "0"),
    ("--runs", "-3"), ("--mismatch", "1.5"), ("--mismatch", "0.05,nan"), ("--mismatch", "-0.1"),
])
def test_bad_values_are_refused_at_parsing_with_the_flag_name(flag, value, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["montecarlo", "m", "--out", "o", flag, value])
    assert exc.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err


def test_good_values_pass_parsing():
    a = build_parser().parse_args(["montecarlo", "m", "--out", "o", "--timeout", "0.5",
                                   "--noise", "10", "--mismatch", "0,0.5", "--batch", "4"])
    assert (a.timeout, a.noise, a.mismatch, a.batch) == (0.5, 10.0, [0.0, 0.5], 4)


def test_library_refuses_bad_values_too(tmp_path):
    with pytest.raises(InputError, match="--timeout"):
        run_study(MODEL, tmp_path / "s", runs=1, timeout_s=0.0, progress=False)
    with pytest.raises(InputError, match="--noise"):
        run_study(MODEL, tmp_path / "s", runs=1, noise_na=1e30, progress=False)
    assert not (tmp_path / "s").exists()
