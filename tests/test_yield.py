"""Rare-event failure probability: scaled-sigma sampling against a known tail and
against brute-force counting on a shipped model (fast engine)."""
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from cosim.analysis.rare import clopper_pearson, fit_sss, sss_estimate
from cosim.cli import main
from cosim.errors import EXIT_CHECK_FAILED, InputError
from cosim.montecarlo.yield_study import run_yield

ROOT = Path(__file__).resolve().parents[1]


def test_sss_recovers_a_gaussian_tail_below_what_it_counts():
    """Failure when a standard normal variation passes r = 4 (P = 3.2e-5): counted only
    at scales 2..4 (P >= 0.02), the extrapolation's interval holds the true value."""
    r, scales, n = 4.0, [2.0, 2.5, 3.0, 3.5, 4.0], 20000
    rng = np.random.default_rng(1)
    fails = [int(rng.binomial(n, norm.sf(r / s))) for s in scales]
    est = sss_estimate(scales, fails, [n] * len(scales), boot=500)
    truth = norm.sf(r)
    assert est["ci"][0] <= truth <= est["ci"][1]
    assert 0.2 < est["p_fail"] / truth < 5


def test_sss_needs_failures_at_three_scales():
    with pytest.raises(InputError, match=">= 3 scales"):
        fit_sss([2, 3, 4], [0, 0, 5], [100, 100, 100])
    assert clopper_pearson(0, 100)[0] == 0.0 and clopper_pearson(100, 100)[1] == 1.0


def test_yield_estimate_agrees_with_brute_force_on_the_flip_flop():
    """At p = 5% about 1% of draws change a cell state on the held-out sequences:
    brute force and scaled-sigma sampling agree within their 95% intervals."""
    r = run_yield(ROOT / "netlists" / "bmru_flipflop.hw.json", p=0.05, spec="state",
                  scales=[1.5, 2.0, 2.5, 3.0, 3.5], runs=1000, brute=4000, seed=3)
    b, s = r["brute"], r["sss"]
    assert 5 <= b["fails"] <= 200
    assert s["ci"][0] <= b["ci"][1] and b["ci"][0] <= s["ci"][1]


def test_yield_cli_target_and_outputs(tmp_path, capsys):
    args = ["yield", str(ROOT / "netlists" / "bmru_flipflop.hw.json"), "--p", "0.05", "--runs", "400",
            "--scales", "2,3,4", "--sequences", "2", "--json", str(tmp_path / "y.json"),
            "--plot", str(tmp_path / "y.png")]
    assert main(args + ["--target", "0.9"]) == 0
    assert json.loads((tmp_path / "y.json").read_text())["sss"]["p_fail"] > 0
    assert (tmp_path / "y.png").stat().st_size > 1000
    assert main(args + ["--force", "--target", "1e-12"]) == EXIT_CHECK_FAILED
    assert "not below the target" in capsys.readouterr().err
    assert main(args) == 2                  # outputs exist, no --force
