"""Quantization, mapping to circuit quantities, and the hardware IR.

The names below load `hw.ir` (and numpy) on first use, so that a command's
parser can import `hw.source` without numpy (`cosim --help` stays light)."""
__all__ = ["HardwareIR", "CellLayer", "MirrorBank", "LadderDesign", "Timing", "IRError", "validate"]


def __getattr__(name):
    if name in __all__:
        from . import ir

        return getattr(ir, name)
    raise AttributeError(f"module 'cosim.hw' has no attribute {name!r}")
