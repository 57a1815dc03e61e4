"""Yield versus mismatch p: one circuit study per p plus the float-model sweep."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..hw.source import is_ir_file
from ..plots.montecarlo import plot_yield
from . import study
from .runner import run_study
from .software import float_sweep

SWEEP_FILES = ("sweep.json", "yield_vs_p.png", ".sweep.json.tmp")


def _study_dir(out: Path, p: float) -> Path:
    return out / f"p{p:g}"


def check_sweep_folder(out: Path) -> None:
    """Refuse an --out that holds anything but this sweep's own files and per-p studies
    (a folder of the user's is never written)."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder")
    if not out.is_dir():
        return
    others = sorted(e.name for e in out.iterdir() if e.name not in SWEEP_FILES and not (
        e.is_dir() and e.name.startswith("p") and
        ((e / study.STUDY_FILE).exists() or not any(e.iterdir()))))
    if others:
        raise InputError(f"--out {out} is not a yield sweep but holds files "
                         f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); "
                         f"choose a new or empty folder")


def run_sweep(model_dir, out_dir, ps, *, float_trials: int = 10, **study_kw) -> list:
    """[{"p", "yield_circuit", "yield_software", "failed", "yield_float", ...}] per p;
    OUT/p<p>/ holds each p's study, OUT/sweep.json and yield_vs_p.png the sweep."""
    out = Path(out_dir)
    check_sweep_folder(out)
    study.make_folder(out)
    points = []
    # the float-model sweep needs the checkpoint; an IR file has no float model
    soft = ({} if is_ir_file(model_dir) else
            {pt["p"]: pt for pt in float_sweep(model_dir, ps, float_trials, study_kw.get("seed", 0))})
    for p in ps:
        s = run_study(model_dir, _study_dir(out, p), mismatch=p, **study_kw)
        points.append({"p": p, "yield_circuit": s.get("yield_circuit", 0.0),
                       "yield_software": s.get("yield_software", 0.0), "failed": s["failed"],
                       "yield_float": soft.get(p, {}).get("yield_float"),
                       "float_scores": soft.get(p, {}).get("scores"),
                       "circuit_mean": s.get("circuit_score", {}).get("mean")})
    study.write_json(out / "sweep.json", points)
    plot_yield(points, out / "yield_vs_p.png", f"{Path(model_dir).name}: yield vs mismatch")
    return points
