"""Exit codes of the `cosim` command and the exceptions that map to them.

    0    success
    2    bad input or a fault that stopped the command (one-line message)
    3    the command ran, but a check failed (verify FAIL, Monte-Carlo runs
         that failed or disagree with the acceptance goal)
    130  interrupted (Ctrl-C); finished work is kept, nothing is half-written
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_CHECK_FAILED = 3
EXIT_INTERRUPTED = 130


class InputError(ValueError):
    """Bad input (argument, file, configuration): printed as one line, exit 2."""


class CheckFailed(Exception):
    """The work finished and its results are written, but an acceptance check
    failed: printed as one line, exit 3."""
