"""Model stack, tasks, training loop and checkpoints (including bad checkpoints)."""
import json

import numpy as np
import pytest
import torch

from cosim.models import (CheckpointError, Model, ModelConfig, TrainConfig, evaluate, load,
                          make_task, save, train)
from cosim.models.train import eps_at


def test_tasks_have_fixed_test_split_and_sane_targets():
    a = make_task("flipflop", T=64, n_train=10, n_test=20, seed=1)
    b = make_task("flipflop", T=64, n_train=30, n_test=20, seed=2)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    # flip-flop target = last written symbol
    x, y = a.x_test[0], a.y_test[0]
    last = None
    for t in range(64):
        if x[t, 0] or x[t, 1]:
            last = int(x[t, 1])
        assert y[t] == last
    c = make_task("counting", T=100, n_train=5, n_test=5, K=2)
    count = 0
    for t in range(100):
        count = min(2, max(-2, count + int(c.x_test[0, t, 0]) - int(c.x_test[0, t, 1])))
        assert c.y_test[0, t] == count + 2
    d = make_task("digits")
    assert d.x_train.shape[1:] == (64, 1) and len(d.x_test) == 359
    assert 0 <= d.x_train.min() and d.x_train.max() <= 1
    with pytest.raises(ValueError, match="unknown task"):
        make_task("mnist")


def test_eps_schedule_holds_decays_holds():
    cfg = TrainConfig(epochs=10, eps_start=1.0, eps_end=0.0, eps_hold=0.3, eps_decay=0.4)
    sched = [eps_at(e, cfg, 0.0) for e in range(11)]
    assert sched[:3] == [1.0, 1.0, 1.0]
    assert sched[3] > sched[4] > sched[5] > sched[6] > 0.0
    assert sched[7:] == [0.0] * 4


@pytest.mark.parametrize("cell", ["bmru", "cmru", "acmru", "schmitt"])
def test_model_stack_shapes_and_modes(cell):
    cfg = ModelConfig(cell=cell, n_inputs=3, n_outputs=5, hidden=4, layers=2, ladder=3,
                      mlp=True, skip=True, norm=True, proj=6)
    m = Model(cfg)
    x = torch.randn(2, 20, 3)
    y = m(x)
    assert y.shape == (2, 20, 5)
    torch.testing.assert_close(y, m(x, mode="sequential"), rtol=1e-5, atol=1e-5)


def test_training_learns_flipflop_quickly():
    task = make_task("flipflop", T=64, n_train=512, n_test=64)
    torch.manual_seed(0)
    m = Model(ModelConfig(cell="bmru", n_inputs=3, n_outputs=2, hidden=4))
    before = evaluate(m, task)
    hist = train(m, task, TrainConfig(epochs=20, lr=1e-2), progress=False)
    assert hist.loss[-1] < hist.loss[0]
    assert evaluate(m, task) > max(before, 0.9)


def _saved(tmp_path):
    m = Model(ModelConfig(cell="cmru", n_inputs=2, n_outputs=3, hidden=4, ladder=4, init_state=0.0))
    save(tmp_path / "ck", m, {"task": {"name": "counting"}, "seed": 0})
    return m, tmp_path / "ck"


def test_checkpoint_round_trip(tmp_path):
    m, folder = _saved(tmp_path)
    m2, doc = load(folder)
    x = torch.randn(2, 30, 2)
    torch.testing.assert_close(m(x), m2(x))
    assert doc["model"]["ladder"] == 4 and doc["schema_version"] == 1


def test_truncated_weights_are_rejected(tmp_path):
    _, folder = _saved(tmp_path)
    w = folder / "weights.pt"
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="weights.pt"):
        load(folder)


def test_pickled_code_is_not_executed(tmp_path):
    _, folder = _saved(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    torch.save({"x": Evil()}, folder / "weights.pt")
    with pytest.raises(CheckpointError, match="unsafe"):
        load(folder)


def test_mismatched_and_nan_weights_are_rejected(tmp_path):
    m, folder = _saved(tmp_path)
    state = m.state_dict()
    state["readout.weight"] = torch.zeros(7, 7)
    torch.save(state, folder / "weights.pt")
    with pytest.raises(CheckpointError, match="readout.weight has shape"):
        load(folder)
    state = m.state_dict()
    state["readout.bias"] = torch.full_like(state["readout.bias"], float("nan"))
    torch.save(state, folder / "weights.pt")
    with pytest.raises(CheckpointError, match="NaN"):
        load(folder)


def test_bad_config_is_rejected(tmp_path):
    _, folder = _saved(tmp_path)
    cfg = folder / "config.json"
    cfg.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load(folder)
    cfg.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(CheckpointError, match="schema_version 99"):
        load(folder)


def test_cli_exits_2_with_one_line_on_corrupt_checkpoint(tmp_path, capsys):
    _, folder = _saved(tmp_path)
    (folder / "weights.pt").write_bytes(b"garbage")
    (tmp_path / "models").mkdir()
    (folder).rename(tmp_path / "models" / "ck")
    from cosim.cli import main

    assert main(["demo", "--models", str(tmp_path / "models")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "weights.pt" in err


def test_lowpass_readout_matches_first_order_recurrence_and_round_trips(tmp_path):
    cfg = ModelConfig(cell="schmitt", n_inputs=1, n_outputs=3, hidden=4, layers=2,
                      pool="lowpass", readout_all=True, taus=[1.0, 3.0, 20.0])
    m = Model(cfg)
    x = torch.rand(2, 30, 1)
    y, _ = m(x, trace=True)
    assert y.shape == (2, 30, 3)
    torch.testing.assert_close(y, m(x, mode="sequential"))
    # reference: f_k(t) = a_k f_k(t-1) + (1 - a_k) h(t) on the concatenated layer outputs
    h1 = m.layers[0](x)
    h = torch.cat([h1, m.layers[1](h1)], dim=-1)
    a = 1.0 - 1.0 / m.lowpass.tau
    f = torch.zeros(2, h.shape[-1], 3)
    ref = []
    for t in range(30):
        f = a * f + (1.0 - a) * h[:, t, :, None]
        ref.append(m.readout(f.reshape(2, -1)))
    torch.testing.assert_close(y, torch.stack(ref, 1), rtol=1e-5, atol=1e-5)
    assert torch.equal(m.sequence_output(y), y[:, -1])
    save(tmp_path / "lp", m, {"task": {"name": "digits"}, "seed": 0})
    m2, doc = load(tmp_path / "lp")
    assert doc["model"]["taus"] == [1.0, 3.0, 20.0] and doc["model"]["readout_all"]
    torch.testing.assert_close(m(x), m2(x))
    with pytest.raises(ValueError, match="taus"):
        ModelConfig(cell="schmitt", n_inputs=1, n_outputs=2, pool="lowpass", taus=[0.5])


def test_resonator_bank_matches_complex_recurrence():
    cfg = ModelConfig(cell="schmitt", n_inputs=1, n_outputs=2, hidden=3, pool="lowpass",
                      taus=[2.0, 10.0], periods=[0, 8])
    m = Model(cfg)
    assert m.lowpass.n_out == 6 and m.readout.in_features == 18
    h = torch.rand(2, 25, 3)
    f = m.lowpass(h).reshape(2, 25, 3, 6)
    tau = m.lowpass.tau
    col = 0
    for k, period in enumerate([0, 8, 0, 8]):
        a = 1.0 - 1.0 / tau[k]
        p = a * torch.exp(torch.tensor(1j * (2 * torch.pi / period if period else 0.0)))
        z = torch.zeros(2, 3, dtype=torch.complex64)
        ref = []
        for t in range(25):
            z = p * z + (1.0 - a) * h[:, t]
            ref.append(z)
        ref = torch.stack(ref, 1)
        torch.testing.assert_close(f[..., col], ref.real, rtol=1e-4, atol=1e-5)
        col += 1
        if period:
            torch.testing.assert_close(f[..., col], ref.imag, rtol=1e-4, atol=1e-5)
            col += 1
    with pytest.raises(ValueError, match="periods"):
        ModelConfig(cell="schmitt", n_inputs=1, n_outputs=2, pool="lowpass", periods=[1.5])
