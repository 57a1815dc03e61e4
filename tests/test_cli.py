"""The `cosim` command as a user runs it."""
import subprocess
import sys

COSIM = [sys.executable, "-m", "cosim.cli"]


def run(*args):
    return subprocess.run(COSIM + list(args), capture_output=True, text=True, timeout=300)


def test_help_lists_subcommands():
    r = run("--help")
    assert r.returncode == 0
    for sub in ("train", "demo"):
        assert sub in r.stdout


def test_demo_runs_shipped_models():
    r = run("demo")
    assert r.returncode == 0, r.stderr
    for name in ("bmru_flipflop", "cmru_counting", "schmitt_digits"):
        assert f"== {name}" in r.stdout
    assert "accuracy on 20 held-out sequences" in r.stdout


def test_train_rejects_bad_eps_with_one_line():
    r = run("train", "--cell", "bmru", "--task", "flipflop", "--eps-end", "2", "--out", "/tmp/never")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "eps" in r.stderr


def test_train_writes_a_checkpoint_with_card(tmp_path):
    out = tmp_path / "tiny"
    r = run("train", "--cell", "cmru", "--task", "counting", "--ladder", "2", "--task-k", "2",
            "--init-state", "0", "--hidden", "2", "--T", "32", "--n-train", "64", "--epochs", "2",
            "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "config.json").exists() and (out / "weights.pt").exists()
    assert "Held-out test per-step accuracy" in (out / "README.md").read_text()


def test_cli_and_help_import_no_heavy_libraries():
    """`cosim --help` registers every command without torch, matplotlib, numpy or PySpice."""
    code = ("import sys, cosim.cli; cosim.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'numpy', 'scipy', 'PySpice') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
