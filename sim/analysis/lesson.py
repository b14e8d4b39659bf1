"""The "8:1" lesson measured on one footing: what a unit spent on ads buys next to a unit spent on offers.

The folk rule says winning a customer costs several times (often 5, 8 or 25) what keeping one does.
Ripple measures both levers the same way (docs/metrics.md, "The measured 8:1"). A daily budget
``total`` is split between ads (``total·(1 − s)``) and retention offers (``total·s``). Each
replication runs three budget pairs on one world with one seed (common random numbers):

- ``split``     = (ads ``total·(1−s)``, offers ``total·s``), the strategy;
- ``no_ads``    = (ads 0, offers ``total·s``), the same without the ads;
- ``no_offers`` = (ads ``total·(1−s)``, offers 0), the same without the offers.

``split − no_ads`` is what the ads bought and ``split − no_offers`` what the offers bought, each as
*value*: gross margin net of every other cost the lever caused (referral rewards of the customers
it brought, say), per unit the lever spent. Value is also counted in customer-years at the margin
of one customer-year in the run without offers, so a cost reads "per customer-year". The cost ratio
(acquisition ÷ retention) is the measured "8:1"; with constant returns to each lever it crosses 1
exactly where moving budget between them stops changing profit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from sim.analysis.compare import CONFIDENCE, compare, mean_interval
from sim.scenario import Problem, Scenario, ScenarioError

__all__ = [
    "ADS_BUDGET",
    "EIGHT",
    "OFFERS_BUDGET",
    "RUN_METRICS",
    "STEP",
    "EightToOne",
    "EightToOneCurve",
    "budget_split",
    "eight_to_one_curve",
    "grid_shares",
    "measure_eight_to_one",
    "measure_runs",
    "ratio_interval",
    "split_budgets",
]

#: Dotted paths of the two budgets the lesson moves money between (currency per day).
ADS_BUDGET = "ads.daily_budget"
OFFERS_BUDGET = "retention_offers.daily_budget"
#: The app's slider step: share of the total between neighbouring splits of the curve.
STEP = 0.1
#: The folklore's ratio: winning a customer costs eight times what keeping one does.
EIGHT = 8.0
#: Headline metrics each run of the lesson keeps (names in docs/metrics.md).
RUN_METRICS: tuple[str, ...] = (
    "profit",
    "gross_margin",
    "ads_spend",
    "retention_spend",
    "customer_years",
    "active_customers",
    "clv",
)
#: Decimal places budgets are rounded to, so equal budgets match across runs.
_DIGITS = 9

OnRun = Callable[[int, int], None]


def _check_total(total_daily_budget: float) -> None:
    if not math.isfinite(total_daily_budget) or total_daily_budget < 0:
        given = repr(total_daily_budget)
        raise ScenarioError([Problem("total_daily_budget", "must be a finite number ≥ 0", given)])


def _check_share(share: float) -> None:
    if not 0.0 <= share <= 1.0:
        raise ScenarioError([Problem("share_to_retention", "must be in [0, 1]", repr(share))])


def split_budgets(total_daily_budget: float, share_to_retention: float) -> dict[str, tuple[float, float]]:
    """The (ads, offers) daily budgets of the three runs at one split: ``split``, ``no_ads``, ``no_offers``.

    Raises:
        ScenarioError: for a negative or non-finite total, or a share outside [0, 1].
    """
    _check_total(total_daily_budget)
    _check_share(share_to_retention)
    offers = round(total_daily_budget * share_to_retention, _DIGITS)
    ads = max(round(total_daily_budget - offers, _DIGITS), 0.0)
    return {"split": (ads, offers), "no_ads": (0.0, offers), "no_offers": (ads, 0.0)}


def budget_split(scenario: Scenario, total_daily_budget: float, share_to_retention: float) -> Scenario:
    """A validated copy with ``total_daily_budget`` split between ads and retention offers.

    ``ads.daily_budget = total × (1 − share)`` and ``retention_offers.daily_budget = total × share``
    (currency per day). Raises :class:`sim.ScenarioError` for a negative total or a share outside [0, 1].
    """
    ads, offers = split_budgets(total_daily_budget, share_to_retention)["split"]
    return scenario.with_overrides({ADS_BUDGET: ads, OFFERS_BUDGET: offers})


@dataclass(frozen=True)
class EightToOne:
    """Both levers measured at one split of the budget, on one footing.

    Money is in the scenario's currency over the whole horizon; means are over replications and
    intervals are 95%.

    Attributes:
        share_to_retention: the split (share of the total on retention offers).
        total_daily_budget: the budget split between the two levers, currency per day.
        days: the horizon, days.
        replications: paired replications behind each mean.
        ads_budget: ad budget over the horizon (daily budget × days).
        ads_spend: what the ads spent of it (a frequency cap or a small audience can leave some).
        offers_budget: offer budget over the horizon.
        offers_spend: what the offers spent (they run out of customers worth an offer).
        ads_value: what the ads added: (profit + ad spend) with them − without them (currency), i.e.
            gross margin net of every other cost the ads caused.
        offers_value: the same for the offers: (profit + offer spend) with − without them.
        margin_per_customer_year: gross margin ÷ customer-years in the run without offers.
        acquisition_cost_per_customer_year: ad spend ÷ (ads value ÷ margin per customer-year): what
            one customer-year won by ads costs (∞ when the ads added nothing, NaN without ad spend).
        retention_cost_per_customer_year: the same for a customer-year kept by offers.
        cost_ratio: acquisition ÷ retention cost: the measured "8:1" (> 1: retention is cheaper).
        cost_ratio_low: lower end of its 95% interval (delta method on the log ratio; NaN if undefined).
        cost_ratio_high: upper end.
        status: ``measured``, or why there is no ratio: ``no_ads`` / ``no_offers`` (a lever has no
            budget at this split), ``ads_unspent`` / ``offers_unspent`` (it had budget but spent
            nothing), ``no_value`` (neither lever added anything).
        profit: profit at the split.
        profit_low: lower end of its 95% interval.
        profit_high: upper end.
        profit_without_ads: mean profit of the paired run without the ads.
        profit_without_offers: mean profit of the paired run without the offers.
        active_customers: active customers at the horizon, at the split.
        break_even_uplift: share of the customers offered that an offer must keep to pay for itself:
            ``cost_per_offer ÷ CLV``, with the CLV of the run without offers (so it does not fall as
            the offers work better).
        clv_multiple: r/(1+d−r) in the run without offers (CLV per unit of annual margin).
        runs: one row per replication: seed, each lever's spend and value, the three profits.
    """

    share_to_retention: float
    total_daily_budget: float
    days: int
    replications: int
    ads_budget: float
    ads_spend: float
    offers_budget: float
    offers_spend: float
    ads_value: float
    offers_value: float
    margin_per_customer_year: float
    acquisition_cost_per_customer_year: float
    retention_cost_per_customer_year: float
    cost_ratio: float
    cost_ratio_low: float
    cost_ratio_high: float
    status: str
    profit: float
    profit_low: float
    profit_high: float
    profit_without_ads: float
    profit_without_offers: float
    active_customers: float
    break_even_uplift: float
    clv_multiple: float
    runs: pd.DataFrame = field(repr=False)

    @property
    def holds(self) -> bool | None:
        """Whether 8:1 holds: True when the ratio's 95% interval lies at or above 8, False below.

        None when the interval straddles 8 or there is no ratio (more replications may tell).
        """
        if self.status != "measured":
            return None
        if self.cost_ratio_low >= EIGHT or (math.isinf(self.cost_ratio) and self.cost_ratio > 0):
            return True
        if self.cost_ratio_high < EIGHT or self.cost_ratio == 0.0:
            return False
        return None


@dataclass(frozen=True)
class EightToOneCurve:
    """The lesson at every split of ``total_daily_budget`` from 0 to 1, on common random numbers.

    Attributes:
        total_daily_budget: currency per day split between ads and offers.
        step: share between neighbouring splits (the slider's step).
        days: the horizon.
        replications: paired replications per split.
        points: one :class:`EightToOne` per split, in share order (0, step, …, 1).
        runs: every run: replicate, seed, the two daily budgets and :data:`RUN_METRICS`.
    """

    total_daily_budget: float
    step: float
    days: int
    replications: int
    points: tuple[EightToOne, ...]
    runs: pd.DataFrame = field(repr=False)

    @property
    def shares(self) -> list[float]:
        """The splits, in order."""
        return [p.share_to_retention for p in self.points]

    def at(self, share: float) -> EightToOne:
        """The measurement at the split nearest ``share``."""
        return min(self.points, key=lambda p: abs(p.share_to_retention - share))

    def table(self) -> pd.DataFrame:
        """One row per split with every scalar field of :class:`EightToOne` (for charts and tests)."""
        return pd.DataFrame([{k: v for k, v in vars(p).items() if k != "runs"} for p in self.points])

    @property
    def best_share(self) -> float:
        """The split with the highest mean profit."""
        return max(self.points, key=lambda p: p.profit).share_to_retention

    def move(self, share: float) -> tuple[float, float, float, float]:
        """Moving one step from ``share`` towards offers: (next share, profit change, its 95% interval).

        The change is the mean paired difference profit(next) − profit(share) over replications
        (the paired budget experiment). At the top of the slider it is the last step, read back
        towards ads: (previous share, profit(previous) − profit(1), …).
        """
        index = self.points.index(self.at(share))
        other = index + 1 if index + 1 < len(self.points) else index - 1
        here, there = self.points[index], self.points[other]
        change = there.runs["profit"].to_numpy(dtype=float) - here.runs["profit"].to_numpy(dtype=float)
        mean, low, high, _ = mean_interval(change)
        return there.share_to_retention, mean, low, high


def grid_shares(step: float = STEP) -> list[float]:
    """The splits 0, step, …, 1 (``step`` must divide 1 into whole steps)."""
    n = round(1.0 / step) if step > 0 else 0
    if n < 1 or abs(n * step - 1.0) > 1e-9:
        raise ScenarioError(
            [Problem("step", "must divide 1 into whole steps (0.1, 0.2, 0.25, …)", repr(step))]
        )
    return [round(k / n, _DIGITS) for k in range(n + 1)]


def _pairs_for(total: float, shares: Iterable[float]) -> list[tuple[float, float]]:
    """Every (ads, offers) budget pair the splits ``shares`` need, each once."""
    pairs: dict[tuple[float, float], None] = {}
    for share in shares:
        for pair in split_budgets(total, share).values():
            pairs[pair] = None
    return list(pairs)


def _simulate(
    scenario: Scenario,
    pairs: list[tuple[float, float]],
    replications: int,
    seed: int,
    on_run: OnRun | None,
    workers: int = 1,
) -> pd.DataFrame:
    """Run every budget pair on each replication's world and seed (common random numbers).

    The pairs are strategies of one :func:`~sim.analysis.compare.compare`: one world per replication,
    the same random streams in every pair, and ``workers`` processes if asked.
    """
    if replications < 1:
        raise ValueError(f"replications must be at least 1; got {replications}")
    named = {
        f"ads {ads:g} offers {offers:g}": scenario.with_overrides({ADS_BUDGET: ads, OFFERS_BUDGET: offers})
        for ads, offers in pairs
    }
    comparison = compare(named, replications, seed, on_run=on_run, workers=workers)
    budgets = {name: pair for name, pair in zip(named, pairs, strict=True)}
    runs = comparison.runs
    return pd.DataFrame(
        {
            "replicate": runs["replication"].astype(int),
            "seed": runs["seed"].astype("int64"),
            ADS_BUDGET: [budgets[name][0] for name in runs["strategy"]],
            OFFERS_BUDGET: [budgets[name][1] for name in runs["strategy"]],
            **{metric: runs[metric].astype(float) for metric in RUN_METRICS},
        }
    )


def _at(runs: pd.DataFrame, pair: tuple[float, float]) -> pd.DataFrame:
    """The runs with budgets ``pair``: one row per replicate, indexed and sorted by replicate.

    Raises:
        KeyError: when no run has those budgets.
    """
    ads = np.isclose(runs[ADS_BUDGET].to_numpy(dtype=float), pair[0], rtol=0, atol=1e-6)
    offers = np.isclose(runs[OFFERS_BUDGET].to_numpy(dtype=float), pair[1], rtol=0, atol=1e-6)
    rows = runs[ads & offers].drop_duplicates("replicate").set_index("replicate").sort_index()
    if rows.empty:
        raise KeyError(f"no runs with ads {pair[0]} and offers {pair[1]} a day")
    return rows


def _mean(values: pd.Series) -> float:
    array = values.to_numpy(dtype=float)
    finite = array[np.isfinite(array)]
    return float(finite.mean()) if finite.size else math.nan


def _cost(spend: float, value: float) -> float:
    """Spend per unit of value: ∞ when money bought nothing (value ≤ 0), NaN when nothing was spent."""
    if not spend > 0:
        return math.nan
    return spend / value if value > 0 else math.inf


#: ln of the largest float64: e^x overflows above it.
_LOG_MAX_FLOAT = math.log(float(np.finfo(np.float64).max))


def _exp_or_inf(x: float) -> float:
    """``e^x``, or ∞ where it exceeds the largest float."""
    return math.inf if x > _LOG_MAX_FLOAT else math.exp(x)


def ratio_interval(per_run: pd.DataFrame) -> tuple[float, float]:
    """95% interval of the cost ratio (Sₐ/Vₐ) ÷ (Sₒ/Vₒ), a ratio of means over replications.

    Columns ``ads_spend``, ``ads_value``, ``offers_spend``, ``offers_value`` hold each replication's
    values. Delta method on the log of the ratio of means: with x̄ the four means and Σ their sample
    covariance over the n replications, Var(log R) ≈ gᵀΣg / n with g = (1/S̄ₐ, −1/V̄ₐ, −1/S̄ₒ, 1/V̄ₒ);
    the interval is R·exp(±t·se), Student's t at n − 1 degrees of freedom. A bound past the largest
    float is ∞ and one under the smallest float is 0. NaN with fewer than two replications or a mean
    that is not positive.
    """
    columns = ["ads_spend", "ads_value", "offers_spend", "offers_value"]
    x = per_run[columns].to_numpy(dtype=float)
    x = x[np.isfinite(x).all(axis=1)]
    n = x.shape[0]
    if n < 2:
        return math.nan, math.nan
    means = x.mean(axis=0)
    if not (means > 0).all():
        return math.nan, math.nan
    # The same quadratic form on each column relative to its mean (gᵢ·xᵢ = ±xᵢ/x̄ᵢ): nothing
    # overflows however small or large a mean is.
    relative = x / means
    g = np.array([1.0, -1.0, -1.0, 1.0])
    variance = float(g @ np.cov(relative, rowvar=False, ddof=1) @ g) / n
    log_ratio = math.log(means[0]) - math.log(means[1]) - math.log(means[2]) + math.log(means[3])
    half = float(special.stdtrit(n - 1, 0.5 + CONFIDENCE / 2)) * math.sqrt(max(variance, 0.0))
    # A value whose mean is near 0 makes the log ratio's spread huge: past e^709 the bound is
    # simply unbounded (∞), not an overflow.
    return _exp_or_inf(log_ratio - half), _exp_or_inf(log_ratio + half)


def measure_runs(
    runs: pd.DataFrame,
    total_daily_budget: float,
    share: float,
    days: int,
    cost_per_offer: float,
) -> EightToOne:
    """The 8:1 at one split from runs already made (by :func:`eight_to_one_curve` or a sweep).

    Args:
        runs: one row per run with ``replicate``, ``seed``, the two daily budgets
            (:data:`ADS_BUDGET`, :data:`OFFERS_BUDGET`) and :data:`RUN_METRICS`; for every replicate
            it must hold the three runs of :func:`split_budgets` on common random numbers.
        total_daily_budget: the budget split between the two levers (currency per day).
        share: the split (share of the total on offers).
        days: the horizon (for the budgets over it).
        cost_per_offer: the scenario's ``retention_offers.cost_per_offer`` (break-even uplift).

    Raises:
        KeyError: when a run the split needs is missing.
    """
    budgets = split_budgets(total_daily_budget, share)
    here, no_ads, no_offers = (_at(runs, budgets[role]) for role in ("split", "no_ads", "no_offers"))
    per_run = pd.DataFrame({"seed": here["seed"]})
    per_run["ads_spend"] = here["ads_spend"] - no_ads["ads_spend"]
    per_run["ads_value"] = (here["profit"] + here["ads_spend"]) - (no_ads["profit"] + no_ads["ads_spend"])
    per_run["offers_spend"] = here["retention_spend"] - no_offers["retention_spend"]
    per_run["offers_value"] = (here["profit"] + here["retention_spend"]) - (
        no_offers["profit"] + no_offers["retention_spend"]
    )
    per_run["profit"] = here["profit"]
    per_run["profit_without_ads"] = no_ads["profit"]
    per_run["profit_without_offers"] = no_offers["profit"]

    ads_spend, ads_value = _mean(per_run["ads_spend"]), _mean(per_run["ads_value"])
    offers_spend, offers_value = _mean(per_run["offers_spend"]), _mean(per_run["offers_value"])
    years = no_offers["customer_years"]
    margin = _mean(no_offers["gross_margin"] / years.where(years > 0))
    acquisition_cost = _cost(ads_spend, ads_value) * margin
    retention_cost = _cost(offers_spend, offers_value) * margin

    ratio_low = ratio_high = math.nan
    if budgets["split"][0] <= 0:
        status, cost_ratio = "no_ads", math.nan
    elif budgets["split"][1] <= 0:
        status, cost_ratio = "no_offers", math.nan
    elif not ads_spend > 0:
        status, cost_ratio = "ads_unspent", math.nan
    elif not offers_spend > 0:
        status, cost_ratio = "offers_unspent", math.nan
    elif ads_value <= 0 and offers_value <= 0:
        status, cost_ratio = "no_value", math.nan
    else:
        status = "measured"
        # ∞ when the ads added nothing (any retention cost is lower), 0 when the offers added nothing.
        cost_ratio = (
            math.inf if ads_value <= 0 else 0.0 if offers_value <= 0 else acquisition_cost / retention_cost
        )
        ratio_low, ratio_high = ratio_interval(per_run)
    profit, profit_low, profit_high, _ = mean_interval(per_run["profit"].to_numpy(dtype=float))

    clv = _mean(no_offers["clv"])
    return EightToOne(
        share_to_retention=round(share, _DIGITS),
        total_daily_budget=float(total_daily_budget),
        days=int(days),
        replications=len(per_run),
        ads_budget=budgets["split"][0] * days,
        ads_spend=_mean(here["ads_spend"]),
        offers_budget=budgets["split"][1] * days,
        offers_spend=_mean(here["retention_spend"]),
        ads_value=ads_value,
        offers_value=offers_value,
        margin_per_customer_year=margin,
        acquisition_cost_per_customer_year=acquisition_cost,
        retention_cost_per_customer_year=retention_cost,
        cost_ratio=cost_ratio,
        cost_ratio_low=ratio_low,
        cost_ratio_high=ratio_high,
        status=status,
        profit=profit,
        profit_low=profit_low,
        profit_high=profit_high,
        profit_without_ads=_mean(per_run["profit_without_ads"]),
        profit_without_offers=_mean(per_run["profit_without_offers"]),
        active_customers=_mean(here["active_customers"]),
        break_even_uplift=cost_per_offer / clv if math.isfinite(clv) and clv > 0 else math.nan,
        clv_multiple=clv / margin if math.isfinite(margin) and margin > 0 else math.nan,
        runs=per_run.reset_index(),
    )


def measure_eight_to_one(
    scenario: Scenario,
    replications: int = 5,
    seed: int | None = None,
    on_run: OnRun | None = None,
    workers: int = 1,
) -> EightToOne:
    """Measure both levers at the scenario's own split of ad and offer budgets.

    The total is ``ads.daily_budget + retention_offers.daily_budget`` and the split is the offers'
    share of it. Each replication runs the scenario, the scenario without its ads and the scenario
    without its offers on one world with one seed (:func:`split_budgets`). Equal to
    ``eight_to_one_curve(...).at(share)`` with the same seeds.

    Args:
        scenario: the scenario; its two budgets give the total and the split.
        replications: paired replications (≥ 1; ≥ 2 for intervals).
        seed: root seed of the replications (default: the scenario's).
        on_run: called as ``on_run(done, total)`` after each run (a progress bar).
        workers: processes to spread the runs over (1 = in this process; the results are the same).
    """
    total = scenario.ads.daily_budget + scenario.retention_offers.daily_budget
    share = scenario.retention_offers.daily_budget / total if total > 0 else 0.0
    root = scenario.seed if seed is None else seed
    runs = _simulate(scenario, _pairs_for(total, [share]), replications, root, on_run, workers)
    return measure_runs(runs, total, share, scenario.days, scenario.retention_offers.cost_per_offer)


def eight_to_one_curve(
    scenario: Scenario,
    total_daily_budget: float | None = None,
    replications: int = 3,
    seed: int | None = None,
    step: float = STEP,
    on_run: OnRun | None = None,
    workers: int = 1,
) -> EightToOneCurve:
    """The lesson at every split 0, step, …, 1 of ``total_daily_budget``, in one go.

    Each replication runs every split with and without each lever on one world with one seed
    (``3/step`` runs: 30 for the default step), so the splits are compared on common random numbers
    and the profit curve is the paired budget experiment.

    Args:
        scenario: the market and strategy (its two budgets are replaced at each split).
        total_daily_budget: currency per day to split (default: the scenario's ads + offer budgets).
        replications: paired replications (≥ 1; ≥ 2 for intervals).
        seed: root seed of the replications (default: the scenario's).
        step: the slider's step; must divide 1 into whole steps.
        on_run: called as ``on_run(done, total)`` after each run (a progress bar).
        workers: processes to spread the runs over (1 = in this process; the results are the same).
    """
    total = (
        scenario.ads.daily_budget + scenario.retention_offers.daily_budget
        if total_daily_budget is None
        else float(total_daily_budget)
    )
    _check_total(total)
    shares = grid_shares(step)
    root = scenario.seed if seed is None else seed
    runs = _simulate(scenario, _pairs_for(total, shares), replications, root, on_run, workers)
    cost = scenario.retention_offers.cost_per_offer
    points = tuple(measure_runs(runs, total, share, scenario.days, cost) for share in shares)
    return EightToOneCurve(
        total_daily_budget=total,
        step=step,
        days=scenario.days,
        replications=replications,
        points=points,
        runs=runs,
    )
