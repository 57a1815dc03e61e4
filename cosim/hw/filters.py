"""Readout filter bank: the software filters of `cosim.models.stack.LowPass` as
continuous-time circuit filters, and their exact step-by-step response.

Circuit (per instance, see `ir.FilterBank`):
    tau_u du/dt = -u - k_uv v + q_u(t),   tau_v dv/dt = -v + k_vu u + q_v(t)
The cell outputs, hence the drives q, are constant over each step, so the
state at the end of step k follows exactly (zero-order hold)
    x_{k+1} = Phi x_k + Gamma q_k,   Phi = e^{A dt},  Gamma = A^{-1} (Phi - I) B.

Software filter (per step, complex): f_t = p f_{t-1} + (1 - a) h_t with
p = a e^{i w}, a = 1 - 1/tau_steps. Choosing tau = -dt / ln a, k = omega tau
(omega = w / dt) makes Phi the rotation-decay by p, and folding the complex
factor kappa = (1 - a)(-1 + i k) / (p - 1) into the drive mirror gains makes
the circuit's u equal the software's Re f, step for step (`fold_lowpass`).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import expm

from .ir import FilterBank, MirrorBank


def state_matrices(tau_u: float, tau_v: float, k_uv: float, k_vu: float, resonant: bool):
    """(A, B) of one instance: x' = A x + B q, x = (u, v) (or (u,) for a low-pass)."""
    if not resonant:
        return np.array([[-1.0 / tau_u]]), np.array([[1.0 / tau_u]])
    A = np.array([[-1.0 / tau_u, -k_uv / tau_u], [k_vu / tau_v, -1.0 / tau_v]])
    return A, np.diag([1.0 / tau_u, 1.0 / tau_v])


def discretize(A: np.ndarray, B: np.ndarray, dt_s: float):
    """Exact zero-order-hold step: (Phi, Gamma)."""
    n = A.shape[0]
    M = np.zeros((2 * n, 2 * n))
    M[:n, :n], M[:n, n:] = A * dt_s, B * dt_s
    E = expm(M)
    return E[:n, :n], E[:n, n:]


def run_filters(bank: FilterBank, h: np.ndarray, dt_s: float) -> np.ndarray:
    """Filter states u at the end of every step: h (batch, time, width) in units ->
    (batch, time, n_outputs * n_filters), zero initial state."""
    qu = h @ np.asarray(bank.drive_u.gains, np.float64).T
    qv = h @ np.asarray(bank.drive_v.gains, np.float64).T
    nf = bank.n_filters
    n = qu.shape[-1]
    Phi, Gam = np.zeros((n, 2, 2)), np.zeros((n, 2, 2))
    for i in range(n):
        j, k = divmod(i, nf)
        (tu, tv), (kuv, kvu) = bank.tau_s[j][k], bank.coupling[j][k]
        P, G = discretize(*state_matrices(tu, tv, kuv, kvu, bank.resonant[k]), dt_s)
        m = P.shape[0]
        Phi[i, :m, :m], Gam[i, :m, :m] = P, G
    q = np.stack([qu, qv], axis=-1)                       # (batch, time, n, 2)
    x = np.zeros(q.shape[:1] + q.shape[2:])
    out = np.empty(qu.shape)
    for t in range(q.shape[1]):
        x = np.einsum("nij,bnj->bni", Phi, x) + np.einsum("nij,bnj->bni", Gam, q[:, t])
        out[:, t] = x[..., 0]
    return out


def fold_lowpass(tau_steps, omega_step, weight: np.ndarray, dt_s: float):
    """Circuit filter quantities equal to the software bank.

    tau_steps, omega_step: (K,) per filter (omega 0 = low-pass); weight:
    (n_outputs, C * n_out) software readout weights, channel-major, each
    filter contributing Re (and Im when resonant) columns in order.
    Returns (resonant, tau_s, coupling, drive_u, drive_v), the last two
    (n_outputs * K, C) arrays, rows j * K + k."""
    tau_steps = np.asarray(tau_steps, np.float64)
    omega_step = np.asarray(omega_step, np.float64)
    resonant = omega_step != 0
    K = len(tau_steps)
    n_col = int(K + resonant.sum())
    n_out, width = weight.shape
    C = width // n_col
    W = weight.reshape(n_out, C, n_col)
    a = 1.0 - 1.0 / tau_steps
    # scalar math.log/cos/sin: numpy's vectorised float64 log differs in the last
    # bit between AVX2 and AVX-512 CPUs, and the IR must not
    tau_s = np.array([-dt_s / math.log(v) for v in a])
    k_c = omega_step / dt_s * tau_s
    kappa = [(1.0 - ak) * complex(-1.0, kk) / (ak * complex(math.cos(w), math.sin(w)) - 1.0)
             for ak, kk, w in zip(a.tolist(), k_c.tolist(), omega_step.tolist())]
    drive_u = np.zeros((n_out, K, C))
    drive_v = np.zeros((n_out, K, C))
    col = 0
    for k in range(K):
        w_re = W[:, :, col]
        w_im = W[:, :, col + 1] if resonant[k] else np.zeros_like(w_re)
        col += 2 if resonant[k] else 1
        kr, ki = kappa[k].real, kappa[k].imag
        drive_u[:, k] = kr * w_re + ki * w_im
        drive_v[:, k] = -kr * w_im + ki * w_re
    tau = np.repeat(np.stack([tau_s, tau_s], -1)[None], n_out, 0)          # (n_out, K, 2)
    coup = np.repeat(np.stack([k_c, k_c], -1)[None], n_out, 0)
    return (resonant.tolist(), tau, coup,
            drive_u.reshape(n_out * K, C), drive_v.reshape(n_out * K, C))


def sum_readout(n_outputs: int, n_filters: int, bias) -> MirrorBank:
    """y_j = sum_k u_jk + bias_j: unit gains from the output's own filters."""
    gains = np.kron(np.eye(n_outputs), np.ones((1, n_filters)))
    return MirrorBank(gains.tolist(), [float(b) for b in bias])
