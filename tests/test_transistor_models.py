"""Whole models with their cells at transistor level (sky130): the export, the partitioned
backend against one whole netlist, the signed BMRU cell and the ladder in ngspice."""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import cosim
from cosim.cli import main
from cosim.errors import InputError
from cosim.hw.source import load_ir
from cosim.netlist.builder import build_netlist
from cosim.netlist.sampling import step_signals
from cosim.pdk.netlist import PdkSetup
from cosim.spice import run_netlist

ROOT = Path(__file__).resolve().parents[1]
FLIPFLOP = ROOT / "netlists" / "bmru_flipflop.hw.json"


def _short_inputs(ir, T: int, seed: int = 0) -> np.ndarray:
    """(1, T, n_inputs) random inputs over the shipped stimulus' range, plus its first steps."""
    x = np.load(ROOT / "netlists" / f"{ir.name}.inputs.npy")[:1]
    rng = np.random.default_rng(seed)
    lo, hi = x.min(axis=(0, 1)), x.max(axis=(0, 1))
    return rng.uniform(lo, hi, size=(1, T, ir.n_inputs))


def test_export_at_transistor_level_runs_in_plain_ngspice(tmp_path):
    """cosim export --level transistor: the BMRU cells become sky130_bmru_clk, the summary says
    which blocks are at which level, and the written netlist runs as it is in `ngspice -b`."""
    ir = load_ir(FLIPFLOP)
    x = _short_inputs(ir, 6)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "ff.cir"
    rc = main(["export", str(ROOT / "models" / "bmru_flipflop"), "--level", "transistor", "--inputs",
               str(tmp_path / "x.npy"), "--out", str(out)])
    assert rc == 0
    text = out.read_text()
    assert text.count("sky130_bmru_clk igain=") == ir.layers[0].n and ".temp 27" in text
    summary = json.loads((tmp_path / "ff.quant.json").read_text())["summary"]
    assert summary["level"] == "transistor" and summary["blocks"] == {"symmetric BMRU cell": "transistor"}
    run = subprocess.run(["ngspice", "-b", out.name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "Index" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]


def test_partitions_take_the_decisions_of_one_whole_netlist():
    """The partitioned transistor backend (one cell per netlist, drives from the measured
    outputs) against the same model as one transistor-level netlist: identical states, outputs
    within 0.1% of the largest; and both equal to the software reference (margins >= 5%)."""
    ir = load_ir(FLIPFLOP)
    x = _short_inputs(ir, 10, seed=3)
    part = cosim.simulate(ir, x, backend="transistor", pdk=PdkSetup(), jobs=2)
    net = build_netlist(ir, x, level="transistor", pdk=PdkSetup())
    sig = step_signals(run_netlist(net.text, timeout_s=600), net, ir.timing)
    whole = sig.states[0][0]
    assert np.array_equal(np.sign(part.states[0][0]), np.sign(whole[None][0]))
    scale = np.abs(sig.outputs[0]).max()
    assert np.abs(part.outputs[0] - sig.outputs[0]).max() <= 1e-3 * scale
    ref = cosim.simulate(ir, x, backend="reference").detail
    tr = ref.layers[0]
    margin = np.abs(np.abs(tr.candidate) - np.abs(tr.threshold)) / np.maximum(np.abs(tr.threshold), 1e-9)
    sure = margin >= 0.05
    assert (np.sign(part.states[0]) == tr.state)[sure].all()
    assert part.detail["levels"] == {"symmetric BMRU cell": "transistor"}


def test_signed_transistor_cell_follows_the_bmru_rule_at_random_inputs():
    """sky130_bmru_clk alone: random signed (c, beta) per step, at least 3% away from |c| = |beta|
    (both signs, beta through zero): the state after each clock pulse is the software rule."""
    from cosim.hw.ir import CellLayer, HardwareIR, MirrorBank

    rng = np.random.default_rng(7)
    T = 14
    beta = rng.uniform(-2.0, 2.0, T)
    c = rng.uniform(-3.0, 3.0, T)
    near = np.abs(np.abs(c) - np.abs(beta)) < 0.03 * np.abs(beta)
    c[near] *= 1.2
    layer = CellLayer("bmru", MirrorBank([[1.0, 0.0]], [0.0]), [1.3], [-1], threshold=MirrorBank([[0.0, 1.0]], [0.0]))
    ir = HardwareIR("one", 2, 1, [layer], MirrorBank([[1.0]], [0.0]))
    x = np.stack([c, beta], axis=-1)[None]
    sim = cosim.simulate(ir, x, backend="transistor", pdk=PdkSetup(), jobs=1)
    s, want = -1, []
    for ck, bk in zip(c, beta):
        s = (1 if ck >= 0 else -1) if abs(ck) >= abs(bk) else s
        want.append(s)
    assert np.sign(sim.states[0][0, :, 0]).tolist() == want
    assert np.allclose(np.abs(sim.outputs[0, :, 0]), 1.3, rtol=0.01)


def test_transistor_ladder_moves_one_rung_per_pulse_and_holds():
    """The sky130 CMRU ladder (pdk.ladder, K = 4) driven by unit update pulses: up to the top,
    one more (saturates), down past zero, holding between pulses; rung = I(out) / alpha."""
    ir = load_ir(ROOT / "netlists" / "cmru_counting.hw.json")
    layer = ir.layers[0]
    from cosim.backends.transistor import channel_ir

    sub = channel_ir(ir, layer, 2)
    u = [1, 1, 0, 1, 1, 1, 0, -1, -1, 0, -1, -1, -1, 0]
    # drive (candidate, threshold): |c| >= |beta| with sign(c) for an update, else |c| < |beta|
    x = np.array([[(2.0 * v, 1.0) if v else (0.2, 1.0) for v in u]])
    sim = cosim.simulate(sub, x, backend="transistor", pdk=PdkSetup(), jobs=1)
    want, s = [], 0
    for v in u:                 # the ladder saturates at every step (not a clipped cumulative sum)
        s = int(np.clip(s + v, -4, 4))
        want.append(s)
    rung = sim.states[0][0, :, 0]
    assert np.abs(rung - want).max() < 0.05, np.round(rung, 3)
    assert sim.detail["levels"] == {"CMRU ladder stage": "transistor"}


def test_transistor_level_refuses_what_it_cannot_build():
    ir = load_ir(FLIPFLOP)
    x = _short_inputs(ir, 3)
    with pytest.raises(InputError, match="PDK setup"):
        build_netlist(ir, x, level="transistor")
    with pytest.raises(InputError, match="noise"):
        cosim.simulate(ir, x, backend="transistor", pdk=PdkSetup(), noise=[np.zeros((1, 3, ir.layers[0].n))])
    with pytest.raises(InputError, match="PdkSetup"):
        cosim.simulate(ir, x, backend="transistor")
    with pytest.raises(SystemExit) as exc:
        main(["verify", str(FLIPFLOP), "--level", "transistor", "--corners", "tt,xx", "--out", "/tmp/never"])
    assert exc.value.code == 2


def test_supply_power_integration_matches_a_closed_form_current():
    """step_means on a real ngspice run: vdd feeds a 1 GOhm resistor (1.8 nA) and a current
    ramping 0 -> 4 nA over 3 steps then off: each step's mean is the closed form."""
    from cosim.backends.transistor import step_means

    dt = 10e-3
    net = "\n".join(["supply bench", "vdd vdd 0 1.8", "r1 vdd 0 1e9",
                     "i1 vdd 0 pwl(0 0 30m 4n 30.001m 0)", ".save i(vdd) time",
                     ".tran 0.5m 50m", ".end"])
    res = run_netlist(net, timeout_s=60)
    got = step_means(res["time"], -res["i(vdd)"], dt, 5) * 1e9           # nA per step
    ramp = [4 / 3 * (k + 0.5) for k in range(3)] + [0.0, 0.0]            # mean of the ramp in each step
    want = 1.8 + np.array(ramp)
    assert np.allclose(got, want, atol=2e-3), got


def test_fixed_points_hold_every_rung_of_the_transistor_ladder():
    from cosim.verify.fixedpoints import fixedpoints, transistor_ladder

    ir = load_ir(ROOT / "netlists" / "cmru_counting.hw.json")
    res = fixedpoints(ir, 0, 1, hold_steps=2)
    t = transistor_ladder(ir, res, hold_steps=3)
    assert t["all_held"] and t["max_level_err"] < 0.01
    assert res.trace["transistor_ladder"].shape == (9, 3)


def test_verify_at_transistor_level_writes_the_matrix(tmp_path, capsys):
    """The flip-flop at its low supply corner (1.62 V, the biases at their calibrated
    currents): the supply axis end to end; 1.8 V runs in every other transistor test.
    With its mirror banks at transistor level too (a signed layer: candidate and
    threshold banks), each bank's power and the whole model in the entry."""
    out = tmp_path / "rep"
    rc = main(["verify", str(FLIPFLOP), "--level", "transistor", "--sequences", "1", "--jobs", "2",
               "--vdds", "1.62", "--banks", "transistor", "--out", str(out)])
    text = capsys.readouterr().out
    rep = json.loads((out / "report.json").read_text())
    assert rc == 0, text
    e = rep["matrix"][0]
    assert (e["corner"], e["vdd_v"], e["temp_c"]) == ("tt", 1.62, 27.0) and e["state_agreement"] >= 0.99
    assert "1.62 V" in text and "estimate_over_measured" not in e["power"]   # the estimate is at 1.8 V
    assert 4 < e["power"]["total_nw"] < 400 and (out / "transistor_matrix.png").stat().st_size > 5_000
    assert "power of the cells" in text and "symmetric BMRU cell: transistor" in text
    assert "mirror banks: transistor" in text and rep["banks"] == "transistor"
    banks = e["power"]["banks_nw"]
    assert {"l0 candidate", "l0 threshold", "readout"} <= set(banks) and all(v > 0 for v in banks.values())
    assert e["power"]["whole_model_nw"] == pytest.approx(e["power"]["total_nw"] + sum(banks.values()))


def test_verify_refuses_a_supply_outside_the_devices_range(tmp_path):
    from cosim.verify.transistor import verify_transistor

    with pytest.raises(InputError, match="supply 2.5 V outside"):
        verify_transistor(FLIPFLOP, tmp_path / "r", vdds=(1.8, 2.5))
    assert not (tmp_path / "r").exists()
    with pytest.raises(SystemExit) as exc:       # argparse's own refusal
        main(["verify", str(FLIPFLOP), "--level", "transistor", "--vdds", "1.2", "--out", str(tmp_path / "r")])
    assert exc.value.code == 2 and not (tmp_path / "r").exists()


def test_the_heat_map_has_a_row_per_corner_and_supply(tmp_path):
    """Rows 'corner V' once a matrix holds more than one supply (the plot alone, of a
    report's entries)."""
    from cosim.verify.transistor import plot_matrix

    entries = [{"corner": c, "vdd_v": v, "temp_c": t, "state_agreement": 0.995, "decision_agreement": None}
               for c in ("tt", "ss") for v in (1.62, 1.98) for t in (-20.0, 85.0)]
    path = plot_matrix({"model": "models/x", "matrix": entries}, tmp_path / "m.png")
    assert path.stat().st_size > 5_000


def test_transistor_cells_get_a_sharp_clock_crossing_half_swing_when_the_slow_one_does():
    """The full-swing clock of transistor-level cells (builder.clock_volts) has CLOCK_EDGE_S
    edges and crosses vdd/2 at the instants the IR's slow trapezoid crosses 1/2."""
    from cosim.hw.timing import pulse_start_s
    from cosim.netlist.builder import CLOCK_EDGE_S

    ir = load_ir(FLIPFLOP)
    net = build_netlist(ir, _short_inputs(ir, 2), title="t", level="transistor", pdk=PdkSetup("tt", 27.0))
    clk = next(e for e in net.circuit.elements if e.name == "clk0v").value
    t = ir.timing
    half = t.pulse_width_s / 2                       # the slow trapezoid's rise, top and fall
    rising, falling = pulse_start_s(t, 0) + half / 2, pulse_start_s(t, 0) + 2.5 * half
    assert clk.rise_s == clk.fall_s == CLOCK_EDGE_S and clk.pulsed == 1.8
    assert clk.delay_s + clk.rise_s / 2 == pytest.approx(rising, rel=1e-12)
    assert clk.delay_s + clk.rise_s + clk.width_s + clk.fall_s / 2 == pytest.approx(falling, rel=1e-12)
