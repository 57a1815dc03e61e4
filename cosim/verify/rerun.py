"""`cosim rerun NAME.cir`: run an exported netlist again, as it is on disk (hand
edits included), and compare it with the software reference of its IR.

The export bundle beside the .cir (NAME.hw.json, NAME.inputs.npy,
NAME.probes.json; netlist.bundle) gives the IR, the stimulus the netlist was
written for and the ngspice vectors of every state and readout current. The
comparison is the tie-aware per-step state agreement of `cosim verify`, the
readout current error (units) and, for a classifier, the decision agreement.
No labels travel with the bundle, so no task score. The check fails
when any state differs outside a tie (exit 3).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .. import argtypes as at
from ..errors import CheckFailed, InputError

EPILOG = """examples:
  cosim export models/cmru_counting --out netlists/cmru_counting.cir
  cosim rerun netlists/cmru_counting.cir --json rerun.json"""


def _task_kind(ir) -> str | None:
    """The task kind (classify_each, classify_last, regress_last) of the IR's task, if known."""
    from ..models.recipe import task_from_config

    if not ir.task:
        return None
    try:
        return task_from_config({"task": ir.task}).kind
    except InputError:
        return None


def rerun_bundle(cir, timeout_s: float = 600.0) -> dict:
    """Simulate the exported `cir` in ngspice and compare it with the reference of its IR."""
    import numpy as np

    from ..analysis.agreement import decisions, state_agreement
    from ..backends import simulate
    from ..netlist.bundle import load_bundle
    from ..netlist.sampling import step_signals
    from ..spice import run_netlist

    text, net, ir, x = load_bundle(cir)
    if x.shape[0] != net.copies or x.shape[1] != net.n_steps:
        raise InputError(f"{cir}: stimulus {x.shape} does not match the probe map "
                         f"({net.copies} copies x {net.n_steps} steps)")
    t0 = time.perf_counter()
    sig = step_signals(run_netlist(text, timeout_s=timeout_s), net, ir.timing)
    wall = time.perf_counter() - t0
    ref = simulate(ir, x, backend="reference").detail
    states = [np.stack([copy[l] for copy in sig.states]) for l in range(len(ir.layers))]
    outputs = np.stack(sig.outputs)
    sa = state_agreement(ir, ref, states)
    err = np.abs(outputs - ref.outputs)
    kind = _task_kind(ir)
    d_c = None if kind is None else decisions(outputs, kind, ir.pool)
    d_r = None if kind is None else decisions(ref.outputs, kind, ir.pool)
    return {"netlist": str(cir), "sequences": int(x.shape[0]), "steps": int(x.shape[1]),
            "state_agreement": sa.state_agreement, "agreement_non_tie": sa.agreement_non_tie,
            "states": sa.states, "n_ties": sa.n_ties, "n_after_tie": sa.n_after_tie,
            "n_downstream": sa.n_downstream,
            "n_disagreements": sa.n_disagreements,
            "disagreements": sa.disagreements[:20],
            "output_error_max": float(err.max()), "output_scale": float(np.abs(ref.outputs).max()),
            "decision_agreement": None if d_r is None else float((d_c == d_r).mean()),
            "ngspice_wall_s": wall}


def format_rerun(r: dict) -> str:
    dec = "" if r["decision_agreement"] is None else f", decisions agree {r['decision_agreement']:.1%}"
    return (f"{r['netlist']}: {r['sequences']} sequence(s) x {r['steps']} steps re-simulated "
            f"({r['ngspice_wall_s']:.1f} s)\n"
            f"  states agree {r['state_agreement']:.2%} ({r['n_ties']} ties, "
            f"{r['n_disagreements']} real disagreements){dec}\n"
            f"  readout error max {r['output_error_max']:.3g} units (scale {r['output_scale']:.3g})")


def _cmd_rerun(args) -> None:
    from ..fileio import atomic_write_text

    r = rerun_bundle(args.netlist, timeout_s=args.timeout)
    print(format_rerun(r))
    if args.json:
        atomic_write_text(Path(args.json), json.dumps(r, indent=1))
    if r["n_disagreements"]:
        raise CheckFailed(f"{r['n_disagreements']} cell state(s) differ from the software reference "
                          "outside a tie")


def add_cli(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("rerun", help="run an exported .cir again and compare it with its IR's software reference",
                       description=__doc__.split("\n\n")[0].replace("`cosim rerun NAME.cir`: ", ""),
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("netlist", help="an exported NAME.cir (with its .hw.json, .inputs.npy, .probes.json)")
    p.add_argument("--json", default=None, help="also write the comparison as JSON here")
    p.add_argument("--force", action="store_true", help="overwrite an existing --json file")
    p.add_argument("--timeout", type=at.timeout_s, default=600.0, help="ngspice time limit (s, > 0)")
    p.set_defaults(func=_cmd_rerun)
    return p
