"""Behavioral subcircuits of circuits/ simulated in the real ngspice.

Units: currents in nA in the test tables (ports carry A), times in s.
Every figure asserted here is printed (pytest -s) so it can be reported.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from cosim.netlist.ladder import ladder_subckt, ladder_timing
from cosim.netlist.library import CIRCUITS_DIR, include_line
from cosim.spice import run_netlist
from cosim.analysis.calibrate import dyn_calibration, dyn_fixed_points

NA = 1e-9
INC = include_line()


def netlist(body: str, analysis: str, extra_inc: str = "") -> str:
    return f"cosim circuit test\n{INC}\n{extra_inc}{body}\n{analysis}\n.end\n"


def pwl(points: list[tuple[float, float]]) -> str:
    """PWL source text from (t [s], I [nA]) points."""
    return "pwl(" + " ".join(f"{t:.9g} {i * NA:.9g}" for t, i in points) + ")"


def crossings(x: np.ndarray, y: np.ndarray, level: float) -> tuple[list[float], list[float]]:
    """Values of x where y crosses ``level`` upwards / downwards (linear interp.)."""
    up, dn = [], []
    for i in np.nonzero((y[:-1] < level) != (y[1:] < level))[0]:
        f = (level - y[i]) / (y[i + 1] - y[i])
        (up if y[i + 1] > y[i] else dn).append(float(x[i] + f * (x[i + 1] - x[i])))
    return up, dn


# --------------------------------------------------------------------------- mirror

def test_mirror_gain_and_fanout():
    gains = [0.15, 1.0, 2.7]
    body = []
    for j, w in enumerate(gains):
        body += [f"ii{j} 0 in{j} dc 0.5n", f"xm{j} in{j} o{j} mirror w={w}", f"vo{j} o{j} 0 0"]
    body += ["iis 0 ins dc 0.8n", "xs ins os mirror_sink w=0.6", "vos os 0 0"]
    # builder pattern: one sense source, weighted F outputs (+ bank and - bank) into one node
    body += ["iif 0 inf dc 1n", "vsf inf 0 0", "fp1 0 sum vsf 0.75", "fn1 sum 0 vsf 0.25",
             "fp2 0 sum vsf 0.1", "vsum sum 0 0"]
    r = run_netlist(netlist("\n".join(body), ".op"))
    errs = []
    for j, w in enumerate(gains):
        errs.append(abs(r.current(f"vo{j}")[0] / (w * 0.5 * NA) - 1))
    errs.append(abs(r.current("vos")[0] / (-0.6 * 0.8 * NA) - 1))
    errs.append(abs(r.current("vsum")[0] / ((0.75 - 0.25 + 0.1) * NA) - 1))
    # the input is a virtual ground: the whole input current flows in the sense source
    assert r.current("xm0.vs")[0] == pytest.approx(0.5 * NA, rel=1e-9)
    print(f"mirror max relative gain error {max(errs):.2e}")
    assert max(errs) < 1e-3


# --------------------------------------------------------------------- bistable cells

FQ_CASES = [(0.7, 0.4, 1.0), (1.5, 0.5, 2.0), (0.3, 0.1, 0.5)]  # ithresh, iwidth, igain (nA)


@pytest.mark.parametrize("model", ["bist_latch", "bist_dyn"])
def test_first_quadrant_cell_switching_points(model):
    # slow triangle 0 -> beta2 + delta/2 -> 0; the rate per width is the same for all cases
    half = 20e-3 if model == "bist_latch" else 60e-3
    body = []
    for j, (th, wd, g) in enumerate(FQ_CASES):
        peak = th + 0.5 * wd
        body += [f"ii{j} 0 in{j} {pwl([(0, 0), (half, peak), (2 * half, 0)])}",
                 f"x{j} in{j} o{j} {model} igain={g}n ithresh={th}n iwidth={wd}n",
                 f"vo{j} o{j} 0 0"]
    r = run_netlist(netlist("\n".join(body), f".tran {half / 2000:.6g} {2 * half:.6g}"))
    print(f"\n{model}: {len(r.time)} points, {r.wall_s:.2f} s")
    for j, (th, wd, g) in enumerate(FQ_CASES):
        x = r.voltage(f"x{j}.x")  # input in nA (1 V per nA)
        up, dn = crossings(x, r.voltage(f"x{j}.u"), 0.5)
        assert len(up) == 1 and len(dn) == 1, (up, dn)
        e_up, e_dn = (up[0] - th) / wd, (dn[0] - (th - wd)) / wd
        i_top = r.sample(f"i(vo{j})", half) / NA
        print(f"  beta2={th} beta1={th - wd:.2f}: up at {up[0]:.4f} ({100 * e_up:+.2f}% of width), "
              f"down at {dn[0]:.4f} ({100 * e_dn:+.2f}%), high output {i_top:.5f} nA (igain {g})")
        assert abs(e_up) < 0.02 and abs(e_dn) < 0.02
        assert i_top == pytest.approx(g, rel=1e-3)


@pytest.mark.parametrize("model", ["bist_latch", "bist_dyn"])
def test_first_quadrant_cell_holds_inside_window(model):
    th, wd, g = 0.7, 0.4, 1.0
    b1, mid = th - wd, th - wd / 2
    seq = [(0, mid), (2e-3, mid), (2.01e-3, th - 0.1 * wd), (4e-3, th - 0.1 * wd),   # low held
           (4.01e-3, th + 0.3 * wd), (4.5e-3, th + 0.3 * wd), (4.51e-3, mid),          # set
           (6e-3, mid), (6.01e-3, b1 + 0.1 * wd), (8e-3, b1 + 0.1 * wd),               # high held
           (8.01e-3, b1 - 0.3 * wd), (8.5e-3, b1 - 0.3 * wd), (8.51e-3, mid), (10e-3, mid)]
    body = [f"ii 0 in {pwl(seq)}", f"x0 in o0 {model} igain={g}n ithresh={th}n iwidth={wd}n s0=0",
            "vo0 o0 0 0",
            f"ii1 0 in1 dc {mid}n", f"x1 in1 o1 {model} igain={g}n ithresh={th}n iwidth={wd}n s0=1",
            "vo1 o1 0 0"]
    r = run_netlist(netlist("\n".join(body), ".tran 10u 10m"))
    lo_tol = 0.0 if model == "bist_latch" else 0.06  # dynamic cell leaks u_lo < (1-a)/2 near the fold
    expect = {1.9e-3: 0, 3.9e-3: 0, 5.9e-3: 1, 7.9e-3: 1, 9.9e-3: 0}
    for t, s in expect.items():
        u = r.sample("v(x0.u)", t)
        assert abs(u - s) <= lo_tol + 1e-9, (t, u, s)
    u1 = r.voltage("x1.u")[r.time > 5e-6]
    assert np.all(u1 > 0.99), u1.min()  # preset high, input mid-window: held for the whole run
    assert r.sample("i(vo1)", 9e-3) == pytest.approx(g * NA * r.sample("v(x1.u)", 9e-3), rel=1e-6)


def test_dynamic_cell_calibration_matches_fixed_points():
    """The calibrated folds (Python mirror of the library formula) sit at beta2/beta1."""
    cal = dyn_calibration(0.7, 0.4, 20.0)
    n_fp = {x: len(dyn_fixed_points(x, cal)) for x in (0.29, 0.31, 0.5, 0.69, 0.71)}
    assert n_fp == {0.29: 1, 0.31: 3, 0.5: 3, 0.69: 3, 0.71: 1}
    stab = [s for _, s in dyn_fixed_points(0.5, cal)]
    assert stab == [True, False, True]  # the unstable middle branch


def test_symmetric_cell_switching_and_hold():
    cases = [(0.5, 0.5, 1.0), (1.2, -1.2, 0.8)]  # |beta| (nA), current fed to beta port, igain
    T = 40e-3
    body = []
    for j, (b, bin_, g) in enumerate(cases):
        pk = 1.5 * b
        body += [f"ic{j} 0 c{j} {pwl([(0, -pk), (T / 2, pk), (T, -pk)])}",
                 f"ib{j} 0 b{j} dc {bin_}n",
                 f"x{j} c{j} b{j} o{j} bist_sym igain={g}n s0=-1", f"vo{j} o{j} 0 0"]
    # hold test: c inside (-|beta|, |beta|) keeps either state
    seq = [(0, 0), (2e-3, 0.4), (3e-3, 0.4), (3.01e-3, 0.6), (3.5e-3, 0.6), (3.51e-3, 0),
           (5e-3, 0), (5.01e-3, -0.45), (7e-3, -0.45), (7.01e-3, -0.6), (7.5e-3, -0.6),
           (7.51e-3, 0.2), (10e-3, 0.2)]
    body += [f"ich 0 ch {pwl(seq)}", "ibh 0 bh dc 0.5n", "xh ch bh oh bist_sym igain=1n s0=1",
             "voh oh 0 0"]
    r = run_netlist(netlist("\n".join(body), f".tran {T / 4000:.6g} {T:.6g}"))
    for j, (b, _, g) in enumerate(cases):
        up, dn = crossings(r.voltage(f"x{j}.xc"), r.voltage(f"x{j}.u"), 0.0)
        assert len(up) == 1 and len(dn) == 1, (up, dn)
        e_up, e_dn = (up[0] - b) / b, (dn[0] + b) / b
        print(f"\nbist_sym |beta|={b}: up at {up[0]:+.4f} ({100 * e_up:+.2f}% of |beta|), "
              f"down at {dn[0]:+.4f} ({100 * e_dn:+.2f}%)")
        assert abs(e_up) < 0.02 and abs(e_dn) < 0.02
        assert r.sample(f"i(vo{j})", T / 2) / NA == pytest.approx(g, rel=1e-6)
        assert r.sample(f"i(vo{j})", 0.999 * T) / NA == pytest.approx(-g, rel=1e-6)
    expect = {1.9e-3: 1, 2.9e-3: 1, 4.9e-3: 1, 6.9e-3: 1, 7.3e-3: -1, 9.9e-3: -1}
    for t, s in expect.items():
        assert r.sample("v(xh.u)", t) == pytest.approx(s, abs=1e-9), t


# ----------------------------------------------------------------------------- DPI

def test_dpi_linear_step_tau_and_gain():
    cases = [dict(itau=10e-12, ig=20e-12, c=1.5e-12, kappa=0.7, ut=25.9e-3),
             dict(itau=5e-12, ig=5e-12, c=1e-12, kappa=0.65, ut=25e-3)]
    t0, iin, T = 1e-3, 1.0, 80e-3
    body = []
    for j, p in enumerate(cases):
        args = " ".join(f"{k}={v:g}" for k, v in p.items())
        body += [f"ii{j} 0 in{j} {pwl([(0, 0), (t0, 0), (t0 + 1e-6, iin), (T, iin)])}",
                 f"x{j} in{j} o{j} dpi {args}", f"vo{j} o{j} 0 0"]
    r = run_netlist(netlist("\n".join(body), f".tran 20u {T:g} 0 20u"))
    for j, p in enumerate(cases):
        tau = p["c"] * p["ut"] / (p["kappa"] * p["itau"])
        gain = p["ig"] / p["itau"]
        t, y = r.time, r.current(f"vo{j}") / NA
        yinf = y[-1]
        # fit tau on 0.1..3 tau after the step: ln(1 - y/yinf) = -(t - t0)/tau
        m = (t > t0 + 0.1 * tau) & (t < t0 + 3 * tau)
        slope = np.polyfit(t[m] - t0, np.log(1 - y[m] / yinf), 1)[0]
        tau_fit = -1 / slope
        t63 = np.interp(1 - math.exp(-1), y[t > t0] / yinf, t[t > t0]) - t0
        e_tau, e_t63, e_g = tau_fit / tau - 1, t63 / tau - 1, yinf / (gain * iin) - 1
        print(f"\ndpi tau={tau * 1e3:.3f} ms: fitted {tau_fit * 1e3:.4f} ms ({100 * e_tau:+.3f}%), "
              f"t63 {t63 * 1e3:.4f} ms ({100 * e_t63:+.3f}%), DC gain {yinf:.5f} "
              f"({100 * e_g:+.4f}%)")
        assert abs(e_tau) < 0.02 and abs(e_t63) < 0.02 and abs(e_g) < 0.02


def test_dpi_full_form_matches_ode():
    p = dict(itau=10e-12, ig=200e-12, c=1.5e-12, kappa=0.7, ut=25.9e-3)
    args = " ".join(f"{k}={v:g}" for k, v in p.items())
    t0, iin, T = 1e-3, 1.0, 50e-3
    body = [f"ii 0 in {pwl([(0, 0), (t0, 0), (t0 + 1e-6, iin), (T, iin)])}",
            f"x0 in o0 dpi_full {args}", "vo0 o0 0 0",
            f"ii1 0 in1 {pwl([(0, 0), (t0, 0), (t0 + 1e-6, iin), (T, iin)])}",
            f"x1 in1 o1 dpi {args}", "vo1 o1 0 0"]
    r = run_netlist(netlist("\n".join(body), f".tran 10u {T} 0 10u"))
    tau = p["c"] * p["ut"] / (p["kappa"] * p["itau"])
    g, ig, fl = p["ig"] / p["itau"], p["ig"] / NA, 1e-15 / NA
    # reference: tau dv/dt = (g x - ig - e^v)/(e^v + ig) + max(ln fl - v, 0), v = ln(I/nA)
    def f(v, x):
        e = math.exp(v)
        return ((g * x - ig - e) / (e + ig) + max(math.log(fl) - v, 0.0)) / tau
    h = 5e-6
    v = math.log(fl) - 1.0
    ts, vs = [0.0], [math.exp(v)]
    n = int(round(T / h))
    for k in range(n):
        t = k * h
        x0 = 0.0 if t < t0 else iin
        x1 = 0.0 if t + h / 2 < t0 else iin
        k1 = f(v, x0); k2 = f(v + h / 2 * k1, x1); k3 = f(v + h / 2 * k2, x1)
        k4 = f(v + h * k3, 0.0 if t + h < t0 else iin)
        v += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ts.append(t + h); vs.append(math.exp(v))
    y = r.current("vo0") / NA
    ref = np.interp(r.time, ts, vs)
    err = np.max(np.abs(y - ref)) / (g * iin - ig)
    final = y[-1] / (g * iin - ig) - 1
    lin = r.current("vo1") / NA
    t50_full = np.interp(0.5, y / y[-1], r.time) - t0
    t50_lin = np.interp(0.5, lin / lin[-1], r.time) - t0
    print(f"\ndpi_full: max deviation from RK4 {100 * err:.3f}% of final, final value "
          f"{100 * final:+.4f}% from (Ig/Itau) Iin - Ig; t50 full {t50_full * 1e3:.3f} ms "
          f"vs linear {t50_lin * 1e3:.3f} ms")
    assert err < 0.01 and abs(final) < 0.01
    assert t50_full > t50_lin  # the (1 + Ig/I) factor slows the start from ~0


# -------------------------------------------------------------------------- ladder

ALPHA = 1.0  # nA
DT, TP, PSTART = 10e-3, 0.25e-3, 1e-3


def update_pwl(moves: list[int], edge: float = 10e-6) -> str:
    """u(t) = move_k * 1 nA pulse of width TP starting at k*DT + PSTART."""
    pts = [(0.0, 0.0)]
    for k, m in enumerate(moves):
        if m:
            s = k * DT + PSTART
            pts += [(s, 0.0), (s + edge, m), (s + edge + TP, m), (s + 2 * edge + TP, 0.0)]
    pts.append((len(moves) * DT, 0.0))
    return pwl(pts)


def ladder_levels(r, inst: str, n: int) -> np.ndarray:
    return r.sample(f"i(v{inst})", (np.arange(n) + 0.9) * DT) / (ALPHA * NA)


def test_shipped_ladder_k4_is_generator_output():
    assert (CIRCUITS_DIR / "ladder_k4.lib").read_text() == ladder_subckt(4)


def test_ladder_holds_every_rung_100_steps():
    inc = include_line(CIRCUITS_DIR / "ladder_k4.lib") + "\n"
    body = []
    for s0 in range(-4, 5):
        j = s0 + 4
        body += [f"xl{j} u{j} o{j} ladder_k4 s0={s0}", f"vo{j} o{j} 0 0"]  # u left unconnected
    r = run_netlist(netlist("\n".join(body), ".tran 1m 1.0", extra_inc=inc))
    print(f"\nladder hold, 9 ladders x 8 stages x 100 steps: {r.wall_s:.2f} s ngspice")
    for s0 in range(-4, 5):
        lv = ladder_levels(r, f"o{s0 + 4}", 100)
        assert np.all(np.abs(lv - s0) < 1e-6), (s0, lv)
        # and the whole waveform, not just the sample points
        assert np.max(np.abs(r.voltage(f"xl{s0 + 4}.lvl")[r.time > 5e-6] - s0)) < 1e-6


def test_ladder_moves_one_rung_per_pulse_and_saturates():
    rng = np.random.default_rng(7)
    moves = [1] * 6 + [-1] * 10 + [1] * 2 + [0] * 2 + list(rng.choice([-1, 0, 1], 20))
    inc = include_line(CIRCUITS_DIR / "ladder_k4.lib") + "\n"
    body = [f"iu0 0 u0 {update_pwl(moves)}", "xl0 u0 o0 ladder_k4 s0=0", "vo0 o0 0 0",
            f"iu1 0 u1 {update_pwl([-m for m in moves])}", "xl1 u1 o1 ladder_k4 s0=2", "vo1 o1 0 0"]
    n = len(moves)
    r = run_netlist(netlist("\n".join(body), f".tran 50u {n * DT:.6g}", extra_inc=inc))
    for inst, s0, mv in (("o0", 0, moves), ("o1", 2, [-m for m in moves])):
        expect, s = [], s0
        for m in mv:
            s = int(np.clip(s + m, -4, 4))
            expect.append(s)
        lv = ladder_levels(r, inst, n)
        print(f"\nladder s0={s0}: levels {np.round(lv).astype(int).tolist()}")
        assert np.max(np.abs(lv - np.array(expect))) < 1e-6
    assert max(expect) == 4 or min(expect) == -4  # saturation was exercised
    print(f"ladder moves: {n} steps x 2 ladders, {r.wall_s:.2f} s ngspice")


def test_ladder_timing_rule_predicts_double_rung():
    """Tp > tau ln(1/kappa) (= 0.69 tau) breaks the ladder; the checker says so."""
    good = ladder_timing(tau=2e-3, tp=TP, dt=DT)
    bad = ladder_timing(tau=2e-3, tp=2e-3, dt=DT)
    assert good["ok"] and not bad["ok"]
    assert good["tp_max"] == pytest.approx(2e-3 * math.log(2))
    inc = include_line(CIRCUITS_DIR / "ladder_k4.lib") + "\n"
    pts = [(0, 0), (PSTART, 0), (PSTART + 1e-5, 1), (PSTART + 2e-3, 1), (PSTART + 2.01e-3, 0),
           (DT, 0)]
    body = [f"iu 0 u {pwl(pts)}", "xl u o ladder_k4 s0=0", "vo o 0 0"]
    r = run_netlist(netlist("\n".join(body), f".tran 20u {DT}", extra_inc=inc))
    assert ladder_levels(r, "o", 1)[0] == pytest.approx(2, abs=1e-6)  # two rungs for one update


def test_dynamic_cell_ladder_moves():
    moves = [1, 1, -1, -1, -1, 1]
    inc = ladder_subckt(2, "ladder_dyn", cell="dynamic")
    body = [f"iu 0 u {update_pwl(moves)}", "xl u o ladder_dyn s0=0", "vo o 0 0"]
    r = run_netlist(netlist(inc + "\n".join(body), f".tran 20u {len(moves) * DT:.6g}"))
    lv = ladder_levels(r, "o", len(moves))
    assert np.max(np.abs(lv - np.array([1, 2, 1, 0, -1, 0]))) < 0.02, lv


def test_ladder_mismatch_scale_reaches_the_netlist():
    """A per-stage factor (W of P2 doubled: W - A > h) makes one update move two rungs."""
    sub = ladder_subckt(4, "ladder_mm", scale={"w": [1, 2, 1, 1, 1, 1, 1, 1]})
    body = [f"iu 0 u {update_pwl([1, -1])}", "xl u o ladder_mm s0=0", "vo o 0 0"]
    r = run_netlist(netlist(sub + "\n".join(body), f".tran 20u {2 * DT:g}"))
    assert ladder_levels(r, "o", 2).tolist() == pytest.approx([2, 1], abs=1e-6)


# --------------------------------------------------------------------------- clocked cells

def test_clocked_cells_update_only_during_the_clock_pulse():
    """bist_sym_clk / bist_latch_clk: between pulses the inputs cross every threshold
    (and beta changes sign) without effect; during a pulse the settled inputs set,
    reset or hold. Clock: trapezoids (0.125 ms edges) starting at 1, 3, 5, 7, 9 ms.
    (With the continuous bist_sym / bist_latch in their place this test fails.)"""
    clk = "vclk clk 0 pulse(0 1 1m 0.125m 0.125m 0.125m 2m)"
    # bmru: (c, beta) settled at each pulse: set, hold, reset, hold, set
    c = [(0, 0.6), (2e-3, 0.6), (2.01e-3, 0.3), (4e-3, 0.3), (4.01e-3, -0.9), (6e-3, -0.9),
         (6.01e-3, 0.1), (8e-3, 0.1), (8.01e-3, 0.7), (10e-3, 0.7)]
    b = [(0, 0.5), (2.5e-3, 0.5), (2.6e-3, -0.5), (4.2e-3, -0.5), (4.3e-3, 0.5),
         (6.2e-3, 0.5), (6.3e-3, -0.5), (10e-3, -0.5)]
    # between pulses beta swings through 0 (2.5-2.6 ms with the state +1; 6.2-6.3 ms with
    # c = 0.1 > 0 and the state -1: a continuous comparator would set +1 there)
    # first-quadrant, beta1 = 0.3, beta2 = 0.7: spikes far beyond both thresholds between
    # pulses, settled values at the pulses: high, hold, low, hold, high
    x = [(0, 0.9), (2e-3, 0.9), (2.01e-3, 0.5), (2.3e-3, 0.5), (2.31e-3, 0.0), (2.4e-3, 0.0),
         (2.41e-3, 0.5), (4e-3, 0.5), (4.01e-3, 0.1), (6e-3, 0.1), (6.01e-3, 0.5), (6.3e-3, 0.5),
         (6.31e-3, 1.5), (6.4e-3, 1.5), (6.41e-3, 0.5), (8e-3, 0.5), (8.01e-3, 0.8), (10e-3, 0.8)]
    body = [clk, f"ic 0 c {pwl(c)}", f"ib 0 b {pwl(b)}", "xs c b clk os bist_sym_clk igain=1n s0=-1",
            "vos os 0 0", f"ix 0 x {pwl(x)}",
            "xl x clk ol bist_latch_clk igain=2n ithresh=0.7n iwidth=0.4n s0=0", "vol ol 0 0"]
    r = run_netlist(netlist("\n".join(body), ".tran 10u 10m"))
    for t, s_sym, s_q in [(0.9e-3, -1, 0), (1.9e-3, 1, 1), (2.9e-3, 1, 1), (3.9e-3, 1, 1),
                          (5.9e-3, -1, 0), (7.9e-3, -1, 0), (8.9e-3, -1, 0), (9.9e-3, 1, 1)]:
        assert r.sample("v(xs.u)", t) == pytest.approx(s_sym, abs=1e-9), t
        assert r.sample("v(xl.u)", t) == pytest.approx(s_q, abs=1e-9), t
    assert r.sample("i(vol)", 9.9e-3) / NA == pytest.approx(2.0, rel=1e-6)
    # the hazards were there: beta passed zero with c = 0.1 > 0 and the state -1 at
    # ~6.25 ms, x spiked to 0 and to 1.5 between pulses; none of them moved a state
    assert r.sample("v(xs.u)", 6.5e-3) == pytest.approx(-1, abs=1e-9)
    assert r.sample("v(xl.u)", 2.45e-3) == pytest.approx(1, abs=1e-9)
    assert r.sample("v(xl.u)", 6.45e-3) == pytest.approx(0, abs=1e-9)
