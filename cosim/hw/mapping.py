"""Map a trained model to the hardware IR: range fitting, quantization, currents.

Software units become currents (1 unit = i_unit_a, 1 nA by default) and
weights become mirror gains. Before quantizing, each cell channel is scaled so
its largest gain fits the realisable range: dividing a channel's candidate and
threshold rows (and, for the first-quadrant cell, beta1 and delta) by the same
lambda > 0 changes no gate decision, only the size of its internal currents.

Everything here is float64 from the stored float32 parameters on, and the
transcendental functions (softplus, exp, log) are the scalar ones of Python's
`math` module, not torch's or numpy's vectorised kernels, whose last bits
depend on the CPU's instruction set (AVX2 vs AVX-512): the IR of a checkpoint
is the same on every x86-64 machine and thread count.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..cells import SchmittMRU
from ..errors import InputError
from ..models.stack import Model
from .filters import fold_lowpass, sum_readout
from .ir import CellLayer, FilterBank, HardwareIR, LadderDesign, MirrorBank, Timing, validate
from .quantize import check_bits, quantize

DEFAULT_GAIN_MAX = 8.0


class ExportError(InputError):
    """A model that cannot become a circuit, with what to do about it."""


def _np(t: torch.Tensor) -> np.ndarray:
    """A stored parameter as float64 (exact: float32 -> float64 loses nothing)."""
    return t.detach().cpu().double().numpy()


def _elementwise(fn, values: np.ndarray) -> np.ndarray:
    return np.array([fn(float(v)) for v in values.ravel()], dtype=np.float64).reshape(values.shape)


def _softplus(x: float) -> float:
    """log(1 + e^x) without overflow, in float64."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def softplus64(raw: torch.Tensor) -> np.ndarray:
    """softplus of a raw parameter in float64 (scalar libm, CPU-independent)."""
    return _elementwise(_softplus, _np(raw))


def check_exportable(model: Model) -> None:
    cfg = model.cfg
    if cfg.cell == "acmru":
        raise ExportError("the alpha-CMRU has no circuit model yet: export a bmru, cmru or schmitt model")
    if cfg.mlp or cfg.norm or cfg.skip:
        raise ExportError("export supports plain layer stacks only (no mlp, norm or skip)")
    if cfg.eps not in (0.0, 1.0):
        raise ExportError(f"eps = {cfg.eps:g} cannot be exported: only 0 (BMRU) or 1 (CMRU) "
                          "exist as circuits; anneal eps to 0 or 1 during training")
    if cfg.cell == "schmitt" and cfg.eps != 0.0:
        raise ExportError("the first-quadrant cell is exported with eps = 0 only")
    if cfg.cell in ("bmru", "cmru") and cfg.eps == 1.0 and cfg.ladder is None:
        raise ExportError("a CMRU circuit ladder is finite: train with --ladder K (K <= 8)")
    if cfg.cell in ("bmru", "cmru") and cfg.eps == 1.0 and cfg.init_state is None:
        pass  # s0 in {-1, +1}: a valid rung


def _float_layer(cell, gain_max: float) -> dict:
    """Unquantized circuit quantities of one cell layer, channels range-fitted."""
    Wc, bc = _np(cell.candidate.weight), _np(cell.candidate.bias)
    alpha = softplus64(cell.alpha_raw)
    if isinstance(cell, SchmittMRU):
        beta1, delta = softplus64(cell.beta1_raw), softplus64(cell.delta_raw)
        lam = np.maximum(1.0, np.abs(Wc).max(axis=1) / gain_max)
        return dict(kind="schmitt", Wc=Wc / lam[:, None], bc=bc / lam, alpha=alpha,
                    beta1=beta1 / lam, delta=delta / lam,
                    init_state=_np(cell.initial_state()))
    Wb, bb = _np(cell.threshold.weight), _np(cell.threshold.bias)
    both = np.concatenate([np.abs(Wc), np.abs(Wb)], axis=1)
    lam = np.maximum(1.0, both.max(axis=1) / gain_max)
    kind = "cmru" if cell.eps == 1.0 else "bmru"
    return dict(kind=kind, Wc=Wc / lam[:, None], bc=bc / lam, Wb=Wb / lam[:, None], bb=bb / lam,
                alpha=alpha, init_state=_np(cell.init_state()), ladder_k=cell.ladder)


def _bank(W, b, bits, per_channel, report, name) -> MirrorBank:
    if bits is None:
        return MirrorBank(W.tolist(), b.tolist())
    Wq, rw = quantize(W, bits, per_channel=per_channel)
    bq, rb = quantize(b, bits)
    report[f"{name}.weight"], report[f"{name}.bias"] = rw, rb
    return MirrorBank(Wq.tolist(), bq.tolist())


def _unsigned(v, bits, report, name) -> list:
    if bits is None:
        return v.tolist()
    q, r = quantize(v, bits, unsigned=True)
    report[name] = r
    return q.tolist()


def _filter_readout(model: Model, dt_s: float, bits, per_channel, report) -> tuple:
    """(FilterBank, summing readout) of a model with the filter-bank readout:
    circuit filters whose u states equal the software filters' readout terms."""
    lp = model.lowpass
    omega = _np(lp.omega) * _np(lp.resonant.double())
    tau = np.maximum(_elementwise(math.exp, _np(lp.log_tau)), lp.TAU_MIN)   # LowPass.tau in float64
    resonant, tau_s, coupling, du, dv = fold_lowpass(tau, omega, _np(model.readout.weight), dt_s)
    zeros = np.zeros(du.shape[0])
    bank = FilterBank(resonant=resonant, tau_s=tau_s.tolist(), coupling=coupling.tolist(),
                      drive_u=_bank(du, zeros, bits, per_channel, report, "filters.drive_u"),
                      drive_v=_bank(dv, zeros, bits, per_channel, report, "filters.drive_v"))
    n_out = model.cfg.n_outputs
    ones = sum_readout(n_out, len(resonant), _np(model.readout.bias))
    readout = _bank(np.asarray(ones.gains), np.asarray(ones.bias), bits, per_channel, report, "readout")
    return bank, readout


def model_to_ir(model: Model, doc: dict, bits: int | None = 6, per_channel: bool = False,
                gain_max: float = DEFAULT_GAIN_MAX, timing: Timing | None = None,
                name: str = "model", source: str = "") -> tuple[HardwareIR, dict]:
    """(IR, quantization report) of a loaded checkpoint. bits=None keeps floats."""
    check_exportable(model)
    if bits is not None:
        check_bits(bits)
    if not gain_max > 0:
        raise ExportError(f"gain_max must be > 0, got {gain_max}")
    report: dict = {}
    proj = None
    if model.proj is not None:
        proj = _bank(_np(model.proj.weight), _np(model.proj.bias), bits, per_channel, report, "proj")
    layers = []
    for i, layer in enumerate(model.layers):
        f = _float_layer(layer.cell, gain_max)
        name_i = f"layers[{i}]"
        cand = _bank(f["Wc"], f["bc"], bits, per_channel, report, f"{name_i}.candidate")
        alpha = _unsigned(f["alpha"], bits, report, f"{name_i}.alpha")
        init = [float(v) for v in f["init_state"]]
        if f["kind"] == "schmitt":
            layers.append(CellLayer("schmitt", cand, alpha, init,
                                    beta1=_unsigned(f["beta1"], bits, report, f"{name_i}.beta1"),
                                    delta=_unsigned(f["delta"], bits, report, f"{name_i}.delta")))
        else:
            thr = _bank(f["Wb"], f["bb"], bits, per_channel, report, f"{name_i}.threshold")
            cmru = f["kind"] == "cmru"
            layers.append(CellLayer(f["kind"], cand, alpha, init, threshold=thr,
                                    ladder_k=f["ladder_k"] if cmru else None,
                                    ladder=LadderDesign() if cmru else None))
    timing = timing or Timing()
    filters = None
    if model.lowpass is not None:
        filters, readout = _filter_readout(model, timing.dt_s, bits, per_channel, report)
    else:
        readout = _bank(_np(model.readout.weight), _np(model.readout.bias), bits, per_channel,
                        report, "readout")
    pool = "last" if model.cfg.pool == "lowpass" else model.cfg.pool
    ir = HardwareIR(name=name, n_inputs=model.cfg.n_inputs, n_outputs=model.cfg.n_outputs,
                    layers=layers, readout=readout, proj=proj, pool=pool,
                    readout_all=bool(model.cfg.readout_all), filters=filters, timing=timing,
                    quantization={"bits": bits, "per_channel": per_channel, "gain_max": gain_max},
                    task=doc.get("task"), source=source)
    validate(ir)
    return ir.rounded(), report
