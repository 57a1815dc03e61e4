"""Noise tolerance (SPEC 4) in the real ngspice: state flips per window crossing,
hysteresis cell (trained width) versus a width-0 comparator, same noisy input.

One netlist per experiment (~1 s of ngspice for 10 crossings x 3 sigmas).
Printed figures (pytest -s) can be reported.
"""
from __future__ import annotations

import argparse
import copy
import json

import numpy as np
import pytest

from cosim.analysis.noise import (CLAIM, binary_states, comparator_window, count, noise_traces,
                                  pick_channel, sigma_seeds, software_counts, suppression,
                                  trapezoid)
from cosim.netlist.noise_bench import noise_bench
from cosim.spice import run_netlist
from cosim.verify.hysteresis import load_ir
from cosim.verify.noise import add_cli, format_table, noise_experiment, parse_sigmas

SIGMAS = [0.0, 0.2, 0.5]          # fractions of delta
CROSSINGS = 10


@pytest.fixture(scope="module")
def ir():
    return load_ir("models/schmitt_digits", bits=6)


@pytest.fixture(scope="module")
def res(ir):
    r = noise_experiment(ir, 0, sigmas=SIGMAS, crossings=CROSSINGS, seed=0,
                         model_name="schmitt_digits")
    print("\n" + format_table(r))
    return r


def _point(res, rel):
    return next(p for p in res.points if p.sigma_rel == rel)


# ------------------------------------------------------------------ pure parts

def test_default_channel_is_the_median_width(ir):
    ch, win = pick_channel(ir, 0)
    d = np.asarray(ir.layers[0].delta, np.float64)
    assert win.width == pytest.approx(np.sort(d)[(len(d) - 1) // 2])
    assert ch == 15 and win.width == pytest.approx(d[15])
    ch5, win5 = pick_channel(ir, 0, 5)
    assert ch5 == 5 and win5.width == pytest.approx(d[5])


def test_bad_channel_or_layer_raises(ir):
    with pytest.raises(ValueError, match="channel 99 out of range"):
        noise_experiment(ir, 0, 99)
    with pytest.raises(ValueError, match="layer 3 out of range"):
        noise_experiment(ir, 3)
    with pytest.raises(ValueError, match="first-quadrant"):
        pick_channel(load_ir("models/bmru_flipflop"), 0)
    with pytest.raises(ValueError):
        noise_experiment(ir, 0, sigmas=[-0.1])
    with pytest.raises(ValueError):
        parse_sigmas("0.1,abc")
    zero = copy.deepcopy(ir)
    zero.layers[0].delta = [0.0] * zero.layers[0].n
    with pytest.raises(ValueError, match="width 0"):
        pick_channel(zero, 0, 2)


def test_trapezoid_crosses_the_window_once_per_ramp(ir):
    _, win = pick_channel(ir, 0)
    st = trapezoid(win, 7, samples_per_step=10, ramp_steps=3, hold_steps=2)
    assert st.n == 8 * 20 + 7 * 30
    assert st.lo == pytest.approx(st.centre - win.width) and st.hi == pytest.approx(st.centre + win.width)
    assert st.lo < win.down and st.hi > win.up
    # noiseless input: exactly one transition per ramp for both devices (software)
    for w in (win, comparator_window(win)):
        s, c = software_counts(w, st.clean, st)
        assert c.transitions == 7 and c.extra == 0 and c.wrong_holds == 0
    assert np.all(st.ideal[st.hold_end] == np.arange(8) % 2)


def test_counting_and_factor():
    class St:                                        # minimal stimulus: 2 crossings
        n, crossings = 8, 2
        hold_end = np.array([1, 4, 7])
        ideal = np.array([0, 0, -1, 1, 1, -1, 0, 0])
    c = count([0, 0, 1, 0, 1, 1, 0, 0], St)
    assert (c.transitions, c.extra, c.error_rate, c.wrong_holds) == (4, 2, 1.0, 0)
    c = count([0, 0, 0, 0, 0, 0, 0, 0], St)          # a missed switch
    assert (c.transitions, c.extra, c.wrong_holds) == (0, 0, 1)
    assert suppression(0.0, 3.0, 10) == (pytest.approx(30.0), True)     # 3 / (1/10), a bound
    assert suppression(0.5, 3.0, 10) == (pytest.approx(6.0), False)
    assert suppression(0.0, 0.0, 10) == (None, False)


def test_seeds_are_recorded_and_reproducible():
    a, b = sigma_seeds(0, 3), sigma_seeds(0, 3)
    assert a == b and len(set(a)) == 3 and sigma_seeds(1, 3) != a
    n1, n2 = noise_traces(a, [0.1, 0.2, 0.0], 500), noise_traces(a, [0.1, 0.2, 0.0], 500)
    assert np.array_equal(n1, n2) and not n1[2].any()
    assert n1[1].std() == pytest.approx(0.2, rel=0.15)


# --------------------------------------------------------------------- ngspice

def test_circuit_sees_the_sampled_input_and_comparator_params(ir):
    """The input the cells see at every sample midpoint is x_k (both cells), and
    the comparator is the same latch with width 0 at the window centre."""
    _, win = pick_channel(ir, 0)
    st = trapezoid(win, 2)
    x = st.clean + noise_traces(sigma_seeds(5, 1), [0.3 * win.width], st.n)
    b = noise_bench(win, x, st.tn_s)
    assert b.params["comparator"]["iwidth"] == 0
    assert float(b.params["comparator"]["ithresh"]) == pytest.approx(0.5 * (win.up + win.down) * 1e-9)
    r = run_netlist(b.text, timeout_s=60)
    for probe in (b.input_probes[0], b.comp_input_probes[0]):
        assert np.abs(r.sample(probe, st.times) - x[0]).max() < 1e-9
    h = binary_states(r.sample(b.hyst_probes[0], st.times))
    assert np.array_equal(h, software_counts(win, x[0], st)[0])


def test_zero_noise_one_transition_per_crossing(res):
    p = _point(res, 0.0)
    for c in (p.hyst_circuit, p.comp_circuit, p.hyst_software, p.comp_software):
        assert c.transitions == CROSSINGS and c.extra == 0 and c.wrong_holds == 0
    assert p.factor is None


def test_hysteresis_suppresses_flips_at_0p2_delta(res):
    p = _point(res, 0.2)
    assert p.comp_circuit.extra > 0
    assert p.hyst_circuit.extra == 0 or p.factor >= CLAIM
    assert p.factor is not None and p.factor >= CLAIM          # measured, or a lower bound
    print(f"\nsigma = 0.2 delta: comparator {p.comp_circuit.error_rate:g} flips/crossing, "
          f"hysteresis {p.hyst_circuit.error_rate:g}, factor {p.factor_text()}")
    # more noise, more comparator flips
    assert _point(res, 0.5).comp_circuit.extra > p.comp_circuit.extra


def test_circuit_counts_match_software(res):
    for p in res.points:
        for circ, soft in ((p.hyst_circuit, p.hyst_software), (p.comp_circuit, p.comp_software)):
            # the latch's eps ramp can catch one sample at a threshold: at most a blip (2)
            assert abs(circ.transitions - soft.transitions) <= 2, p
        assert p.hyst_sample_agreement >= 0.995 and p.comp_sample_agreement >= 0.995
    assert all(p.hyst_circuit == p.hyst_software and p.comp_circuit == p.comp_software
               for p in res.points)          # this seed: identical


def test_same_seed_same_counts_other_seed_other_noise(ir, res):
    again = noise_experiment(ir, 0, sigmas=SIGMAS, crossings=CROSSINGS, seed=0,
                             model_name="schmitt_digits")
    strip = lambda d: {k: v for k, v in d.items() if k not in ("ngspice_wall_s", "wall_s")}
    assert strip(again.to_dict()) == strip(res.to_dict())
    assert np.array_equal(again.trace["x"], res.trace["x"])
    other = noise_experiment(ir, 0, sigmas=[0.2], crossings=2, seed=1, keep_trace=True)
    assert other.points[0].seed != res.points[1].seed


def test_cli_writes_figure_and_json(tmp_path, capsys):
    p = argparse.ArgumentParser(prog="cosim")
    sub = p.add_subparsers(dest="command")
    add_cli(sub)
    fig, js = tmp_path / "noise.png", tmp_path / "noise.json"
    args = p.parse_args(["noise", "models/schmitt_digits", "--sigmas", "0.1,0.3", "--crossings", "4",
                         "--out", str(fig), "--json", str(js)])
    args.func(args)
    out = capsys.readouterr().out
    assert "sig/delta" in out and "channel 15" in out and "factor" in out
    assert fig.stat().st_size > 10_000
    d = json.loads(js.read_text())
    assert d["channel"] == 15 and d["crossings"] == 4 and len(d["points"]) == 2
    assert d["command"].startswith("cosim noise models/schmitt_digits --layer 0")
    assert {"factor", "factor_text", "sigma_na", "hyst_circuit", "comp_software"} <= set(d["points"][0])
    with pytest.raises(ValueError, match="suffix"):
        args = p.parse_args(["noise", "models/schmitt_digits", "--out", str(tmp_path / "x.txt")])
        args.func(args)
