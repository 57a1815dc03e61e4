"""Hardware IR: the plain-data contract between training and simulation.

Everything a circuit needs, in circuit units: currents in software units
(1 unit = `timing.i_unit_a` A, 1 nA by default), mirror gains (dimensionless),
times in s. Dataclasses <-> JSON, versioned, validated on load. Netlists, the
software reference and Monte Carlo read this, never torch modules.

Every field declares its unit (`unit_of(cls, name)`; names without a suffix
hold software units, `_s` seconds, `_a` amperes, `_v` volts). Numeric lists
are float64 numpy arrays in memory (bools for `resonant`) and lists only in
JSON; a value that is not a rectangular array of numbers is kept as given, so
that validation names the field and the problem.

Shapes: a `MirrorBank` maps n_in input currents to n_out output currents,
    out_i = sum_j gains[i][j] * in_j + bias[i]          (units)
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .timing import CLOCK_LATCH_FRAC, HOLD_TAU_FRAC, Timing, pulse_start_s, schedule  # noqa: F401

IR_VERSION = 1
# Every float of an IR file (and every device value of a netlist) is written
# with this many significant digits, so that the last-bit differences of
# floating-point arithmetic between CPUs never reach an exported file.
SIGNIFICANT_DIGITS = 12


def round_floats(obj, digits: int = SIGNIFICANT_DIGITS):
    """`obj` (nested dicts/lists of JSON values) with every float rounded to
    `digits` significant digits (ints, bools, strings and None unchanged)."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}") if math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {k: round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(v, digits) for v in obj]
    return obj


class IRError(InputError):
    """An IR that cannot describe a circuit; the message names the field."""


def _unit(unit: str, **kw):
    """A dataclass field that records its unit (and, for arrays, its dtype)."""
    return field(metadata={"unit": unit, **kw.pop("meta", {})}, **kw)


def _array(unit: str, dtype=np.float64, **kw):
    return field(metadata={"unit": unit, "dtype": dtype}, **kw)


def unit_of(cls, name: str) -> str:
    """The unit of field `name` of an IR dataclass ("" = dimensionless or not a quantity)."""
    return next(f.metadata["unit"] for f in fields(cls) if f.name == name)


def _as_array(value, dtype):
    """`value` as a numpy array of `dtype`, or unchanged when it is not a
    rectangular array of numbers (validation then names the problem)."""
    if value is None or isinstance(value, np.ndarray):
        return value
    try:
        arr = np.array(value, dtype=dtype)
    except (ValueError, TypeError):
        return value
    if dtype is np.float64 and not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                       for v in _flat(value)):
        return value                   # strings, bools, None: validation reports them
    return arr


def _array_fields(cls) -> dict:
    cache = cls.__dict__.get("_dtypes")
    if cache is None:
        cache = {f.name: f.metadata["dtype"] for f in fields(cls) if "dtype" in f.metadata}
        cls._dtypes = cache
    return cache


def _flat(value):
    for v in value:
        if isinstance(v, (list, tuple, np.ndarray)):
            yield from _flat(v)
        else:
            yield v


def plain(obj):
    """An IR object as plain JSON data: dataclasses -> dicts, arrays -> lists."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


class _ArrayData:
    """Base of IR dataclasses with array fields: a list given to (or assigned to)
    an array field becomes a numpy array; equality by value."""

    def __setattr__(self, name, value):
        dtype = _array_fields(type(self)).get(name)
        object.__setattr__(self, name, value if dtype is None else _as_array(value, dtype))

    def __eq__(self, other):
        return type(self) is type(other) and plain(self) == plain(other)


@dataclass(eq=False)
class MirrorBank(_ArrayData):
    """Weighted current sums: gains (n_out x n_in), bias currents (n_out,) in units."""
    gains: np.ndarray = _array("dimensionless (current gain)")
    bias: np.ndarray = _array("units")

    @property
    def n_out(self) -> int:
        """Rows (a leading draw axis of a batched bank, engine.draws, is not counted)."""
        g = self.gains
        return g.shape[-2] if isinstance(g, np.ndarray) and g.ndim >= 2 else len(g)

    @property
    def n_in(self) -> int:
        g = self.gains
        if isinstance(g, np.ndarray) and g.ndim >= 2:
            return g.shape[-1]
        return len(g[0]) if len(g) else 0


@dataclass
class LadderDesign:
    """CMRU ladder stage design (SPEC 3.4), currents in units, tau in s."""
    c0: float = _unit("units", default=1.0)
    h: float = _unit("units", default=0.25)
    w: float = _unit("units", default=1.0 / 3.0)
    a: float = _unit("units", default=1.0 / 6.0)
    tau_s: float = _unit("s", default=2e-3)


@dataclass(eq=False)
class CellLayer(_ArrayData):
    """One layer of cells.

    bmru/cmru: c = candidate(x), beta = threshold(x), z = H(|c| - |beta|).
    schmitt:   c = ReLU(candidate(ReLU(x))), thresholds beta1, beta1 + delta.
    Output h = alpha * s (units). `ladder_k` bounds the CMRU state (|s| <= K).
    The kind (a plug-in of `hw.kinds`, by name) owns and validates its own fields
    (threshold; beta1, delta; ladder_k, ladder, ladder_scale) and its equations.
    """
    kind: str = _unit("")
    candidate: MirrorBank = _unit("mirror bank")
    alpha: np.ndarray = _array("units (output current per unit of state)")
    init_state: np.ndarray = _array("state (kind's levels or rungs)")
    threshold: MirrorBank | None = _unit("mirror bank", default=None)
    beta1: np.ndarray | None = _array("units", default=None)
    delta: np.ndarray | None = _array("units", default=None)
    ladder_k: int | None = _unit("rungs per side", default=None)
    ladder: LadderDesign | None = _unit("ladder design", default=None)
    # per channel: None, or per-stage factors {param: [2K floats, P1..PK, N1..NK]}
    # for alpha, c0, h, w, a, tau (stage mismatch of the ladder circuit)
    ladder_scale: list | None = _unit("dimensionless factors", default=None)

    @property
    def n(self) -> int:
        return self.candidate.n_out


@dataclass(eq=False)
class FilterBank(_ArrayData):
    """Continuous-time readout filters (behavioral Gm-C, SPEC-style first/second order).

    One filter instance per (output j, filter k), n_filters per output, index
    j * n_filters + k. Each instance has a state u (and v when resonant), in
    units, obeying
        tau_u du/dt = -u - k_uv v + q_u(t)
        tau_v dv/dt = -v + k_vu u + q_v(t)
    with q_u, q_v the drive currents (units) from the mirror banks `drive_u`,
    `drive_v` (n_outputs * n_filters rows) on the readout inputs. A low-pass
    (resonant[k] false) has no v state and k = 0. The readout bank then sums
    the u states: y_j = sum_k u_jk + bias_j.

    tau_s: (n_outputs, n_filters, 2) time constants C/G of u and v (s);
    coupling: (n_outputs, n_filters, 2) k_uv, k_vu = G_couple / G (nominally omega tau);
    volts_per_unit: the state voltage scale of the behavioral model (V per unit).
    The state (u, v) is read at the end of each step (see `output_phase`).
    """
    resonant: np.ndarray = _array("bool (second order)", dtype=bool)
    tau_s: np.ndarray = _array("s")
    coupling: np.ndarray = _array("dimensionless")
    drive_u: MirrorBank = _unit("mirror bank")
    drive_v: MirrorBank = _unit("mirror bank")
    volts_per_unit: float = _unit("V per unit", default=0.01)

    @property
    def n_filters(self) -> int:
        return len(self.resonant)


@dataclass
class HardwareIR:
    name: str = _unit("")
    n_inputs: int = _unit("count")
    n_outputs: int = _unit("count")
    layers: list = _unit("CellLayer per layer")
    readout: MirrorBank = _unit("mirror bank")
    proj: MirrorBank | None = _unit("mirror bank", default=None)
    pool: str = _unit("", default="last")
    readout_all: bool = _unit("", default=False)    # the readout sees every layer's outputs (layer order)
    filters: FilterBank | None = _unit("filter bank", default=None)  # readout through continuous-time filters
    timing: Timing = _unit("timing (s, A, V)", default_factory=Timing)
    quantization: dict = _unit("", default_factory=dict)
    mismatch: dict | None = _unit("", default=None)  # {"p": ..., "seed": ...} when perturbed
    task: dict | None = _unit("", default=None)      # the task the model was trained on
    source: str = _unit("", default="")              # checkpoint it came from
    schema_version: int = _unit("", default=IR_VERSION)

    __eq__ = _ArrayData.__eq__

    # ---- JSON ----
    def to_dict(self) -> dict:
        """Plain data (lists, no arrays), as the JSON file holds it."""
        return plain(self)

    def to_json(self) -> str:
        """JSON text, floats at SIGNIFICANT_DIGITS significant digits."""
        return json.dumps(round_floats(self.to_dict()), indent=1)

    def rounded(self) -> "HardwareIR":
        """This IR with every float at SIGNIFICANT_DIGITS digits (what its file holds)."""
        return HardwareIR.from_dict(json.loads(self.to_json()))

    def save(self, path) -> Path:
        """Write atomically (temp file + rename)."""
        from ..fileio import atomic_write_text

        return atomic_write_text(path, self.to_json())

    @classmethod
    def from_dict(cls, d: dict) -> "HardwareIR":
        if not isinstance(d, dict):
            raise IRError("IR must be a JSON object")
        if d.get("schema_version") != IR_VERSION:
            raise IRError(f"unknown IR schema_version {d.get('schema_version')!r} (this cosim reads {IR_VERSION})")
        try:
            d = dict(d)
            d["readout"] = MirrorBank(**d["readout"])
            d["proj"] = MirrorBank(**d["proj"]) if d.get("proj") else None
            if d.get("filters"):
                f = dict(d["filters"])
                f["drive_u"], f["drive_v"] = MirrorBank(**f["drive_u"]), MirrorBank(**f["drive_v"])
                d["filters"] = FilterBank(**f)
            d["timing"] = Timing(**d.get("timing", {}))
            layers = []
            for layer in d["layers"]:
                layer = dict(layer)
                layer["candidate"] = MirrorBank(**layer["candidate"])
                if layer.get("threshold") is not None:
                    layer["threshold"] = MirrorBank(**layer["threshold"])
                if layer.get("ladder") is not None:
                    layer["ladder"] = LadderDesign(**layer["ladder"])
                layers.append(CellLayer(**layer))
            d["layers"] = layers
            ir = cls(**d)
        except (KeyError, TypeError) as exc:
            raise IRError(f"malformed IR: {exc}") from None
        validate(ir)
        return ir

    @classmethod
    def load(cls, path) -> "HardwareIR":
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise IRError(f"{path}: missing") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise IRError(f"{path}: not valid JSON ({exc})") from None
        try:
            return cls.from_dict(d)
        except IRError as exc:
            raise IRError(f"{path}: {exc}") from None


def mirror_banks(ir: "HardwareIR"):
    """Every mirror bank of the IR as (name, MirrorBank): proj, each layer's candidate
    and threshold, the readout filters' drives, the readout (the one list of them)."""
    if ir.proj is not None:
        yield "proj", ir.proj
    for i, layer in enumerate(ir.layers):
        yield f"layers[{i}].candidate", layer.candidate
        if layer.threshold is not None:
            yield f"layers[{i}].threshold", layer.threshold
    if ir.filters is not None:
        yield "filters.drive_u", ir.filters.drive_u
        yield "filters.drive_v", ir.filters.drive_v
    yield "readout", ir.readout


# ---- validation ----

def check_finite(name: str, values) -> None:
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        bad = values[~np.isfinite(values)]
        if bad.size:
            raise IRError(f"{name} holds a non-finite or non-numeric value ({float(bad[0])!r})")
        return
    for v in _flat(values):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise IRError(f"{name} holds a non-finite or non-numeric value ({v!r})")


def check_bank(name: str, bank: MirrorBank, n_in: int, gain_max: float) -> None:
    if any(len(row) != n_in for row in bank.gains):
        raise IRError(f"{name}.gains must be {bank.n_out} x {n_in}")
    if len(bank.bias) != bank.n_out:
        raise IRError(f"{name}.bias must have {bank.n_out} entries")
    check_finite(f"{name}.gains", bank.gains)
    check_finite(f"{name}.bias", bank.bias)
    worst = max((abs(v) for row in bank.gains for v in row), default=0.0)
    if worst > gain_max:
        raise IRError(f"{name}: mirror gain {worst:.4g} is out of the realisable range "
                      f"|w| <= {gain_max:g}")


def check_positive(name: str, values, n: int, allow_zero: bool = False) -> None:
    if values is None or len(values) != n:
        raise IRError(f"{name} must have {n} entries")
    check_finite(name, values)
    bad = [v for v in values if v < 0 or (v == 0 and not allow_zero)]
    if bad:
        raise IRError(f"{name}: bias currents must be {'>= 0' if allow_zero else '> 0'} (got {bad[0]:.4g})")


def validate(ir: HardwareIR) -> None:
    """Raise IRError on the first problem: NaN, negative bias currents, gains out
    of range, inconsistent shapes, unsupported cells."""
    gain_max = float(ir.quantization.get("gain_max", 16.0))
    if ir.pool not in ("last", "mean"):
        raise IRError(f"pool must be 'last' or 'mean', got {ir.pool!r}")
    t = ir.timing
    check_finite("timing", [t.dt_s, t.sample_frac, t.edge_frac, t.pulse_start_frac, t.pulse_width_s,
                       t.pulse_gap_s, t.i_unit_a])
    if not (t.dt_s > 0 and 0 < t.sample_frac < 1 and 0 < t.edge_frac < t.sample_frac and t.i_unit_a > 0):
        raise IRError("timing: need dt_s > 0, 0 < edge_frac < sample_frac < 1, i_unit_a > 0")
    sched = schedule(t, len(ir.layers), ir.filters is not None)
    if not sched["ok"]:
        raise IRError("timing: " + "; ".join(sched["problems"]))
    width = ir.n_inputs
    if ir.proj is not None:
        check_bank("proj", ir.proj, width, gain_max)
        width = ir.proj.n_out
    if not ir.layers:
        raise IRError("an IR needs at least one cell layer")
    from .kinds import get_kind, kind_names

    for i, layer in enumerate(ir.layers):
        name = f"layers[{i}]"
        if layer.kind not in kind_names():
            raise IRError(f"{name}.kind {layer.kind!r} unsupported (one of {', '.join(kind_names())})")
        kind = get_kind(layer.kind)
        check_bank(f"{name}.candidate", layer.candidate, width, gain_max)
        check_positive(f"{name}.alpha", layer.alpha, layer.n)
        if len(layer.init_state) != layer.n:
            raise IRError(f"{name}.init_state must have {layer.n} entries")
        check_finite(f"{name}.init_state", layer.init_state)
        if layer.ladder_scale is not None and "ladder_scale" not in kind.fields:
            raise IRError(f"{name}.ladder_scale needs one entry per channel of a cmru layer")
        kind.validate(layer, name, width, gain_max)
        width = layer.n
    if ir.readout_all:
        width = sum(layer.n for layer in ir.layers)
    if ir.filters is not None:
        from .kinds.filters import FILTERS

        FILTERS.validate(ir.filters, ir.n_outputs, width, gain_max)
        width = ir.n_outputs * ir.filters.n_filters
    check_bank("readout", ir.readout, width, gain_max)
    if ir.readout.n_out != ir.n_outputs:
        raise IRError("readout must have n_outputs rows")
