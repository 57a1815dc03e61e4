"""Package layout rules: imports run down the pipeline, never back up it."""
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "cosim"
# each layer may import the ones before it, never the ones after
ORDER = ["errors", "limits", "argtypes", "fileio", "cells", "models", "hw", "netlist", "spice", "backends",
         "analysis", "plots", "verify", "montecarlo", "demo", "cli"]
RANK = {name: i for i, name in enumerate(ORDER)}


def test_imports_run_down_the_pipeline():
    backwards = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).parts
        layer = rel[0].removesuffix(".py")
        if layer not in RANK:
            continue
        prefix = r"\.\." if len(rel) > 1 else r"\."
        for m in re.finditer(rf"^\s*from {prefix}(\w+)", path.read_text(), re.M):
            target = m.group(1)
            if target in RANK and RANK[target] > RANK[layer]:
                backwards.append(f"{'/'.join(rel)} -> {target}")
    assert not backwards, backwards


def test_spice_only_runs_ngspice():
    """cosim/spice holds the drivers and result readers, no netlist generators."""
    assert {p.name for p in (PKG / "spice").glob("*.py")} == {
        "__init__.py", "messages.py", "netlist_ops.py", "rawfile.py", "result.py", "runner.py",
        "shared_driver.py", "subprocess_driver.py"}


def test_no_module_over_about_400_lines():
    sizes = {str(p.relative_to(PKG)): len(p.read_text().splitlines()) for p in PKG.rglob("*.py")}
    assert max(sizes.values()) <= 400, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
