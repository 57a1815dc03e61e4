"""Package layout rules: imports run down the pipeline, never back up it."""
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "cosim"
# each layer may import the ones before it, never the ones after
ORDER = ["errors", "limits", "argtypes", "fileio", "cells", "models", "hw", "netlist", "spice", "engine", "backends",
         "analysis", "plots", "pdk", "verify", "montecarlo", "demo", "cli"]
RANK = {name: i for i, name in enumerate(ORDER)}


def _imported_layers(path: Path, rel: tuple) -> set:
    """Top-level cosim packages a module imports (relative imports resolved, any depth)."""
    package = rel[:-1]
    out = set()
    text = path.read_text()
    for dots, name in re.findall(r"^\s*from (\.+)([\w.]*) import", text, re.M):
        base = package[:len(package) - (len(dots) - 1)]
        full = base + tuple(n for n in name.split(".") if n)
        if full:
            out.add(full[0])
    out.update(re.findall(r"^\s*(?:from|import) cosim\.(\w+)", text, re.M))
    return out


def test_imports_run_down_the_pipeline():
    backwards = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("").parts
        layer = rel[0]
        if layer not in RANK:
            continue
        for target in _imported_layers(path, rel):
            if target in RANK and RANK[target] > RANK[layer]:
                backwards.append(f"{'/'.join(rel)} -> {target}")
    assert not backwards, backwards


def test_relative_imports_resolve_at_any_depth():
    rel = ("hw", "kinds", "bmru")
    probe = PKG / "hw" / "kinds" / "bmru.py"
    assert {"hw"} <= _imported_layers(probe, rel)
    assert "errors" in _imported_layers(probe, rel)     # from ...errors import InputError


def test_spice_only_runs_ngspice():
    """cosim/spice holds the drivers and result readers, no netlist generators."""
    assert {p.name for p in (PKG / "spice").glob("*.py")} == {
        "__init__.py", "messages.py", "netlist_ops.py", "rawfile.py", "result.py", "runner.py",
        "shared_driver.py", "subprocess_driver.py"}


def test_no_module_over_about_400_lines():
    sizes = {str(p.relative_to(PKG)): len(p.read_text().splitlines()) for p in PKG.rglob("*.py")}
    assert max(sizes.values()) <= 400, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
