"""Figures of the sky130 calibration (`cosim characterize`): mirror gains, bistable switching points."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import save_figure

def plot_calibration(doc: dict, out: Path, stem: str = "") -> list:
    """Figures of the calibration document into `out`; returns the paths."""
    paths = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for m in doc["mirrors"]:
        err = 100 * np.asarray(m["gain_error"])
        label = f"{m['polarity']}-bank, {'cascode' if m['cascode'] else 'plain'}"
        axes[0].plot(m["vout_v"], err[0, :, 3], "o-", label=label)
        axes[1].plot(m["currents_na"], err[-1, 1, :], "o-", label=label)
    axes[0].set(xlabel="output voltage (V; p-bank: below vdd)", ylabel="gain error (%)",
                title="gain vs output voltage (N = 1, 1 nA)")
    axes[1].set(xscale="log", xlabel="input current (nA)", ylabel="gain error (%)",
                title=f"gain vs input current (N = {doc['mirrors'][0]['counts'][-1]}, 0.9 V)")
    for ax in axes:
        ax.grid(alpha=.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"sky130 mirror banks, {doc['corner']} / {doc['temp_c']:g} °C")
    fig.tight_layout()
    paths.append(save_figure(fig, Path(out) / f"{stem}mirrors.png", dpi=110))
    plt.close(fig)
    if "schmitt" in doc:
        paths.append(plot_bistable(doc["schmitt"], Path(out) / f"{stem}bistable.png"))
    return paths


def plot_bistable(doc: dict, path) -> Path:
    """Measured switching points against the thresholds the biases intend."""
    rows = [r for r in doc["grid"] if r["beta2"] is not None and r["beta1"] is not None]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([r["ithresh"] for r in rows], [r["beta2"] for r in rows], "o", label="β2 measured")
    ax.plot([r["ithresh"] - r["iwidth"] for r in rows], [r["beta1"] for r in rows], "s", label="β1 measured")
    lim = max(r["ithresh"] for r in rows) * 1.1
    ax.plot([0, lim], [0, lim], "k:", lw=1, label="bias = threshold")
    ax.set(xlabel="intended threshold from biases (nA)", ylabel="measured switching point (nA)",
           title="sky130 bistable cell, uncalibrated")
    ax.grid(alpha=.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)
