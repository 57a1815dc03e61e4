"""The simulator seam: one call at the IR level, backends by name."""
from pathlib import Path

import numpy as np
import pytest

from cosim.backends import Simulation, backends, register, simulate
from cosim.errors import InputError
from cosim.hw.source import load_ir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def counter():
    return load_ir(ROOT / "netlists" / "cmru_counting.hw.json")


def test_builtin_backends_agree_on_random_inputs(counter):
    rng = np.random.default_rng(5)
    x = rng.uniform(-1.5, 1.5, (2, 24, counter.n_inputs))      # not task data
    circuit = simulate(counter, x, backend="ngspice")
    software = simulate(counter, x, backend="reference")
    assert {"ngspice", "reference"} <= set(backends())
    assert [s.shape for s in circuit.states] == [s.shape for s in software.states] == [(2, 24, 4)]
    assert circuit.outputs.shape == software.outputs.shape == (2, 24, counter.n_outputs)
    assert np.array_equal(np.round(circuit.states[0]), software.states[0])
    assert np.abs(circuit.outputs - software.outputs).max() < 1e-3


def test_a_new_backend_is_one_registration(counter):
    @register("zeros-test")
    def run(ir, x, noise=None):
        return Simulation("zeros-test", [np.zeros(x.shape[:2] + (l.n,)) for l in ir.layers],
                          np.zeros(x.shape[:2] + (ir.n_outputs,)))

    sim = simulate(counter, np.zeros((1, 3, counter.n_inputs)), backend="zeros-test")
    assert sim.backend == "zeros-test" and sim.states[0].shape == (1, 3, 4)


def test_bad_calls_are_input_errors(counter):
    with pytest.raises(InputError, match="unknown simulator backend"):
        simulate(counter, np.zeros((1, 3, counter.n_inputs)), backend="nope")
    with pytest.raises(InputError, match="inputs must be"):
        simulate(counter, np.zeros((1, 3, counter.n_inputs + 1)), backend="reference")
    with pytest.raises(InputError, match="inputs must be"):
        simulate(counter, np.zeros((0, 3, counter.n_inputs)), backend="reference")
