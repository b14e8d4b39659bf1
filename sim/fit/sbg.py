"""Shifted-beta-geometric α and β from a cohort retention table (maximum likelihood, scipy).

Fader & Hardie (2007): each customer's churn probability per period, θ, is Beta(α, β) across
customers. A customer who starts in period 0 leaves in period t ≥ 1 with probability
``P(T = t) = B(α + 1, β + t − 1) / B(α, β)`` and is still active after t periods with probability
``S(t) = B(α, β + t) / B(α, β)``. A cohort observed for n periods contributes
``Σₜ (nₜ₋₁ − nₜ)·log P(T = t) + n_n·log S(n)`` (the last term: those still active are censored).
Several cohorts add up. The log-likelihood is maximised over (log α, log β) with
``scipy.optimize.minimize``; intervals are Wald intervals from the observed information (the
numerical Hessian of the log-likelihood at the maximum), on the log scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln

from sim.fit._stats import Estimate, inverse_or_none, log_scale_estimates, numeric_hessian
from sim.fit.io import FitDataError

__all__ = ["SbgFit", "fit_sbg", "sbg_survival"]

_Z95 = 1.959963984540054


def sbg_survival(alpha: float, beta: float, t: np.ndarray) -> np.ndarray:
    """Share of a cohort still active after ``t`` periods, ``B(α, β + t) / B(α, β)``."""
    return np.exp(betaln(alpha, beta + np.asarray(t, dtype=np.float64)) - betaln(alpha, beta))


def _log_likelihood(log_theta: np.ndarray, survivors: np.ndarray) -> float:
    alpha, beta = np.exp(log_theta)
    periods = survivors.shape[1]
    t = np.arange(1, periods, dtype=np.float64)
    log_p = betaln(alpha + 1.0, beta + t - 1.0) - betaln(alpha, beta)  # leave in period t
    log_s = betaln(alpha, beta + np.arange(periods, dtype=np.float64)) - betaln(alpha, beta)
    lost = survivors[:, :-1] - survivors[:, 1:]  # NaN where unobserved
    total = float(np.nansum(lost * log_p))
    last = np.array([np.flatnonzero(~np.isnan(row))[-1] for row in survivors])
    total += float(np.sum(survivors[np.arange(len(last)), last] * log_s[last]))
    return total


@dataclass(frozen=True)
class SbgFit:
    """A fitted shifted-beta-geometric model.

    Attributes:
        alpha: Beta α of the per-period churn probability.
        beta: Beta β of the per-period churn probability.
        period_days: days in one period (the cohort table's period).
        table: one row per period ``t``: ``observed`` (share of all cohorts still active, pooled over
            the cohorts observed that long), ``fitted`` (``S(t)``), ``low``/``high`` (95% band),
            ``retention`` (the fitted ``S(t)/S(t−1)``).
        log_likelihood: at the maximum.
        n_customers: customers in all cohorts.
        notes: caveats a person should read with the numbers.
    """

    alpha: Estimate
    beta: Estimate
    period_days: float
    table: pd.DataFrame
    log_likelihood: float
    n_customers: int
    notes: list[str] = field(default_factory=list)

    kind = "sbg"

    @property
    def mean_churn(self) -> float:
        """Mean churn probability per period, α / (α + β)."""
        return self.alpha.value / (self.alpha.value + self.beta.value)

    def parameters(self) -> pd.DataFrame:
        """Parameters with intervals and units, one row each."""
        rows = [
            ("alpha", self.alpha, "", "Beta α of churn probability per period"),
            ("beta", self.beta, "", "Beta β of churn probability per period"),
        ]
        return pd.DataFrame(rows, columns=["parameter", "estimate", "unit", "meaning"]).assign(
            value=lambda f: [e.value for e in f["estimate"]],
            low=lambda f: [e.low for e in f["estimate"]],
            high=lambda f: [e.high for e in f["estimate"]],
        )


def fit_sbg(survivors: np.ndarray, *, period_days: float = 365.0) -> SbgFit:
    """Fit the shifted-beta-geometric model to cohort survivor counts.

    Args:
        survivors: customers still active after t periods, shape (cohorts, periods) or (periods,);
            column 0 is each cohort's size; NaN marks periods a cohort has not reached yet.
        period_days: days in one period (365 for yearly renewals).

    Returns:
        α and β with 95% intervals, and the pooled survival curve against the fit.

    Raises:
        FitDataError: fewer than 3 periods, negative or rising counts, an empty cohort, or a table
            in which nobody ever leaves (α and β are then not identified).
    """
    table = np.atleast_2d(np.asarray(survivors, dtype=np.float64))
    if table.shape[1] < 3:
        raise FitDataError(f"an sBG fit needs at least 3 periods (0, 1, 2); got {table.shape[1]}")
    if np.any(table[:, 0] <= 0) or np.isnan(table[:, 0]).any():
        raise FitDataError("every cohort needs a size above 0 in period 0")
    if np.nanmin(table) < 0:
        raise FitDataError("survivor counts must not be negative")
    if np.any(np.nan_to_num(np.diff(table, axis=1)) > 1e-9):
        raise FitDataError("survivor counts must not rise with age")
    if np.nansum(table[:, :-1] - table[:, 1:]) <= 0:
        raise FitDataError("nobody ever leaves in this table, so churn cannot be estimated")

    def negative(log_theta: np.ndarray) -> float:
        value = -_log_likelihood(log_theta, table)
        return value if np.isfinite(value) else 1e300

    best = None
    for start in ([0.0, 0.0], [-1.0, 1.0], [1.0, 2.0], [-2.0, -1.0]):
        result = minimize(
            negative,
            np.array(start),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 4000},
        )
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    log_theta = best.x
    covariance = inverse_or_none(numeric_hessian(negative, log_theta))
    alpha, beta = log_scale_estimates(log_theta, covariance, _Z95)
    periods = np.arange(table.shape[1], dtype=np.float64)
    fitted = sbg_survival(alpha.value, beta.value, periods)
    if covariance is not None:

        def log_curve(x: np.ndarray) -> np.ndarray:
            return np.log(sbg_survival(np.exp(x[0]), np.exp(x[1]), periods))

        step = 1e-6
        grad = np.column_stack(
            [
                (log_curve(log_theta + step * e) - log_curve(log_theta - step * e)) / (2 * step)
                for e in np.eye(2)
            ]
        )
        sd = np.sqrt(np.einsum("ij,jk,ik->i", grad, covariance, grad))
        low, high = fitted * np.exp(-_Z95 * sd), np.minimum(fitted * np.exp(_Z95 * sd), 1.0)
    else:
        low = high = np.full_like(fitted, np.nan)
    observed_mask = ~np.isnan(table)
    # Pooled survival: a chain of period-to-period retention over the cohorts observed at both ages.
    ratio = np.ones(table.shape[1])
    for t in range(1, table.shape[1]):
        both = observed_mask[:, t]
        ratio[t] = table[both, t].sum() / table[both, t - 1].sum()
    observed = np.cumprod(ratio)
    retention = np.concatenate([[np.nan], fitted[1:] / fitted[:-1]])
    frame = pd.DataFrame(
        {
            "period": periods.astype(int),
            "observed": observed,
            "fitted": fitted,
            "low": low,
            "high": high,
            "retention": retention,
        }
    )
    notes = []
    if covariance is None:
        notes.append("the likelihood is flat at the optimum: no intervals (more periods or cohorts needed)")
    return SbgFit(
        alpha=alpha,
        beta=beta,
        period_days=float(period_days),
        table=frame,
        log_likelihood=float(-best.fun),
        n_customers=int(table[:, 0].sum()),
        notes=notes,
    )
