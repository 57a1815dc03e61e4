"""Yield versus mismatch p: one circuit study per p plus the float-model sweep."""
from __future__ import annotations

import json
from pathlib import Path

from ..plots.montecarlo import plot_yield
from .runner import run_study
from .software import float_sweep


def run_sweep(model_dir, out_dir, ps, *, float_trials: int = 10, **study_kw) -> list:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    points = []
    soft = {pt["p"]: pt for pt in float_sweep(model_dir, ps, float_trials, study_kw.get("seed", 0))}
    for p in ps:
        s = run_study(model_dir, out / f"p{p:g}", mismatch=p, **study_kw)
        points.append({"p": p, "yield_circuit": s.get("yield_circuit", 0.0),
                       "yield_software": s.get("yield_software", 0.0), "failed": s["failed"],
                       "yield_float": soft[p]["yield_float"], "float_scores": soft[p]["scores"],
                       "circuit_mean": s.get("circuit_score", {}).get("mean")})
    tmp = out / ".sweep.json.tmp"
    tmp.write_text(json.dumps(points, indent=1))
    tmp.replace(out / "sweep.json")
    plot_yield(points, out / "yield_vs_p.png", f"{Path(model_dir).name}: yield vs mismatch")
    return points
