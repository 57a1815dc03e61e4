"""Verification against real ngspice: ladder staircase and end-to-end agreement on
the shipped models (acceptance figures of the verify issue)."""
import json
from pathlib import Path

import numpy as np
import pytest

from cosim.analysis.agreement import snap_states
from cosim.analysis.ladder import analyse_ladder, ideal_levels
from cosim.hw.mapping import model_to_ir
from cosim.models import load
from cosim.models.recipe import task_from_config
from cosim.models.train import evaluate
from cosim.verify.agreement import run_agreement
from cosim.verify.ladder import run_ladder
from cosim.verify.report import format_report, verify_model

ROOT = Path(__file__).resolve().parents[1]


def _ir(name):
    model, doc = load(ROOT / "models" / name)
    ir, _ = model_to_ir(model, doc, bits=6)
    return model, ir, task_from_config(doc)


def test_ladder_analysis_detects_a_wrong_rung():
    updates = np.array([1, 1, 1, 1, -1])
    good = ideal_levels(updates, 0, 2).astype(float)
    assert good.tolist() == [1, 2, 2, 2, 1]
    assert analyse_ladder(good, updates, 0, 2).exact_rungs
    bad = good.copy()
    bad[3] = 3.0   # failed to saturate
    r = analyse_ladder(bad, updates, 0, 2)
    assert not r.exact_rungs and not r.saturates_top and r.wrong_steps == [(3, 2, 3.0)]


def test_every_cmru_ladder_of_the_shipped_model_is_exact():
    _, ir, _ = _ir("cmru_counting")
    for c in range(ir.layers[0].n):
        r, _ = run_ladder(ir, 0, c)
        assert r.exact_rungs, r.wrong_steps
        assert r.max_level_error_frac <= 0.01
        assert r.saturates_top and r.saturates_bottom


@pytest.mark.parametrize("name,n", [("bmru_flipflop", 20), ("schmitt_digits", 10), ("cmru_counting", 4)])
def test_end_to_end_agreement_at_nominal(name, n):
    model, ir, task = _ir(name)
    x, y = task.x_test[:n], task.y_test[:n]
    r, states, ref = run_agreement(ir, x, y, task.kind, evaluate(model, task, x, y), progress=False)
    assert r.n_disagreements == 0, r.disagreements[:5]
    assert r.state_agreement == 1.0
    if ir.filters is None:
        assert r.output_error_max < 1e-3      # units (nA): cells and mirrors only
    else:                                     # + ngspice's integration of the readout filters
        assert r.output_error_max < 0.02 * r.output_scale
    assert r.decision_agreement == 1.0
    assert r.circuit_score == r.software_score


@pytest.mark.slow
def test_counting_agreement_on_20_sequences():
    model, ir, task = _ir("cmru_counting")
    r, _, _ = run_agreement(ir, task.x_test[:20], task.y_test[:20], task.kind, progress=False)
    assert r.n_disagreements == 0


def test_snap_states():
    assert snap_states("schmitt", np.array([0.2, 0.7])).tolist() == [0, 1]
    assert snap_states("bmru", np.array([-0.2, 0.7])).tolist() == [-1, 1]
    assert snap_states("cmru", np.array([-2.2, 3.4])).tolist() == [-2, 3]


def test_verify_writes_report_and_plots(tmp_path):
    rep = verify_model(ROOT / "models" / "cmru_counting", tmp_path, n_sequences=2,
                       parts=("ladder", "agreement"), progress=False)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["agreement"]["ok"] and saved["ladder"]["ok"]
    assert {"ladder_l0_c0.png", "states_seq0_l0.png"} <= set(saved["plots"])
    assert all((tmp_path / p).stat().st_size > 10_000 for p in saved["plots"])
    assert "state agreement" in format_report(rep, tmp_path)
    assert (tmp_path / "logs" / "chunk_0.log").exists()
