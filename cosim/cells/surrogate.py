"""Heaviside and sign with exact forward and arctan-type surrogate backward.

H(x) = 1 if x >= 0 else 0;  dH/dx ~= slope / (1 + (pi * slope * x)^2).
sign(x) = 2 H(x) - 1, so its surrogate derivative is twice that of H.
"""
from __future__ import annotations

import math

import torch


def surrogate_derivative(x: torch.Tensor, slope: float = 1.0) -> torch.Tensor:
    """The backward-pass stand-in for dH/dx."""
    return slope / (1.0 + (math.pi * slope * x) ** 2)


class _Heaviside(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * surrogate_derivative(x, ctx.slope), None


def heaviside(x: torch.Tensor, slope: float = 1.0) -> torch.Tensor:
    """Exact step forward (H(0) = 1), surrogate gradient backward."""
    return _Heaviside.apply(x, slope)


def sign(x: torch.Tensor, slope: float = 1.0) -> torch.Tensor:
    """Exact sign forward (sign(0) = +1), twice the Heaviside surrogate backward."""
    return 2.0 * heaviside(x, slope) - 1.0


class _LeakyGradReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, leak):
        ctx.save_for_backward(x)
        ctx.leak = leak
        return x.clamp_min(0.0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.where(x >= 0, 1.0, ctx.leak), None


def relu(x: torch.Tensor, leak: float = 0.1) -> torch.Tensor:
    """Exact ReLU forward; backward lets `leak` of the gradient through for x < 0,
    so a unipolar cell whose candidate went negative can still learn its way back."""
    return _LeakyGradReLU.apply(x, leak)
