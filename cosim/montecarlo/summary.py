"""Summary statistics of a Monte-Carlo study."""
from __future__ import annotations

import numpy as np

YIELD_MARGIN = 0.01   # a run "yields" when within 1 point of nominal accuracy


def summarize(records: list, nominal_score: float, kind: str) -> dict:
    ok = [r for r in records if r.get("ok")]
    out = {"runs": len(records), "succeeded": len(ok), "failed": len(records) - len(ok),
           "nominal_circuit_score": nominal_score, "metric": "MAE" if kind == "regress_last" else "accuracy"}
    for key in ("circuit_score", "software_score", "agreement_software", "agreement_nominal", "state_flips"):
        v = np.array([r[key] for r in ok], np.float64)
        if v.size:
            out[key] = {"mean": float(v.mean()), "std": float(v.std()),
                        "p5": float(np.percentile(v, 5)), "p50": float(np.percentile(v, 50)),
                        "p95": float(np.percentile(v, 95)), "min": float(v.min()), "max": float(v.max())}
    if ok:
        if kind == "regress_last":
            good = lambda s: s <= nominal_score + YIELD_MARGIN  # noqa: E731
        else:
            good = lambda s: s >= nominal_score - YIELD_MARGIN  # noqa: E731
        out["yield_circuit"] = float(np.mean([good(r["circuit_score"]) for r in ok]))
        out["yield_software"] = float(np.mean([good(r["software_score"]) for r in ok]))
        out["runs_fully_agreeing"] = int(sum(r["agreement_software"] == 1.0 for r in ok))
    out["failures"] = [{"run": r["run"], "mismatch_seed": r["mismatch_seed"],
                        "noise_seed": r["noise_seed"], "error": r["error"]}
                       for r in records if not r.get("ok")][:50]
    return out
