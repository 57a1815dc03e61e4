"""First-quadrant BMRU: a current-mode Schmitt trigger with unipolar signals.

    x+ = ReLU(x);  c_t = ReLU(W_c x+_t + b_c)
    beta1 = softplus(.) > 0, delta = softplus(.) > 0, beta2 = beta1 + delta
    c_t > beta2            -> force high (s_t = 1)
    beta1 <= c_t <= beta2  -> hold       (s_t = s_{t-1})
    c_t < beta1            -> force low  (s_t = 0)
    s_t = hold s_{t-1} + (1 - hold)(high + eps s_{t-1});   h_t = alpha * s_t

Shapes: x (batch, time, in_features) -> h (batch, time, features).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .mru import SOFTPLUS_INV_1
from .scan import scan
from .surrogate import heaviside, relu


def _softplus_inv(y: float) -> float:
    return math.log(math.expm1(y))


class SchmittMRU(nn.Module):
    """First-quadrant BMRU with per-channel beta1, delta, alpha (all > 0)."""

    def __init__(self, in_features: int, features: int, eps: float = 0.0,
                 beta1: float = 0.25, delta: float = 0.25, slope: float = 1.0,
                 learn_init_state: bool = True):
        super().__init__()
        self.in_features, self.features = in_features, features
        self.eps, self.slope = float(eps), slope
        self.candidate = nn.Linear(in_features, features)
        # Start with cells that toggle on non-negative inputs in [0, 1]: mostly
        # excitatory weights and biases below beta1, so some inputs cross beta2.
        nn.init.uniform_(self.candidate.weight, -0.5 / in_features ** 0.5, 2.0 / in_features ** 0.5)
        nn.init.uniform_(self.candidate.bias, -0.5, beta1)
        self.beta1_raw = nn.Parameter(torch.full((features,), _softplus_inv(beta1)))
        self.delta_raw = nn.Parameter(torch.full((features,), _softplus_inv(delta)))
        self.alpha_raw = nn.Parameter(torch.full((features,), SOFTPLUS_INV_1))
        # s_0 in {0, 1}: H(raw), learnable through the surrogate; starts low.
        self.init_raw = nn.Parameter(torch.full((features,), -0.5), requires_grad=learn_init_state)

    @property
    def alpha(self):
        return F.softplus(self.alpha_raw)

    @property
    def beta1(self):
        return F.softplus(self.beta1_raw)

    @property
    def delta(self):
        return F.softplus(self.delta_raw)

    def initial_state(self):
        """s_0 in {0, 1}, shape (features,)."""
        return heaviside(self.init_raw, self.slope)

    def forward(self, x, mode: str = "parallel", trace: bool = False):
        c = relu(self.candidate(F.relu(x)))
        beta1, beta2 = self.beta1, self.beta1 + self.delta
        high = 1.0 - heaviside(beta2 - c, self.slope)   # c > beta2
        low = 1.0 - heaviside(c - beta1, self.slope)    # c < beta1
        hold = 1.0 - high - low
        a = hold + (1.0 - hold) * self.eps
        b = (1.0 - hold) * high
        s = scan(a, b, self.initial_state(), None, mode)
        h = self.alpha * s
        if trace:
            return h, dict(candidate=c, threshold=beta2.expand_as(c), gate=1.0 - hold,
                           high=high, state=s)
        return h
