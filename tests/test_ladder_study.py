"""Ladder mismatch study (cosim.montecarlo.ladder_study) with real ngspice runs."""
import pytest

from cosim.hw.mapping import model_to_ir
from cosim.hw.mismatch import LADDER_PARAMS
from cosim.models import load
from cosim.montecarlo.ladder_study import draw_ir, ladder_study


@pytest.fixture(scope="module")
def ir():
    model, doc = load("models/cmru_counting")
    return model_to_ir(model, doc, bits=6)[0]


def test_single_parameter_draw_keeps_the_others_nominal(ir):
    full, only_w = draw_ir(ir, 0.1, 7, "all"), draw_ir(ir, 0.1, 7, "w")
    for sf, sw in zip(full.layers[0].ladder_scale, only_w.layers[0].ladder_scale):
        assert sw["w"] == sf["w"] and any(f != 1.0 for f in sw["w"])
        assert all(sw[k] == [1.0] * len(sw[k]) for k in LADDER_PARAMS if k != "w")


def test_no_mismatch_every_ladder_exact(ir):
    (r,) = ladder_study(ir, [0.0], draws=2)["results"]
    assert r["exact"] == r["exact_current"] == 2 and r["errors"] == 0
    assert r["worst_level_error"] < 1e-6


def test_same_root_seed_same_results_serial_or_pool(ir):
    # sigma 10% on all parameters: a pool of workers reproduces the serial study draw by draw
    a = ladder_study(ir, [0.1], draws=3, root_seed=0)
    b = ladder_study(ir, [0.1], draws=3, root_seed=0, workers=2)
    assert a == b
    assert all(isinstance(d["exact"], bool) for d in a["results"][0]["draws"])
    assert len({d["seed"] for d in a["results"][0]["draws"]}) == 3
    assert [d["seed"] for d in a["results"][0]["draws"]] == [d["seed"] for d in b["results"][0]["draws"]]


def test_large_w_mismatch_breaks_the_ladder(ir):
    (r,) = ladder_study(ir, [0.3], draws=3, params=["w"])["results"]
    assert r["errors"] == 0
    assert r["exact"] < 3 and r["worst_level_error"] >= 1
