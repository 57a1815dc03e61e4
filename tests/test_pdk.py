"""sky130 transistor cells in the real ngspice with the installed PDK models:
the trimmed library, cascoded mirror banks, seeded PDK mismatch."""
import numpy as np
import pytest

from cosim.errors import InputError
from cosim.pdk import sky130
from cosim.pdk.bench import bench, run
from cosim.pdk.cells import Unit, mirror_bank
from cosim.pdk.characterize import mirror_mismatch


def test_trimmed_library_holds_the_devices_and_the_licence(tmp_path, monkeypatch):
    monkeypatch.setenv("COSIM_CACHE", str(tmp_path))
    path = sky130.trimmed_library("ss")
    text = path.read_text()
    assert path.name == path.name.lower() and path.parent.parent == tmp_path
    for dev in sky130.DEVICES + (sky130.CAPACITOR,):
        assert f".subckt  {dev} " in text or f".subckt {dev} " in text
    assert "Apache License" in text and ".option scale=1.0u" in text
    assert ".param MC_MM_SWITCH=0" in text
    assert ".param MC_MM_SWITCH=1" in sky130.trimmed_library("ss", mismatch=True).read_text()
    assert len(text) < 2_000_000          # the full library + includes is ~100 MB of text


def test_unknown_corner_and_missing_models_are_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(InputError, match="corner 'xx'"):
        sky130.trimmed_text("xx")
    monkeypatch.setenv("COSIM_SKY130_LIB", str(tmp_path / "nothing.spice"))
    with pytest.raises(InputError, match="COSIM_SKY130_LIB"):
        sky130.combined_library()


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_cascoded_mirror_bank_gains_hold_over_current_and_output_voltage(polarity):
    """Gains 1, 3, 7 from unit devices: within 1% from 0.2 to 5 nA and over 0.5-1.5 V
    of output swing. A plain n mirror at the same points drifts by > 5% (output
    conductance); the plain p mirror drifts less (~1.6%) but still more than its cascode."""
    errs = {}
    for cascode in (True, False):
        c = bench("bank")
        if polarity == "n":
            c.isource("in", "vdd", "inp", 1e-9)
        else:
            c.isource("in", "inp", "0", 1e-9)
        outs = []
        for N in (1, 3, 7):
            for k, v in enumerate((0.5, 1.5)):
                c.add("vsource", f"o{N}{k}", f"o{N}{k}", "0", value=v if polarity == "n" else 1.8 - v)
                outs.append((f"o{N}{k}", N))
        mirror_bank(c, "b", "inp", outs, polarity=polarity, cascode=cascode)
        w = run(c, ".dc iin 0.2n 5n 0.2n")
        i_in = w["i(i-sweep)"]
        sign = -1 if polarity == "n" else 1
        errs[cascode] = max(np.abs(sign * w[f"i(vo{N}{k})"] / (N * i_in) - 1).max()
                            for N in (1, 3, 7) for k in (0, 1))
    assert errs[True] < 0.01
    assert errs[False] > (0.05 if polarity == "n" else errs[True])


def test_pdk_mismatch_is_seeded_and_follows_area():
    """Same seed: the same draw; another seed: another; a 4x larger device: about half the σ."""
    a = mirror_mismatch("tt", 27.0, seed=3, count=30)
    b = mirror_mismatch("tt", 27.0, seed=3, count=30)
    c = mirror_mismatch("tt", 27.0, seed=4, count=30)
    sig = [r["sigma_pct"] for r in a["per_size"]]
    assert sig == [r["sigma_pct"] for r in b["per_size"]]
    assert sig != [r["sigma_pct"] for r in c["per_size"]]
    assert 2.0 < sig[0] < 8.0                      # 2 x 4 um: ~4-5%
    assert 0.3 < sig[1] / sig[0] < 0.8             # 4 x 8 um: 4x the area
    assert 8.0 < a["pelgrom_pct_um"] < 16.0


def test_unit_area():
    assert Unit(2, 4).area_um2 == 8


# ---- the bistable cell (circuits/sky130_cells.lib) ----
from pathlib import Path  # noqa: E402

from cosim.cli import main  # noqa: E402
from cosim.hw.source import load_ir  # noqa: E402
from cosim.pdk import schmitt_char  # noqa: E402
from cosim.pdk.mapping import cell_size, load_calibration, map_cells  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_transistor_bistable_cell_switches_at_its_biases_and_outputs_its_gain():
    """One sky130 cell in ngspice: beta2 = ithresh, beta1 = ithresh - iwidth within 1%,
    alpha = igain within 1%, a few nW; it holds its state between the thresholds
    (the DC loop's two branches differ there)."""
    m = schmitt_char.measure(0.9, 0.5, 1.3)
    assert m["beta2"] == pytest.approx(0.9, rel=0.01)
    assert m["beta1"] == pytest.approx(0.4, rel=0.01)
    assert m["alpha"] == pytest.approx(1.3, rel=0.01)
    assert 0.5 < 1.8 * m["supply_low_na"] < 1.8 * m["supply_high_na"] < 20
    x, q = schmitt_char.dc_loop(0.9, 0.5)
    turn = int(np.argmax(x))
    mid = 0.65
    up_state = np.interp(mid, x[:turn + 1], q[:turn + 1])
    down_state = np.interp(mid, x[turn:][::-1], q[turn:][::-1])
    assert up_state < 0.1 and down_state > 0.9


def test_transistor_cell_mismatch_is_seeded():
    a = schmitt_char.dc_thresholds(0.7, 0.4, mismatch=True, seed=5)
    b = schmitt_char.dc_thresholds(0.7, 0.4, mismatch=True, seed=5)
    c = schmitt_char.dc_thresholds(0.7, 0.4, mismatch=True, seed=6)
    assert a == b and a != c


def test_calibration_fit_inverts_a_known_linear_cell():
    rows = [{"ithresh": it, "iwidth": iw, "igain": ig, "beta2": 1.02 * it + 0.01, "beta1": 0.99 * (it - iw),
             "alpha": 0.98 * ig} for it, iw, ig in ((0.5, 0.1, 1.0), (1.0, 0.5, 2.0), (2.0, 0.3, 0.5), (3.0, 2.0, 4))]
    model = schmitt_char.fit(rows)
    it, iw, ig = schmitt_char.biases_for(model, 1.5, 0.9, 2.5)
    assert 1.02 * it + 0.01 == pytest.approx(1.5)
    assert 0.99 * (it - iw) == pytest.approx(0.9)
    assert 0.98 * ig == pytest.approx(2.5)


def test_mapped_cells_of_the_digits_model_hit_the_ir_within_2_percent():
    """The shipped calibration (calib/, from `cosim characterize`) maps three digits
    cells (narrowest and widest windows, largest alpha) onto biases; measured in
    ngspice each switches within 2% of beta2, beta1 (and of delta) and outputs alpha within 2%."""
    ir = load_ir(ROOT / "netlists" / "schmitt_digits.hw.json")
    calib = load_calibration()
    size = cell_size(calib, 0.05)
    assert size["msize"] > 1 and size["expected_sigma_beta"] == pytest.approx(0.05)
    keep = {(0, 14), (1, 1), (1, 4)}
    rows = [r for r in map_cells(ir, calib, 0.05) if (r["layer"], r["channel"]) in keep]
    assert len(rows) == 3
    for r in rows:
        m = schmitt_char.measure(r["ithresh_na"], r["iwidth_na"], r["igain_na"], msize=r["msize"])
        assert m["beta2"] == pytest.approx(r["beta2"], rel=0.02)
        assert m["beta1"] == pytest.approx(r["beta1"], rel=0.02)
        assert m["beta2"] - m["beta1"] == pytest.approx(r["delta"], rel=0.02)
        assert m["alpha"] == pytest.approx(r["alpha"], rel=0.02)


def test_hysteresis_overlays_the_transistor_cell(tmp_path, capsys):
    out = tmp_path / "h.png"
    rc = main(["hysteresis", str(ROOT / "netlists" / "schmitt_digits.hw.json"), "--channel", "3",
               "--level", "transistor", "--out", str(out), "--json", str(tmp_path / "h.json")])
    text = capsys.readouterr().out
    assert rc == 0 and out.stat().st_size > 10_000
    assert "transistor model" in text
    import json
    recs = json.loads((tmp_path / "h.json").read_text())
    assert [r["model"] for r in recs] == ["latch", "transistor"]
    assert abs(recs[1]["err_up"]) < 0.05 and abs(recs[1]["err_down"]) < 0.05   # fractions of the width


def test_transistor_s_curve_holds_every_equilibrium_between_the_folds():
    """Servoed DC sweep of the comparison node: the folds are the DC loop's switching
    points, and between them three equilibria (low, unstable middle, high) exist."""
    r = schmitt_char.s_curve(0.7, 0.4, 1.0)
    up, down = schmitt_char.dc_thresholds(0.7, 0.4)
    assert abs(r["fold_up"] - up) < 0.003 and abs(r["fold_down"] - down) < 0.003      # nA (sweep steps)
    assert abs(r["fold_up"] / 0.7 - 1) < 0.01 and abs(r["fold_down"] / 0.3 - 1) < 0.01
    x, s = r["input_na"], r["state"]
    for probe in (0.35, 0.5, 0.65):
        near = np.abs(x - probe) < 0.05     # the branches near the rails are sampled sparsely in x
        kinds = {int(v > 0.95) + int(v > 0.02) for v in s[near]}   # 0 low, 1 middle, 2 high
        assert kinds == {0, 1, 2}, (probe, sorted(set(np.round(s[near], 2))))
    assert abs(r["alpha_na"] - 1.0) < 0.01


def test_fixed_points_overlay_the_transistor_cell(tmp_path, capsys):
    out = tmp_path / "fp.png"
    rc = main(["fixedpoints", str(ROOT / "netlists" / "schmitt_digits.hw.json"), "--channel", "3",
               "--level", "transistor", "--out", str(out), "--json", str(tmp_path / "fp.json")])
    assert rc == 0 and out.stat().st_size > 10_000, capsys.readouterr().err
    import json
    t = json.loads((tmp_path / "fp.json").read_text())["transistor"]
    assert abs(t["err_beta2"]) < 0.02 and abs(t["err_beta1"]) < 0.02 and t["corner"] == "tt"


def test_bmru_cell_loop_at_a_threshold_no_model_uses():
    """The clocked signed cell stepped up and down at |beta| = 0.3 nA (the shipped
    flip-flop's thresholds are 0.81-1.14 nA): it switches within 2.5% of |beta| of +-|beta|,
    holds its state everywhere between, and outputs +-alpha."""
    from cosim.hw.source import load_ir
    from cosim.pdk.netlist import PdkSetup
    from cosim.pdk.staircase import bmru_loop

    ir = load_ir(ROOT / "netlists" / "bmru_flipflop.hw.json")
    b, alpha = 0.3, float(ir.layers[0].alpha[2])
    lp = bmru_loop(ir, 0, 2, b, PdkSetup(), n_fine=11)
    c, s = lp["c"], lp["state"]
    assert 0 < lp["up"] / b - 1 < 0.025 and 0 < -lp["down"] / b - 1 < 0.025, (lp["up"], lp["down"])
    turn = int(np.argmax(c))
    rise, fall = slice(0, turn + 1), slice(turn, len(c))
    assert (s[rise][c[rise] < 0.99 * b] < -0.99).all() and (s[rise][c[rise] > 1.02 * b] > 0.99).all()
    assert (s[fall][c[fall] > -0.99 * b] > 0.99).all() and (s[fall][c[fall] < -1.02 * b] < -0.99).all()
    assert lp["alpha"] == pytest.approx(alpha, rel=0.02)


def test_bmru_hysteresis_and_fixed_points_at_transistor_level(tmp_path, capsys):
    import json
    model = str(ROOT / "netlists" / "bmru_flipflop.hw.json")
    rc = main(["hysteresis", model, "--channel", "2", "--level", "transistor", "--out", str(tmp_path / "h.png"),
               "--json", str(tmp_path / "h.json")])
    assert rc == 0, capsys.readouterr().err
    recs = json.loads((tmp_path / "h.json").read_text())
    assert [r["model"] for r in recs] == ["latch", "transistor"]
    assert 0 < recs[1]["err_up"] < 0.01 and -0.01 < recs[1]["err_down"] < 0        # fractions of 2|beta|
    rc = main(["fixedpoints", model, "--channel", "2", "--level", "transistor", "--out", str(tmp_path / "f.png"),
               "--json", str(tmp_path / "f.json")])
    assert rc == 0, capsys.readouterr().err
    t = json.loads((tmp_path / "f.json").read_text())["transistor"]
    assert 0 < t["err_beta2"] < 0.02 and 0 < t["err_beta1"] < 0.02 and "stepped" in t["what"]


def test_transistor_loop_of_a_ladder_stage_is_refused_clearly(tmp_path, capsys):
    rc = main(["hysteresis", str(ROOT / "netlists" / "cmru_counting.hw.json"),
               "--level", "transistor", "--out", str(tmp_path / "h.png")])
    assert rc != 0 and "no transistor-level loop" in capsys.readouterr().err


@pytest.mark.slow
def test_full_characterization_and_every_shipped_cell(tmp_path):
    """`cosim characterize` end to end, then every first-quadrant cell of the shipped
    models mapped and measured: within 2% (`cosim map-cells --measure` exits 0)."""
    assert main(["characterize", "--out", str(tmp_path)]) == 0
    assert main(["map-cells", str(ROOT / "models" / "schmitt_digits"), "--measure",
                 "--calib", str(tmp_path / "sky130_tt_27c.json")]) == 0


def test_map_cells_and_characterize_refuse_bad_requests(tmp_path, capsys):
    assert main(["map-cells", str(ROOT / "netlists" / "bmru_flipflop.hw.json")]) == 2
    assert "no first-quadrant" in capsys.readouterr().err
    assert main(["map-cells", str(ROOT / "netlists" / "schmitt_digits.hw.json"),
                 "--calib", str(tmp_path / "none.json")]) == 2
    assert "cosim characterize" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["map-cells", str(ROOT / "netlists" / "schmitt_digits.hw.json"),
                 "--calib", str(tmp_path / "bad.json")]) == 2
    (tmp_path / "sky130_tt_27c.json").write_text("{}")
    assert main(["characterize", "--out", str(tmp_path)]) == 2     # exists, no --force: nothing run
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "sky130_tt_27c.json").read_text() == "{}"


def test_map_cells_table_without_simulation(capsys):
    assert main(["map-cells", str(ROOT / "netlists" / "schmitt_digits.hw.json"), "--sigma-target", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "msize 1.69" in out and out.count("\n") > 32


def test_textbook_dpi_decays_with_its_tau_but_is_not_the_linear_dpi():
    """sky130_dpi at I_tau = I_g = 2 pA, 1 pF, 1 nA steps: the decay is exponential with
    tau within 20% of C U_T / (0.64 I_tau); the level is a power law well below the linear
    law I_in I_g / I_tau (what a transistor ladder stage must be calibrated for); the rise
    is faster than the fall."""
    from cosim.pdk.dpi_char import step_response

    r = step_response(2.0, 2.0, 1.0)
    assert r["tau_fall_s"] == pytest.approx(r["tau_ideal_s"], rel=0.2)
    assert r["tau_fall_residual"] < 0.1
    assert 0.3 < r["i_ss_na"] / r["linear_law_na"] < 0.8
    assert r["t63_rise_s"] < 0.9 * r["tau_fall_s"]


def test_clocked_transistor_cell_changes_only_during_the_clock_pulse():
    """sky130_schmitt_clk, 10 ms steps, clock pulse 4-6 ms: the input during the pulse
    (a_k) decides; another level from 7 ms (b_k, across the other threshold) must not
    toggle the held state. State read at 9 ms of each step = the software rule on a_k."""
    from cosim.netlist.circuit import Pulse, Pwl

    a = [0.2, 1.0, 0.5, 0.1, 0.9, 0.5, 0.6, 0.2]          # nA; beta2 0.7, beta1 0.3
    b = [1.2, 0.0, 1.2, 1.2, 0.0, 0.0, 1.2, 1.2]
    pts = []
    for k, (ak, bk) in enumerate(zip(a, b)):
        t0 = 10e-3 * k
        pts += [(t0 + 1e-5, ak * 1e-9), (t0 + 7e-3, ak * 1e-9), (t0 + 7.01e-3, bk * 1e-9), (t0 + 10e-3, bk * 1e-9)]
    c = bench("clocked cell")
    c.isource("x", "0", "inp", Pwl(((0.0, a[0] * 1e-9),) + tuple(pts)))
    c.add("vsource", "clk", "clk", "0", value=Pulse(0.0, 1.8, 4e-3, 0.5e-3, 0.5e-3, 1e-3, 10e-3))
    c.add("vsource", "out", "out", "0", value=0.6)
    c.instance("c", "sky130_schmitt_clk", "inp", "clk", "out", "vdd", "0", ithresh=0.7e-9, iwidth=0.4e-9,
               igain=1e-9)
    c.saves.extend(["v(xc.q)", "time"])
    w = run(c, ".tran 0.1m 80m 0 0.2m")
    s, want = 0, []
    for ak in a:
        s = 1 if ak > 0.7 else 0 if ak < 0.3 else s
        want.append(s)
    got = [int(np.interp(10e-3 * k + 9e-3, w["time"], w["v(xc.q)"]) > 0.9) for k in range(len(a))]
    assert got == want


def test_unwritable_cache_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("COSIM_CACHE", str(blocker))        # a file where a folder is needed
    with pytest.raises(InputError, match="COSIM_CACHE"):
        sky130.trimmed_library("ff")
