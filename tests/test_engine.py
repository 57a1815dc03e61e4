"""The fast batched engine (cosim/engine, backend "fast") against the software
reference (exactly) and against ngspice's behavioral netlists (tie-aware), on
random, near-threshold and held-out inputs, nominal and under mismatch + noise."""
from pathlib import Path

import numpy as np
import pytest

from cosim.analysis.agreement import state_agreement
from cosim.backends import simulate
from cosim.engine.draws import draw_batch
from cosim.engine.model import FastModel
from cosim.errors import InputError
from cosim.hw.mismatch import perturb_ir
from cosim.hw.source import load_source
from cosim.montecarlo.job import layer_noise
from cosim.verify.adversarial import adversarial_inputs

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["bmru_flipflop", "cmru_counting", "schmitt_digits"]
# every device class but per-stage ladder mismatch: the engine then equals the discrete reference
P = {"gain": 0.1, "bias": 0.1, "igain": 0.1, "ithresh": 0.1, "iwidth": 0.1, "ladder": 0.0, "filter": 0.1}


@pytest.fixture(scope="module", params=SHIPPED)
def source(request):
    return load_source(ROOT / "netlists" / f"{request.param}.hw.json")


def _random_inputs(ir, rng, n=3, T=20):
    return rng.uniform(-1.0, 2.0, (n, T, ir.n_inputs))


def test_batched_draws_are_perturb_ir_seed_by_seed(source):
    ir, seeds = source.ir, [5, 6, 9]
    batch = draw_batch(ir, P, seeds)
    for d, seed in enumerate(seeds):
        one = perturb_ir(ir, P, seed)
        for lb, lo in zip(batch.layers, one.layers):
            assert np.array_equal(lb.candidate.gains[d], lo.candidate.gains)
            assert np.array_equal(lb.alpha[d], lo.alpha)
        assert np.array_equal(batch.readout.bias[d], one.readout.bias)


def test_fast_equals_the_reference_under_mismatch_and_noise(source):
    ir = source.ir
    rng = np.random.default_rng(3)
    x = np.concatenate([_random_inputs(ir, rng), source.task.x_test[:2, :20]])
    seeds = [21, 22, 23, 24]
    noise = [layer_noise(ir, 100 + s, x.shape[:2], 0.05) for s in seeds]
    stacked = [np.stack([nz[l] for nz in noise]) for l in range(len(ir.layers))]
    states, outputs = FastModel(draw_batch(ir, P, seeds)).run(x, stacked)
    for d, seed in enumerate(seeds):
        ref = simulate(perturb_ir(ir, P, seed), x, backend="reference", noise=noise[d])
        for l in range(len(ir.layers)):
            assert np.array_equal(states[l][d].numpy(), ref.states[l])
        assert np.allclose(outputs[d].numpy(), ref.outputs, rtol=1e-12, atol=1e-9)


def test_fast_agrees_with_ngspice_netlists(source):
    """Adversarial (random, near-threshold, beta-sign) and held-out inputs, one mismatch
    draw per sequence with noise: every sampled state agrees with ngspice except ties."""
    ir = source.ir
    digits = ir.filters is not None
    fam = adversarial_inputs(ir, source.task.x_train, per_family=1, T=16 if digits else 32, seed=4)
    x = np.concatenate(list(fam.values()))
    x = x[1:] if digits else x                              # the filter netlists are slow
    irs = [perturb_ir(ir, P, 40 + b) for b in range(len(x))]
    noise = [np.concatenate(parts) for parts in zip(*[layer_noise(ir, 80 + b, (1, x.shape[1]), 0.03)
                                                      for b in range(len(x))])]
    fast = simulate(irs, x, backend="fast", noise=noise)
    spice = simulate(irs, x, backend="ngspice", noise=noise)
    for b, one in enumerate(irs):
        ref = simulate(one, x[b:b + 1], backend="reference", noise=[n[b:b + 1] for n in noise]).detail
        agree = state_agreement(one, ref, [s[b:b + 1] for s in spice.states], max_listed=0)
        assert agree.n_disagreements == 0          # ngspice vs the reference the engine equals
        for l in range(len(ir.layers)):
            assert np.array_equal(fast.states[l][b], ref.layers[l].state[0])
    scale = np.abs(spice.outputs).max()
    # cells and mirrors exact; the filters add ngspice's integration error (0.8% of the largest output)
    assert np.abs(fast.outputs - spice.outputs).max() <= (0.02 * scale if digits else 1e-6)


def test_ladders_in_time_follow_ngspice_where_the_discrete_counter_does_not():
    """Per-stage ladder mismatch of 30% (plus 5% on gains, biases, levels): the engine's
    ladders, integrated in time, take every rung ngspice takes; the ideal counter of the
    same draws misses some."""
    src = load_source(ROOT / "netlists" / "cmru_counting.hw.json")
    x = src.task.x_test[:4, :96]
    irs = [perturb_ir(src.ir, {"ladder": 0.3, "gain": 0.05, "bias": 0.05, "igain": 0.05}, 500 + b)
           for b in range(len(x))]
    fast = simulate(irs, x, backend="fast")
    spice = simulate(irs, x, backend="ngspice")
    ideal = simulate(irs, x, backend="reference")
    assert np.array_equal(fast.states[0], np.round(spice.states[0]))
    assert (ideal.states[0] != np.round(spice.states[0])).sum() > 0
    assert np.abs(fast.outputs - spice.outputs).max() < 1e-6 * np.abs(spice.outputs).max()


def test_ladders_in_time_with_tiny_mismatch_count_like_the_ideal_ladder():
    src = load_source(ROOT / "netlists" / "cmru_counting.hw.json")
    rng = np.random.default_rng(8)
    x = np.concatenate([src.task.x_test[:2, :64], rng.uniform(-1.5, 1.5, (2, 64, src.ir.n_inputs))])
    one = perturb_ir(src.ir, {"ladder": 1e-6}, 3)
    model = FastModel(one)
    assert model.ladder_dynamics
    states, _ = model.run(x)
    assert np.array_equal(states[0][0].numpy(), simulate(one, x, backend="reference").states[0])


def test_monte_carlo_with_the_fast_engine_matches_the_ngspice_study(tmp_path, capsys):
    """Same seeds, same draws: per run the same task score and state flips as the
    ngspice study; the spot check re-simulates runs in ngspice and finds no difference."""
    import json

    from cosim.cli import main
    from cosim.montecarlo.runner import run_study

    model = ROOT / "netlists" / "bmru_flipflop.hw.json"
    kw = dict(runs=6, mismatch=0.1, noise_na=0.03, sequences=2, workers=1, seed=7, progress=False)
    fast = run_study(model, tmp_path / "fast", engine="fast", spot_check=2, **kw)
    spice = run_study(model, tmp_path / "spice", engine="ngspice", **kw)
    assert fast["succeeded"] == spice["succeeded"] == 6
    assert fast["spot_check"]["disagreements"] == 0 and len(fast["spot_check"]["runs"]) == 2
    rows = {}
    for name in ("fast", "spice"):
        for line in (tmp_path / name / "runs.jsonl").read_text().splitlines():
            r = json.loads(line)
            rows.setdefault(r["run"], {})[name] = r
    for r in rows.values():
        assert r["fast"]["mismatch_seed"] == r["spice"]["mismatch_seed"]
        assert r["fast"]["circuit_score"] == pytest.approx(r["spice"]["circuit_score"], abs=1e-9)
        assert r["fast"]["state_flips"] == r["spice"]["state_flips"]
    with pytest.raises(InputError, match="--engine ngspice"):
        run_study(model, tmp_path / "dask", scheduler="local", **kw)
    # a study run with ngspice resumes only with --engine ngspice (the default is fast)
    assert main(["montecarlo", str(model), "--runs", "6", "--mismatch", "0.1", "--noise", "0.03",
                 "--sequences", "2", "--seed", "7", "--out", str(tmp_path / "spice"), "--resume"]) == 2
    assert "--engine ngspice" in capsys.readouterr().err
    # the CLI: a counter study (ladders in time under stage mismatch), spot-checked in ngspice
    code = main(["montecarlo", str(ROOT / "netlists" / "cmru_counting.hw.json"), "--engine", "fast",
                 "--runs", "2", "--mismatch", "0.2", "--sequences", "1", "--spot-check", "1",
                 "--out", str(tmp_path / "ladder"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "0 real state difference(s)" in out
