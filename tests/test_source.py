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


def test_an_exported_netlist_can_be_rerun_and_compared(tmp_path, capsys):
    """The bundle (stimulus + probe map beside the .cir) lets a plain exported .cir be
    simulated again and compared with the software reference of its IR; an edit that
    changes the circuit's decisions fails the check."""
    import re

    from cosim.errors import EXIT_CHECK_FAILED
    from cosim.netlist.bundle import load_bundle
    from cosim.netlist.export import export_model

    res = export_model(ROOT / "models" / "cmru_counting", tmp_path / "c.cir", task_samples=2)
    _, _, _, x = load_bundle(res.netlist_path)
    assert x.shape == res.inputs.shape and (x == res.inputs).all()
    assert main(["rerun", str(res.netlist_path), "--json", str(tmp_path / "r.json")]) == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["state_agreement"] == 1.0 and r["sequences"] == 2 and r["decision_agreement"] == 1.0
    capsys.readouterr()
    # hand edit: every layer-0 candidate weight changes sign (the F element's nodes swap)
    text = res.netlist_path.read_text()
    edited = re.sub(r"^(Fb\d+l0w_\S+) (\S+) (\S+) ", r"\1 \3 \2 ", text, flags=re.M)
    assert edited != text
    res.netlist_path.write_text(edited)
    assert main(["rerun", str(res.netlist_path)]) == EXIT_CHECK_FAILED
    assert "differ from the software reference" in capsys.readouterr().err
    (tmp_path / "c.probes.json").unlink()
    assert main(["rerun", str(res.netlist_path)]) == 2
    assert "not a complete export bundle" in capsys.readouterr().err
