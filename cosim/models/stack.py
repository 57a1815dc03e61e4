"""Model stack: optional input projection -> L cell layers -> linear readout.

Configured by a plain `ModelConfig`. Shapes: x (batch, time, n_inputs) ->
logits/outputs (batch, time, n_outputs), one readout per step.

Readout (`pool`, `readout_all`, `taus`):

- `readout_all`: the readout sees the outputs of every cell layer,
  concatenated in layer order (layer 0 channels first), not only the last one.
- pool "last" / "mean": y_t = W h_t + b, the sequence output is y_T or mean_t y_t.
- pool "lowpass": K first-order low-pass filters (DPI-like exponential
  averages) per readout channel, time constants tau_k >= 1 in steps, shared by
  all channels (learned if `learn_taus`):

      a_k = 1 - 1 / tau_k
      f_{c,k}(t) = a_k f_{c,k}(t-1) + (1 - a_k) h_c(t),   f_{c,k}(0) = 0
      y_t = W vec(f(t)) + b,   vec index c * K + k          (channel-major)

  and the sequence output is y_T (the last step). tau = 1 is no filtering.
  Because the filter is linear, this equals low-passing the K readout
  currents W_k h(t) (one filter per output and time constant) and summing:
  y_t = sum_k LP_{tau_k}(W_k h)(t) + b, with W_k = W[:, k::K].

  With `periods` (list, steps; 0 = the plain low-pass above) the bank holds one
  filter per (tau, period) pair, taus outer, periods inner. A period P > 0 makes
  it a damped resonator: the complex first-order filter
      p = a e^{i w},  w = 2 pi / P,  f(t) = p f(t-1) + (1 - a) h(t),
  i.e. two coupled real states (u, v) = (Re f, Im f):
      u(t) = a (cos w u(t-1) - sin w v(t-1)) + (1 - a) h(t)
      v(t) = a (sin w u(t-1) + cos w v(t-1))
  both read out (u then v). This is second order (a band-pass biquad), not a
  single DPI; tau and w are learned unless `learn_taus` is false.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from ..cells import MRU, AlphaCMRU, SchmittMRU
from ..errors import InputError
from ..limits import MAX_FILTERS, MAX_LADDER, MAX_LAYERS, MAX_WIDTH

CELLS = ("bmru", "cmru", "acmru", "schmitt")
INT_FIELDS = ("n_inputs", "n_outputs", "hidden", "layers", "proj", "ladder")


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
    pool: str = "last"              # last | mean | lowpass : how a sequence-level output is read
    slope: float = 1.0              # surrogate slope
    readout_all: bool = False       # readout from all layers' outputs (concatenated)
    taus: list | None = None        # lowpass: time constants in steps (None: 1, 2, 4, ..., 64)
    learn_taus: bool = True         # lowpass: learn the time constants (and frequencies)
    periods: list | None = None     # lowpass: resonator periods in steps, 0 = plain low-pass (None: [0])

    def __post_init__(self):
        self._check_types()
        if self.cell not in CELLS:
            raise InputError(f"unknown cell {self.cell!r}; choose one of {', '.join(CELLS)}")
        if self.eps is None:
            self.eps = 1.0 if self.cell in ("cmru", "acmru") else 0.0
        if not 0.0 <= self.eps <= 1.0:
            raise InputError(f"eps must be in [0, 1], got {self.eps}")
        if self.pool not in ("last", "mean", "lowpass"):
            raise InputError(f"pool must be 'last', 'mean' or 'lowpass', got {self.pool!r}")
        if self.pool == "lowpass" and self.taus is None:
            self.taus = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
        if self.taus is not None:
            self.taus = [float(t) for t in self.taus]
            if not self.taus or min(self.taus) < 1.0:
                raise InputError(f"taus must be a non-empty list of time constants >= 1, got {self.taus}")
        if self.periods is not None:
            self.periods = [float(q) for q in self.periods]
            if not self.periods or any(q != 0 and q < 2 for q in self.periods):
                raise InputError(f"periods must be a non-empty list of 0 or >= 2 steps, got {self.periods}")
        for name, hi in (("n_inputs", MAX_WIDTH), ("n_outputs", MAX_WIDTH), ("hidden", MAX_WIDTH),
                         ("layers", MAX_LAYERS), ("proj", MAX_WIDTH), ("ladder", MAX_LADDER)):
            v = getattr(self, name)
            if v is not None and not 1 <= v <= hi:
                raise InputError(f"{name} must be in [1, {hi}], got {v}")
        if self.taus is not None and len(self.taus) * len(self.periods or [0]) > MAX_FILTERS:
            raise InputError(f"at most {MAX_FILTERS} readout filters per channel")

    def _check_types(self) -> None:
        """Strict JSON types: a config.json with "layers": "1" or "hidden": 2.5 is refused."""
        def number(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "cell" or f.name == "pool":
                ok = isinstance(v, str)
            elif f.name in INT_FIELDS:
                ok = (v is None and f.name in ("proj", "ladder")) or (type(v) is int)
            elif f.name in ("mlp", "skip", "norm", "readout_all", "learn_taus"):
                ok = isinstance(v, bool)
            elif f.name in ("taus", "periods"):
                ok = v is None or (isinstance(v, (list, tuple)) and all(number(x) for x in v))
            else:  # eps, init_state, slope
                ok = (v is None and f.name != "slope") or number(v)
            if not ok:
                raise InputError(f"model config {f.name} = {v!r} has the wrong type")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise InputError(f"unknown model config keys: {sorted(unknown)}")
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
        if cfg.readout_all:
            width = cfg.hidden * cfg.layers
        self.lowpass = (LowPass(cfg.taus, cfg.learn_taus, cfg.periods or [0.0])
                        if cfg.pool == "lowpass" else None)
        k = self.lowpass.n_out if self.lowpass is not None else 1
        self.readout = nn.Linear(width * k, cfg.n_outputs)

    def set_eps(self, eps: float) -> None:
        """Set eps of every cell (training-time annealing)."""
        self.cfg.eps = float(eps)
        for layer in self.layers:
            if not isinstance(layer.cell, AlphaCMRU):
                layer.cell.eps = float(eps)

    def forward(self, x, mode: str = "parallel", trace: bool = False):
        h = self.proj(x) if self.proj is not None else x
        traces, outs = [], []
        for layer in self.layers:
            out = layer(h, mode=mode, trace=trace)
            h, info = out if trace else (out, None)
            traces.append(info)
            outs.append(h)
        if self.cfg.readout_all:
            h = torch.cat(outs, dim=-1)
        if self.lowpass is not None:
            h = self.lowpass(h)
        y = self.readout(h)
        return (y, traces) if trace else y

    def sequence_output(self, y: torch.Tensor) -> torch.Tensor:
        """Sequence-level output (batch, n_outputs) from per-step outputs."""
        return y.mean(dim=1) if self.cfg.pool == "mean" else y[:, -1]


class LowPass(nn.Module):
    """A bank of first-order filters per channel (unity DC gain for the low-pass
    ones, zero initial state), one per (tau, period) pair of the two lists:

        p = a e^{i w},  a = 1 - 1/tau (tau >= 1),  w = 2 pi / period (period 0: w = 0)
        f(t) = p f(t-1) + (1 - a) h(t)

    Period 0 is the real DPI-like low-pass (one output, f); a period > 0 is a
    damped resonator (two outputs, Re f and Im f: two coupled real states).
    (batch, time, C) -> (batch, time, C * K), channel-major, filters in the
    order taus x periods (period fastest), Re before Im."""

    TAU_MIN = 1.0 + 1e-3   # keeps a > 0 (tau = 1 is within 1e-3 of no filtering)

    def __init__(self, taus, learn: bool = True, periods=(0.0,)):
        super().__init__()
        taus = torch.tensor([t for t in taus for _ in periods], dtype=torch.float32)
        omega = torch.tensor([2 * math.pi / q if q else 0.0 for _ in range(len(taus) // len(periods))
                              for q in periods], dtype=torch.float32)
        self.log_tau = nn.Parameter(torch.log(taus.clamp_min(self.TAU_MIN)), requires_grad=learn)
        self.omega = nn.Parameter(omega, requires_grad=learn)
        self.register_buffer("resonant", omega != 0, persistent=False)
        self._n_out = len(taus) + sum(1 for _ in range(len(taus) // len(periods)) for q in periods if q)

    @property
    def tau(self):
        return self.log_tau.exp().clamp_min(self.TAU_MIN)

    @property
    def n_out(self) -> int:
        """Outputs per channel: one per low-pass, two per resonator."""
        return self._n_out

    def forward(self, h):
        T = h.shape[1]
        a = 1.0 - 1.0 / self.tau                                  # (K,)
        t = torch.arange(T, device=h.device)
        lag = (t[:, None] - t[None, :]).to(h.dtype)               # (T, T): t - j
        causal = (lag >= 0).to(h.dtype)
        lag = lag.clamp_min(0)
        env = causal * a[:, None, None] ** lag * (1.0 - a)[:, None, None]   # (K, T, T)
        phase = (self.omega * self.resonant)[:, None, None] * lag   # period 0 stays real
        re, im = env * torch.cos(phase), env * torch.sin(phase)
        parts = []
        for k in range(len(a)):
            parts.append(re[k])
            if self.resonant[k]:
                parts.append(im[k])
        kern = torch.stack(parts)                                 # (n_out, T, T)
        f = torch.einsum("ktj,bjc->btck", kern, h)
        return f.reshape(h.shape[0], T, -1)
