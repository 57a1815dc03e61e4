"""Clocked cell update (issue section 4): the circuit agrees with the software
cell on any input, ties reported apart, margin report, verify exit codes.
All circuit figures come from real ngspice runs."""
from pathlib import Path
from types import SimpleNamespace as NS

import numpy as np
import pytest

from cosim.analysis.agreement import state_agreement, tie_band
from cosim.analysis.margins import margin_report
from cosim.hw.ir import HardwareIR, IRError, Timing, schedule
from cosim.hw.mapping import model_to_ir
from cosim.hw.reference import run_reference
from cosim.models import load
from cosim.models.recipe import task_from_config
from cosim.montecarlo.job import layer_noise
from cosim.montecarlo.seeds import run_seeds
from cosim.netlist.builder import build_netlist
from cosim.verify.adversarial import _first_layer, adversarial_inputs, run_adversarial
from cosim.backends import simulate

ROOT = Path(__file__).resolve().parents[1]


def _ir(name, bits=6):
    model, doc = load(ROOT / "models" / name)
    ir, _ = model_to_ir(model, doc, bits=bits)
    return ir, task_from_config(doc)


def test_flipflop_beta_sign_change_in_an_edge_does_not_latch():
    """The issue's reproduction: channel 3's beta passes zero during the edge into
    step 2 while c > 0; both ends say hold. Software -1 -1 -1 -1."""
    ir, _ = _ir("bmru_flipflop")
    x = np.array([[1, 0, 0], [0.8115, 1.0259, 0.1497], [0, 0, 0.2186], [0, 0, 0.2186]])[None]
    states = simulate(ir, x, backend="ngspice").states
    ref = run_reference(ir, x)
    tr = ref.layers[0]
    assert np.sign(tr.threshold[0, 1, 3]) != np.sign(tr.threshold[0, 2, 3])   # the hazard is there
    assert tr.state[0, :, 3].tolist() == [-1, -1, -1, -1]
    assert np.where(states[0][0, :, 3] >= 0, 1, -1).tolist() == [-1, -1, -1, -1]


def test_flipflop_sequence_237_step_1_is_a_tie():
    """|c|/|beta| = 0.99973 at held-out sequence 237, step 1, channel 0: inside the
    latch ramp, so a tie (the continuous cell got it wrong; the clocked one compares
    exactly). Either way it is not counted as a disagreement."""
    from cosim.analysis.agreement import layer_margins
    from cosim.verify.agreement import run_agreement

    ir, task = _ir("bmru_flipflop")
    x, y = task.x_test[237:238], task.y_test[237:238]
    tr = run_reference(ir, x).layers[0]
    assert abs(tr.candidate[0, 1, 0]) / abs(tr.threshold[0, 1, 0]) == pytest.approx(0.99973, abs=1e-5)
    margin, band, _ = layer_margins(ir.layers[0], tr)
    assert margin[0, 1, 0] <= band[0, 1, 0]
    r, _, _ = run_agreement(ir, x, y, task.kind, progress=False)
    assert r.n_ties >= 1 and r.n_disagreements == 0 and r.state_agreement == 1.0


def test_adversarial_suite_is_deterministic_and_hits_its_targets():
    ir, task = _ir("bmru_flipflop")
    a = adversarial_inputs(ir, task.x_train, seed=5, per_family=2, T=32)
    b = adversarial_inputs(ir, task.x_train, seed=5, per_family=2, T=32)
    assert set(a) == {"random", "near", "beta_sign"}
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        assert a[k].shape == (2, 32, 3) and a[k].min() >= 0 and a[k].max() <= 1
    # near: the odd steps put some candidate within 5% of the half window of its threshold
    c, beta = _first_layer(ir, a["near"].reshape(-1, 3))
    rel = np.abs(np.abs(c) - np.abs(beta)) / np.abs(beta)
    odd = rel.reshape(2, 32, -1)[:, 1::2].min(axis=-1)
    assert (odd <= 0.0501).mean() > 0.9
    assert (odd > tie_band("bmru", 1.0)).all()          # beyond the tie band: they count
    # beta_sign: consecutive steps with a sign change of some channel's beta
    _, beta = _first_layer(ir, a["beta_sign"].reshape(-1, 3))
    s = np.sign(beta.reshape(2, 32, -1))
    assert (s[:, 1:] != s[:, :-1]).any(axis=-1).mean() > 0.4


@pytest.mark.parametrize("name", ["bmru_flipflop", "cmru_counting", "schmitt_digits"])
def test_adversarial_inputs_agree_on_shipped_models(name):
    ir, task = _ir(name)
    r = run_adversarial(ir, task.x_train, seed=1, per_family=2, T=48)
    assert r["n_disagreements"] == 0, {k: v["disagreements"][:3] for k, v in r["families"].items()}
    assert r["n_tie_differ"] == 0 and r["n_after_tie"] == 0
    assert r["ok"] and r["states"] == 3 * 2 * 48 * sum(layer.n for layer in ir.layers)


def test_digits_noise_run_agrees_with_software():
    """`cosim montecarlo models/schmitt_digits --mismatch 0 --noise 0.02 --seed 3`, run 5,
    sequence 0: the continuous cells disagreed on layer 1 channel 2 at steps 32-33 (margin
    0.14 units: the candidate crossed beta1 inside the input/noise edge)."""
    ir, task = _ir("schmitt_digits")
    x = task.x_test[:1].astype(np.float64)
    _, n_seed = run_seeds(3, 6)[5]
    noise = layer_noise(ir, n_seed, (2, x.shape[1]), 0.02)
    noise = [n[:1] for n in noise]
    from cosim.netlist.sampling import step_signals
    from cosim.spice import run_netlist
    net = build_netlist(ir, x, noise=noise)
    sig = step_signals(run_netlist(net.text, timeout_s=300), net, ir.timing)
    ref = run_reference(ir, x, noise=noise)
    states = [np.stack([sig.states[0][l]]) for l in range(len(ir.layers))]
    sa = state_agreement(ir, ref, states)
    assert sa.n_disagreements == 0 and sa.n_tie_differ == 0, sa.disagreements[:5]


def test_tie_aware_agreement_classifies_each_step():
    layer = NS(kind="bmru", beta1=None)
    c = np.array([2, 1.0000001, 0.5, 0.2, 2])[None, :, None]
    ref = NS(layers=[NS(candidate=c, threshold=np.ones_like(c), state=np.ones((1, 5, 1)))])
    ir = NS(layers=[layer])
    tie_then_carried = np.array([1, -1, -1, -1, 1.])[None, :, None]
    sa = state_agreement(ir, ref, [tie_then_carried])
    assert (sa.n_ties, sa.n_tie_differ, sa.n_after_tie, sa.n_disagreements) == (1, 1, 2, 0)
    assert [d["kind"] for d in sa.disagreements] == ["tie", "after_tie", "after_tie"]
    real = np.array([1, 1, -1, -1, 1.])[None, :, None]
    sa = state_agreement(ir, ref, [real])
    assert sa.n_disagreements == 2 and sa.agreement_non_tie == pytest.approx(0.5)


def test_difference_fed_by_a_differing_cell_is_downstream():
    """A layer-1 cell that differs while a layer-0 cell feeding it differs (and until it
    agrees again) is "downstream", not its own disagreement; a layer-1 cell that the
    differing cell does not feed (zero gain) and differs is counted as its own."""
    T = 6
    far = np.full((1, T, 1), 3.0)        # every candidate far from the threshold: no ties
    layer0 = NS(kind="bmru", beta1=None, candidate=NS(gains=np.ones((1, 1))), threshold=None)
    layer1 = NS(kind="bmru", beta1=None, candidate=NS(gains=np.array([[1.0], [0.0]])), threshold=None)
    ones = np.ones((1, T, 2))
    ref = NS(layers=[NS(candidate=far, threshold=np.ones_like(far), state=np.ones((1, T, 1))),
                     NS(candidate=np.full((1, T, 2), 3.0), threshold=np.ones((1, T, 2)), state=ones)])
    ir = NS(layers=[layer0, layer1])
    l0 = np.array([1, -1, 1, 1, 1, 1.])[None, :, None]             # layer 0 differs at step 1
    l1 = ones.copy()
    l1[0, 1:4, 0] = -1        # fed by it: differs at 1 and holds the wrong state to step 3
    l1[0, 1, 1] = -1          # not fed by it (zero gain): its own
    l1[0, 5, 0] = -1          # long after layer 0 agreed again: its own
    sa = state_agreement(ir, ref, [l0, l1])
    assert (sa.n_disagreements, sa.n_downstream, sa.n_ties, sa.n_after_tie) == (3, 3, 0, 0)
    kinds = {(d["layer"], d["step"], d["channel"]): d["kind"] for d in sa.disagreements}
    assert kinds == {(0, 1, 0): "disagree", (1, 1, 0): "downstream", (1, 2, 0): "downstream",
                     (1, 3, 0): "downstream", (1, 1, 1): "disagree", (1, 5, 0): "disagree"}
    assert sa.agreement_non_tie == pytest.approx(1 - 3 / (2 * T + T - 3))


def test_update_schedule_fits_and_is_validated():
    ir, _ = _ir("schmitt_digits")
    s = schedule(ir.timing, len(ir.layers), readout_hold=True)
    assert s["ok"] and len(s["starts_s"]) == 2
    assert s["starts_s"][0] > ir.timing.edge_frac * ir.timing.dt_s
    assert all(b - a >= ir.timing.pulse_width_s for a, b in zip(s["starts_s"], s["starts_s"][1:]))
    assert s["end_s"] < s["sample_s"]
    d = ir.to_dict()
    d["timing"]["pulse_width_s"] = 4.5e-3        # 2 pulses of 4.5 ms from 1 ms do not fit before 9 ms
    with pytest.raises(IRError, match="sample point"):
        HardwareIR.from_dict(d)
    t = Timing(pulse_start_frac=0.005)           # pulse inside the input edge
    assert not schedule(t, 1)["ok"]


def test_margin_report_finds_channels_on_a_threshold():
    """In the float model the digits model's layer-1 channel 14 sits on beta1 (its
    bias equals beta1 in float32; the float64 mapping leaves 4e-9 units) and channel 2
    within 3e-5 units of it, in 11101 cell-steps each of the test split; 6-bit
    quantization moves both off (no tie left)."""
    model, doc = load(ROOT / "models" / "schmitt_digits")
    task = task_from_config(doc)
    fl, _ = model_to_ir(model, doc, bits=None)
    q, _ = model_to_ir(model, doc, bits=6)
    rf, rq = margin_report(fl, task.x_test), margin_report(q, task.x_test)
    assert 14 in rf["layers"][1]["channels_with_ties"]
    assert rf["layers"][1]["margin_units"]["p0"] < 1e-6
    assert rq["layers"][1]["ties"] == 0 and rq["layers"][1]["margin_units"]["p0"] > 0
    assert rq["layers"][0]["margin_pct_width"]["p50"] > 10


def test_verify_timeout_refused_and_failed_check_exits_3(tmp_path, monkeypatch, capsys):
    from cosim import cli
    from cosim.verify import report as rep

    with pytest.raises(SystemExit) as exc:   # refused by argparse, one line
        cli.main(["verify", str(ROOT / "models" / "bmru_flipflop"), "--out", str(tmp_path / "a"),
                  "--timeout", "0"])
    assert exc.value.code == 2 and "--timeout" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    # a report with a failed check (as verify_model writes it) makes the command exit 3
    failing = {"model": "m", "bits": 6, "plots": [],
               "adversarial": {"ok": False, "families": {}, "states": 1, "n_agree": 0,
                               "state_agreement": 0.0, "n_disagreements": 1, "per_family": 1,
                               "steps": 1, "seed": 0}}
    monkeypatch.setattr(rep, "verify_model", lambda *a, **k: failing)
    rc = cli.main(["verify", "m", "--out", str(tmp_path / "b")])
    out = capsys.readouterr()
    assert rc == 3 and "adversarial" in out.err and "FAIL" in out.out
    assert rep.failed_checks(failing) == ["adversarial"]
