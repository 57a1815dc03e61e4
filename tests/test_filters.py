"""Readout filter bank: software filters -> circuit filters -> ngspice, step for step."""
import json

import numpy as np
import pytest
import torch

from cosim.hw.filters import discretize, fold_lowpass, run_filters, state_matrices
from cosim.hw.ir import HardwareIR, IRError
from cosim.hw.mapping import model_to_ir
from cosim.hw.mismatch import perturb_ir
from cosim.hw.reference import run_reference
from cosim.models.stack import Model, ModelConfig
from cosim.netlist import build_netlist, check_netlist
from cosim.netlist.sampling import step_signals
from cosim.spice import run_netlist

DOC = {"task": {"name": "digits"}}


def _model(seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(cell="schmitt", n_inputs=1, n_outputs=3, hidden=4, layers=2, pool="lowpass",
                      readout_all=True, taus=[1.5, 3.0, 12.0], periods=[0.0, 5.0])
    model = Model(cfg)
    with torch.no_grad():   # spread the learned filters away from their start values
        model.lowpass.log_tau.add_(torch.linspace(-0.2, 0.3, len(model.lowpass.log_tau)))
        model.lowpass.omega.mul_(1.1)
    return model


def _inputs(n=2, T=24, seed=1):
    return np.random.default_rng(seed).uniform(0.0, 4.0, (n, T, 1)).round(1)


def test_discretize_is_the_exact_solution_of_the_ode():
    A, B = state_matrices(0.02, 0.03, 0.7, 0.5, True)
    Phi, Gam = discretize(A, B, 0.01)
    # constant input q: x(dt) from x(0) by fine explicit integration
    x0, q = np.array([0.3, -0.2]), np.array([1.0, 0.4])
    x, n = x0.copy(), 200000
    for _ in range(n):
        x = x + 0.01 / n * (A @ x + B @ q)
    np.testing.assert_allclose(Phi @ x0 + Gam @ q, x, rtol=1e-4, atol=1e-6)


def test_float_ir_reference_equals_the_torch_model():
    model = _model()
    ir, _ = model_to_ir(model, DOC, bits=None)
    x = _inputs(4, 30)
    with torch.no_grad():
        y = model(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
    ref = run_reference(ir, x)
    np.testing.assert_allclose(ref.outputs, y, atol=1e-4 * max(1.0, np.abs(y).max()))


def test_fold_of_a_plain_lowpass_is_the_identity():
    W = np.arange(6.0).reshape(2, 3)       # 2 outputs, 3 channels, one low-pass
    res, tau, coup, du, dv = fold_lowpass([4.0], [0.0], W, 0.01)
    assert res == [False] and np.all(coup == 0)
    np.testing.assert_allclose(du, W)
    np.testing.assert_array_equal(dv, 0)
    np.testing.assert_allclose(tau[0, 0, 0], -0.01 / np.log(0.75))


def test_filter_ir_round_trips_and_rejects_bad_values():
    ir, _ = model_to_ir(_model(), DOC, bits=6)
    back = HardwareIR.from_dict(json.loads(ir.to_json()))
    assert back == ir
    d = json.loads(ir.to_json())
    d["filters"]["tau_s"][0][0][0] = -1e-3
    with pytest.raises(IRError, match="tau_s"):
        HardwareIR.from_dict(d)
    d = json.loads(ir.to_json())
    d["filters"]["drive_u"]["gains"].pop()
    with pytest.raises(IRError, match="drive_u"):
        HardwareIR.from_dict(d)


def _simulate(ir, x):
    net = build_netlist(ir, x)
    check_netlist(net.circuit)
    return step_signals(run_netlist(net.text, timeout_s=120), net, ir.timing)


def test_circuit_filters_follow_the_reference_step_by_step():
    ir, _ = model_to_ir(_model(), DOC, bits=6)
    x = _inputs()
    sig = _simulate(ir, x)
    ref = run_reference(ir, x)
    scale = np.abs(ref.outputs).max()
    for b in range(len(x)):
        for l in range(2):
            np.testing.assert_array_equal(np.round(sig.states[b][l]), ref.layers[l].state[b])
        # integration error of the simulator only (ngspice trapezoidal, 20 points per step)
        np.testing.assert_allclose(sig.outputs[b], ref.outputs[b], atol=0.01 * scale)
    # the filters do filter: outputs are not the instantaneous readout of the states
    h = np.concatenate([tr.output for tr in ref.layers], axis=-1)
    instantaneous = h @ np.asarray(ir.filters.drive_u.gains).T
    assert np.abs(run_filters(ir.filters, h, ir.timing.dt_s) - instantaneous).max() > 0.1 * scale


def test_filter_mismatch_is_the_same_in_netlist_and_reference():
    ir, _ = model_to_ir(_model(), DOC, bits=6)
    bad = perturb_ir(ir, {"filter": 0.3}, seed=5)
    assert (bad.filters.tau_s != ir.filters.tau_s).any() and (bad.filters.coupling != ir.filters.coupling).any()
    assert bad.layers == ir.layers
    x = _inputs(1)
    sig = _simulate(bad, x)
    ref_bad, ref_nom = run_reference(bad, x), run_reference(ir, x)
    scale = np.abs(ref_bad.outputs).max()
    np.testing.assert_allclose(sig.outputs[0], ref_bad.outputs[0], atol=0.01 * scale)
    assert np.abs(ref_bad.outputs - ref_nom.outputs).max() > 0.03 * scale
