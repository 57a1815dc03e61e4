"""Orchestration: build benches, run ngspice, analyse, plot (used by the CLI)."""
