"""Noise bench: one first-quadrant cell with its trained window and the same
cell as a plain comparator, fed the SAME noisy input current, for several
noise amplitudes in ONE netlist (SPEC 3.5, 4: noise tolerance).

Per noise amplitude i:

    ii  0 -> ni   PWL current source: x_k (units) * iunit, piecewise constant
                  per noise sample (linear edge of edge_frac * tn at each
                  sample start), numpy-drawn noise included (ngspice's trnoise
                  cannot be seeded)
    vsi ni 0 0    sense source (the input node is a virtual ground)
    fhi 0 hi vsi 1 / fci 0 ci vsi 1
                  fan-out: the same current into both cell inputs (exact
                  F-element mirrors of gain 1, README "fan-out")
    xh<i>         bist_latch: ithresh = beta2, iwidth = delta  (hysteresis)
    xc<i>         bist_latch: ithresh = centre, iwidth = 0     (comparator)
    outputs into 0 V sources voh<i> / voc<i>

States are the internal nodes v(xh<i>.u), v(xc<i>.u) (0 / 1 V); the cell
input in units is v(xh<i>.x). Both latches as whole-model netlists use them
(eps = LATCH_EPS, preset low). The maximum time step is tn / 4, so the
reading points (sample midpoints) lie between timepoints on the flat part of
the input. Conventions as in benches.py: circuit data, ngspice writer, library inlined.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ..hw.kinds import get_kind
from ..hw.windows import CellWindow
from ..errors import InputError
from .builder import LATCH_EPS
from .circuit import GROUND, Circuit, Pwl, Transient
from .library import behavioral_library
from .ngspice import internal_vector
from .writers import write_netlist
from .stimulus import pwl_points

__all__ = ["NoiseBench", "noise_bench", "EDGE_FRAC"]

#: input edge between noise samples, as a fraction of the sample length
EDGE_FRAC = 0.02


@dataclass
class NoiseBench:
    text: str
    n_inputs: int
    hyst_probes: list          # v(xh<i>.u) per input row
    comp_probes: list          # v(xc<i>.u)
    input_probes: list         # v(xh<i>.x): the input in units, as the hysteresis cell sees it
    comp_input_probes: list    # v(xc<i>.x)
    t_stop_s: float
    t_max_s: float
    tn_s: float
    eps: float
    params: dict = field(default_factory=dict)


def noise_bench(win: CellWindow, x, tn_s: float, *, i_unit_a: float = 1e-9,
                eps: float = LATCH_EPS, edge_frac: float = EDGE_FRAC,
                title: str = "cosim noise bench") -> NoiseBench:
    """Bench for the input rows x (n_inputs, n_samples) in units (row i: one
    noise amplitude), each fed to a hysteresis cell with window `win` and to a
    comparator at the window centre."""
    x = np.atleast_2d(np.asarray(x, np.float64))
    if x.ndim != 2 or x.shape[1] < 2:
        raise InputError(f"x must be (n_inputs, n_samples >= 2), got {x.shape}")
    if not get_kind(win.kind).first_quadrant or not win.width > 0:
        raise InputError("noise_bench needs a first-quadrant (schmitt) window of width > 0")
    if not 0 < edge_frac < 0.25:
        raise InputError("edge_frac must be in (0, 0.25)")
    iu = i_unit_a
    centre = 0.5 * (win.up + win.down)
    common = dict(igain=win.alpha * iu, iunit=iu, eps=eps, s0=0)
    ph = dict(ithresh=win.up * iu, iwidth=win.width * iu, **common)
    pc = dict(ithresh=centre * iu, iwidth=0, **common)
    c = Circuit(title, library=behavioral_library())
    hp, cp, ip, cip = [], [], [], []
    edge = edge_frac * tn_s
    for i, row in enumerate(x):
        c.isource(f"n{i}", GROUND, f"n{i}", Pwl(tuple(pwl_points(row, tn_s, edge / tn_s, iu))))
        src = c.sense(f"s{i}", f"n{i}")
        c.cccs(f"h{i}", GROUND, f"h{i}", src, 1)
        c.cccs(f"c{i}", GROUND, f"c{i}", src, 1)
        c.instance(f"h{i}", "bist_latch", f"h{i}", f"oh{i}", **ph)
        c.instance(f"c{i}", "bist_latch", f"c{i}", f"oc{i}", **pc)
        c.sense(f"oh{i}", f"oh{i}")
        c.sense(f"oc{i}", f"oc{i}")
        hp.append(internal_vector(f"h{i}", "u"))
        cp.append(internal_vector(f"c{i}", "u"))
        ip.append(internal_vector(f"h{i}", "x"))
        cip.append(internal_vector(f"c{i}", "x"))
    t_stop = x.shape[1] * tn_s
    t_max = tn_s / 4
    c.analysis = Transient(t_max, t_stop, max_step_s=t_max)
    text = write_netlist(c)
    return NoiseBench(text=text, n_inputs=x.shape[0], hyst_probes=hp, comp_probes=cp,
                      input_probes=ip, comp_input_probes=cip, t_stop_s=t_stop, t_max_s=t_max,
                      tn_s=tn_s, eps=eps, params={"hysteresis": ph, "comparator": pc})
