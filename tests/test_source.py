"""The exported IR file is an input downstream: verify, montecarlo and the benches
take a checkpoint folder or a .hw.json, with the same IR either way."""
import json
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.errors import InputError
from cosim.hw.source import load_ir, load_source

ROOT = Path(__file__).resolve().parents[1]
FLIPFLOP, FLIPFLOP_IR = ROOT / "models" / "bmru_flipflop", ROOT / "netlists" / "bmru_flipflop.hw.json"


def _without_names(ir):
    d = ir.to_dict()
    d.pop("name"), d.pop("source")
    return d


def test_checkpoint_and_exported_ir_give_the_same_ir_and_task():
    a, b = load_source(FLIPFLOP), load_source(FLIPFLOP_IR)
    assert _without_names(a.ir) == _without_names(b.ir)
    assert (a.task.x_test == b.task.x_test).all() and a.task.kind == b.task.kind
    assert a.model is not None and b.model is None


def test_bad_sources_are_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such"):
        load_ir(tmp_path / "missing.hw.json")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(InputError, match="expected a checkpoint folder"):
        load_ir(tmp_path / "x.txt")
    d = json.loads(FLIPFLOP_IR.read_text())
    d["task"] = None
    (tmp_path / "notask.hw.json").write_text(json.dumps(d))
    with pytest.raises(InputError, match="names no task"):
        load_source(tmp_path / "notask.hw.json")


def test_verify_an_exported_ir_file(tmp_path, capsys):
    rc = main(["verify", str(FLIPFLOP_IR), "--out", str(tmp_path / "r"), "--sequences", "2", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0, out
    rep = json.loads((tmp_path / "r" / "report.json").read_text())
    assert rep["agreement"]["n_disagreements"] == 0 and rep["agreement"]["float_score"] is None
    assert rep["margins"]["float"] is None and rep["margins"]["quantized"]["layers"]
    assert rep["adversarial"]["ok"]


def test_montecarlo_study_resumes_from_the_ir_file_of_the_same_model(tmp_path, capsys):
    out = tmp_path / "study"
    args = ["--runs", "2", "--sequences", "1", "--workers", "1", "--mismatch", "0.05",
            "--out", str(out), "--quiet"]
    assert main(["montecarlo", str(FLIPFLOP), *args]) == 0
    capsys.readouterr()
    assert main(["montecarlo", str(FLIPFLOP_IR), *args, "--resume"]) == 0
    assert "2/2 runs ok" in capsys.readouterr().out


def test_an_exported_netlist_can_be_rerun_and_compared(tmp_path):
    """The bundle (stimulus + probe map beside the .cir) lets a plain exported .cir be
    simulated again and compared with the software reference of its IR."""
    from cosim.backends import simulate
    from cosim.netlist.bundle import load_bundle
    from cosim.netlist.export import export_model
    from cosim.netlist.sampling import step_signals
    from cosim.spice import run_netlist

    res = export_model(ROOT / "models" / "cmru_counting", tmp_path / "c.cir", task_samples=2)
    text, net, ir, x = load_bundle(res.netlist_path)
    assert x.shape == res.inputs.shape and (x == res.inputs).all()
    sig = step_signals(run_netlist(text), net, ir.timing)
    software = simulate(ir, x, backend="reference")
    for b in range(len(x)):
        assert (abs(sig.states[b][0] - software.states[0][b]) < 0.05).all()
    (tmp_path / "c.probes.json").unlink()
    with pytest.raises(InputError, match="not a complete export bundle"):
        load_bundle(res.netlist_path)
