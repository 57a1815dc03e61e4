"""Backend `transistor`: the IR's cells at transistor level (sky130), simulated as partitions.

One netlist holding every cell of a model is slow at transistor level (any switching
anywhere shrinks the time step of every device), while the cells are element-wise
recurrent and the layers feed forward within a step. So each cell runs alone, layer
by layer: its drive (the candidate and threshold sums, per step) comes from the
previous layer's *measured* output currents through the IR's mirror banks (ideal,
as in the behavioral netlists), its state and output current are read once per step
(`netlist.sampling`), and those currents feed the next layer. A partition is a
one-channel copy of the layer whose banks pass the precomputed drive through
(identity gains), built by the same builder and the kind's transistor
implementation as a whole-model netlist (`build_netlist(level="transistor")`);
kinds without a transistor cell stay behavioral there. The readout filters and the
readout bank are evaluated as in the software reference, on the measured outputs.

    simulate(ir, x, backend="transistor", pdk=PdkSetup("ss", 85), jobs=2)   # cosim.pdk.netlist

Partitions run in parallel threads (each is an ngspice process), `jobs` at a time,
each ngspice on one thread (spice.run_netlist: 2-thread runs spin-wait for each other
and for other work on the machine; a BMRU loop took 45-106 s on 2 threads, 3-9 s on one).
What partitioning leaves out: loading between cells at their ports (none with the
behavioral banks: their inputs are ideal sense sources) and any coupling through a
shared supply. With PdkSetup(banks="transistor") every mirror bank runs at transistor
level too, each alone per sequence (pdk.banks, through pdk.bank_runner), and the cells'
drive is what the banks deliver; their loads are then ideal 0.9 V sources, not the
cells' input nodes. Simulation.detail holds {levels, ngspice_wall_s, partitions,
power_nw, cell_outputs} and, with transistor banks, {bank_power_nw, banks}: power_nw[l]
is (batch, time, channels), each cell's supply power averaged over each step (nW; the
ideal banks and gates draw nothing), cell_outputs[l] the cells' measured output currents
(batch, time, channels) in units, bank_power_nw[name] (batch, time) nW and banks[name]
the bank's record (pdk.banks.simulate_bank).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..hw.ir import CellLayer, HardwareIR, MirrorBank
from ..hw.kinds import get_kind
from ..hw.kinds.filters import FILTERS
from ..hw.reference import apply_bank
from ..netlist.builder import build_netlist
from ..netlist.sampling import step_signals
from ..netlist.writers import write_netlist
from ..spice import run_netlist
from . import Simulation, register

#: per-channel fields of a CellLayer (sliced for a one-channel partition)
_PER_CHANNEL = ("alpha", "init_state", "beta1", "delta")


def cell_seed(mismatch_seed: int, layer: int, channel: int) -> int:
    """The ngspice seed (cosim seed, >= 0) of one cell's draw in Monte-Carlo draw mismatch_seed."""
    return int(np.random.SeedSequence([int(mismatch_seed), layer, channel]).generate_state(1)[0] % (2 ** 31 - 2))


def channel_ir(ir: HardwareIR, layer: CellLayer, channel: int) -> HardwareIR:
    """A one-cell model: `channel` of `layer` driven straight by its candidate (input 0)
    and, for the signed kinds, its threshold (input 1); the readout is its output."""
    signed = layer.threshold is not None
    n_in = 2 if signed else 1
    fields = {k: np.asarray(getattr(layer, k))[[channel]] for k in _PER_CHANNEL
              if getattr(layer, k) is not None}
    sub = replace(layer, candidate=MirrorBank(np.eye(1, n_in), np.zeros(1)),
                  threshold=MirrorBank(np.eye(1, n_in, 1), np.zeros(1)) if signed else None,
                  ladder_scale=None if not layer.ladder_scale else [layer.ladder_scale[channel]], **fields)
    return replace(ir, n_inputs=n_in, n_outputs=1, layers=[sub], readout=MirrorBank(np.ones((1, 1)), np.zeros(1)),
                   proj=None, readout_all=False, filters=None, mismatch=None)


def drive(layer: CellLayer, h: np.ndarray) -> np.ndarray:
    """(batch, time, channels, 1 or 2) drive of each cell from inputs h (batch, time, n_in):
    the candidate (first quadrant: after its ReLU) and, for signed kinds, the threshold."""
    c, thr, _, _ = get_kind(layer.kind).signals(layer, h, 0.0)
    parts = [c] if layer.threshold is None else [c, np.broadcast_to(thr, c.shape)]
    return np.stack(parts, axis=-1)


def run_partition(sub: HardwareIR, x: np.ndarray, pdk, timeout_s: float, seed: int, threads):
    """(states (time,), output currents (time,) units, levels, ngspice wall s, supply power
    (time,) nW: the cell's supply current averaged over each step, times vdd)."""
    net = build_netlist(sub, x[None], title=f"cosim partition {sub.name}", level="transistor", pdk=pdk)
    if pdk.max_step_s is not None:
        net.circuit.analysis = replace(net.circuit.analysis, max_step_s=pdk.max_step_s)
    net.circuit.saves += ["i(vdd)", "time"]
    res = run_netlist(write_netlist(net.circuit), timeout_s=timeout_s, seed=seed, threads=threads)
    sig = step_signals(res, net, sub.timing)
    power = pdk.vdd_v * step_means(res["time"], -res["i(vdd)"], sub.timing.dt_s, net.n_steps) * 1e9
    return sig.states[0][0][:, 0], sig.outputs[0][:, 0], net.levels, res.wall_s, power


def step_means(t: np.ndarray, v: np.ndarray, dt_s: float, n_steps: int) -> np.ndarray:
    """Time average of the waveform v(t) over each step [k dt, (k+1) dt) (trapezoids on a
    grid holding every simulator time point and every step boundary)."""
    edges = np.arange(n_steps + 1) * dt_s
    grid = np.union1d(t, edges[(edges >= t[0]) & (edges <= t[-1])])
    vg = np.interp(grid, t, v)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (vg[1:] + vg[:-1]) * np.diff(grid))])
    at = np.interp(edges, grid, cum)
    return np.diff(at) / dt_s


@register("transistor")
def run(ir, x, noise=None, *, pdk=None, jobs: int | None = None, timeout_s: float = 900.0,
        seed: int = 0, progress=None) -> Simulation:
    """States per layer (batch, time, channels) and readout outputs (batch, time,
    n_outputs, units) of the IR with every cell at transistor level (module doc).
    pdk: the PDK setup (pdk.netlist.PdkSetup: corner, temperature, calibration);
    progress: optional callable(done, total) after each partition. With
    pdk.mismatch_seed each cell runs under its own draw of the PDK's mismatch, the same
    for every sequence."""
    if noise is not None:
        raise InputError("the transistor backend takes no input noise (use the ngspice or fast backend)")
    if pdk is None:
        raise InputError("the transistor backend needs pdk=cosim.pdk.netlist.PdkSetup(corner, temp_c)")
    irs = list(ir) if isinstance(ir, (list, tuple)) else [ir] * len(x)
    first = irs[0]
    jobs = max(1, jobs or min(8, os.cpu_count() or 1))
    batch, T = x.shape[:2]
    states, outs, power, levels, wall = [], [], [], {}, 0.0
    total = batch * sum(layer.n for layer in first.layers)
    done = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        banks = pdk.bank_runner(pool, first.timing, timeout_s)      # None: ideal banks
        if banks is None:
            h = [apply_bank(m.proj, x[b:b + 1])[0] if m.proj is not None else x[b] for b, m in enumerate(irs)]
        else:
            levels["mirror banks"] = "transistor (each bank alone)"
            h = banks.sums("proj", [m.proj for m in irs], list(x)) if first.proj is not None else list(x)
        for l in range(len(first.layers)):
            futures = {}
            drives = _drives(irs, l, h, banks)
            for b, m in enumerate(irs):
                layer = m.layers[l]
                d = drives[b]                                   # (time, channels, 1|2)
                for i in range(layer.n):
                    cell = seed if pdk.mismatch_seed is None else cell_seed(pdk.mismatch_seed, l, i)
                    futures[b, i] = pool.submit(run_partition, channel_ir(m, layer, i), d[:, i],
                                                pdk, timeout_s, cell, 1)
            st = np.zeros((batch, T, first.layers[l].n))
            out, pw = np.zeros_like(st), np.zeros_like(st)
            for (b, i), fut in futures.items():
                st[b, :, i], out[b, :, i], lv, w, pw[b, :, i] = fut.result()
                levels.update(lv)
                wall += w
                done += 1
                if progress:
                    progress(done, total)
            states.append(st)
            outs.append(out)
            power.append(pw)
            h = [out[b] for b in range(batch)]
        rs = []
        for b, m in enumerate(irs):
            r = np.concatenate([o[b] for o in outs], axis=-1) if m.readout_all else outs[-1][b]
            rs.append(FILTERS.run(m.filters, r[None], m.timing.dt_s)[0] if m.filters is not None else r)
        outputs = ([apply_bank(m.readout, r) for m, r in zip(irs, rs)] if banks is None
                   else banks.sums("readout", [m.readout for m in irs], rs))
    if first.filters is not None:
        levels["readout filters"] = "software reference (on the measured cell outputs)"
    detail = {"levels": levels, "ngspice_wall_s": wall, "partitions": total, "power_nw": power, "cell_outputs": outs}
    if banks is not None:
        detail |= {"bank_power_nw": banks.power, "banks": banks.records}
    return Simulation("transistor", states, np.stack(outputs), detail=detail)


def _drives(irs: list, l: int, h: list, banks) -> list:
    """Each sequence's drive (time, channels, 1|2) of layer l from its inputs h[b] (time,
    n_in): the ideal sums (banks None) or what the transistor banks deliver."""
    if banks is None:
        return [drive(m.layers[l], hb[None])[0] for m, hb in zip(irs, h)]
    from ..power.estimate import layer_input_rule

    rectified, fed = layer_input_rule(irs[0], l)
    h_in = [np.maximum(hb, 0.0) for hb in h] if rectified else h
    cand = banks.sums(f"l{l} candidate", [m.layers[l].candidate for m in irs], h_in, fed)
    if rectified:           # the cell's input node stops at 0 (the kind's ReLU)
        return [np.maximum(c, 0.0)[..., None] for c in cand]
    thr = banks.sums(f"l{l} threshold", [m.layers[l].threshold for m in irs], h_in)
    return [np.stack([c, t], axis=-1) for c, t in zip(cand, thr)]
