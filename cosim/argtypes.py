"""argparse value types that check ranges at the door, and a parser whose errors
are one line (exit 2). Each message names the flag (argparse prefixes it)."""
from __future__ import annotations

import argparse
import math
import sys

from .errors import EXIT_BAD_INPUT


class Parser(argparse.ArgumentParser):
    """ArgumentParser that reports a bad argument in one line, exit 2."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _number(text: str, cast):
    try:
        v = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return v


def int_range(lo: int, hi: int | None = None):
    """int in [lo, hi]."""
    def parse(text: str) -> int:
        v = _number(text, int)
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(
                f"must be an integer in [{lo}, {hi}], got {v}" if hi is not None
                else f"must be an integer >= {lo}, got {v}")
        return v
    parse.__name__ = "integer"
    return parse


def float_range(lo: float, hi: float, *, lo_open: bool = False):
    """finite float in [lo, hi] ((lo, hi] with lo_open)."""
    def parse(text: str) -> float:
        v = _number(text, float)
        if (v <= lo if lo_open else v < lo) or v > hi:
            raise argparse.ArgumentTypeError(
                f"must be in {'(' if lo_open else '['}{lo:g}, {hi:g}], got {v:g}")
        return v
    parse.__name__ = "number"
    return parse


# ngspice wall-clock limit per run, s: > 0, at most a day
timeout_s = float_range(0.0, 86400.0, lo_open=True)
seed = int_range(0, 2 ** 31 - 1)
bits = int_range(2, 16)


def choice_list(choices):
    """Comma-separated values, each one of `choices`, no repeats (order kept)."""
    def parse(text: str) -> list:
        vals = [v.strip() for v in text.split(",") if v.strip()]
        bad = [v for v in vals if v not in choices]
        if not vals or bad or len(set(vals)) != len(vals):
            raise argparse.ArgumentTypeError(f"expected distinct values from {', '.join(choices)} "
                                             f"separated by commas, got {text!r}")
        return vals
    parse.__name__ = "list"
    return parse


def float_list(lo: float, hi: float):
    """Comma-separated distinct finite floats in [lo, hi] (order kept)."""
    one = float_range(lo, hi)

    def parse(text: str) -> list:
        vals = [one(v.strip()) for v in text.split(",") if v.strip()]
        if not vals or len(set(vals)) != len(vals):
            raise argparse.ArgumentTypeError(f"expected distinct numbers separated by commas, got {text!r}")
        return vals
    parse.__name__ = "list"
    return parse
