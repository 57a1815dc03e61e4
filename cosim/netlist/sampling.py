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
    """Read every probed state and readout current at (k + sample_frac) dt."""
    ts = sample_times(net.n_steps, timing.dt_s, timing.sample_frac)

    def take(names):
        return np.stack([result.sample(n, ts) for n in names], axis=-1)

    states = [[take(layer) for layer in copy] for copy in net.probes.states]
    outputs = [take(copy) / timing.i_unit_a for copy in net.probes.outputs]
    return StepSignals(states, outputs)
