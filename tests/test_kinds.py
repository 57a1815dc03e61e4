"""Cell kinds are plug-ins: a new kind is one module (here: this test) plus its tests."""
import copy
from pathlib import Path

import numpy as np
import pytest

from cosim.backends import simulate
from cosim.errors import InputError
from cosim.hw.ir import HardwareIR, IRError
from cosim.hw.kinds import CellKind, get_kind, kind_names, register, unregister
from cosim.hw.source import load_ir

ROOT = Path(__file__).resolve().parents[1]


def _sign_behavioral(bld, p, layer, inputs, clk, first, noise):
    """Toy cell: s <- sign(c) at every clock pulse (a clocked comparator), built from the
    library's bist_sym_clk with its threshold port held at 0 A."""
    cands, zero = [f"{p}c{i}" for i in range(layer.n)], [f"{p}t{i}" for i in range(layer.n)]
    bld.bank(f"{p}w", layer.candidate, inputs, cands)
    bld.noise(p, cands, noise)
    outs, states = [], []
    for i in range(layer.n):
        bld.bias(f"{p}z{i}", zero[i], 0)
        bld.instance(f"{p}x{i}", "bist_sym_clk", cands[i], zero[i], clk, f"{p}h{i}",
                     igain=float(layer.alpha[i] * bld.iu), iunit=bld.iu, s0=int(layer.init_state[i]))
        outs.append(bld.sense(f"{p}h{i}", f"{p}h{i}"))
        states.append(bld.vector(f"{p}x{i}", "u"))
    return outs, states


class ToySign(CellKind):
    name = "toy_sign"
    levels = (-1.0, 1.0)
    implementations = {"behavioral": _sign_behavioral}

    def validate(self, layer, name, width, gain_max):
        if any(v not in (-1, 1) for v in layer.init_state):
            raise IRError(f"{name}.init_state must be -1 or +1 for a toy_sign layer")

    def signals(self, layer, x, extra):
        from cosim.hw.reference import apply_bank

        c = apply_bank(layer.candidate, x) + extra
        step = np.where(c >= 0, 1.0, -1.0)
        return c, np.zeros_like(c), np.ones_like(c, bool), lambda s, t: step[:, t]

    def snap(self, states):
        return np.where(states >= 0, 1.0, -1.0)


@pytest.fixture
def toy_ir():
    register(ToySign())
    ir = load_ir(ROOT / "netlists" / "bmru_flipflop.hw.json")
    d = copy.deepcopy(ir.to_dict())
    d["layers"][0]["kind"], d["layers"][0]["threshold"] = "toy_sign", None
    d["layers"][0]["init_state"] = [1] * len(d["layers"][0]["init_state"])
    yield HardwareIR.from_dict(d)
    unregister("toy_sign")


def test_builtin_kinds_are_registered():
    assert {"bmru", "cmru", "schmitt"} <= set(kind_names())
    with pytest.raises(InputError, match="unsupported"):
        get_kind("nonesuch")


def test_a_toy_kind_runs_in_software_and_in_ngspice(toy_ir):
    rng = np.random.default_rng(11)
    x = rng.uniform(-2, 2, (2, 12, toy_ir.n_inputs))          # random, not task data
    sw = simulate(toy_ir, x, backend="reference")
    hw = simulate(toy_ir, x, backend="ngspice")
    c = sw.detail.layers[0].candidate
    assert np.array_equal(sw.states[0], np.where(c >= 0, 1.0, -1.0))
    decided = np.abs(c) > 1e-3                                  # a comparator at 0 A ties at c = 0
    assert np.array_equal(get_kind("toy_sign").snap(hw.states[0])[decided], sw.states[0][decided])
    assert np.abs(hw.outputs - sw.outputs).max() < 1e-3


def test_a_toy_kind_validates_its_own_fields(toy_ir):
    d = toy_ir.to_dict()
    d["layers"][0]["init_state"][0] = 0
    with pytest.raises(IRError, match="toy_sign"):
        HardwareIR.from_dict(d)


def test_missing_implementation_is_a_clear_error():
    from cosim.hw.kinds.filters import FILTERS

    with pytest.raises(InputError, match="no 'optical' implementation"):
        get_kind("bmru").implementation("optical")
    with pytest.raises(InputError, match="no 'transistor' implementation"):
        FILTERS.implementation("transistor")


class ToyLatch(type(get_kind("schmitt"))):
    """A new first-quadrant kind: the schmitt cell under another name, nothing else."""
    name = "toy_latch"
    title = "toy latch"


def test_single_cell_benches_ask_the_kind_not_its_name():
    """Hysteresis sweeps and the fixed-point bench of a kind that is only registered
    (no other module knows its name) run and meet the same 2% goal."""
    from cosim.verify.fixedpoints import fixedpoints
    from cosim.verify.hysteresis import hysteresis

    register(ToyLatch())
    try:
        ir = load_ir(ROOT / "netlists" / "schmitt_digits.hw.json")
        d = copy.deepcopy(ir.to_dict())
        d["layers"][0]["kind"] = "toy_latch"
        toy = HardwareIR.from_dict(d)
        res = hysteresis(toy, 0, 0)
        assert len(res) == 1 and res[0].kind == "toy_latch" and res[0].ok()
        widest = int(np.argmax(toy.layers[0].delta))
        fp = fixedpoints(toy, 0, widest)
        assert fp.kind == "toy_latch" and fp.unstable_exact
    finally:
        unregister("toy_latch")
