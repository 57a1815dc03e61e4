"""Keyword spotting data: spoken words synthesized with espeak-ng, 13 MFCCs per 10 ms.

Generation needs Debian's `espeak-ng` and librosa (`make kws-data` installs both);
loading the shipped file (`cosim/models/data/kws.npz`) needs neither.

One clip: one word, spoken by one synthetic speaker (an espeak-ng accent and a
voice variant, a speed in words per minute, a pitch), placed at a random offset
in a 1 s window, scaled by a random gain and mixed with white noise at a random
signal-to-noise ratio. Features: 13 MFCCs (librosa, 16 kHz, 25 ms Hann window,
10 ms hop, 40 mel bands) -> (100 frames, 13), standardized per coefficient with
the training split's mean and std. Class 1: the keyword; class 0: other words.

The test split is speaker-held-out: its clips use voice variants that no
training clip uses.
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from ..errors import InputError

DATA_FILE = Path(__file__).parent / "data" / "kws.npz"

KEYWORD = "seven"
OTHER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "eight", "nine",
               "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "eleven")
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd")
TRAIN_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "f4", "klatt", "klatt2")
TEST_VARIANTS = ("m7", "f5")

SAMPLE_RATE = 16_000      # Hz, after resampling espeak-ng's 22.05 kHz
WINDOW_S = 1.0            # s per clip
N_MFCC = 13
HOP = 160                 # samples: 10 ms
N_FFT = 400               # samples: 25 ms
N_MELS = 40
STEPS = 100


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise InputError("generating keyword clips needs espeak-ng: apt-get install espeak-ng "
                         "(or `make kws-data`, which installs it)")
    return exe


def speak(word: str, voice: str, speed_wpm: int, pitch: int) -> tuple[np.ndarray, int]:
    """Waveform (samples,) float64 in [-1, 1] and its sample rate (Hz) of `word`.

    Arguments go to espeak-ng as a list (no shell); `word` must be letters only."""
    if not word.isalpha():
        raise InputError(f"keyword clips: words must be letters only, got {word!r}")
    out = subprocess.run([_espeak(), "-v", voice, "-s", str(int(speed_wpm)), "-p", str(int(pitch)),
                          "--stdout", word], capture_output=True, check=True, timeout=30).stdout
    with wave.open(io.BytesIO(out)) as w:
        rate, width = w.getframerate(), w.getsampwidth()
        raw = w.readframes(10 ** 9)
    if width != 2:
        raise InputError(f"espeak-ng wrote {8 * width}-bit samples; 16-bit expected")
    return np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0, rate


def clip(word: str, voice: str, speed_wpm: int, pitch: int, rng: np.random.Generator,
         snr_db: float, gain_db: float) -> np.ndarray:
    """A 1 s clip (samples,) at SAMPLE_RATE: the word trimmed of silence, placed at a
    random offset, scaled by gain_db, plus white noise at snr_db below the speech power."""
    import librosa

    y, rate = speak(word, voice, speed_wpm, pitch)
    y = librosa.resample(y, orig_sr=rate, target_sr=SAMPLE_RATE)
    y, _ = librosa.effects.trim(y, top_db=40)
    n = int(WINDOW_S * SAMPLE_RATE)
    y = y[:n]
    start = int(rng.integers(0, n - len(y) + 1))
    out = np.zeros(n)
    out[start:start + len(y)] = y * 10 ** (gain_db / 20)
    speech_power = float(np.mean(out[start:start + len(y)] ** 2)) if len(y) else 1e-6
    noise = rng.normal(0.0, np.sqrt(speech_power * 10 ** (-snr_db / 10)), n)
    return out + noise


def mfcc(samples: np.ndarray) -> np.ndarray:
    """(STEPS, 13) MFCCs of a 1 s clip at SAMPLE_RATE (librosa, float64)."""
    import librosa

    m = librosa.feature.mfcc(y=samples, sr=SAMPLE_RATE, n_mfcc=N_MFCC, n_fft=N_FFT,
                             hop_length=HOP, n_mels=N_MELS, window="hann")
    return m.T[:STEPS]


def draw_clips(n: int, variants, rng: np.random.Generator):
    """n clips, half keyword: features (n, STEPS, 13), labels (n,), one dict per clip."""
    x = np.zeros((n, STEPS, N_MFCC))
    y = np.zeros(n, np.int64)
    meta = []
    for i in range(n):
        is_kw = i % 2 == 0
        word = KEYWORD if is_kw else OTHER_WORDS[int(rng.integers(len(OTHER_WORDS)))]
        voice = f"{ACCENTS[int(rng.integers(len(ACCENTS)))]}+{variants[int(rng.integers(len(variants)))]}"
        speed, pitch = int(rng.integers(130, 211)), int(rng.integers(25, 76))
        snr, gain = float(rng.uniform(5, 25)), float(rng.uniform(-6, 6))
        x[i] = mfcc(clip(word, voice, speed, pitch, rng, snr, gain))
        y[i] = int(is_kw)
        meta.append({"word": word, "voice": voice, "speed_wpm": speed, "pitch": pitch,
                     "snr_db": round(snr, 2), "gain_db": round(gain, 2)})
    order = rng.permutation(n)
    return x[order], y[order], [meta[j] for j in order]


def generate(out=DATA_FILE, n_train: int = 1600, n_test: int = 400, seed: int = 0) -> dict:
    """Synthesize the data set and write it (atomically) to `out` (.npz): standardized
    float16 features x_train (n_train, 100, 13), x_test, int labels, the standardization
    (mean, std per coefficient) and a JSON description of every clip. Returns the summary."""
    from ..fileio import atomic_write_bytes

    rng = np.random.default_rng(seed)
    xs, ys, ms = draw_clips(n_train, TRAIN_VARIANTS, rng)
    xt, yt, mt = draw_clips(n_test, TEST_VARIANTS, rng)
    mean, std = xs.mean(axis=(0, 1)), xs.std(axis=(0, 1))
    info = {"keyword": KEYWORD, "other_words": list(OTHER_WORDS), "accents": list(ACCENTS),
            "train_variants": list(TRAIN_VARIANTS), "test_variants": list(TEST_VARIANTS),
            "seed": seed, "sample_rate_hz": SAMPLE_RATE, "window_s": WINDOW_S, "hop_s": HOP / SAMPLE_RATE,
            "n_fft": N_FFT, "n_mels": N_MELS, "n_mfcc": N_MFCC, "steps": STEPS,
            "clips_train": ms, "clips_test": mt}
    buf = io.BytesIO()
    np.savez_compressed(buf, x_train=((xs - mean) / std).astype(np.float16), y_train=ys,
                        x_test=((xt - mean) / std).astype(np.float16), y_test=yt,
                        mean=mean, std=std, info=np.frombuffer(json.dumps(info).encode(), np.uint8))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, buf.getvalue())
    return {"file": str(out), "train": n_train, "test": n_test, "keyword": KEYWORD}


def load(path=DATA_FILE):
    """(x_train, y_train, x_test, y_test) float32 features (batch, 100, 13), int64 labels."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"keyword data {path} is missing: run `make kws-data` to generate it")
    try:
        with np.load(path, allow_pickle=False) as d:
            arrays = [d[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except (OSError, ValueError, KeyError) as e:
        raise InputError(f"keyword data {path} is unreadable ({e}); regenerate it with `make kws-data`")
    xs, ys, xt, yt = arrays
    if xs.ndim != 3 or xs.shape[1:] != (STEPS, N_MFCC) or xt.shape[1:] != (STEPS, N_MFCC):
        raise InputError(f"keyword data {path}: features must be (clips, {STEPS}, {N_MFCC})")
    return (xs.astype(np.float32), ys.astype(np.int64), xt.astype(np.float32), yt.astype(np.int64))


def main(argv=None) -> None:
    import argparse

    p = argparse.ArgumentParser(description="synthesize the keyword-spotting data set")
    p.add_argument("--out", default=str(DATA_FILE))
    p.add_argument("--train", type=int, default=1600)
    p.add_argument("--test", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    print(json.dumps(generate(a.out, a.train, a.test, a.seed)))


if __name__ == "__main__":
    main()
