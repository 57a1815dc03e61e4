"""Analyses on arrays and IRs: hysteresis, fixed points, ladder, agreement."""
