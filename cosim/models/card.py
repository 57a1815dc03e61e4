"""Model card (README.md in a checkpoint folder) written from its config.json."""
from __future__ import annotations

from pathlib import Path

from ..fileio import atomic_write_text
from .checkpoint import read_config

SCORE_NAMES = {"classify_each": "per-step accuracy", "classify_last": "accuracy",
               "regress_last": "mean absolute error"}


def _init_state_text(m: dict) -> str:
    if m["cell"] == "schmitt":
        return "learned in {0, 1}"
    return "learned in {-1, +1}" if m["init_state"] is None else f"fixed at {m['init_state']:g}"


def _pool_text(m: dict) -> str:
    if m["pool"] != "lowpass":
        return m["pool"]
    taus = ", ".join(f"{t:g}" for t in m["taus"])
    how = "learned" if m.get("learn_taus", True) else "fixed"
    if any(m.get("periods") or []):
        periods = ", ".join(f"{q:g}" for q in m["periods"])
        return (f"last step of a filter bank per channel: first-order low-pass (period 0) and "
                f"damped resonators, {how} time constants initialised at [{taus}] steps x "
                f"periods [{periods}] steps; trained values in weights.pt "
                f"(lowpass.log_tau, lowpass.omega)")
    return (f"last step of first-order low-pass filters per channel, {how} time constants "
            f"initialised at [{taus}] steps; trained values in weights.pt (lowpass.log_tau)")


def render_card(doc: dict) -> str:
    m, t, met = doc["model"], doc["task"], doc["metrics"]
    cell_names = {"bmru": "BMRU", "cmru": "CMRU", "acmru": "alpha-CMRU",
                  "schmitt": "first-quadrant BMRU (Schmitt trigger)"}
    score = SCORE_NAMES[met["kind"]]
    arch = (f"{m['n_inputs']} inputs -> " + (f"projection {m['proj']} -> " if m["proj"] else "")
            + f"{m['layers']} x {cell_names[m['cell']]} layer(s) of {m['hidden']} channels"
            + f" -> linear readout of {m['n_outputs']}"
            + (" from all layers" if m.get("readout_all") else "")
            + f" (sequence output: {_pool_text(m)})")
    lines = [
        f"# {doc.get('name', 'model')}",
        "",
        f"- **Task:** `{t['name']}` ({', '.join(f'{k}={v}' for k, v in t.items() if k != 'name')})",
        f"- **Architecture:** {arch}",
        f"- **Cell:** eps = {m['eps']} (export needs 0 or 1), ladder K = {m['ladder']}, "
        f"initial state = {_init_state_text(m)}",
        f"- **Held-out test {score}:** {met['test_score']:.4f} on {met['n_test']} sequences",
        f"- **Final train {score}:** {met['train_score']:.4f}; final loss {met['final_loss']:.4f}",
        f"- **Training:** {met['epochs']} epochs, {met['train_seconds']:.0f} s on "
        f"{met['threads']} CPU thread(s), seed {doc['seed']}",
        "",
        "Reproduce:",
        "",
        "```",
        doc["command"],
        "```",
    ]
    return "\n".join(lines) + "\n"


def write_card(folder) -> Path:
    """Write README.md from config.json, plus any study notes (`*_comparison.md`, `notes.md`)."""
    folder = Path(folder)
    extra = "".join(p.read_text() for p in sorted(folder.glob("*.md"))
                    if p.name != "README.md")
    path = folder / "README.md"
    atomic_write_text(path, render_card(read_config(folder)) + extra)
    return path
