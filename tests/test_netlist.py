"""Whole-model netlists: export of the shipped models, graph checks, ngspice runs."""
from pathlib import Path

import numpy as np
import pytest

from cosim.hw.mapping import model_to_ir
from cosim.hw.reference import run_reference
from cosim.models import load
from cosim.models.recipe import task_from_config
from cosim.netlist import NetlistCheckError, build_netlist, check_netlist
from cosim.netlist.circuit import Element
from cosim.netlist.ngspice import with_analysis
from cosim.netlist.export import export_model
from cosim.netlist.sampling import step_signals
from cosim.netlist.stimulus import pwl_points
from cosim.spice import run_netlist

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["bmru_flipflop", "cmru_counting", "schmitt_digits"]


def _ir(name, bits=6):
    model, doc = load(ROOT / "models" / name)
    ir, _ = model_to_ir(model, doc, bits=bits)
    return ir, task_from_config(doc)


def test_pwl_points_only_where_values_change():
    pts = pwl_points(np.array([0.0, 0.0, 1.0, 1.0, 0.5]), 0.01, 0.01, 1e-9)
    expected = [(0.0, 0.0), (0.02, 0.0), (0.0201, 1e-9), (0.04, 1e-9), (0.0401, 0.5e-9)]
    np.testing.assert_allclose(np.array(pts), np.array(expected), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_netlists_run_op_and_short_transient(name):
    text = (ROOT / "netlists" / f"{name}.cir").read_text()
    op = run_netlist(with_analysis(text, ".op"), timeout_s=60)
    assert op.waveforms
    tran = run_netlist(with_analysis(text, ".tran 0.5m 50m"), timeout_s=60)
    assert tran.time[-1] == pytest.approx(0.05)


@pytest.mark.parametrize("name,n,T", [("bmru_flipflop", 2, 120), ("cmru_counting", 2, 120),
                                      ("schmitt_digits", 2, 64)])
def test_circuit_states_match_reference(name, n, T):
    ir, task = _ir(name)
    x = task.x_test[:n, :T]
    net = build_netlist(ir, x)
    circuit = step_signals(run_netlist(net.text, timeout_s=120), net, ir.timing)
    ref = run_reference(ir, x)
    for b in range(n):
        np.testing.assert_array_equal(np.round(circuit.states[b][0]), ref.layers[0].state[b])
        # cells and mirrors are exact; readout filters add ngspice's integration error
        atol = 0.02 if ir.filters is None else 0.02 * np.abs(ref.outputs).max()
        np.testing.assert_allclose(circuit.outputs[b], ref.outputs[b], atol=atol)


def _good_circuit():
    ir, task = _ir("bmru_flipflop")
    circuit = build_netlist(ir, task.x_test[:1, :10]).circuit
    check_netlist(circuit)
    return circuit


def _with(circuit, name, **change):
    """The circuit with element `name` changed (fields of Element), or removed (change None)."""
    els = []
    for e in circuit.elements:
        if e.name == name:
            assert change, "element not found"
            e = Element(**{**e.__dict__, **change})
        els.append(e)
    assert els != circuit.elements
    circuit.elements = els
    return circuit


@pytest.mark.parametrize("name,change,message", [
    ("b0l0h3", dict(nodes=("b0l0h3x", "0")), "floating"),
    ("b0l0x2", dict(nodes=("b0l0c2", "b0l0t2", "b0l0h2")), "ports"),
    ("b0l0x2", dict(subckt="no_such_cell"), "unknown subcircuit"),
    ("b0ro_0_3", dict(control="nothere"), "controlling source vnothere"),
])
def test_graph_check_names_the_problem(name, change, message):
    with pytest.raises(NetlistCheckError, match=message):
        check_netlist(_with(_good_circuit(), name, **change))


def test_graph_check_finds_island():
    circuit = _good_circuit()
    circuit.add("resistor", "1", "island1", "island2", value=1e3)
    circuit.add("resistor", "2", "island1", "island2", value=1e3)
    with pytest.raises(NetlistCheckError, match="no path to ground"):
        check_netlist(circuit)


def test_written_netlist_counts_every_element_once():
    """The text the writer makes has one card per element, each with its nodes."""
    circuit = _good_circuit()
    from cosim.netlist.ngspice import write
    cards = [ln.split() for ln in write(circuit).split("* ---- subcircuit library")[0].splitlines()[1:]]
    assert len(cards) == circuit.devices
    letters = {"isource": "I", "vsource": "V", "cccs": "F", "instance": "X", "behavioral": "B"}
    for card, e in zip(cards, circuit.elements):
        assert card[0] == letters[e.kind] + e.name
        assert tuple(card[1:1 + len(e.nodes)]) == e.nodes


def test_export_writes_its_files_and_rejects_bad_inputs(tmp_path):
    res = export_model(ROOT / "models" / "cmru_counting", tmp_path / "c.cir", bits=6, task_samples=2)
    assert {p.name for p in tmp_path.iterdir()} == {"c.cir", "c.hw.json", "c.quant.json",
                                                     "c.inputs.npy", "c.probes.json"}
    assert res.summary["sequences"] == 2 and res.summary["quantized_score"] > 0.99
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((3, 10, 5)))
    with pytest.raises(ValueError, match=r"\(batch, time, 2\)"):
        export_model(ROOT / "models" / "cmru_counting", tmp_path / "d.cir", inputs=bad)
    assert not (tmp_path / "d.cir").exists()


def test_cli_export_bad_eps_and_bits_exit_2(tmp_path, capsys):
    from cosim.cli import main

    try:
        rc = main(["export", str(ROOT / "models" / "bmru_flipflop"), "--bits", "1", "--out", str(tmp_path / "x.cir")])
    except SystemExit as exc:        # argparse's own refusal
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and "bits" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", SHIPPED)
def test_committed_netlists_are_current(name, tmp_path, monkeypatch):
    """netlists/ is regenerated by `make netlists`; a stale copy fails here."""
    monkeypatch.chdir(ROOT)
    res = export_model(f"models/{name}", tmp_path / f"{name}.cir")
    fresh = res.netlist_path.read_text()
    assert fresh == (ROOT / "netlists" / f"{name}.cir").read_text()
