"""FastModel: an IR (nominal, or batched over D mismatch draws) evaluated in torch.

Shapes: x (S, T, n_in) shared by every draw, or (D, S, T, n_in) per draw;
noise[l] (D, S, T, channels) extra current at layer l's cell inputs (units);
states[l] (D, S, T, channels); outputs (D, S, T, n_outputs) in units. All
float64, on `device` ("cpu", "cuda", ...). The cell equations follow the
kind's decision form (hw.kinds): first-quadrant cells switch high above
beta2 = beta1 + delta and low below beta1 on c = ReLU(candidate(ReLU(x)));
signed cells move when |c| >= |beta|: to sign(c) (bmru) or one rung towards
it, clipped to +-K (a ladder kind; with per-stage mismatch the ladder is
integrated in time instead, engine.ladder). Readout filters: the exact
zero-order-hold recursion of hw.filters per draw.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError
from ..hw.filters import discretize, state_matrices
from ..hw.ir import HardwareIR
from ..hw.kinds import get_kind
from .ladder import run_ladders, stage_factors


class _Tensors:
    """Parameters of an IR as tensors with a leading draw axis (size D or 1)."""

    def __init__(self, device):
        self.device = device

    def t(self, value, ndim: int) -> torch.Tensor:
        """`value` as float64 with a draw axis: shape (D or 1, *core) for a core of `ndim` dims."""
        a = np.asarray(value, np.float64)
        if a.ndim == ndim:
            a = a[None]
        if a.ndim != ndim + 1:
            raise InputError(f"fast engine: parameter of shape {a.shape}, expected {ndim} dims (+ draws)")
        return torch.as_tensor(a, dtype=torch.float64, device=self.device)

    def bank(self, bank):
        return self.t(bank.gains, 2), self.t(bank.bias, 1)


def _apply(bank, h: torch.Tensor) -> torch.Tensor:
    """(D, S, T, n_in) through gains (D|1, n_out, n_in), bias (D|1, n_out) -> (D, S, T, n_out)."""
    g, b = bank
    return torch.einsum("dstj,dij->dsti", h, g.expand(h.shape[0], -1, -1)) + b[:, None, None, :]


class FastModel:
    """The IR's discrete circuit map, batched over draws and sequences (module doc)."""

    def __init__(self, ir: HardwareIR, device: str = "cpu", ideal_ladders: bool = False):
        """ideal_ladders: count rungs with the discrete map even under per-stage ladder
        mismatch (the software cell of the same draw) instead of the ladder in time."""
        self.ir = ir
        self.device = torch.device(device)
        P = _Tensors(self.device)
        self.proj = None if ir.proj is None else P.bank(ir.proj)
        self.layers = []
        for i, layer in enumerate(ir.layers):
            kind = get_kind(layer.kind)
            if kind.first_quadrant:
                rule = "first_quadrant"
            elif kind.has_ladder:
                rule = "ladder"
            elif kind.levels == (-1.0, 1.0):
                rule = "sign"
            else:
                raise InputError(f"fast engine: no update rule for cell kind {layer.kind!r}")
            entry = {"rule": rule, "cand": P.bank(layer.candidate), "alpha": P.t(layer.alpha, 1),
                     "init": P.t(layer.init_state, 1), "n": layer.n}
            if rule == "first_quadrant":
                b1 = P.t(layer.beta1, 1)
                entry["beta1"], entry["beta2"] = b1, b1 + P.t(layer.delta, 1)
            else:
                entry["thr"] = P.bank(layer.threshold)
                entry["K"] = layer.ladder_k
            if rule == "ladder":
                factors = stage_factors(layer, 1)   # per-stage mismatch: the ladder in time
                if not ideal_ladders and any(np.any(v != 1.0) for v in factors.values()):  # in time
                    entry["ladder"] = (layer, factors, i)
            self.layers.append(entry)
        self.readout = P.bank(ir.readout)
        self.filters = None if ir.filters is None else self._filters(ir.filters, P)

    def _filters(self, f, P):
        """Drive banks and the ZOH matrices Phi, Gamma (D|1, n, 2, 2) per instance."""
        tau, coup = np.asarray(f.tau_s, np.float64), np.asarray(f.coupling, np.float64)
        if tau.ndim == 3:
            tau, coup = tau[None], coup[None]
        if np.all(tau == tau[:1]) and np.all(coup == coup[:1]):
            tau, coup = tau[:1], coup[:1]            # no filter mismatch: one set of matrices
        D, n_out, nf, _ = tau.shape
        Phi, Gam = np.zeros((D, n_out * nf, 2, 2)), np.zeros((D, n_out * nf, 2, 2))
        res = np.asarray(f.resonant, bool)
        for d in range(D):
            for i in range(n_out * nf):
                j, k = divmod(i, nf)
                A, B = state_matrices(tau[d, j, k, 0], tau[d, j, k, 1], coup[d, j, k, 0], coup[d, j, k, 1],
                                      bool(res[k]))
                Pm, Gm = discretize(A, B, self.ir.timing.dt_s)
                m = Pm.shape[0]
                Phi[d, i, :m, :m], Gam[d, i, :m, :m] = Pm, Gm
        return {"u": P.t(f.drive_u.gains, 2), "v": P.t(f.drive_v.gains, 2),
                "Phi": torch.as_tensor(Phi, device=self.device), "Gam": torch.as_tensor(Gam, device=self.device)}

    @property
    def ladder_dynamics(self) -> bool:
        """Whether some layer is integrated in time (per-stage ladder mismatch)."""
        return any("ladder" in e for e in self.layers)

    @property
    def draws(self) -> int:
        sizes = {e["cand"][0].shape[0] for e in self.layers} | {self.readout[0].shape[0]}
        return max(sizes)

    def run(self, x, noise=None) -> tuple:
        """(states per layer, outputs); see the module doc for shapes."""
        h = torch.as_tensor(np.asarray(x, np.float64), device=self.device)
        D = self.draws
        if h.ndim == 3:
            h = h.expand(D, *h.shape)
        if h.ndim != 4 or h.shape[-1] != self.ir.n_inputs:
            raise InputError(f"fast engine: inputs must be (S, T, {self.ir.n_inputs}) or (D, S, T, "
                             f"{self.ir.n_inputs}), got {tuple(h.shape)}")
        if h.shape[0] != D:
            D = h.shape[0]
        if self.proj is not None:
            h = _apply(self.proj, h)
        states, outs = [], []
        for l, e in enumerate(self.layers):
            extra = 0.0 if noise is None else torch.as_tensor(np.asarray(noise[l], np.float64), device=self.device)
            s, h = self._layer(e, h, extra, D)
            states.append(s)
            outs.append(h)
        if self.ir.readout_all:
            h = torch.cat(outs, dim=-1)
        if self.filters is not None:
            h = self._run_filters(h)
        return states, _apply(self.readout, h)

    def _layer(self, e, h, extra, D):
        S, T = h.shape[1], h.shape[2]
        if e["rule"] == "first_quadrant":
            c = torch.relu(_apply(e["cand"], torch.relu(h)) + extra)
            high, low = c > e["beta2"][:, None, None, :], c < e["beta1"][:, None, None, :]
            gate = step = None
        else:
            c = _apply(e["cand"], h) + extra
            gate = c.abs() >= _apply(e["thr"], h).abs()
            step = torch.where(c >= 0, 1.0, -1.0).to(c.dtype)
        if "ladder" in e:
            layer, factors, slot = e["ladder"]
            return run_ladders(layer, factors, gate * step, e["init"], self.ir.timing, slot)
        s = e["init"][:, None, :].expand(D, S, e["n"]).clone()
        out = torch.empty((D, S, T, e["n"]), dtype=torch.float64, device=h.device)
        one, zero = torch.ones((), dtype=c.dtype, device=c.device), torch.zeros((), dtype=c.dtype, device=c.device)
        for t in range(T):
            if e["rule"] == "first_quadrant":
                s = torch.where(high[:, :, t], one, torch.where(low[:, :, t], zero, s))
            elif e["rule"] == "sign":
                s = torch.where(gate[:, :, t], step[:, :, t], s)
            else:
                s = torch.clamp(s + gate[:, :, t] * step[:, :, t], -e["K"], e["K"])
            out[:, :, t] = s
        return out, e["alpha"][:, None, None, :] * out

    def _run_filters(self, h):
        f = self.filters
        D = h.shape[0]
        qu = torch.einsum("dstj,dij->dsti", h, f["u"].expand(D, -1, -1))
        qv = torch.einsum("dstj,dij->dsti", h, f["v"].expand(D, -1, -1))
        q = torch.stack([qu, qv], dim=-1)                    # (D, S, T, n, 2)
        Phi, Gam = f["Phi"].expand(D, -1, -1, -1), f["Gam"].expand(D, -1, -1, -1)
        x = torch.zeros(q.shape[:2] + q.shape[3:], dtype=torch.float64, device=h.device)
        out = torch.empty(qu.shape, dtype=torch.float64, device=h.device)
        for t in range(q.shape[2]):
            x = torch.einsum("dnij,dsnj->dsni", Phi, x) + torch.einsum("dnij,dsnj->dsni", Gam, q[:, :, t])
            out[:, :, t] = x[..., 0]
        return out
