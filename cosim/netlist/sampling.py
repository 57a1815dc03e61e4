"""Circuit waveforms sampled once per recurrent step, aligned with the software steps."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..hw.ir import Timing
from .builder import Netlist
from .stimulus import sample_times


@dataclass
class StepSignals:
    """states[b][l]: (time, channels) cell states; outputs[b]: (time, n_outputs) in units."""
    states: list
    outputs: list


def step_signals(result, net: Netlist, timing: Timing) -> StepSignals:
    """Read every probed state at (k + sample_frac) dt and readout current at
    (k + net.output_phase) dt (later than the states when the readout filters)."""
    ts = sample_times(net.n_steps, timing.dt_s, timing.sample_frac)
    to = sample_times(net.n_steps, timing.dt_s, net.output_phase)

    scale = net.probes.scale

    def take(names, times):
        def one(n):
            a, b = scale.get(n, (1.0, 0.0))
            return a * result.sample(n, times) + b
        return np.stack([one(n) for n in names], axis=-1)

    states = [[take(layer, ts) for layer in copy] for copy in net.probes.states]
    outputs = [take(copy, to) / timing.i_unit_a for copy in net.probes.outputs]
    return StepSignals(states, outputs)
