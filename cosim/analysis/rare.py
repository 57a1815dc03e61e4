"""Rare failure probabilities from scaled-sigma sampling (SSS), with confidence intervals.

A failure rarer than about 1e-4 needs millions of plain Monte-Carlo draws.
Scaled-sigma sampling draws the same device variations with every standard
deviation multiplied by a scale s > 1, where failures are frequent enough to
count, and extrapolates back to s = 1 with the tail model of "Fast
statistical analysis of rare circuit failure events via scaled-sigma
sampling" (Sun, Li, Liu, Gu, ICCAD 2013):

    ln P(s) = alpha + beta ln s - gamma / s^2        ->   P(1) = exp(alpha - gamma)

(for a failure region at distance r from the nominal point in the space of
standardized variations, P(s) ~ s^beta exp(-r^2 / (2 s^2)) as s grows).
The three parameters come from weighted least squares on ln(k_s / n_s)
(weights n_s k_s / (n_s - k_s), the inverse variance of ln p-hat); the
confidence interval from a parametric bootstrap (k_s* ~ Binomial(n_s,
p-hat_s), refit, percentiles). Plain counts get Clopper-Pearson intervals.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple:
    """Exact binomial interval (low, high) for k failures in n trials."""
    from scipy.stats import beta

    a = (1 - level) / 2
    low = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return low, high


def fit_sss(scales, fails, trials) -> np.ndarray:
    """(alpha, beta, gamma) of ln P(s) = alpha + beta ln s - gamma / s^2 by weighted
    least squares over the scales with 0 < k < n (at least 3 of them)."""
    s, k, n = (np.asarray(v, np.float64) for v in (scales, fails, trials))
    use = (k > 0) & (k < n)
    if use.sum() < 3:
        raise InputError(f"scaled-sigma sampling needs failures (and successes) at >= 3 scales, "
                         f"got them at {int(use.sum())}: raise the scales or the runs per scale")
    s, k, n = s[use], k[use], n[use]
    y = np.log(k / n)
    w = np.sqrt(n * k / (n - k))
    A = np.stack([np.ones_like(s), np.log(s), -1.0 / s**2], axis=1)
    coef, *_ = np.linalg.lstsq(A * w[:, None], y * w, rcond=None)
    return coef


def sss_at(coef, s: float = 1.0) -> float:
    a, b, g = coef
    return float(math.exp(a + b * math.log(s) - g / s**2))


def sss_estimate(scales, fails, trials, *, level: float = 0.95, boot: int = 2000, seed: int = 0) -> dict:
    """P(1) from the counts k_s of n_s draws at each scale, with a bootstrap interval."""
    scales, fails, trials = (np.asarray(v) for v in (scales, fails, trials))
    coef = fit_sss(scales, fails, trials)
    rng = np.random.default_rng([seed, 0x555])
    phat = fails / trials
    est = []
    for _ in range(boot):
        k = rng.binomial(trials, phat)
        try:
            est.append(sss_at(fit_sss(scales, k, trials)))
        except InputError:
            continue
    est = np.asarray(est)
    if len(est) < boot // 2:
        raise InputError("scaled-sigma bootstrap: too few resamples could be fitted; "
                         "raise the runs per scale")
    a = (1 - level) / 2
    return {"p_fail": sss_at(coef), "ci": [float(np.quantile(est, a)), float(np.quantile(est, 1 - a))],
            "level": level, "model": {"alpha": float(coef[0]), "beta": float(coef[1]), "gamma": float(coef[2])},
            "points": [{"scale": float(s), "fails": int(k), "runs": int(n), "p": float(k / n),
                        "ci": list(clopper_pearson(int(k), int(n), level))}
                       for s, k, n in zip(scales, fails, trials)],
            "bootstrap_fits": int(len(est))}
