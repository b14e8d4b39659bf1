"""Buy-till-you-die from a transaction log: Pareto/NBD or BG/NBD, plus Gamma-Gamma spend.

The models come from pymc-marketing's CLV module (an optional extra: ``pip install
'ripple-sim[fit]'``; ``make venv`` installs it). Every prior is flat (``HalfFlat``) and the fit is
the posterior mode (``fit(method="map")``), which with flat priors is the maximum-likelihood
estimate the literature reports. Intervals are Laplace (Wald) intervals: the numerical Hessian of
the model's log-likelihood at the mode, in the log parameters pymc samples in.

- **Pareto/NBD** (Schmittlein, Morrison & Colombo 1987): while alive a customer buys at Poisson
  rate λ ~ Gamma(r, α) and stays alive for an exponential time with rate μ ~ Gamma(s, β).
- **BG/NBD** (Fader, Hardie & Lee 2005a): the same purchases, but after each repeat purchase the
  customer leaves with probability p ~ Beta(a, b).
- **Gamma-Gamma** (Fader, Hardie & Lee 2005b; Colombo & Jiang 1999): a customer's order values are
  Gamma(p, ν) around their own mean p/ν, with ν ~ Gamma(q, γ) across customers (``v`` = γ here, as
  pymc-marketing names it). It uses customers with at least one repeat purchase.

Time runs in units of ``time_unit_days`` days (7: weeks, the literature's unit).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.fit._stats import Estimate, inverse_or_none, log_scale_estimates, numeric_hessian
from sim.fit.io import FitDataError

__all__ = [
    "BTYD_MODELS",
    "BtydFit",
    "MissingFitLibraryError",
    "fit_btyd",
    "require_clv_library",
    "rfm_from_transactions",
]

BtydModel = Literal["pareto_nbd", "bg_nbd"]
#: The purchase-and-dropout models offered, and their parameters in pymc-marketing's names.
BTYD_MODELS: dict[str, tuple[str, ...]] = {
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "bg_nbd": ("r", "alpha", "a", "b"),
}
_GAMMA_GAMMA = ("p", "q", "v")
_Z95 = 1.959963984540054
_INSTALL = "pip install 'ripple-sim[fit]'"


class MissingFitLibraryError(FitDataError):
    """pymc-marketing is not installed: the message says how to install it."""


def require_clv_library() -> Any:
    """Import and return ``pymc_marketing.clv``, or raise :class:`MissingFitLibraryError` with the fix."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pymc_marketing import clv
    except ImportError:
        raise MissingFitLibraryError(
            f"fitting a transaction log needs pymc-marketing, which is not installed: {_INSTALL}"
        ) from None
    return clv


def rfm_from_transactions(
    transactions: pd.DataFrame,
    *,
    observation_end: str | pd.Timestamp | None = None,
    time_unit_days: float = 7.0,
) -> pd.DataFrame:
    """Per-customer summary for the CLV models, with pymc-marketing's ``rfm_summary``.

    Args:
        transactions: ``customer_id``, ``date``, ``amount`` (as :func:`sim.fit.io.read_transactions`
            returns).
        observation_end: the last day observed (default: the last order's day); later orders are
            left out.
        time_unit_days: days per time unit of ``recency`` and ``T``.

    Returns:
        One row per customer: ``customer_id``, ``frequency`` (repeat purchase days), ``recency`` and
        ``T`` (in time units since the first purchase), ``monetary_value`` (mean spend of the repeat
        purchase days, 0 with none). Orders on the same day count as one purchase, summed.
    """
    clv = require_clv_library()
    end = pd.Timestamp(observation_end) if observation_end is not None else transactions["date"].max()
    kept = transactions[transactions["date"] <= end]
    if kept["customer_id"].nunique() < 2:
        raise FitDataError(f"fewer than two customers ordered by {end.date()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = clv.rfm_summary(
            kept,
            "customer_id",
            "date",
            "amount",
            observation_period_end=end,
            time_unit="D",
            time_scaler=time_unit_days,
        )
    result: pd.DataFrame = summary
    return result


@dataclass(frozen=True)
class BtydFit:
    """A fitted buy-till-you-die model with Gamma-Gamma spend.

    Attributes:
        model: ``"pareto_nbd"`` or ``"bg_nbd"``.
        params: the purchase-and-dropout parameters (``r``, ``alpha`` and ``s``, ``beta`` or ``a``,
            ``b``), time in units of ``time_unit_days``.
        spend: Gamma-Gamma ``p``, ``q``, ``v`` (``None`` with fewer than 10 repeat customers).
        time_unit_days: days per time unit.
        n_customers: customers in the summary.
        n_repeat_customers: customers with a repeat purchase.
        table: expected vs observed cumulative repeat purchases by time unit since the log's start
            (``time``, ``observed``, ``fitted``); empty when fitted from a summary alone.
        notes: caveats a person should read with the numbers.
    """

    model: str
    params: dict[str, Estimate]
    spend: dict[str, Estimate] | None
    time_unit_days: float
    n_customers: int
    n_repeat_customers: int
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    kind = "btyd"

    @property
    def mean_rate_per_day(self) -> float:
        """Mean purchase rate while alive, r/α, per day."""
        return self.params["r"].value / (self.params["alpha"].value * self.time_unit_days)

    @property
    def mean_order_value(self) -> float:
        """Gamma-Gamma mean spend per purchase, p·v/(q − 1) (NaN when q ≤ 1 or no spend fit)."""
        if self.spend is None or self.spend["q"].value <= 1:
            return float("nan")
        return self.spend["p"].value * self.spend["v"].value / (self.spend["q"].value - 1)

    def parameters(self) -> pd.DataFrame:
        """Parameters with intervals and units, one row each."""
        unit = "per day" if self.time_unit_days == 1 else f"per {self.time_unit_days:g} days"
        meaning = {
            "r": "Gamma shape of purchase rates",
            "alpha": f"Gamma rate of purchase rates ({unit})",
            "s": "Gamma shape of dropout rates",
            "beta": f"Gamma rate of dropout rates ({unit})",
            "a": "Beta a of dropout after a purchase",
            "b": "Beta b of dropout after a purchase",
            "p": "Gamma-Gamma shape of one customer's order values",
            "q": "Gamma-Gamma shape across customers",
            "v": "Gamma-Gamma scale across customers (γ)",
        }
        rows = [(name, est, meaning[name]) for name, est in self.params.items()]
        rows += [(name, est, meaning[name]) for name, est in (self.spend or {}).items()]
        return pd.DataFrame(rows, columns=["parameter", "estimate", "meaning"]).assign(
            value=lambda f: [e.value for e in f["estimate"]],
            low=lambda f: [e.low for e in f["estimate"]],
            high=lambda f: [e.high for e in f["estimate"]],
        )


def _flat(names: tuple[str, ...]) -> dict[str, Any]:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def _fit_map(model_class: Any, names: tuple[str, ...], data: pd.DataFrame) -> dict[str, Estimate]:
    """Fit by MAP with flat priors; Laplace intervals from the log-likelihood's Hessian."""
    model = model_class(model_config=_flat(names))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data, method="map", progressbar=False)
    posterior = model.fit_result
    log_values = np.log([float(np.asarray(posterior[name]).squeeze()) for name in names])
    logp = model.model.compile_logp(jacobian=False)

    def negative(x: np.ndarray) -> float:
        return -float(logp({f"{name}_log__": value for name, value in zip(names, x, strict=True)}))

    covariance = inverse_or_none(numeric_hessian(negative, log_values))
    estimates = log_scale_estimates(log_values, covariance, _Z95)
    return dict(zip(names, estimates, strict=True))


def _expected_repeats(fit_params: dict[str, Estimate], model: str, t: np.ndarray) -> np.ndarray:
    """Expected repeat purchases of a new customer by time ``t`` (time units).

    Pareto/NBD: ``rβ/(α(s − 1))·(1 − (β/(β + t))^(s−1))`` (Schmittlein et al. 1987); BG/NBD:
    ``(a + b − 1)/(a − 1)·(1 − (α/(α + t))^r·₂F₁(r, b; a + b − 1; t/(α + t)))`` (Fader et al. 2005a,
    eq. 7). The limits s = 1 and a = 1 are approached from a nearby value.
    """
    from scipy.special import hyp2f1

    v = {name: est.value for name, est in fit_params.items()}
    r, alpha = v["r"], v["alpha"]
    if model == "pareto_nbd":
        s, beta = v["s"], v["beta"]
        s = s if abs(s - 1) > 1e-6 else 1 + 1e-6
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
    a, b = v["a"], v["b"]
    a = a if abs(a - 1) > 1e-6 else 1 + 1e-6
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def _tracking_table(
    transactions: pd.DataFrame, fit_params: dict[str, Estimate], model: str, unit_days: float
) -> pd.DataFrame:
    """Cumulative repeat purchases by time unit since the log's start, observed and expected.

    This is Fader, Hardie & Lee's tracking plot: the expected count sums, over customers, a new
    customer's expected repeat purchases since their own first purchase.
    """
    start = transactions["date"].min()
    purchases = pd.DataFrame(
        {"c": transactions["customer_id"].to_numpy(), "d": (transactions["date"] - start).dt.days.to_numpy()}
    ).drop_duplicates()
    first = purchases.groupby("c")["d"].min()
    repeat_days = np.sort(purchases["d"][purchases["d"] > purchases["c"].map(first)].to_numpy())
    grid = np.arange(0.0, float(purchases["d"].max()) / unit_days + 1.0)
    observed = np.searchsorted(repeat_days / unit_days, grid, side="right").astype(float)
    starts, how_many = np.unique(first.to_numpy() / unit_days, return_counts=True)
    fitted = np.array(
        [
            float(np.sum(how_many * _expected_repeats(fit_params, model, np.maximum(g - starts, 0.0))))
            for g in grid
        ]
    )
    return pd.DataFrame({"time": grid, "observed": observed, "fitted": fitted})


def fit_btyd(
    transactions: pd.DataFrame | None = None,
    *,
    summary: pd.DataFrame | None = None,
    model: str = "pareto_nbd",
    time_unit_days: float = 7.0,
    observation_end: str | pd.Timestamp | None = None,
    spend: bool = True,
) -> BtydFit:
    """Fit a buy-till-you-die model (and Gamma-Gamma spend) to a transaction log or its summary.

    Args:
        transactions: ``customer_id``, ``date``, ``amount`` (see :func:`sim.fit.io.read_transactions`).
        summary: instead of a log, the per-customer summary (``customer_id``, ``frequency``,
            ``recency``, ``T`` and optionally ``monetary_value``, time in ``time_unit_days``).
        model: ``"pareto_nbd"`` (default: dropout in time, as Ripple's churn) or ``"bg_nbd"``.
        time_unit_days: days per time unit of the parameters.
        observation_end: last day of the log used (default: the last order).
        spend: also fit Gamma-Gamma to the repeat customers' mean spend.

    Raises:
        MissingFitLibraryError: pymc-marketing is not installed.
        FitDataError: no data, an unknown model, or no repeat purchases at all.
    """
    if model not in BTYD_MODELS:
        raise FitDataError(f"model must be one of {', '.join(BTYD_MODELS)}; got {model!r}")
    clv = require_clv_library()
    if summary is None:
        if transactions is None:
            raise FitDataError("give a transaction log or a per-customer summary")
        summary = rfm_from_transactions(
            transactions, observation_end=observation_end, time_unit_days=time_unit_days
        )
    summary = summary.reset_index(drop=True)
    if "customer_id" not in summary.columns:
        summary = summary.assign(customer_id=np.arange(len(summary)))
    repeaters = int((summary["frequency"] > 0).sum())
    if repeaters == 0:
        raise FitDataError("no customer bought twice: purchase rates and dropout cannot be estimated")
    names = BTYD_MODELS[model]
    model_class = clv.ParetoNBDModel if model == "pareto_nbd" else clv.BetaGeoModel
    columns = ["customer_id", "frequency", "recency", "T"]
    params = _fit_map(model_class, names, summary[columns])
    notes: list[str] = []
    spend_params = None
    if spend and "monetary_value" in summary.columns:
        buyers = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        if len(buyers) >= 10:
            spend_params = _fit_map(
                clv.GammaGammaModel, _GAMMA_GAMMA, buyers[["customer_id", "frequency", "monetary_value"]]
            )
        else:
            notes.append("fewer than 10 repeat customers with spend: no Gamma-Gamma fit")
    if repeaters < 100:
        notes.append(f"only {repeaters} customers bought twice: the estimates are rough")
    table = (
        _tracking_table(transactions, params, model, time_unit_days)
        if transactions is not None
        else pd.DataFrame(columns=["time", "observed", "fitted"])
    )
    return BtydFit(
        model=model,
        params=params,
        spend=spend_params,
        time_unit_days=float(time_unit_days),
        n_customers=len(summary),
        n_repeat_customers=repeaters,
        table=table,
        notes=notes,
    )
