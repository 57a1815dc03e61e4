"""The export bundle: what an exported netlist needs to be re-compared later.

Beside NAME.cir and NAME.hw.json, export writes
    NAME.inputs.npy     the stimulus (batch, time, n_inputs) in units, float64
    NAME.probes.json    the probe map: ngspice vectors of every cell state
                        (per copy, layer, channel) and readout current (per copy,
                        output), steps, copies, and when the readout is read
so that `load_bundle` rebuilds (netlist text, probe map, IR, stimulus) and the
.cir can be run again and compared with the software reference of its IR.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..hw.ir import HardwareIR
from .builder import Netlist, Probes

BUNDLE_VERSION = 1


def bundle_paths(cir) -> dict:
    """{"cir", "ir", "inputs", "probes"} paths of the bundle of NAME.cir."""
    cir = Path(cir)
    stem = cir.with_suffix("")
    return {"cir": cir, "ir": stem.with_name(f"{stem.name}.hw.json"),
            "inputs": stem.with_name(f"{stem.name}.inputs.npy"),
            "probes": stem.with_name(f"{stem.name}.probes.json")}


def probes_json(net: Netlist) -> str:
    return json.dumps({"bundle_version": BUNDLE_VERSION, "states": net.probes.states,
                       "outputs": net.probes.outputs, "scale": net.probes.scale, "n_steps": net.n_steps, "copies": net.copies,
                       "output_phase": net.output_phase}, indent=1)


def inputs_bytes(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(x, dtype="<f8"), allow_pickle=False)
    return buf.getvalue()


def load_bundle(cir) -> tuple:
    """(netlist text, Netlist with the probe map, HardwareIR, stimulus) of an exported .cir."""
    paths = bundle_paths(cir)
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise InputError(f"{cir}: not a complete export bundle (missing {', '.join(missing)}); "
                         "re-export it with cosim export")
    try:
        doc = json.loads(paths["probes"].read_text())
        if doc.get("bundle_version") != BUNDLE_VERSION:
            raise InputError(f"{paths['probes']}: unknown bundle_version {doc.get('bundle_version')!r}")
        x = np.load(paths["inputs"], allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"{cir}: unreadable bundle file ({exc})") from None
    text = paths["cir"].read_text()
    net = Netlist(text, Probes(states=doc["states"], outputs=doc["outputs"], scale=doc.get("scale", {})), doc["n_steps"],
                  doc["copies"], devices=0, nodes=0, output_phase=doc["output_phase"])
    return text, net, HardwareIR.load(paths["ir"]), x
