"""Sequential loop vs parallel scan, forward + backward, measured in one run.

Prints, for T in {64, 256, 1024}, N = 64 channels, batch 32, the time of the
CMRU recurrence (gates, scan, loss, backward) with each scan and their ratio.
Goal: loop / scan >= 5x at T = 1024.

    .venv/bin/python benchmarks/scan.py
"""
from __future__ import annotations

import time

import torch

from cosim.cells import MRU

BATCH, N, IN = 32, 64, 8
REPEATS = 5


def time_once(cell, x, mode) -> float:
    start = time.perf_counter()
    h = cell(x, mode=mode)
    h[:, -1].sum().backward()
    return time.perf_counter() - start


def best_of(cell, x, mode) -> float:
    time_once(cell, x, mode)  # warm-up
    return min(time_once(cell, x, mode) for _ in range(REPEATS))


def main() -> None:
    torch.manual_seed(0)
    print(f"batch {BATCH}, N {N}, forward + backward, best of {REPEATS}, "
          f"{torch.get_num_threads()} torch threads")
    print(f"{'T':>6} {'loop ms':>10} {'scan ms':>10} {'loop/scan':>10}")
    for T in (64, 256, 1024):
        cell = MRU(IN, N, eps=1.0, ladder=8)
        x = torch.randn(BATCH, T, IN)
        loop = best_of(cell, x, "sequential")
        par = best_of(cell, x, "parallel")
        print(f"{T:>6} {loop * 1e3:>10.1f} {par * 1e3:>10.1f} {loop / par:>9.1f}x")


if __name__ == "__main__":
    main()
