"""Hysteresis of single cells in the real ngspice (slow triangular sweeps).

Every cell of the three shipped models (6-bit IRs) must switch within 2 % of
its hysteresis width of the software thresholds, up and down. Figures are
printed (pytest -s) so they can be reported.
"""
from __future__ import annotations

import argparse
import copy
import json
import re

import numpy as np
import pytest

from cosim.analysis.hysteresis import CellWindow, cell_window, crossings, measure_hysteresis
from cosim.netlist.benches import sweep_bench
from cosim.verify.hysteresis import add_cli, format_summary, hysteresis, load_ir, plot

SHIPPED = {"schmitt_digits": 16, "bmru_flipflop": 4, "cmru_counting": 1}  # cells per layer swept


@pytest.fixture(scope="module")
def irs():
    return {name: load_ir(f"models/{name}", bits=6) for name in SHIPPED}


@pytest.fixture(scope="module")
def loops(irs):
    """name -> results of every layer (all channels, one netlist per layer)."""
    return {name: [r for l in range(len(ir.layers)) for r in hysteresis(ir, l)]
            for name, ir in irs.items()}


@pytest.mark.parametrize("name", list(SHIPPED))
def test_every_shipped_cell_switches_within_2pct_of_width(loops, irs, name):
    results = loops[name]
    assert len(results) == SHIPPED[name] * len(irs[name].layers)
    up = max(abs(r.err_up) for r in results)
    dn = max(abs(r.err_down) for r in results)
    print(f"\n{name}: {len(results)} cells, max |error| up {100 * up:.3f}% down {100 * dn:.3f}% "
          f"of the width, ngspice {results[0].wall_s:.2f} s")
    for r in results:
        assert r.n_up == 1 and r.n_down == 1 and r.extra == 0, r.label()   # one clean loop
        assert abs(r.err_up) <= 0.02 and abs(r.err_down) <= 0.02, (r.label(), r.err_up, r.err_down)
        # the circuit really reached both states, and the output is alpha * state
        lo, hi = r.levels
        assert r.trace["state"].min() == pytest.approx(lo, abs=1e-3)
        assert r.trace["state"].max() == pytest.approx(hi, abs=1e-3)
        # the expected points are those of the software cell: its loop on the same samples
        # switches there (to the sample resolution, 0.1 % of the width)
        mid = 0.5 * (lo + hi)
        s_up, _ = crossings(r.trace["x"][: np.argmax(r.trace["x"]) + 1],
                            r.trace["software"][: np.argmax(r.trace["x"]) + 1], mid)
        _, s_dn = crossings(r.trace["x"][np.argmax(r.trace["x"]):],
                            r.trace["software"][np.argmax(r.trace["x"]):], mid)
        assert abs(s_up[0] - r.expected_up) <= 2e-3 * r.width
        assert abs(s_dn[0] - r.expected_down) <= 2e-3 * r.width


def test_bench_is_one_netlist_resolving_each_width(irs):
    ir = irs["schmitt_digits"]
    b = sweep_bench(ir, 0)
    assert len(b.cells) == 16
    assert len(re.findall(r"^xl0c\d+ .* bist_latch ", b.text, flags=re.M | re.I)) == 16
    assert b.text.count(".tran") == 1
    for c in b.cells:
        w = c.window
        assert w.up == pytest.approx(ir.layers[0].beta1[c.channel] + ir.layers[0].delta[c.channel])
        assert c.lo <= min(0.0, w.down) and c.hi > w.up
        rate = (c.hi - c.lo) / b.t_half_s
        assert rate * b.t_step_s <= 1.001e-3 * w.width     # <= 0.1 % of the width per time step
    bm = sweep_bench(irs["bmru_flipflop"], 0, 2)
    (cell,) = bm.cells
    assert cell.subckt == "bist_sym" and cell.lo == -cell.hi
    assert cell.window.up == pytest.approx(abs(irs["bmru_flipflop"].layers[0].threshold.bias[2]))
    cm = sweep_bench(irs["cmru_counting"], 0)
    (stage,) = cm.cells
    d = irs["cmru_counting"].layers[0].ladder
    assert (stage.window.up, stage.window.down) == pytest.approx((d.c0 + d.h, d.c0 - d.h))


def test_a_wrong_threshold_is_reported(loops):
    """Negative control: the same circuit trace judged against a window 5 % of the
    width off fails the 2 % goal (the check can fail)."""
    r = loops["schmitt_digits"][3]
    shifted = CellWindow(r.kind, r.expected_up + 0.05 * r.width, r.expected_down, r.width,
                         r.levels, r.alpha)
    bad = measure_hysteresis(r.trace["x"], r.trace["state"], shifted, layer=0, channel=3)
    assert not bad.ok(0.02) and bad.err_up == pytest.approx(r.err_up - 0.05, abs=1e-9)


def test_dynamic_cell_loop_and_zero_threshold_fallback(irs):
    ir = copy.deepcopy(irs["bmru_flipflop"])
    ir.layers[0].threshold.bias[1] = 0.0
    w = cell_window(ir, 0, 1)
    assert (w.up, w.down) == (1.0, -1.0) and "1 unit" in w.note
    (r,) = hysteresis(ir, 0, 1)
    assert r.ok(0.02) and r.expected_up == 1.0 and "~0" in r.note
    dyn = hysteresis(irs["schmitt_digits"], 0, 5, model="dynamic")[0]
    print(f"\nschmitt ch 5, dynamic cell: up {100 * dyn.err_up:+.3f}%, down {100 * dyn.err_down:+.3f}%")
    assert dyn.ok(0.02) and dyn.model == "dynamic"


def test_bad_layer_or_channel_names_the_valid_range(irs):
    ir = irs["schmitt_digits"]
    with pytest.raises(ValueError, match=r"layer 2 out of range.*valid: 0\.\.1"):
        hysteresis(ir, 2)
    with pytest.raises(ValueError, match=r"channel 16 out of range.*valid 0\.\.15"):
        hysteresis(ir, 0, 16)
    with pytest.raises(ValueError, match=r"channel -1 out of range.*valid 0\.\.3"):
        hysteresis(irs["bmru_flipflop"], 0, -1)
    with pytest.raises(ValueError, match="model must be one of"):
        hysteresis(ir, 0, 0, model="spice")
    with pytest.raises(ValueError, match="no such checkpoint folder"):
        load_ir("models/does_not_exist")


def test_plot_and_summary(loops, tmp_path):
    for name, results in loops.items():
        out = plot(results, tmp_path / f"{name}.png")
        assert out.exists() and out.stat().st_size > 10_000
        text = format_summary(results)
        assert "max |error|" in text and "FAIL" not in text
    json.dumps([r.to_dict() for r in loops["bmru_flipflop"]])  # JSON-able


def _cli():
    p = argparse.ArgumentParser(prog="cosim")
    sub = p.add_subparsers(dest="command", required=True)
    add_cli(sub)
    return p


def test_cli_handler_on_an_ir_file(irs, tmp_path, capsys):
    ir_path = irs["bmru_flipflop"].save(tmp_path / "bmru.hw.json")
    fig, js = tmp_path / "loop.png", tmp_path / "loop.json"
    args = _cli().parse_args(["hysteresis", str(ir_path), "--layer", "0", "--channel", "2",
                              "--out", str(fig), "--json", str(js)])
    args.func(args)
    out = capsys.readouterr().out
    assert "ch 2" in out and "1/1 cells within the goal" in out
    assert fig.stat().st_size > 10_000 and json.loads(js.read_text())[0]["channel"] == 2
    bad = _cli().parse_args(["hysteresis", str(ir_path), "--channel", "9", "--out", str(fig), "--force"])
    with pytest.raises(ValueError, match=r"valid 0\.\.3"):
        bad.func(bad)
    bad = _cli().parse_args(["hysteresis", str(ir_path), "--out", str(tmp_path / "fig")])
    with pytest.raises(ValueError, match="suffix"):
        bad.func(bad)
    with pytest.raises(SystemExit):
        _cli().parse_args(["hysteresis", "--help"])
    assert "example" in capsys.readouterr().out
