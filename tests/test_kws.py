"""Keyword-spotting data: real espeak-ng synthesis, librosa MFCCs, the shipped file and model."""
import json

import numpy as np
import pytest

from cosim.errors import InputError
from cosim.models import checkpoint, kws
from cosim.models.recipe import task_from_config
from cosim.models.train import evaluate


def test_generated_clips_are_reproducible_and_speaker_held_out(tmp_path):
    a = kws.generate(tmp_path / "a.npz", n_train=4, n_test=2, seed=3)
    kws.generate(tmp_path / "b.npz", n_train=4, n_test=2, seed=3)
    assert a["train"] == 4
    xs, ys, xt, yt = kws.load(tmp_path / "a.npz")
    assert xs.shape == (4, kws.STEPS, kws.N_MFCC) and xt.shape == (2, kws.STEPS, kws.N_MFCC)
    assert sorted(ys.tolist()) == [0, 0, 1, 1] and np.isfinite(xs).all()
    again = kws.load(tmp_path / "b.npz")
    np.testing.assert_array_equal(xs, again[0])
    with np.load(tmp_path / "a.npz") as d:
        info = json.loads(bytes(d["info"]).decode())
    train_variants = {c["voice"].split("+")[1] for c in info["clips_train"]}
    test_variants = {c["voice"].split("+")[1] for c in info["clips_test"]}
    assert not train_variants & test_variants


def test_keyword_differs_from_other_words_in_the_features():
    """A spoken word is not silence: the clip's energy coefficient rises where it is."""
    rng = np.random.default_rng(0)
    quiet = kws.mfcc(rng.normal(0, 1e-4, kws.SAMPLE_RATE))
    spoken = kws.mfcc(kws.clip("seven", "en-us+m1", 160, 50, rng, snr_db=40, gain_db=0))
    assert spoken.shape == (kws.STEPS, kws.N_MFCC)
    assert spoken[:, 0].max() > quiet[:, 0].max() + 20


def test_words_reach_espeak_as_letters_only():
    with pytest.raises(InputError, match="letters only"):
        kws.speak("seven; rm -rf /", "en-us", 150, 50)


def test_missing_or_corrupt_data_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="make kws-data"):
        kws.load(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="unreadable"):
        kws.load(bad)


def test_shipped_data_and_model():
    xs, ys, xt, yt = kws.load()
    assert xs.shape[1:] == (kws.STEPS, kws.N_MFCC) and len(xt) >= 50
    assert abs(ys.mean() - 0.5) < 0.01 and abs(yt.mean() - 0.5) < 0.01
    assert np.abs(xs.astype(np.float64).mean(axis=(0, 1))).max() < 0.01   # standardized
    model, doc = checkpoint.load("models/kws_fq_bmru")
    cfg = doc["model"]
    assert (cfg["n_inputs"], cfg["proj"], cfg["hidden"], cfg["layers"], cfg["n_outputs"]) == (13, 4, 4, 2, 2)
    score = evaluate(model, task_from_config(doc))
    assert score == pytest.approx(doc["metrics"]["test_score"], abs=1e-9)
    assert score > 0.85
