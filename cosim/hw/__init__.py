"""Quantization, mapping to circuit quantities, and the hardware IR."""
from .ir import CellLayer, HardwareIR, IRError, LadderDesign, MirrorBank, Timing, validate

__all__ = ["HardwareIR", "CellLayer", "MirrorBank", "LadderDesign", "Timing", "IRError", "validate"]
