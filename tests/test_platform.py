"""Exported files are byte-identical whatever the CPU's instruction set and the
thread count: each configuration exports in a fresh process and must reproduce
the committed netlists/ files (which test_netlist checks under the defaults)."""
import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
MODELS = ["bmru_flipflop", "schmitt_digits"]   # digits: softplus, exp, log, the filter fold
SUFFIXES = [".cir", ".hw.json", ".quant.json", ".inputs.npy", ".probes.json"]

# AVX2 everywhere on an AVX-512 machine: torch's kernels, numpy's SIMD loops, OpenBLAS.
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
        "OPENBLAS_CORETYPE": "Haswell"}
CONFIGS = {
    "avx2-1thread": {**AVX2, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    "default-2threads": {"ATEN_CPU_CAPABILITY": "default", "OMP_NUM_THREADS": "2",
                         "OPENBLAS_NUM_THREADS": "2"},
}


def _export_all(out: Path, env: dict) -> subprocess.Popen:
    script = "; ".join(
        ["import sys", "from cosim.cli import main"]
        + [f"rc = main(['export', 'models/{m}', '--bits', '6', '--out', {str(out / (m + '.cir'))!r}]);"
           " rc and sys.exit(rc)" for m in MODELS])
    return subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_export_is_byte_identical_across_cpu_features_and_threads(tmp_path):
    procs = {}
    for name, env in CONFIGS.items():
        (tmp_path / name).mkdir()
        procs[name] = _export_all(tmp_path / name, env)
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out
    for name in CONFIGS:
        for m in MODELS:
            for suffix in SUFFIXES:
                fresh = (tmp_path / name / (m + suffix)).read_bytes()
                committed = (ROOT / "netlists" / (m + suffix)).read_bytes()
                assert fresh == committed, f"{m}{suffix} differs under {name}"


def test_ir_files_hold_fixed_significant_digits():
    """Every float of an exported IR has at most SIGNIFICANT_DIGITS significant digits."""
    import json

    from cosim.hw.ir import SIGNIFICANT_DIGITS

    def floats(obj):
        if isinstance(obj, float):
            yield obj
        elif isinstance(obj, dict):
            for v in obj.values():
                yield from floats(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from floats(v)

    values = list(floats(json.loads((ROOT / "netlists" / "schmitt_digits.hw.json").read_text())))
    assert len(values) > 1000
    assert all(float(f"{v:.{SIGNIFICANT_DIGITS}g}") == v for v in values)
    # and the rounding is not a no-op: full float64 values would need 17 digits
    assert any(float(f"{v:.{SIGNIFICANT_DIGITS - 1}g}") != v for v in values)
