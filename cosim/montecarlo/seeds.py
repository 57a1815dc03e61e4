"""Per-run seeds from one root seed (numpy SeedSequence): run i always gets the
same mismatch and noise seeds, whatever the batching, worker count or scheduler."""
from __future__ import annotations

import numpy as np


def run_seeds(root_seed: int, runs: int) -> list:
    """[(mismatch_seed, noise_seed)] for runs 0..runs-1 (each a 32-bit int)."""
    children = np.random.SeedSequence(root_seed).spawn(runs)
    return [tuple(int(v) for v in child.generate_state(2)) for child in children]
