"""Driver overhead: the demo model's transient through each cosim driver versus
raw `ngspice -b -r` on the same netlist, measured in one run (best of N).

    .venv/bin/python benchmarks/spice.py [--repeats 3]

Prints wall seconds, the ratio driver / raw (goal: overhead <= 10%, i.e.
ratio <= 1.10) and cell-steps per second (cells x recurrent steps / wall).
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from cosim.hw import HardwareIR
from cosim.spice import run_netlist

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("cmru_counting", "bmru_flipflop", "schmitt_digits")


def raw_ngspice(text: str) -> float:
    with tempfile.TemporaryDirectory() as d:
        net = Path(d) / "net.cir"
        net.write_text(text)
        start = time.perf_counter()
        subprocess.run(["ngspice", "-b", "-r", str(Path(d) / "out.raw"), str(net)],
                       capture_output=True, check=True, cwd=d)
        return time.perf_counter() - start


def through(driver: str, text: str) -> float:
    start = time.perf_counter()
    run_netlist(text, driver=driver, timeout_s=600)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"best of {args.repeats}; netlists/NAME.cir (1 sequence)")
    print(f"{'model':<16}{'cells x steps':>14}{'raw s':>8}{'subproc s':>10}{'ratio':>7}"
          f"{'shared s':>9}{'ratio':>7}{'cell-steps/s':>14}")
    for name in MODELS:
        text = (ROOT / "netlists" / f"{name}.cir").read_text()
        ir = HardwareIR.load(ROOT / "netlists" / f"{name}.hw.json")
        steps = round(float(text.split(".tran", 1)[1].split()[1]) / ir.timing.dt_s)
        cells = sum(layer.n for layer in ir.layers)
        through("shared", text)  # load the library once, outside the timing
        times = {"raw": [], "subprocess": [], "shared": []}
        for _ in range(args.repeats):  # interleaved, so machine noise hits all three alike
            times["raw"].append(raw_ngspice(text))
            times["subprocess"].append(through("subprocess", text))
            times["shared"].append(through("shared", text))
        raw, sub, sh = (min(times[k]) for k in ("raw", "subprocess", "shared"))
        print(f"{name:<16}{f'{cells} x {steps}':>14}{raw:>8.3f}{sub:>10.3f}{sub / raw:>7.2f}"
              f"{sh:>9.3f}{sh / raw:>7.2f}{cells * steps / sub:>14.0f}")


if __name__ == "__main__":
    main()
