"""The `cosim` command: one subprocess smoke test as a user runs it, the rest
through `cosim.cli.main` in-process (the same parser, handlers and exit codes)."""
import subprocess
import sys

from cosim.cli import main

COSIM = [sys.executable, "-m", "cosim.cli"]


def run(capsys, *args):
    """(exit code, stdout, stderr) of `cosim ARGS`, in-process."""
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_help_lists_subcommands_as_a_subprocess():
    r = subprocess.run(COSIM + ["--help"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0
    for sub in ("train", "demo", "export", "verify", "montecarlo"):
        assert sub in r.stdout


def test_demo_runs_shipped_models(capsys):
    rc, out, err = run(capsys, "demo")
    assert rc == 0, err
    for name in ("bmru_flipflop", "cmru_counting", "schmitt_digits"):
        assert f"== {name}" in out
    assert "accuracy on 20 held-out sequences" in out


def test_train_rejects_bad_eps_with_one_line(capsys):
    try:
        rc = main(["train", "--cell", "bmru", "--task", "flipflop", "--eps-end", "2", "--out", "/tmp/never"])
    except SystemExit as exc:        # argparse's own refusal
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip().count("\n") == 0 and "eps" in err


def test_train_writes_a_checkpoint_with_card(tmp_path, capsys):
    out = tmp_path / "tiny"
    rc, _, err = run(capsys, "train", "--cell", "cmru", "--task", "counting", "--ladder", "2", "--task-k", "2",
                     "--init-state", "0", "--hidden", "2", "--T", "32", "--n-train", "64", "--epochs", "2",
                     "--quiet", "--out", str(out))
    assert rc == 0, err
    assert (out / "config.json").exists() and (out / "weights.pt").exists()
    assert "Held-out test per-step accuracy" in (out / "README.md").read_text()


def test_cli_and_help_import_no_heavy_libraries():
    """`cosim --help` registers every command without torch, matplotlib, numpy or PySpice."""
    code = ("import sys, cosim.cli; cosim.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'numpy', 'scipy', 'PySpice') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
