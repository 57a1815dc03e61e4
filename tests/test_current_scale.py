"""Scaling a model's currents (hw.current_scale): the same states at s times the currents."""
import json
from pathlib import Path

import numpy as np
import pytest

from cosim.cli import main
from cosim.errors import InputError
from cosim.hw.current_scale import scale_currents
from cosim.hw.ir import HardwareIR
from cosim.hw.reference import run_reference
from cosim.hw.source import load_source

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("model, s", [("kws_fq_bmru", 0.5), ("kws_fq_bmru", 0.137), ("bmru_flipflop", 0.3),
                                      ("bmru_flipflop", 1.7)])
def test_scaled_model_takes_the_same_states_at_s_times_the_currents(model, s):
    """On held-out data and on random inputs the task never gives (signed, wide)."""
    src = load_source(ROOT / "models" / model, 6)
    ir, x = src.ir, src.task.x_test[:8].astype(np.float64)
    rng = np.random.default_rng(5)
    for inputs in (x, rng.normal(0, 3 * np.abs(x).max() + 1, size=x.shape)):
        a, b = run_reference(ir, inputs), run_reference(scale_currents(ir, s), inputs)
        for la, lb in zip(a.layers, b.layers):
            assert np.array_equal(la.state, lb.state)
            assert np.allclose(lb.output, s * la.output, rtol=1e-12, atol=1e-12)
        assert np.allclose(b.outputs, s * a.outputs, rtol=1e-12, atol=1e-12)
    scaled = scale_currents(ir, s)
    assert scaled.quantization["current_scale"] == pytest.approx(s)
    assert HardwareIR.from_dict(json.loads(scaled.to_json())).quantization["current_scale"] == pytest.approx(s)


@pytest.mark.parametrize("model, why", [("cmru_counting", "cmru"), ("schmitt_digits", "readout filters")])
def test_models_that_do_not_scale_are_refused(model, why):
    ir = load_source(ROOT / "models" / model, 6).ir
    with pytest.raises(InputError, match=why):
        scale_currents(ir, 0.5)


@pytest.mark.parametrize("s", [0.0, -0.5, float("nan"), 5.0])
def test_scale_out_of_range_is_refused(s):
    ir = load_source(ROOT / "models" / "kws_fq_bmru", 6).ir
    with pytest.raises(InputError, match="current scale"):
        scale_currents(ir, s)


def test_export_current_scale_writes_the_scaled_ir(tmp_path, capsys):
    out = tmp_path / "half.cir"
    assert main(["export", str(ROOT / "models" / "kws_fq_bmru"), "--current-scale", "0.5", "--out", str(out)]) == 0
    ir = HardwareIR.load(tmp_path / "half.hw.json")
    base = load_source(ROOT / "models" / "kws_fq_bmru", 6).ir
    assert ir.quantization["current_scale"] == 0.5
    assert np.allclose(ir.layers[1].alpha, 0.5 * np.asarray(base.layers[1].alpha), rtol=1e-9)
    assert main(["export", str(ROOT / "models" / "cmru_counting"), "--current-scale", "0.5",
                 "--out", str(tmp_path / "c.cir")]) == 2
    assert "cannot scale" in capsys.readouterr().err and not (tmp_path / "c.hw.json").exists()
    with pytest.raises(SystemExit) as exc:        # argparse's own refusal
        main(["export", str(ROOT / "models" / "kws_fq_bmru"), "--current-scale", "3", "--out", str(tmp_path / "x.cir")])
    assert exc.value.code == 2 and not (tmp_path / "x.hw.json").exists()
