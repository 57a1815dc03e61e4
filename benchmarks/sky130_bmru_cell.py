"""Bench for sky130_bmru_clk (circuits/sky130_bmru.lib): DC thresholds, output level and
compliance, clock gating (100-step transient), supply, corners, mismatch, CPU time.
Run from the repository root: .venv/bin/python benchmarks/sky130_bmru_cell.py [sections]
sections: thr out tran supply corners mm  (default: all)"""
import os, sys, time, resource
import numpy as np
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from cosim.pdk.sky130 import trimmed_library
from cosim.spice import run_netlist

LIB = os.environ.get("BMRU_LIB", str(Path(__file__).resolve().parents[1] / "circuits" / "sky130_bmru.lib"))
OPT = ".options abstol=1e-14 reltol=1e-3 vntol=1e-7 gmin=1e-15 method=gear"
VOUT = 0.9


def net(body, analysis, corner="tt", temp=27, mismatch=False):
    return "\n".join(["* bmru bench", f'.include "{trimmed_library(corner, mismatch)}"', f'.include "{LIB}"',
                      "vdd vdd 0 1.8", body, OPT, f".temp {temp}", analysis, ".end"])


def sim(body, analysis, seed=0, **kw):
    r = run_netlist(net(body, analysis, **kw), seed=seed, timeout_s=900)
    return {k: np.asarray(v) for k, v in r.waveforms.items()}


def cell(igain=1e-9, msize=1, extra=""):
    return f"x1 c beta clk out vdd 0 sky130_bmru_clk igain={igain:g} msize={msize:g} {extra}"


# ---------------------------------------------------------------- 1. DC thresholds
def threshold(b_na, up, corner="tt", temp=27, msize=1, mismatch=False, seed=0, win=0.04, nfine=160):
    """c (nA) where q crosses vdd/2, clk held high, beta = b_na (signed). DC sweep of c
    (VCCS from v(ctl2) = pwl(v(ctl))) in fine steps (2 win |b| / nfine) over +-win |b|
    around the expected threshold (+|b| for up=True, -|b| otherwise), then coarser to
    +-1.4 |b|. The first 30 sweep points (c held) preset the state: a bench-only B-source
    pulls (2|b| + 0.5 nA) * exp(-0.7 ctl) out of the internal comparison node x2 (reset, up sweep) or x1 (set, down
    sweep); it decays to ~0 before the sweep proper, so the sweep then follows its branch
    (the preset state is held by the cell at the first point, inside the hold region).
    beta = 0: window -20..+20 pA in 0.1 pA steps (the thresholds are +-itie)."""
    a = abs(b_na)
    if a < 1e-12:
        t, lo_, hi_ = 0.0, -0.02, 0.02
        nfine = 400
    else:
        t = a if up else -a
        lo_, hi_ = t - win * a, t + win * a
    start, stop = (lo_, hi_) if up else (hi_, lo_)
    far = (stop + 0.4 * max(a, 0.05)) if up else (stop - 0.4 * max(a, 0.05))
    pw = f"0, {start:.6e}, 30, {start:.6e}, {30 + nfine}, {stop:.6e}, {40 + nfine}, {far:.6e}"
    node = "x1.x2" if up else "x1.x1"
    ipre = (2 * max(a, 0.05) + 0.5) * 1e-9
    body = f"""vctl ctl 0 0
bctl ctl2 0 v = pwl(v(ctl), {pw})
gc 0 c ctl2 0 1e-9
bpre {node} 0 i = {ipre:.4e} * exp(-0.7 * v(ctl))
ib 0 beta {b_na * 1e-9:.6e}
vclk clk 0 1.8
vout out 0 {VOUT}
{cell(msize=msize)}
.save v(ctl) v(ctl2) v(x1.q) v(x1.set) v(x1.rst) i(vdd)"""
    w = sim(body, f".dc vctl 0 {40 + nfine} 1", corner=corner, temp=temp, mismatch=mismatch, seed=seed)
    x = w["v(ctl2)"]
    q = w["v(x1.q)"] > 0.9
    w = dict(w, c=x)
    # decision = the latch input (set for up, rst for down) crossing vdd/2 with clk high:
    # this is where the state flips; it does not depend on the DC solver keeping the
    # latch on its branch (a non-converged point restarts the .op and can drop the held
    # state of the NOR latch: q-based crossings are kept as w["q_thr"] for comparison)
    g = (w["v(x1.set)"] if up else w["v(x1.rst)"])[30:] > 0.9
    xx = x[30:]
    ch = np.nonzero(g[1:] != g[:-1])[0]
    qch = np.nonzero(q[31:] != q[30:-1])[0]
    w["q_thr"] = float(0.5 * (xx[qch[0]] + xx[qch[0] + 1])) if len(qch) else float("nan")
    if len(ch) == 0 or g[0]:
        return float("nan"), w
    i = ch[0]
    return float(0.5 * (xx[i] + xx[i + 1])), w


POOL = ThreadPoolExecutor(2)


def thresholds(b_na, **kw):
    fp = POOL.submit(threshold, b_na, True, **kw)
    fm = POOL.submit(threshold, b_na, False, **kw)
    (tp, wp), (tm, wm) = fp.result(), fm.result()
    return tp, tm, wp, wm


def err(t, want):
    return 100.0 * (t - want) / abs(want)


def sec_thr():
    print("\n== 1. DC thresholds, clk high, tt 27 C (c where state -> +1 / -> -1)")
    print(" beta nA |  c(+1) nA  err %  |  c(-1) nA  err %  | max supply in sweep nA")
    for b in [0.2, 0.5, 1, 2, 5, -0.2, -0.5, -1, -2, -5, 0.0]:
        tp, tm, wp, wm = thresholds(b)
        imax = max(-wp["i(vdd)"].min(), -wm["i(vdd)"].min()) * 1e9
        if b == 0:
            print(f" {b:6.2f}  | {tp*1e3:8.3f} pA        | {tm*1e3:8.3f} pA        | {imax:.1f}")
        else:
            print(f" {b:6.2f}  | {tp:9.5f} {err(tp, abs(b)):+6.3f} | {tm:9.5f} {err(tm, -abs(b)):+6.3f} | {imax:.1f}"
                  f"   (q-based: {wp['q_thr']:.5f} / {wm['q_thr']:.5f})")


# ---------------------------------------------------------------- 2. output
def sec_out():
    print(f"\n== 2. Output current (out held at {VOUT} V), tt 27 C")
    for ig in [0.5e-9, 1e-9, 2e-9]:
        row = []
        for cv in (2e-9, -2e-9):
            body = f"""ic 0 c {cv:g}
ib 0 beta 0.5n
vclk clk 0 1.8
vout out 0 {VOUT}
{cell(igain=ig)}
.save i(vout) v(x1.q)"""
            w = sim(body, ".op")
            io = float(np.ravel(w["i(vout)"])[0])
            row.append(io)
        print(f" igain {ig*1e9:.1f} nA: +1 -> {row[0]*1e9:.5f} nA ({100*(row[0]/ig-1):+.3f} %)   "
              f"-1 -> {row[1]*1e9:.5f} nA ({100*(-row[1]/ig-1):+.3f} %)")
    print(" over out voltage (igain 1 nA): error % vs v(out)")
    for cv in (2e-9, -2e-9):
        body = f"""ic 0 c {cv:g}
ib 0 beta 0.5n
vclk clk 0 1.8
vout out 0 {VOUT}
{cell()}
.save i(vout) v(out)"""
        w = sim(body, ".dc vout 0 1.8 0.02")
        v, i = w["v(out)"], w["i(vout)"] * (1 if cv > 0 else -1)
        e = 100 * (i / 1e-9 - 1)
        ok = np.abs(e) < 0.5
        # contiguous range around VOUT
        k = int(np.argmin(abs(v - VOUT)))
        a = k
        while a > 0 and ok[a - 1]:
            a -= 1
        b = k
        while b < len(v) - 1 and ok[b + 1]:
            b += 1
        sel = [int(np.argmin(abs(v - x))) for x in (0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6)]
        print(f"  state {'+1' if cv > 0 else '-1'}: " + " ".join(f"{v[j]:.1f}V:{e[j]:+.2f}" for j in sel)
              + f"   |err|<0.5 % for out in [{v[a]:.2f}, {v[b]:.2f}] V")


# ---------------------------------------------------------------- 3. clock gating transient
def rule(c, b, s):
    if c >= abs(b):
        return 1
    if -c >= abs(b):
        return -1
    return s


def draw_steps(n=100, seed=1):
    rng = np.random.default_rng(seed)
    a, bb, near = [], [], []
    s = -1
    for k in range(n):
        beta = rng.uniform(-3, 3)
        if rng.random() < 0.3:      # near a threshold: |c| = |beta| (1 +- 1..5 %)
            d = rng.uniform(0.01, 0.05) * rng.choice([-1, 1])
            c = rng.choice([-1, 1]) * abs(beta) * (1 + d)
            near.append(k)
        else:
            c = rng.uniform(-3, 3)
        s = rule(c, beta, s)
        # later values (clk low): drive the opposite state by a clear margin
        beta2 = rng.uniform(-3, 3)
        c2 = -s * (abs(beta2) + rng.uniform(0.2, 1.0))
        a.append((c, beta))
        bb.append((c2, beta2))
    return a, bb, near


def pwl_text(vals_a, vals_b, idx, step=10e-3, t7=7e-3, edge=10e-6):
    pts = [(0.0, vals_a[0][idx])]
    for k, (va, vb) in enumerate(zip(vals_a, vals_b)):
        t0 = k * step
        if k:
            pts.append((t0 + edge, va[idx]))
        pts += [(t0 + t7, va[idx]), (t0 + t7 + edge, vb[idx]), (t0 + step, vb[idx])]
    return "pwl(" + " ".join(f"{t:.6g} {v * 1e-9:.6e}" for t, v in pts) + ")"


def sec_tran(n=100, pulse=(1e-3, 0.125e-3, 0.125e-3, 0.125e-3), seed=1, corner="tt", temp=27):
    d, r, f, pw = pulse
    a, b, near = draw_steps(n, seed)
    body = f"""ic 0 c {pwl_text(a, b, 0)}
ib 0 beta {pwl_text(a, b, 1)}
vclk clk 0 pulse(0 1.8 {d:g} {r:g} {f:g} {pw:g} 10m)
vout out 0 {VOUT}
{cell()}
.ic v(x1.q)=0
.save time v(x1.q) i(vdd) i(vout)"""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    w = sim(body, f".tran 0.1m {n*10e-3:g} 0 0.1m", corner=corner, temp=temp)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    t, q = w["time"], w["v(x1.q)"]
    s, want = -1, []
    for c, be in a:
        s = rule(c, be, s)
        want.append(s)
    got = [1 if np.interp(10e-3 * k + 9e-3, t, q) > 0.9 else -1 for k in range(n)]
    bad = [k for k in range(n) if got[k] != want[k]]
    # q must be constant outside pulses: check q between pulse end + 0.5 ms and next pulse start
    drift = 0.0
    for k in range(n):
        m = (t > 10e-3 * k + d + r + pw + f + 0.5e-3) & (t < 10e-3 * (k + 1) + d)
        if m.any():
            qq = q[m]
            drift = max(drift, min(abs(qq - 0).max(), abs(qq - 1.8).max()))
    io = np.array([np.interp(10e-3 * k + 9e-3, t, w["i(vout)"]) for k in range(n)])
    io_err = 100 * np.max(np.abs(np.abs(io) / 1e-9 - 1))
    print(f"\n== 3. clock gating, pulse delay {d*1e3:g} ms rise {r*1e3:g} ms width {pw*1e3:g} ms, {corner} {temp} C:"
          f" {n - len(bad)}/{n} steps agree with the rule ({len(near)} near-threshold steps);"
          f" max |q - rail| outside pulses {drift*1e3:.2f} mV; max |i(out)| error at 9 ms {io_err:.3f} %;"
          f" wall {time.time()-t0:.1f} s, ngspice CPU {cpu:.1f} s, {len(t)} timepoints")
    for k in bad:
        c, be = a[k]
        print(f"   mismatch step {k}: c={c:.4f} beta={be:.4f} want {want[k]} got {got[k]} (|c|-|beta| = {(abs(c)-abs(be))*1e3:.1f} pA)")
    return w


# ---------------------------------------------------------------- 4. supply
def sec_supply():
    print("\n== 4. Static supply current (1.8 V), tt 27 C, igain 1 nA, out at 0.9 V")
    for clk in (1.8, 0.0):
        for cv, bv in [(1e-9, 0.5e-9), (-1e-9, 0.5e-9), (0.2e-9, 0.5e-9), (0.0, 0.0), (3e-9, -2e-9)]:
            for q0 in (1.8, 0.0):
                body = f"""ic 0 c {cv:g}
ib 0 beta {bv:g}
vclk clk 0 {clk}
vout out 0 {VOUT}
{cell()}
.ic v(x1.q)={q0}
.save v(x1.q) i(vdd) i(vout)"""
                w = sim(body, ".tran 0.1m 2m 0 0.1m")
                qf = float(w["v(x1.q)"][-1])
                idd = -float(w["i(vdd)"][-1])
                if clk > 0 and q0 == 0.0:
                    continue             # with clk high the state is decided by the inputs
                print(f"  clk {'high' if clk else 'low '} c={cv*1e9:+.1f} beta={bv*1e9:+.1f} nA state {'+1' if qf > 0.9 else '-1'}:"
                      f" I(vdd) = {idd*1e9:.3f} nA  P = {1.8*idd*1e9:.2f} nW")


# ---------------------------------------------------------------- 5. corners
def sec_corners():
    print("\n== 5. Corners / temperature, |beta| = 1 nA (both signs): threshold errors %")
    for corner, temp in [("ss", 27), ("ff", 27), ("sf", 27), ("fs", 27), ("tt", -20), ("tt", 85)]:
        out = []
        for b in (1.0, -1.0):
            tp, tm, _, _ = thresholds(b, corner=corner, temp=temp)
            out += [err(tp, 1.0), err(tm, -1.0)]
        print(f"  {corner} {temp:4d} C: beta=+1: {out[0]:+.3f} / {out[1]:+.3f}   beta=-1: {out[2]:+.3f} / {out[3]:+.3f}")


# ---------------------------------------------------------------- 6. mismatch
def sec_mm(nseed=int(os.environ.get('BMRU_SEEDS', '10'))):
    print(f"\n== 6. Mismatch (tt_mm), {nseed} seeds, beta = +1 nA and -1 nA")
    for msize in (1, 2):
        res = []
        for k in range(nseed):
            row = []
            for b in (1.0, -1.0):
                tp, tm, _, _ = thresholds(b, msize=msize, mismatch=True, seed=k + 1)
                row += [err(tp, 1.0), err(tm, -1.0)]
            res.append(row)
        r = np.array(res)
        print(f"  msize {msize}: sigma %: (+thr,b>0) {np.nanstd(r[:,0]):.2f}  (-thr,b>0) {np.nanstd(r[:,1]):.2f}"
              f"  (+thr,b<0) {np.nanstd(r[:,2]):.2f}  (-thr,b<0) {np.nanstd(r[:,3]):.2f};  mean % {np.nanmean(r,0).round(2)}"
              f"  max |err| {np.nanmax(np.abs(r)):.2f} %")


if __name__ == "__main__":
    secs = sys.argv[1:] or ["thr", "out", "tran", "tran2", "supply", "corners", "mm"]
    for s in secs:
        t0 = time.time()
        if s == "thr":
            sec_thr()
        elif s == "out":
            sec_out()
        elif s == "tran":
            sec_tran()
        elif s == "tran2":
            sec_tran(pulse=(4e-3, 0.5e-3, 0.5e-3, 1e-3))
        elif s == "supply":
            sec_supply()
        elif s == "corners":
            sec_corners()
        elif s == "mm":
            sec_mm()
        print(f"   [{s}: {time.time()-t0:.1f} s wall]")
