"""Fixed points of the bistable cell versus a constant input (S-curve), the CMRU
ladder of levels, and their agreement with ngspice sweeps of the dynamic cell.
Figures are printed (pytest -s)."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from cosim.analysis.fixedpoints import (compare_sweep, fixed_points, ladder_levels, s_curve,
                                        unstable_range)
from cosim.analysis.hysteresis import CellWindow
from cosim.verify.fixedpoints import add_cli, fixedpoints, format_summary, plot
from cosim.verify.hysteresis import load_ir

def window(kind, down, up):
    return CellWindow(kind, up, down, up - down, (-1.0, 1.0) if kind == "bmru" else (0.0, 1.0), 1.0)


WINDOWS = [window("schmitt", 0.3, 0.7), window("schmitt", 0.0082, 3.977),
           window("bmru", -0.884, 0.884), window("cmru", 0.75, 1.25)]

CASES = [("schmitt_digits", 3), ("schmitt_digits", 12), ("bmru_flipflop", 0), ("cmru_counting", 2)]


@pytest.fixture(scope="module")
def irs():
    return {name: load_ir(f"models/{name}", bits=6) for name in {c[0] for c in CASES}}


@pytest.fixture(scope="module")
def results(irs):
    return {(name, ch): fixedpoints(irs[name], 0, ch) for name, ch in CASES}


@pytest.mark.parametrize("win", WINDOWS, ids=lambda w: f"{w.kind}-{w.down:g}-{w.up:g}")
@pytest.mark.parametrize("loopgain", [8.0, 20.0, 60.0])
def test_unstable_branch_exists_exactly_between_beta1_and_beta2(win, loopgain):
    curve = s_curve(win, loopgain=loopgain)
    lo, hi = unstable_range(curve)
    assert lo == pytest.approx(win.down, abs=1e-9 * win.width)
    assert hi == pytest.approx(win.up, abs=1e-9 * win.width)
    # independent root finding on u = sigma(k (x + w_i u - t_i)): one fixed point outside
    # the window, three (stable, unstable, stable) inside, up to 0.1 % of the width of the folds
    eps = 1e-3 * win.width
    for x in (win.down - eps, win.up + eps, win.down - 0.3 * win.width, win.up + 0.3 * win.width):
        assert len(fixed_points(x, curve)) == 1, x
    for x in (win.down + eps, 0.5 * (win.down + win.up), win.up - eps):
        fps = fixed_points(x, curve)
        assert [s for _, s in fps] == [True, False, True], (x, fps)
        # the unstable one lies on the dashed branch, the stable ones on the solid branches
        ux, uu = curve.branches["unstable"]
        assert fps[1][0] == pytest.approx(float(curve.state(np.interp(x, ux, uu))), abs=2e-3)
    # below the band only the low state exists, above only the high state
    assert fixed_points(win.down - eps, curve)[0][0] < curve.state(0.5)
    assert fixed_points(win.up + eps, curve)[0][0] > curve.state(0.5)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-ch{c[1]}")
def test_circuit_branches_and_folds_match_the_prediction(results, case):
    r = results[case]
    c = r.circuit
    print(f"\n{case[0]} ch {case[1]} ({r.kind}): folds up {100 * c.fold_err_up:+.3f}% "
          f"down {100 * c.fold_err_down:+.3f}% of the width; branch distance {c.max_dist:.2e}, "
          f"state error away from folds {c.max_state_err:.2e}; {c.n_transition}/{c.n_samples} "
          f"jump samples; ngspice {r.wall_s:.2f} s")
    assert r.unstable_exact and c.clean
    assert abs(c.fold_err_up) <= 0.02 and abs(c.fold_err_down) <= 0.02
    assert c.max_dist <= 0.01 and c.max_state_err <= 0.01
    assert c.n_transition <= 0.05 * c.n_samples
    assert list(r.n_fixed_points.values()) == [1, 3, 3, 3, 1]   # outside / inside each fold
    json.dumps(r.to_dict())


def test_comparison_can_fail(results):
    """Negative controls on the same circuit sweep: a window 5 % of the width off moves
    the folds beyond 2 %; the S-curve of another loop gain misses the branches."""
    r = results[("schmitt_digits", 3)]
    x, u = r.trace["x"], r.trace["u"]
    w = CellWindow("schmitt", r.beta2 + 0.05 * r.width, r.beta1 + 0.05 * r.width, r.width,
                   (0.0, 1.0), 1.0)
    off = compare_sweep(x, u, s_curve(w, lo=x.min(), hi=x.max()))
    assert abs(off.fold_err_up) > 0.02 and abs(off.fold_err_down) > 0.02
    good = CellWindow("schmitt", r.beta2, r.beta1, r.width, (0.0, 1.0), 1.0)
    soft = compare_sweep(x, u, s_curve(good, loopgain=6.0, lo=x.min(), hi=x.max()))
    print(f"\nbranch distance against the loop-gain-6 S-curve: {soft.max_dist:.3f} "
          f"(own: {r.circuit.max_dist:.1e})")
    assert soft.max_dist > 0.01


def test_cmru_ladder_of_levels_is_held(results):
    r = results[("cmru_counting", 2)]
    lad = r.ladder
    print(f"\ncmru ladder K={lad.K}: levels {lad.levels}, max held error {lad.max_level_err:.2e} rung")
    assert lad.rungs == list(range(-4, 5))
    assert lad.levels == pytest.approx([k * lad.alpha for k in range(-4, 5)])
    assert lad.all_held and lad.max_level_err < 1e-3
    bad = ladder_levels(4, 1.0, np.array(lad.measured) + np.eye(9, len(lad.measured[0])) * 0.6)
    assert not bad.all_held and bad.max_level_err > 0.5
    assert results[("schmitt_digits", 3)].ladder is None


def test_plot_and_summary(results, irs, tmp_path):
    for (name, ch), r in results.items():
        out = plot(r, tmp_path / f"{name}_{ch}.png", irs[name])
        assert out.exists() and out.stat().st_size > 10_000
        text = format_summary(r)
        assert "exact" in text and "FAIL" not in text
    assert "held every rung" in format_summary(results[("cmru_counting", 2)])


def test_bad_input_raises_value_error(irs):
    ir = irs["cmru_counting"]
    with pytest.raises(ValueError, match=r"channel 4 out of range.*valid 0\.\.3"):
        fixedpoints(ir, 0, 4)
    with pytest.raises(ValueError, match=r"layer 2 out of range.*valid: 0\.\.0"):
        fixedpoints(ir, 2, 0)
    with pytest.raises(ValueError, match="loopgain"):
        fixedpoints(ir, 0, 0, loopgain=3.0)


def test_cli_handler(irs, tmp_path, capsys):
    p = argparse.ArgumentParser(prog="cosim")
    sub = p.add_subparsers(dest="command", required=True)
    add_cli(sub)
    ir_path = irs["bmru_flipflop"].save(tmp_path / "b.hw.json")
    fig, js = tmp_path / "fp.png", tmp_path / "fp.json"
    args = p.parse_args(["fixedpoints", str(ir_path), "--channel", "1", "--out", str(fig),
                         "--json", str(js)])
    args.func(args)
    out = capsys.readouterr().out
    assert "unstable branch" in out and "circuit sweep" in out
    assert fig.stat().st_size > 10_000 and json.loads(js.read_text())["channel"] == 1
    bad = p.parse_args(["fixedpoints", str(ir_path), "--channel", "7", "--out", str(fig), "--force"])
    with pytest.raises(ValueError, match=r"valid 0\.\.3"):
        bad.func(bad)
    with pytest.raises(SystemExit):
        p.parse_args(["fixedpoints", "--help"])
    assert "example" in capsys.readouterr().out
