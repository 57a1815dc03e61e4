"""BMRU / CMRU (symmetric, signed state) and the alpha-CMRU, as torch modules.

    c_t = W_c x_t + b_c                 candidate
    beta_t = W_beta x_t + b_beta        threshold
    z_t = H(|c_t| - |beta_t|)           update gate
    s_t = z_t (sign(c_t) + eps s_{t-1}) + (1 - z_t) s_{t-1}     (clipped to |s| <= K if set)
    h_t = alpha * s_t

eps = 0: BMRU (state +-1); eps = 1: CMRU (integer ladder); between: training only.
Inputs and outputs are batch-first: x (batch, time, in_features) -> h (batch, time, features).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .scan import scan
from .surrogate import heaviside, sign

SOFTPLUS_INV_1 = math.log(math.e - 1.0)  # softplus(SOFTPLUS_INV_1) == 1


class InitialState(nn.Module):
    """Initial state s_0 per channel: learnable in {-1, +1}, or a fixed value.

    `fixed=None` learns the sign of a real parameter (straight-through surrogate);
    `fixed=v` pins s_0 = v (e.g. 0 for a counter that starts on the middle rung).
    """

    def __init__(self, features: int, fixed: float | None = None, slope: float = 1.0):
        super().__init__()
        self.fixed = fixed
        self.slope = slope
        if fixed is None:
            self.raw = nn.Parameter(torch.full((features,), 0.5))
        else:
            self.register_buffer("value", torch.full((features,), float(fixed)))

    def forward(self) -> torch.Tensor:
        """s_0, shape (features,)."""
        if self.fixed is not None:
            return self.value
        return sign(self.raw, self.slope)


class MRU(nn.Module):
    """The symmetric memory recurrent unit (BMRU for eps=0, CMRU for eps=1).

    ladder: K bounds the state to |s| <= K (a K-rung circuit); None = unbounded.
    init_state: None learns s_0 in {-1,+1}; a number fixes s_0 to it.
    """

    def __init__(self, in_features: int, features: int, eps: float = 0.0,
                 ladder: int | None = None, init_state: float | None = None,
                 slope: float = 1.0):
        super().__init__()
        self.in_features, self.features = in_features, features
        self.eps, self.ladder, self.slope = float(eps), ladder, slope
        self.candidate = nn.Linear(in_features, features)
        self.threshold = nn.Linear(in_features, features)
        nn.init.constant_(self.threshold.bias, 1.0)
        nn.init.normal_(self.threshold.weight, std=0.1 / math.sqrt(in_features))
        self.alpha_raw = nn.Parameter(torch.full((features,), SOFTPLUS_INV_1))
        self.init_state = InitialState(features, init_state, slope)

    @property
    def alpha(self) -> torch.Tensor:
        """Output amplitude per channel (> 0), shape (features,)."""
        return F.softplus(self.alpha_raw)

    def gates(self, x):
        """Candidate c, threshold beta, gate z, step sign(c): each (batch, time, features)."""
        c = self.candidate(x)
        beta = self.threshold(x)
        z = heaviside(c.abs() - beta.abs(), self.slope)
        return c, beta, z, sign(c, self.slope)

    def forward(self, x, mode: str = "parallel", trace: bool = False):
        c, beta, z, step = self.gates(x)
        a = 1.0 - (1.0 - self.eps) * z
        b = z * step
        s = scan(a, b, self.init_state(), self.ladder, mode)
        h = self.alpha * s
        if trace:
            return h, dict(candidate=c, threshold=beta, gate=z, state=s)
        return h


class AlphaCMRU(MRU):
    """Relaxed CMRU (our definition, see SPEC 2.2): a continuous-state accumulator.

        alpha_t = softplus(W_alpha x_t + b_alpha)
        s_t = s_{t-1} + z_t alpha_t sign(c_t)          (clipped to |s| <= K if set)
        h_t = s_t
    """

    def __init__(self, in_features: int, features: int, ladder: int | None = None,
                 init_state: float | None = 0.0, slope: float = 1.0):
        super().__init__(in_features, features, eps=1.0, ladder=ladder,
                         init_state=init_state, slope=slope)
        self.amplitude = nn.Linear(in_features, features)
        nn.init.constant_(self.amplitude.bias, SOFTPLUS_INV_1)

    def forward(self, x, mode: str = "parallel", trace: bool = False):
        c, beta, z, step = self.gates(x)
        amp = F.softplus(self.amplitude(x))
        s = scan(torch.ones_like(z), z * amp * step, self.init_state(), self.ladder, mode)
        if trace:
            return s, dict(candidate=c, threshold=beta, gate=z, state=s, amplitude=amp)
        return s
