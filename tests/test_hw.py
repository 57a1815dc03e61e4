"""Quantization, mapping to the hardware IR, IR validation and the IR reference."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from cosim.hw import HardwareIR, IRError
from cosim.hw.mapping import ExportError, model_to_ir
from cosim.hw.quantize import quantize
from cosim.hw.reference import run_reference
from cosim.models import Model, ModelConfig


def _model(cell, **kw):
    torch.manual_seed(0)
    return Model(ModelConfig(cell=cell, n_inputs=3, n_outputs=4, hidden=5, **kw))


def test_quantize_levels_and_report():
    w = np.array([[-1.0, 0.3, 0.5], [0.26, -0.01, 0.9]])
    q, rep = quantize(w, 3)
    step = 1.0 / 3
    np.testing.assert_allclose(q / step, np.round(q / step))
    assert rep["max_abs_error"] <= step / 2 + 1e-12 and rep["step"] == pytest.approx(step)
    qu, rep_u = quantize(np.array([0.0, 0.2, 1.5]), 4, unsigned=True)
    assert (qu >= 0).all() and rep_u["step"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="bits"):
        quantize(w, 1)
    with pytest.raises(ValueError, match="NaN"):
        quantize(np.array([np.nan]), 6)


@pytest.mark.parametrize("cell,kw", [("bmru", {}), ("cmru", dict(ladder=3, init_state=0.0)),
                                     ("schmitt", dict(layers=2))])
def test_float_ir_reference_equals_torch_model(cell, kw):
    m = _model(cell, **kw)
    ir, _ = model_to_ir(m, {}, bits=None, gain_max=100.0)
    x = np.random.default_rng(0).normal(size=(3, 40, 3)) * 2
    with torch.no_grad():
        y_torch = m(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(run_reference(ir, x).outputs, y_torch, atol=1e-4)


def test_range_fitting_keeps_decisions():
    m = _model("bmru")
    with torch.no_grad():
        m.layers[0].cell.candidate.weight.mul_(40)
        m.layers[0].cell.threshold.weight.mul_(40)
        m.layers[0].cell.threshold.bias.mul_(40)
        m.layers[0].cell.candidate.bias.mul_(40)
    ir, _ = model_to_ir(m, {}, bits=None, gain_max=2.0)
    assert max(abs(v) for row in ir.layers[0].candidate.gains for v in row) <= 2.0 + 1e-12
    x = np.random.default_rng(1).normal(size=(2, 30, 3))
    with torch.no_grad():
        y_torch = m(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(run_reference(ir, x).outputs, y_torch, atol=1e-4)


def test_ir_json_round_trip_is_exact(tmp_path):
    ir, _ = model_to_ir(_model("cmru", ladder=4, init_state=0.0), {"task": {"name": "counting"}}, bits=6)
    path = ir.save(tmp_path / "m.hw.json")
    again = HardwareIR.load(path)
    assert again == ir
    assert again.to_json() == ir.to_json()


def _ir_dict():
    ir, _ = model_to_ir(_model("schmitt"), {}, bits=6)
    return ir.to_dict()


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["layers"][0]["candidate"]["gains"][0].__setitem__(0, math.nan), "non-finite"),
    (lambda d: d["layers"][0]["beta1"].__setitem__(0, -0.2), "must be > 0"),
    (lambda d: d["readout"]["gains"][0].__setitem__(0, 99.0), "out of the realisable range"),
    (lambda d: d.__setitem__("schema_version", 7), "schema_version 7"),
    (lambda d: d["layers"][0].__setitem__("kind", "lstm"), "unsupported"),
])
def test_ir_validation_rejects_bad_values(tmp_path, mutate, message):
    d = _ir_dict()
    mutate(d)
    path = tmp_path / "bad.hw.json"
    path.write_text(json.dumps(d))
    with pytest.raises(IRError, match=message):
        HardwareIR.load(path)


def test_only_eps_0_or_1_exports():
    m = _model("bmru", eps=0.5)
    with pytest.raises(ExportError, match="anneal"):
        model_to_ir(m, {})
    with pytest.raises(ExportError, match="ladder"):
        model_to_ir(_model("cmru"), {})
    with pytest.raises(ExportError, match="alpha-CMRU"):
        model_to_ir(_model("acmru"), {})


def test_mirror_banks_lists_every_bank_once():
    """One list of mirror banks (export summary, mismatch range): the digits model's
    filter drives included (the summary's gain range missed their 5,596 gains)."""
    import json

    from cosim.hw.ir import HardwareIR, mirror_banks

    root = Path(__file__).resolve().parents[1]
    ir = HardwareIR.load(root / "netlists" / "schmitt_digits.hw.json")
    names = [n for n, _ in mirror_banks(ir)]
    assert names == ["layers[0].candidate", "layers[1].candidate", "filters.drive_u",
                     "filters.drive_v", "readout"]
    gains = [abs(v) for _, b in mirror_banks(ir) for row in b.gains for v in row if v]
    summary = json.loads((root / "netlists" / "schmitt_digits.quant.json").read_text())["summary"]
    assert summary["mirror_gain_range"] == pytest.approx([min(gains), max(gains)], rel=1e-9)
    drives = [abs(v) for b in (ir.filters.drive_u, ir.filters.drive_v) for row in b.gains for v in row if v]
    assert min(drives) < min(abs(v) for row in ir.layers[0].candidate.gains for v in row if v)


def test_every_ir_field_declares_its_unit_and_arrays_live_in_memory():
    """Typed fields with units; numeric lists are numpy arrays in memory, lists in JSON."""
    import dataclasses
    import json
    from pathlib import Path

    import numpy as np

    from cosim.hw.ir import CellLayer, FilterBank, HardwareIR, LadderDesign, MirrorBank, unit_of

    for cls in (MirrorBank, LadderDesign, CellLayer, FilterBank, HardwareIR):
        for f in dataclasses.fields(cls):
            assert "unit" in f.metadata, f"{cls.__name__}.{f.name} has no unit"
    assert unit_of(LadderDesign, "tau_s") == "s" and unit_of(MirrorBank, "bias") == "units"
    path = Path(__file__).resolve().parents[1] / "netlists" / "schmitt_digits.hw.json"
    ir = HardwareIR.load(path)
    layer = ir.layers[0]
    assert isinstance(layer.alpha, np.ndarray) and layer.candidate.gains.ndim == 2
    assert ir.filters.resonant.dtype == bool and ir.filters.tau_s.shape[-1] == 2
    layer.alpha = list(layer.alpha)                     # an assigned list becomes an array too
    assert isinstance(layer.alpha, np.ndarray)
    assert ir.to_json() == path.read_text() and json.loads(ir.to_json())["layers"][0]["alpha"]
    assert ir == HardwareIR.load(path)
