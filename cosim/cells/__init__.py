"""Software cells: parallel scan, surrogate gradients, BMRU/CMRU, alpha-CMRU, Schmitt (first quadrant)."""
from .mru import MRU, AlphaCMRU
from .scan import parallel_scan, scan, sequential_scan
from .schmitt import SchmittMRU
from .surrogate import heaviside, sign, surrogate_derivative

__all__ = ["MRU", "AlphaCMRU", "SchmittMRU", "scan", "parallel_scan", "sequential_scan",
           "heaviside", "sign", "surrogate_derivative"]
