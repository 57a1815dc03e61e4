"""Every bad input or fault ends cleanly: exit 2 (3 for a failed check, 130 for
Ctrl-C), one line on stderr, nothing half-written, nothing overwritten without
--force. Most cases call `cosim.cli.main` in-process (same code path as the
command, without the torch start-up cost); the security case runs ngspice."""
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cosim.cli import main
from cosim.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED

ROOT = Path(__file__).resolve().parents[1]
FLIPFLOP = ROOT / "models" / "bmru_flipflop"
COUNTER = ROOT / "models" / "cmru_counting"
TINY_TRAIN = ["train", "--cell", "bmru", "--task", "flipflop", "--hidden", "2", "--T", "16",
              "--n-train", "32", "--epochs", "1", "--quiet"]



def _sigint_default():
    """In the child: Ctrl-C handled as usual even when the suite itself was started as a
    background job (which inherits SIGINT ignored, and Python then keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

def cosim(capsys, *args):
    """(exit code, stderr) of `cosim ARGS`; SystemExit from argparse counts as the code."""
    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:
        rc = exc.code
    return rc, capsys.readouterr().err


def one_line(err: str) -> bool:
    return err.strip() != "" and err.strip().count("\n") == 0 and "Traceback" not in err


def listing(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def model_copy(tmp_path):
    """A writable copy of the flip-flop checkpoint."""
    dst = tmp_path / "ff"
    shutil.copytree(FLIPFLOP, dst)
    return dst


# ---- train ----------------------------------------------------------------

def test_train_refuses_an_existing_checkpoint_before_any_work(model_copy, capsys):
    before = listing(model_copy)
    t0 = time.perf_counter()
    rc, err = cosim(capsys, *TINY_TRAIN, "--out", model_copy)
    assert rc == EXIT_BAD_INPUT and one_line(err) and "--force" in err and "checkpoint" in err
    assert listing(model_copy) == before
    assert time.perf_counter() - t0 < 30   # refused up front (a generous bound, not a speed test)


def test_train_refuses_an_existing_file(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("mine")
    rc, err = cosim(capsys, *TINY_TRAIN, "--out", f)
    assert rc == EXIT_BAD_INPUT and one_line(err) and "is a file" in err
    assert f.read_text() == "mine"


def test_train_force_overwrites(model_copy, capsys):
    rc, err = cosim(capsys, *TINY_TRAIN, "--out", model_copy, "--force")
    assert rc == 0, err
    assert json.loads((model_copy / "config.json").read_text())["task"]["T"] == 16


@pytest.mark.parametrize("flag,value", [("--epochs", 0), ("--T", 0), ("--n-train", 0),
                                        ("--hidden", 0), ("--hidden", 10 ** 9), ("--lr", "nan"),
                                        ("--batch-size", -1), ("--seed", -1)])
def test_train_ranges_checked_at_the_door(tmp_path, capsys, flag, value):
    args = [a for a in TINY_TRAIN]
    if flag in args:
        i = args.index(flag)
        del args[i:i + 2]
    rc, err = cosim(capsys, *args, flag, value, "--out", tmp_path / "m")
    assert rc == EXIT_BAD_INPUT and one_line(err) and flag in err
    assert not (tmp_path / "m").exists()


# ---- checkpoints ------------------------------------------------------------

def _edit_config(folder: Path, **changes):
    doc = json.loads((folder / "config.json").read_text())
    for key, value in changes.items():
        if key == "task" and value is None:
            doc.pop("task")
        elif key in ("task",):
            doc[key] = value
        else:
            doc["model"][key] = value
    (folder / "config.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("change,needle", [
    ({"hidden": 1_000_000_000}, "hidden"),        # grew export to 22 GB before
    ({"hidden": 5}, "shape"),                      # sane, but not what the weights hold
    ({"layers": "1"}, "layers"),
    ({"task": None}, "task"),
    ({"task": {"name": "flipflop", "T": 0, "n_train": 0}}, "T must be"),
    ({"task": {"name": "nosuchtask"}}, "unknown task"),
])
def test_bad_config_is_refused_in_one_line(model_copy, tmp_path, capsys, change, needle):
    _edit_config(model_copy, **change)
    rc, err = cosim(capsys, "export", model_copy, "--out", tmp_path / "x.cir")
    assert rc == EXIT_BAD_INPUT and one_line(err) and needle in err, err
    assert not (tmp_path / "x.cir").exists()


@pytest.mark.parametrize("content", [b"", b"\x00" * 10, b"PK\x03\x04broken"])
def test_unreadable_weights_one_line(model_copy, tmp_path, capsys, content):
    (model_copy / "weights.pt").write_bytes(content)
    rc, err = cosim(capsys, "export", model_copy, "--out", tmp_path / "x.cir")
    assert rc == EXIT_BAD_INPUT and one_line(err) and "weights.pt" in err


# ---- export outputs -----------------------------------------------------------

def test_export_out_is_a_directory_leaves_nothing_behind(tmp_path, capsys):
    (tmp_path / "x.cir").mkdir()
    rc, err = cosim(capsys, "export", FLIPFLOP, "--out", tmp_path / "x.cir")
    assert rc == EXIT_BAD_INPUT and one_line(err) and "folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.cir"]
    assert not list((tmp_path / "x.cir").iterdir())


def test_export_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "ff.cir"
    assert cosim(capsys, "export", FLIPFLOP, "--out", out)[0] == 0
    before = listing(tmp_path)
    rc, err = cosim(capsys, "export", FLIPFLOP, "--out", out, "--bits", "4")
    assert rc == EXIT_BAD_INPUT and one_line(err) and "--force" in err
    assert listing(tmp_path) == before
    assert cosim(capsys, "export", FLIPFLOP, "--out", out, "--bits", "4", "--force")[0] == 0
    assert listing(tmp_path) != before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unwritable_output_one_line(tmp_path, capsys):
    """A folder that cannot be created (its parent is a file). Permission bits do not
    stop root, so the common non-root case is covered by the same check (os.access)."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (["export", FLIPFLOP, "--out", blocker / "x.cir"],
                 [*TINY_TRAIN, "--out", blocker / "m"],
                 ["hysteresis", FLIPFLOP, "--out", blocker / "h.png"],
                 ["fixedpoints", FLIPFLOP, "--out", blocker / "f.png"],
                 ["noise", ROOT / "models" / "schmitt_digits", "--out", blocker / "n.png"],
                 ["verify", FLIPFLOP, "--out", blocker / "report"],
                 ["montecarlo", FLIPFLOP, "--out", blocker / "study"]):
        rc, err = cosim(capsys, *args)
        assert rc == EXIT_BAD_INPUT and one_line(err) and "file" in err, (args, err)


def test_verify_refuses_a_non_empty_report_folder(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep")
    rc, err = cosim(capsys, "verify", FLIPFLOP, "--out", tmp_path)
    assert rc == EXIT_BAD_INPUT and one_line(err) and "--force" in err
    assert listing(tmp_path) == {"mine.txt": b"keep"}


# ---- inputs -----------------------------------------------------------------

def _bad_inputs(tmp_path):
    yield "empty batch", lambda p: np.save(p, np.zeros((0, 5, 2)))
    yield "empty file", lambda p: p.write_bytes(b"")
    yield "npz renamed", lambda p: (np.savez(p.with_suffix(".npz"), a=np.zeros((1, 5, 2))),
                                    p.with_suffix(".npz").rename(p))
    yield "complex", lambda p: np.save(p, np.zeros((1, 5, 2)) + 1j)
    yield "huge", lambda p: np.save(p, np.full((1, 5, 2), 1e300))
    yield "nan", lambda p: np.save(p, np.full((1, 5, 2), np.nan))
    yield "text", lambda p: p.write_text("1 2 3")


@pytest.mark.parametrize("case", [c for c, _ in _bad_inputs(None)])
def test_bad_inputs_file_one_line(tmp_path, capsys, case):
    make = dict(_bad_inputs(tmp_path))[case]
    path = tmp_path / "in.npy"
    make(path)
    rc, err = cosim(capsys, "export", COUNTER, "--inputs", path, "--out", tmp_path / "x.cir")
    assert rc == EXIT_BAD_INPUT and one_line(err) and "--inputs" in err, err
    assert not (tmp_path / "x.cir").exists()


# ---- ranges of the ngspice commands -------------------------------------------

@pytest.mark.parametrize("command", ["hysteresis", "fixedpoints", "noise", "demo", "verify",
                                     "montecarlo"])
@pytest.mark.parametrize("timeout", ["0", "-1", "nan"])
def test_timeout_must_be_positive(tmp_path, capsys, command, timeout):
    args = [command] if command == "demo" else [command, FLIPFLOP, "--out", tmp_path / "f.png"]
    rc, err = cosim(capsys, *args, "--timeout", timeout)
    assert rc == EXIT_BAD_INPUT and one_line(err) and "--timeout" in err


# ---- security: user text never becomes netlist lines ----------------------------

EVIL = "ff\n.control\nshell touch {marker}\n.endc\n.include evil.lib\n"


def test_control_characters_in_paths_are_refused(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / EVIL.format(marker=marker)
    shutil.copytree(FLIPFLOP, evil)
    rc, err = cosim(capsys, "export", evil, "--out", tmp_path / "x.cir")
    assert rc == EXIT_BAD_INPUT and one_line(err) and "control characters" in err
    rc, err = cosim(capsys, "export", FLIPFLOP, "--out", tmp_path / "a\nb.cir")
    assert rc == EXIT_BAD_INPUT and "control characters" in err
    assert not marker.exists() and not list(tmp_path.glob("*.cir"))


def test_titles_are_escaped_and_ngspice_runs_no_shell(tmp_path):
    """Even through the library (no CLI check), a hostile title stays one comment-like
    title line; plain `ngspice -b` on the netlist does not run the shell command."""
    from cosim.hw.mapping import model_to_ir
    from cosim.models import load
    from cosim.netlist import build_netlist

    marker = tmp_path / "pwned"
    model, doc = load(FLIPFLOP)
    ir, _ = model_to_ir(model, doc)
    net = build_netlist(ir, np.zeros((1, 3, 3)), title=EVIL.format(marker=marker))
    lines = net.text.splitlines()
    assert not any(l.lower().startswith((".control", "shell", ".include", ".endc")) for l in lines)
    assert lines[0].startswith(".title") and "shell touch" in lines[0]
    path = tmp_path / "net.cir"
    path.write_text(net.text)
    subprocess.run(["ngspice", "-b", str(path)], cwd=tmp_path, capture_output=True, timeout=120)
    assert not marker.exists()


def test_runner_refuses_control_blocks(tmp_path):
    from cosim.spice import SpiceError, run_netlist

    marker = tmp_path / "pwned"
    text = f"t\nR1 a 0 1k\nI1 0 a 1m\n.control\nshell touch {marker}\n.endc\n.op\n.end\n"
    with pytest.raises(SpiceError, match="control"):
        run_netlist(text)
    assert not marker.exists()


# ---- Ctrl-C ---------------------------------------------------------------------

def test_ctrl_c_exits_130_without_a_half_written_checkpoint(tmp_path):
    out = tmp_path / "m"
    args = [a if a != "1" else "100000" for a in TINY_TRAIN]   # --epochs 100000
    proc = subprocess.Popen([sys.executable, "-m", "cosim.cli", *args, "--out", str(out)],
                            preexec_fn=_sigint_default,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)                      # inside the training loop (torch import ~3 s)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert one_line(err) and "interrupted" in err
    assert not out.exists() or not [p for p in out.iterdir() if p.name != "README.md"]
