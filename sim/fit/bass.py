"""Bass p, q and m from an adoption or sales series (nonlinear least squares, scipy).

The model (Bass 1969; docs/science.md §1): the adopted share ``F(t) = (1 − e^{−(p+q)t}) /
(1 + (q/p)·e^{−(p+q)t})``. Sales in period t are fitted as ``m·(F(t) − F(t−1))``, the discrete form
of Srinivasan & Mason (1986): each period's total is what the continuous model adopts within it, so
the fit has no discrete-time lag. Parameters are fitted on the log scale (they stay positive) by
``scipy.optimize.least_squares`` from a grid of starts, and the best fit is kept.

Intervals are Wald intervals from the Jacobian at the optimum: ``Cov = s²·(JᵀJ)⁻¹`` with ``s²`` the
residual variance on T − 3 degrees of freedom, on the log scale, with Student's t quantile. The band
around the fitted curve is the delta method's pointwise 95% band of the mean.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.special import stdtrit

from sim.fit._stats import Estimate, inverse_or_none, log_scale_estimates
from sim.fit.io import FitDataError

__all__ = ["BassFit", "bass_share", "fit_bass"]


def bass_share(p: float, q: float, t: np.ndarray) -> np.ndarray:
    """Cumulative adopted share ``F(t)`` of the Bass model (t in periods, p and q per period)."""
    decay = np.exp(-(p + q) * np.asarray(t, dtype=np.float64))
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def _per_period(log_theta: np.ndarray, t: np.ndarray) -> np.ndarray:
    m, p, q = np.exp(log_theta)
    return m * (bass_share(p, q, t) - bass_share(p, q, t - 1))


@dataclass(frozen=True)
class BassFit:
    """A fitted Bass model.

    Attributes:
        p: coefficient of innovation (external influence), per period.
        q: coefficient of imitation (word of mouth), per period.
        m: market potential, in the series' units.
        period_days: days in one period (used to map p and q to daily rates).
        table: one row per period: ``period`` (1…T), ``label``, ``observed``, ``fitted``, ``low``,
            ``high`` (per-period sales and the 95% band of the fitted mean), ``cumulative`` and
            ``cumulative_fitted``.
        rmse: root mean squared error of the per-period fit, in the series' units.
        unit: what the series counts.
        notes: caveats a person should read with the numbers.
    """

    p: Estimate
    q: Estimate
    m: Estimate
    period_days: float
    table: pd.DataFrame
    rmse: float
    unit: str = "sales"
    notes: list[str] = field(default_factory=list)

    kind = "bass"

    def parameters(self) -> pd.DataFrame:
        """Parameters with intervals and units, one row each."""
        return pd.DataFrame(
            [
                ("p", self.p, "per period", "coefficient of innovation (external influence)"),
                ("q", self.q, "per period", "coefficient of imitation (word of mouth)"),
                ("m", self.m, self.unit, "market potential"),
            ],
            columns=["parameter", "estimate", "unit", "meaning"],
        ).assign(
            value=lambda f: [e.value for e in f["estimate"]],
            low=lambda f: [e.low for e in f["estimate"]],
            high=lambda f: [e.high for e in f["estimate"]],
        )


def fit_bass(
    sales: np.ndarray,
    *,
    period_days: float = 365.0,
    labels: list[str] | None = None,
    unit: str = "sales",
) -> BassFit:
    """Fit Bass p, q and m to sales (or adoptions) per period.

    Args:
        sales: non-negative values per period, oldest first, shape (T,), T ≥ 4. The first value is
            the first period of the product's life (t = 1).
        period_days: length of one period in days (365 for yearly data).
        labels: period labels for the table (default 1…T).
        unit: what the values count (for the table and messages).

    Returns:
        The fit with 95% intervals (see the module docstring for the method).

    Raises:
        FitDataError: fewer than 4 periods, negative values or an all-zero series.
    """
    y = np.asarray(sales, dtype=np.float64)
    if y.ndim != 1 or y.size < 4:
        raise FitDataError(f"a Bass fit needs at least 4 periods; got {y.size}")
    if np.any(y < 0) or not np.all(np.isfinite(y)):
        raise FitDataError("sales must be finite and not negative")
    total = float(y.sum())
    if total <= 0:
        raise FitDataError("sales are all zero: there is nothing to fit")
    t = np.arange(1, y.size + 1, dtype=np.float64)
    scale = max(float(y.max()), 1e-12)

    def residuals(log_theta: np.ndarray) -> np.ndarray:
        # A search may try extreme p or q; overflow there just makes a poor fit, not an error.
        with np.errstate(all="ignore"):
            return (_per_period(log_theta, t) - y) / scale

    best = None
    for m0, p0, q0 in itertools.product((1.1, 2.0, 5.0), (0.001, 0.01, 0.05), (0.05, 0.4, 1.0)):
        start = np.log([m0 * total, p0, q0])
        try:
            result = least_squares(residuals, start, method="trf", max_nfev=2000)
        except (ValueError, FloatingPointError):
            continue
        if np.all(np.isfinite(result.fun)) and (best is None or result.cost < best.cost):
            best = result
    if best is None:
        raise FitDataError("the Bass model could not be fitted to this series")
    log_theta = best.x
    dof = y.size - 3
    residual = best.fun * scale
    s2 = float(residual @ residual) / dof if dof > 0 else np.nan
    jac = np.asarray(best.jac, dtype=np.float64) * scale  # d(sales)/d(log θ)
    covariance = inverse_or_none(jac.T @ jac)
    covariance = covariance * s2 if covariance is not None and np.isfinite(s2) and s2 > 0 else None
    quantile = float(stdtrit(dof, 0.975)) if dof > 0 else np.nan
    m, p, q = log_scale_estimates(log_theta, covariance, quantile)
    fitted = _per_period(log_theta, t)
    if covariance is not None:
        sd = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, covariance, jac), 0.0))
        low, high = np.maximum(fitted - quantile * sd, 0.0), fitted + quantile * sd
    else:
        low = high = np.full_like(fitted, np.nan)
    notes = []
    if covariance is None:
        notes.append("the fit is degenerate (too few periods or a perfect fit): no intervals")
    if p.value > 0 and q.value / p.value < 1:
        notes.append("q < p: adoption shows no S-curve, so word of mouth is weakly identified")
    if y[-1] >= y.max():
        notes.append("sales have not peaked yet: m and q are uncertain until they do")
    table = pd.DataFrame(
        {
            "period": t.astype(int),
            "label": labels if labels is not None else [str(int(i)) for i in t],
            "observed": y,
            "fitted": fitted,
            "low": low,
            "high": high,
            "cumulative": np.cumsum(y),
            "cumulative_fitted": np.cumsum(fitted),
        }
    )
    rmse = float(np.sqrt(np.mean(residual**2)))
    return BassFit(
        p=p, q=q, m=m, period_days=float(period_days), table=table, rmse=rmse, unit=unit, notes=notes
    )
