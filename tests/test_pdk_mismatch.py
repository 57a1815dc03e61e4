"""Monte Carlo with the PDK's own mismatch: a recorded seed gives the same draw in
every netlist that holds the cell, and the study runs, records and resumes."""
import json
from pathlib import Path

import numpy as np
import pytest

from cosim.backends.transistor import cell_seed, channel_ir, run_partition
from cosim.cli import main
from cosim.hw.reference import run_reference
from cosim.hw.source import load_source
from cosim.montecarlo.pdk_study import calibrated_ir, measure_cells
from cosim.pdk.netlist import PdkSetup

ROOT = Path(__file__).resolve().parents[1]
KWS = ROOT / "models" / "kws_fq_bmru"


@pytest.fixture(scope="module")
def one_cell():
    """Layer 1 channel 0 of the keyword model (beta2 1.15, beta1 0.36 nA) as a one-cell IR."""
    ir = load_source(KWS, 6).ir
    return channel_ir(ir, ir.layers[1], 0)


def test_same_seed_same_draw_other_seed_other_draw(one_cell):
    a = measure_cells(one_cell, PdkSetup(mismatch_seed=5))[0]
    b = measure_cells(one_cell, PdkSetup(mismatch_seed=5))[0]
    c = measure_cells(one_cell, PdkSetup(mismatch_seed=6))[0]
    for k in ("beta2", "beta1", "alpha"):
        assert np.array_equal(a[k], b[k]), k
    assert not all(np.array_equal(a[k], c[k]) for k in ("beta2", "beta1", "alpha"))
    assert cell_seed(5, 1, 0) != cell_seed(5, 0, 1) != cell_seed(6, 1, 0)


def test_the_measured_draw_predicts_the_cell_in_another_netlist(one_cell):
    """Find a draw whose beta1 moved by > 2%; drive the cell (in a netlist of other length
    and drive) to just inside the nominal-vs-drawn gap, alternately from above beta2: the
    transistor cell follows the software with the drawn thresholds, not the nominal ones."""
    layer = one_cell.layers[0]
    b1n = float(layer.beta1[0])
    for seed in range(1, 40):
        m = measure_cells(one_cell, PdkSetup(mismatch_seed=seed))[0]
        if abs(m["beta1"][0] / b1n - 1) > 0.02:
            break
    else:
        pytest.fail("no draw moved beta1 by 2% in 39 seeds")
    gap = 0.5 * (b1n + m["beta1"][0])           # between the nominal and the drawn beta1
    hi = 1.5 * float(m["beta2"][0]) + 0.1
    x = np.array([hi, gap, gap, hi, gap, 0.0, hi, gap, hi, gap])
    pdk = PdkSetup(mismatch_seed=seed)
    states = run_partition(one_cell, x[:, None], pdk, 300, cell_seed(seed, 0, 0), None)[0]
    drawn = run_reference(calibrated_ir(one_cell, [m]), x[None, :, None]).layers[0].state[0, :, 0]
    nominal = run_reference(one_cell, x[None, :, None]).layers[0].state[0, :, 0]
    assert not np.array_equal(drawn, nominal)
    assert np.array_equal(np.round(states), drawn), (seed, m, states, drawn, nominal)


def test_pdk_mismatch_study_records_and_resumes(tmp_path, capsys):
    out = tmp_path / "mc"
    args = ["montecarlo", str(KWS), "--level", "transistor", "--pdk-mismatch", "--runs", "1",
            "--sequences", "1", "--seed", "3", "--out", str(out), "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    s = json.loads((out / "summary.json").read_text())
    assert s["succeeded"] == 1 and s["pdk_mismatch"] and "software as drawn" in text
    rec = json.loads((out / "runs.jsonl").read_text().splitlines()[0])
    assert rec["mismatch_seed"] > 0 and len(rec["l0_beta2_rel"]) == 4
    assert all(abs(v) < 0.25 for v in rec["l0_beta2_rel"] + rec["l1_beta1_rel"])
    assert (out / "thresholds.png").stat().st_size > 5_000
    assert main(args) == 2                                  # a study is there: needs --resume
    assert "--resume" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 0                   # nothing left to run
    assert len((out / "runs.jsonl").read_text().splitlines()) == 1
    assert main(["montecarlo", str(KWS), "--level", "transistor", "--out", str(tmp_path / "x")]) == 2
    assert "--pdk-mismatch" in capsys.readouterr().err
    # the same study as a Dask task on a local cluster: the same draw, the same record
    dask_out = tmp_path / "mc_dask"
    assert main(args[:-3] + ["--out", str(dask_out), "--quiet", "--scheduler", "local", "--workers", "1"]) == 0
    on_dask = json.loads((dask_out / "runs.jsonl").read_text().splitlines()[0])
    assert json.loads((dask_out / "summary.json").read_text())["scheduler"] == "local"
    assert {k: v for k, v in on_dask.items() if k != "wall_s"} == {k: v for k, v in rec.items() if k != "wall_s"}


@pytest.mark.slow          # benchmarks/pdk_mismatch_sigma.py measures the same cells
def test_bmru_cell_thresholds_are_measured_both_ways():
    """The signed cell switches to +1 at c = |beta| and to -1 at c = -|beta| (nominal devices
    within 1%, one staircase step is 0.375%); a draw moves them."""
    ir = load_source(ROOT / "models" / "bmru_flipflop", 6).ir
    cell = channel_ir(ir, ir.layers[0], 3)
    nom = measure_cells(cell, PdkSetup())[0]
    assert abs(nom["theta_plus"][0]) < 0.01 and abs(nom["theta_minus"][0]) < 0.01, nom
    assert abs(nom["alpha"][0] / ir.layers[0].alpha[3] - 1) < 0.01
    drawn = measure_cells(cell, PdkSetup(mismatch_seed=4))[0]
    assert np.isfinite(drawn["theta_plus"]).all() and not np.array_equal(drawn["theta_plus"], nom["theta_plus"])


def test_calibrated_bmru_cell_switches_where_the_drawn_cell_was_measured():
    """calibrated_ir: a BMRU cell measured to switch at c = +1.03 and c = -0.98 (|beta| = 1)
    becomes a software cell whose switching points are there, not at +-1."""
    from cosim.hw.reference import run_layer

    ir = load_source(ROOT / "models" / "bmru_flipflop", 6).ir
    layer = ir.layers[0]
    n = layer.n
    m = {"theta_plus": np.full(n, 0.03), "theta_minus": np.full(n, -0.02), "alpha": np.full(n, 0.9)}
    cal = calibrated_ir(channel_ir(ir, layer, 1), [{k: v[:1] for k, v in m.items()}]).layers[0]
    c = np.array([-1.5, 1.02, 1.04, 0.5, -0.97, -0.99, -1.5, 1.02])
    x = np.stack([c, np.ones_like(c)], axis=-1)[None]          # candidate, threshold inputs: |beta| = 1
    s = run_layer(cal, x).state[0, :, 0]
    assert s.tolist() == [-1, -1, 1, 1, 1, -1, -1, -1]
    assert np.allclose(cal.alpha, 0.9)


def test_histograms_of_a_study_without_measured_cells_are_skipped(tmp_path):
    """A CMRU study measures no cells: no thresholds.png, and no error at the end of the study."""
    from cosim.montecarlo.pdk_study import plot_histograms

    assert plot_histograms([{"run": 0, "ok": True, "state_agreement_calibrated": 0.3}], tmp_path / "t.png") is False
    assert not (tmp_path / "t.png").exists()
