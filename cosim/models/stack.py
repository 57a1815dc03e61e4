"""Model stack: optional input projection -> L cell layers -> linear readout.

Configured by a plain `ModelConfig`. Shapes: x (batch, time, n_inputs) ->
logits/outputs (batch, time, n_outputs), one readout per step.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from ..cells import MRU, AlphaCMRU, SchmittMRU

CELLS = ("bmru", "cmru", "acmru", "schmitt")


@dataclass
class ModelConfig:
    cell: str                       # bmru | cmru | acmru | schmitt
    n_inputs: int
    n_outputs: int
    hidden: int = 8                 # channels per cell layer
    layers: int = 1
    eps: float | None = None        # None: 0 for bmru/schmitt, 1 for cmru
    ladder: int | None = None       # K: |s| <= K (cmru / acmru)
    init_state: float | None = None  # None: learn s_0 in {-1,+1}; a number fixes it
    proj: int | None = None         # width of a linear input projection (None: none)
    mlp: bool = False               # a ReLU MLP between cell layers
    skip: bool = False              # residual connection around each layer (same widths)
    norm: bool = False              # LayerNorm on each layer's input
    pool: str = "last"              # last | mean : how a sequence-level output is read
    slope: float = 1.0              # surrogate slope

    def __post_init__(self):
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}; choose one of {', '.join(CELLS)}")
        if self.eps is None:
            self.eps = 1.0 if self.cell in ("cmru", "acmru") else 0.0
        if not 0.0 <= self.eps <= 1.0:
            raise ValueError(f"eps must be in [0, 1], got {self.eps}")
        if self.pool not in ("last", "mean"):
            raise ValueError(f"pool must be 'last' or 'mean', got {self.pool!r}")
        for name in ("n_inputs", "n_outputs", "hidden", "layers"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)


def make_cell(cfg: ModelConfig, in_features: int) -> nn.Module:
    if cfg.cell == "schmitt":
        return SchmittMRU(in_features, cfg.hidden, eps=cfg.eps, slope=cfg.slope)
    if cfg.cell == "acmru":
        return AlphaCMRU(in_features, cfg.hidden, ladder=cfg.ladder,
                         init_state=0.0 if cfg.init_state is None else cfg.init_state,
                         slope=cfg.slope)
    return MRU(in_features, cfg.hidden, eps=cfg.eps, ladder=cfg.ladder,
               init_state=cfg.init_state, slope=cfg.slope)


class Layer(nn.Module):
    """[norm] -> cell -> [mlp] (+ skip)."""

    def __init__(self, cfg: ModelConfig, in_features: int):
        super().__init__()
        self.norm = nn.LayerNorm(in_features) if cfg.norm else None
        self.cell = make_cell(cfg, in_features)
        self.mlp = (nn.Sequential(nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU())
                    if cfg.mlp else None)
        self.skip = cfg.skip and in_features == cfg.hidden

    def forward(self, x, mode="parallel", trace=False):
        u = self.norm(x) if self.norm is not None else x
        out = self.cell(u, mode=mode, trace=trace)
        h, info = out if trace else (out, None)
        y = self.mlp(h) if self.mlp is not None else h
        if self.skip:
            y = y + x
        return (y, info) if trace else y


class Model(nn.Module):
    """The whole stack. `forward` returns per-step outputs (batch, time, n_outputs)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.proj = nn.Linear(cfg.n_inputs, cfg.proj) if cfg.proj else None
        width = cfg.proj or cfg.n_inputs
        self.layers = nn.ModuleList()
        for _ in range(cfg.layers):
            self.layers.append(Layer(cfg, width))
            width = cfg.hidden
        self.readout = nn.Linear(width, cfg.n_outputs)

    def set_eps(self, eps: float) -> None:
        """Set eps of every cell (training-time annealing)."""
        self.cfg.eps = float(eps)
        for layer in self.layers:
            if not isinstance(layer.cell, AlphaCMRU):
                layer.cell.eps = float(eps)

    def forward(self, x, mode: str = "parallel", trace: bool = False):
        h = self.proj(x) if self.proj is not None else x
        traces = []
        for layer in self.layers:
            out = layer(h, mode=mode, trace=trace)
            h, info = out if trace else (out, None)
            traces.append(info)
        y = self.readout(h)
        return (y, traces) if trace else y

    def sequence_output(self, y: torch.Tensor) -> torch.Tensor:
        """Sequence-level output (batch, n_outputs) from per-step outputs."""
        return y.mean(dim=1) if self.cfg.pool == "mean" else y[:, -1]
