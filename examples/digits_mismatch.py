"""Which mismatch hurts the digits model? Monte Carlo per device class, circuit and software.

12 runs x 8 held-out sequences per row (no transient noise), seed 0, 6 bits:
every device class at p = 5% and 2% ("+-p at 3 sigma"), only the readout
filters' capacitors and couplings at 5%, only the cells' output level and
thresholds at 5%. Prints one row per case and writes docs/digits_mismatch.json.

    .venv/bin/python examples/digits_mismatch.py [--runs 12] [--sequences 8] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from cosim.montecarlo.runner import run_study

CASES = {
    "every class 5%": 0.05,
    "every class 2%": 0.02,
    "readout filters only 5%": {"filter": 0.05},
    "cell levels and thresholds only 5%": {"igain": 0.05, "ithresh": 0.05, "iwidth": 0.05},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--sequences", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="docs/digits_mismatch.json")
    args = ap.parse_args()
    rows = []
    print(f"{'case':<36} {'circuit acc':>14} {'software':>9} {'yield c/s':>10} {'agree':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, p) in enumerate(CASES.items()):
            start = time.perf_counter()
            s = run_study("models/schmitt_digits", Path(tmp) / f"case{i}", engine="ngspice", runs=args.runs, mismatch=p,
                          noise_na=0.0, sequences=args.sequences, workers=args.workers, seed=0,
                          progress=False)
            row = {"case": label, "mismatch": s["mismatch"], "nominal": s["nominal_circuit_score"],
                   "circuit": s["circuit_score"], "software": s["software_score"],
                   "yield_circuit": s["yield_circuit"], "yield_software": s["yield_software"],
                   "runs_fully_agreeing": s["runs_fully_agreeing"], "runs": s["runs"],
                   "wall_s": time.perf_counter() - start}
            rows.append(row)
            print(f"{label:<36} {row['circuit']['mean']:.3f} +- {row['circuit']['std']:.3f} "
                  f"{row['software']['mean']:9.3f} {row['yield_circuit']:5.2f}/{row['yield_software']:.2f} "
                  f"{row['runs_fully_agreeing']:>3}/{row['runs']}", flush=True)
    print(f"nominal circuit accuracy on these {args.sequences} sequences: {rows[0]['nominal']:.3f}")
    out = Path(args.out)
    tmp_out = out.with_name(f".{out.name}.tmp")
    tmp_out.write_text(json.dumps({"command": "python " + " ".join(sys.argv), "runs": args.runs,
                                   "sequences": args.sequences, "seed": 0, "rows": rows}, indent=1))
    tmp_out.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
