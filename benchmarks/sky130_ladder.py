"""Bench of the transistor-level CMRU ladder (cosim.pdk.ladder), sky130, ngspice 39.

Run from the repository root:  .venv/bin/python benchmarks/sky130_ladder.py [a b c d e ...]
Prints a summary per test; CPU seconds are ngspice child-process user+sys time.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

from cosim.pdk.bench import CIRCUITS_DIR, OPTIONS_PA  # noqa: F401  (reference: the tight pA set)
from cosim.pdk.ladder import ladder_ic, ladder_stages, ladder_subckt
from cosim.pdk.sky130 import trimmed_library
from cosim.spice import run_netlist

K = 4
DT, T_ON, TP, T_SAMPLE = 10e-3, 1e-3, 0.25e-3, 9e-3
HERE = Path(__file__).resolve().parent
#: options used: OPTIONS_PA with reltol 1e-3 (not 1e-4) and vntol 1e-6: same rungs and
#: output currents (to 1e-4 relative) on a 10-step check, and the runs fit the CPU budget
OPTS = "abstol=1e-15 reltol=1e-3 vntol=1e-6 gmin=1e-16 method=gear"


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def pwl(times: list[float], amp: float = 1e-9) -> str:
    """Trapezoid pulses (0 -> amp over TP/2, flat TP/2, down TP/2) starting at each time."""
    pts = ["0 0"]
    for t in times:
        pts += [f"{t:.7g} 0", f"{t + TP / 2:.7g} {amp:g}", f"{t + TP:.7g} {amp:g}", f"{t + 1.5 * TP:.7g} 0"]
    return "pwl(" + " ".join(pts) + ")"


def netlist(u: list[int], s0: int, *, corner: str = "tt", temp: float = 27.0, alpha: float = 1e-9,
            tmax: float = 0.25e-3, design: dict | None = None) -> str:
    """Bench: ladder on rung s0, update u[n] in {-1,0,1} at step n, out held at 0.9 V."""
    ups = [n * DT + T_ON for n, x in enumerate(u) if x > 0]
    dns = [n * DT + T_ON for n, x in enumerate(u) if x < 0]
    saves = " ".join(f"v(xl.s_{s})" for s in ladder_stages(K))
    return "\n".join([
        "cmru ladder bench",
        f'.include "{trimmed_library(corner)}"',
        f'.include "{CIRCUITS_DIR / "sky130_ladder.lib"}"',
        ladder_subckt(K, "lad", alpha=alpha, **(design or {})),
        "vdd vdd 0 1.8",
        f"iup 0 up {pwl(ups)}",
        f"idn 0 dn {pwl(dns)}",
        "vout out 0 0.9",
        "xl up dn out vdd 0 lad",
        ladder_ic("xl", K, s0),
        f".options {OPTS}",
        f".temp {temp:g}",
        f".save {saves} i(vout) i(vdd) time",
        f".tran {tmax / 2:g} {len(u) * DT:g} 0 {tmax:g}",
        ".end"])


def simulate(u, s0, **kw) -> tuple[dict, float]:
    c = cpu()
    res = run_netlist(netlist(list(u), s0, **kw), timeout_s=1800)
    w = {k: np.asarray(v) for k, v in res.waveforms.items()}
    return w, cpu() - c


def rungs(w: dict, nsteps: int) -> tuple[np.ndarray, np.ndarray]:
    """Rung read at 9 ms of every step (P on count - N on count) and a thermometer-valid flag."""
    t = w["time"]
    ts = np.arange(nsteps) * DT + T_SAMPLE
    st = {s: np.interp(ts, t, w[f"v(xl.s_{s})"]) > 0.9 for s in ladder_stages(K)}
    p = np.array([st[f"p{k}"] for k in range(1, K + 1)])   # (K, n)
    n = np.array([st[f"n{k}"] for k in range(1, K + 1)])
    r = p.sum(0) - n.sum(0)
    # valid thermometer: P_k on iff r >= k, N_k on iff r <= -k
    kk = np.arange(1, K + 1)[:, None]
    valid = np.all(p == (r[None] >= kk), 0) & np.all(n == (-r[None] >= kk), 0)
    return r, valid


def iout(w: dict, ts) -> np.ndarray:
    return np.interp(ts, w["time"], w["i(vout)"])  # current into the 0.9 V source = delivered by out



def count_devices(K: int = K) -> dict:
    """FET instances and unit devices (m counted) of the K ladder, sub-cells expanded."""
    lib = (CIRCUITS_DIR / "sky130_ladder.lib").read_text()
    per = {}
    for cell in ("sky130_lad_cell", "sky130_lad_dpi"):
        body = lib[lib.index(f".subckt {cell}"):lib.index(f".ends {cell}")]
        per[cell] = sum(1 for ln in body.splitlines() if ln.startswith("XM") or ln.startswith("XN") or ln.startswith("XP"))
    inst = units = 0
    for ln in ladder_subckt(K, "lad").splitlines():
        if ln.startswith("X"):
            mult = int(ln.split(" m=")[1].split()[0]) if " m=" in ln else 1
            inst += 1
            units += mult
        elif ln.startswith("xs_"):
            inst += per["sky130_lad_cell"]; units += per["sky130_lad_cell"]
        elif ln.startswith("xd_"):
            inst += per["sky130_lad_dpi"]; units += per["sky130_lad_dpi"]
    return {"fet_instances": inst, "unit_fets": units, "per_cell": per, "mim_caps": 2 * K}


def test_a(steps: int = 100, rungs_list=range(-K, K + 1)) -> dict:
    """HOLD: from each rung, `steps` steps without update."""
    out = {}
    for k in rungs_list:
        w, c = simulate([0] * steps, k, tmax=1e-3)
        r, valid = rungs(w, steps)
        ts = np.arange(steps) * DT + T_SAMPLE
        io = iout(w, ts)
        t = w["time"]
        dev = 0.0
        for sid in ladder_stages(K):
            v = w[f"v(xl.s_{sid})"]
            on = (k >= int(sid[1:])) if sid[0] == "p" else (-k >= int(sid[1:]))
            dev = max(dev, float(np.max(np.abs(v - (1.8 if on else 0.0)))))
        last = t >= t[-1] - DT
        pw = float(-np.mean(w["i(vdd)"][last]) * 1.8)
        out[k] = {"rung_ok_all_steps": bool(np.all(r == k) and valid.all()),
                  "iout_first_nA": io[0] * 1e9, "iout_last_nA": io[-1] * 1e9,
                  "iout_drift_pA": (io[-1] - io[0]) * 1e12, "iout_maxdev_pA": float(np.max(np.abs(io - io[0])) * 1e12),
                  "state_max_dev_from_rail_V": dev, "power_nW": pw * 1e9, "cpu_s": c, "cpu_per_step": c / steps}
        print(f"  hold rung {k:+d}: ok={out[k]['rung_ok_all_steps']} iout {io[0]*1e9:+.5f} nA, drift "
              f"{out[k]['iout_drift_pA']:+.3f} pA, state dev {dev*1e3:.3f} mV, P={pw*1e9:.2f} nW, cpu {c:.1f} s", flush=True)
    return out


#: from -K: one down (saturation), 2K ups (every up move), one more up (saturation),
#: 2K downs (every down move), one more down (saturation)
B_SEQ = [-1] + [1] * (2 * K + 1) + [-1] * (2 * K + 1)


def test_b(corner: str = "tt", temp: float = 27.0) -> dict:
    """ONE RUNG PER PULSE from every rung, both directions, with saturation at both ends."""
    w, c = simulate(B_SEQ, -K, corner=corner, temp=temp)
    r, valid = rungs(w, len(B_SEQ))
    want, st = [], -K
    for x in B_SEQ:              # saturating ladder: clip at every step
        st = max(-K, min(K, st + x))
        want.append(st)
    want = np.array(want)
    io = iout(w, np.arange(len(B_SEQ)) * DT + T_SAMPLE)
    ok = bool(np.all(r == want) and valid.all())
    res = {"corner": corner, "temp": temp, "ok": ok, "rungs": r.tolist(), "want": want.tolist(),
           "valid": bool(valid.all()), "iout_nA": (io * 1e9).round(5).tolist(),
           "iout_err_max_pA": float(np.max(np.abs(io - want * 1e-9)) * 1e12), "cpu_s": c, "cpu_per_step": c / len(B_SEQ)}
    print(f"  b {corner} {temp:g}C: ok={ok} rungs {r.tolist()} (want {want.tolist()}), "
          f"|iout - s*alpha| max {res['iout_err_max_pA']:.2f} pA, cpu {c:.1f} s", flush=True)
    return res


def _updates() -> dict:
    """The shipped cmru_counting model on 20 held-out sequences: its update z*sign(c) per step
    and channel (u), the software ladder state (state) and alpha (units of 1 nA)."""
    from cosim.hw.reference import run_reference
    from cosim.hw.source import load_source

    src = load_source(str(HERE.parent / "models" / "cmru_counting"))
    tr = run_reference(src.ir, src.task.x_test[:20]).layers[0]
    u = tr.gate * np.where(tr.candidate >= 0, 1, -1)
    return {"u": u, "state": tr.state, "alpha": np.asarray(src.ir.layers[0].alpha)}


def test_c(pairs) -> dict:
    """REAL UPDATE SEQUENCES from the shipped model: per-step rung agreement."""
    d = _updates()
    out = {}
    for pair in pairs:
        seq, ch = pair[:2]
        n = pair[2] if len(pair) > 2 else d["u"].shape[1]   # optional: first n steps only
        u = d["u"][seq, :n, ch].astype(int).tolist()
        want = d["state"][seq, :n, ch].astype(int)
        alpha = float(d["alpha"][ch]) * 1e-9
        w, c = simulate(u, 0, alpha=alpha)
        r, valid = rungs(w, len(u))
        io = iout(w, np.arange(len(u)) * DT + T_SAMPLE)
        agree = float(np.mean(r == want))
        bad = np.nonzero(r != want)[0].tolist()
        out[f"{seq},{ch},{n}"] = {"agree": agree, "n_updates": int(np.count_nonzero(u)), "first_bad_steps": bad[:10],
                              "valid": bool(valid.all()), "iout_err_max_pA": float(np.max(np.abs(io - want * alpha)) * 1e12),
                              "cpu_s": c, "cpu_per_step": c / len(u)}
        print(f"  c seq {seq} ch {ch} (alpha {alpha*1e9:.3f} nA, {np.count_nonzero(u)} updates): agreement "
              f"{agree*100:.2f}% ({len(u)-len(bad)}/{len(u)}), bad steps {bad[:10]}, |iout - s*alpha| max "
              f"{out[f'{seq},{ch},{n}']['iout_err_max_pA']:.2f} pA, cpu {c:.0f} s ({c/len(u):.2f} s/step)", flush=True)
    return out


if __name__ == "__main__":
    tests = sys.argv[1:] or ["b", "a", "c", "d"]
    results = {}
    t0 = time.time()
    if "d" in tests:
        results["d_devices"] = count_devices()
        print("d devices:", results["d_devices"], flush=True)
    if "b" in tests:
        print("b: one rung per pulse, tt 27 C", flush=True)
        results["b"] = test_b()
    if "a" in tests or "d" in tests:
        print("a: hold, 100 steps per rung (also d: static power per rung)", flush=True)
        results["a"] = test_a()
    if "c" in tests or "c2" in tests:
        print("c: real update sequences", flush=True)
        pairs = [(1, 2), (2, 2), (0, 0, 64)] if "c" in tests else []
        if "c2" in tests:
            pairs = [(2, 2), (0, 0, 64)]
        results["c"] = test_c(pairs)
    if "e" in tests:
        print("e: corners for test b", flush=True)
        results["e"] = [test_b(cn, tc) for cn, tc in (("ss", 27.0), ("ff", 27.0), ("tt", 85.0))]
    name = "_".join(tests)
    out = Path(os.environ.get("COSIM_BENCH_OUT", "."))
    (out / f"sky130_ladder_{name}.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"wall {time.time() - t0:.0f} s; results in {out / f'sky130_ladder_{name}.json'}")
