"""Shared pieces of the fits: an estimate with its interval, and a numerical Hessian."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "inverse_or_none", "log_scale_estimates", "number", "numeric_hessian"]


@dataclass(frozen=True)
class Estimate:
    """A fitted value and its 95% interval (``low``/``high`` are NaN when none could be computed)."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        if np.isnan(self.low):
            return number(self.value)
        return f"{number(self.value)} [{number(self.low)}, {number(self.high)}]"

    def covers(self, x: float) -> bool:
        """Whether ``x`` lies inside the interval."""
        return bool(self.low <= x <= self.high)


def number(x: float) -> str:
    """Four significant digits; thousands separators instead of an exponent for large values."""
    if np.isfinite(x) and abs(x) >= 10_000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def numeric_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of scalar ``f`` at ``x`` (shape (k, k)); 4k² evaluations."""
    x = np.asarray(x, dtype=np.float64)
    k = x.size
    h = step * np.maximum(1.0, np.abs(x))
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h[i]
            ej[j] = h[j]
            value = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[i] * h[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def log_scale_estimates(log_values: np.ndarray, covariance: np.ndarray | None, z: float) -> list[Estimate]:
    """Estimates ``exp(log θ)`` with Wald intervals ``exp(log θ ± z·se)`` (positive by construction)."""
    values = np.exp(log_values)
    if covariance is None:
        return [Estimate(float(v), np.nan, np.nan) for v in values]
    variances = np.diag(covariance)
    estimates = []
    for value, log_value, variance in zip(values, log_values, variances, strict=True):
        if not np.isfinite(variance) or variance < 0:
            estimates.append(Estimate(float(value), np.nan, np.nan))
            continue
        se = float(np.sqrt(variance))
        with np.errstate(over="ignore"):  # a huge interval is infinite at its top: that is its meaning
            low, high = np.exp(log_value - z * se), np.exp(log_value + z * se)
        estimates.append(Estimate(float(value), float(low), float(high)))
    return estimates


def inverse_or_none(matrix: np.ndarray) -> np.ndarray | None:
    """The inverse of a positive-definite matrix, or ``None`` when it is singular or indefinite."""
    try:
        inverse = np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(inverse)) or np.any(np.diag(inverse) <= 0):
        return None
    return inverse
