"""The "8:1" lesson measured: what a new customer costs next to what a saved customer costs.

The folk rule says acquiring a customer costs several times (often "5 to 25", or 8) what keeping one
does. Here both are measured on the scenario at hand. Customers *saved* by retention offers only exist
against a counterfactual, so each replication runs the scenario twice on the same world and the same
seed (common random numbers): as given, and with ``retention_offers.daily_budget = 0``. The difference
in active customers at the horizon is what the offers saved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sim.analysis.compare import replication_seeds
from sim.analysis.memory import check_memory
from sim.analysis.metrics import clv, ratio
from sim.analysis.results import RunResult, run
from sim.scenario import Scenario
from sim.world.build import build_world

__all__ = ["EightToOne", "budget_split", "measure_eight_to_one"]


def budget_split(scenario: Scenario, total_daily_budget: float, share_to_retention: float) -> Scenario:
    """A validated copy with ``total_daily_budget`` split between ads and retention offers.

    ``ads.daily_budget = total × (1 − share)`` and ``retention_offers.daily_budget = total × share``
    (currency per day). Raises :class:`sim.ScenarioError` for a negative total or a share outside [0, 1].
    """
    from sim.scenario import Problem, ScenarioError

    if not math.isfinite(total_daily_budget) or total_daily_budget < 0:
        given = repr(total_daily_budget)
        raise ScenarioError([Problem("total_daily_budget", "must be a finite number ≥ 0", given)])
    if not 0.0 <= share_to_retention <= 1.0:
        raise ScenarioError([Problem("share_to_retention", "must be in [0, 1]", repr(share_to_retention))])
    retention = total_daily_budget * share_to_retention
    return scenario.with_overrides(
        {"ads.daily_budget": total_daily_budget - retention, "retention_offers.daily_budget": retention}
    )


@dataclass(frozen=True)
class EightToOne:
    """Acquisition cost per new customer next to retention cost per saved customer (means over replications).

    Attributes:
        acquisition_cost_per_new_customer: ads spend / ads-acquired new customers (currency per person).
        retention_cost_per_saved_customer: offer spend / customers saved (currency per person; inf when
            offers saved nobody, NaN with no offers).
        cost_ratio: acquisition / retention cost (the measured "8:1").
        customers_saved: active customers at the horizon with offers − without (paired), people.
        break_even_uplift: share of contacted customers an offer must save to pay for itself: cost per
            offer / CLV of a customer.
        clv_multiple: r/(1+d−r) from measured annual retention r and the discount rate d (CLV per unit of
            annual margin).
        profit: currency, with offers.
        profit_without_offers: currency, the paired counterfactual.
        acquisition_spend: ads spend, currency.
        retention_spend: offer spend, currency.
        runs: one row per replication with every value above and the seed.
    """

    acquisition_cost_per_new_customer: float
    retention_cost_per_saved_customer: float
    cost_ratio: float
    customers_saved: float
    break_even_uplift: float
    clv_multiple: float
    profit: float
    profit_without_offers: float
    acquisition_spend: float
    retention_spend: float
    runs: pd.DataFrame


def _ratio(numerator: float, denominator: float) -> float:
    """:func:`~sim.analysis.metrics.ratio`, undefined when the denominator is infinite (nobody paid off)."""
    return ratio(numerator, denominator) if math.isfinite(denominator) else math.nan


def _retention_cost(retention_spend: float, saved: float) -> float:
    """Offer spend per saved customer: infinite when money saved nobody, undefined with no spend."""
    return _ratio(retention_spend, saved) if saved > 0 or retention_spend == 0 else math.inf


def _clv_multiple(result: RunResult) -> float:
    """r/(1+d−r) with r the measured annual retention (as in :func:`sim.analysis.metrics.summarise`)."""
    steps = result.steps[result.steps["day"] > 0]
    customer_years = float(steps["n_customer"].sum()) / 365.0
    if customer_years <= 0:
        return math.nan
    r = math.exp(-float(steps["churned"].sum()) / customer_years)
    return clv(1.0, r, result.scenario.economics.annual_discount_rate)  # CLV per unit of margin


def _one_replication(scenario: Scenario, without: Scenario, seed: int) -> dict[str, float]:
    world = build_world(scenario, seed)
    with_offers = run(scenario, seed, world=world)
    no_offers = run(without, seed, world=world)
    steps = with_offers.steps[with_offers.steps["day"] > 0]
    acquisition_spend = float(steps["spend_ads"].sum())
    retention_spend = float(steps["spend_retention"].sum())
    saved = float(with_offers.summary["active_customers"] - no_offers.summary["active_customers"])
    new_ads = float(with_offers.summary["new_customers_ads"])  # first orders, not bare sign-ups
    acquisition_cost = _ratio(acquisition_spend, new_ads)
    retention_cost = _retention_cost(retention_spend, saved)
    clv = with_offers.summary["clv"]
    return {
        "seed": seed,
        "acquisition_cost_per_new_customer": acquisition_cost,
        "retention_cost_per_saved_customer": retention_cost,
        "cost_ratio": _ratio(acquisition_cost, retention_cost),
        "customers_saved": saved,
        "new_customers_ads": new_ads,
        "break_even_uplift": _ratio(scenario.retention_offers.cost_per_offer, clv) if clv > 0 else math.nan,
        "clv_multiple": _clv_multiple(with_offers),
        "profit": with_offers.summary["profit"],
        "profit_without_offers": no_offers.summary["profit"],
        "acquisition_spend": acquisition_spend,
        "retention_spend": retention_spend,
    }


def measure_eight_to_one(
    scenario: Scenario, replications: int = 5, seed: int | None = None, progress: bool = False
) -> EightToOne:
    """Measure acquisition vs retention cost per customer on ``scenario`` (means over replications).

    Each replication builds one world from its seed and runs the scenario and the same scenario with
    ``retention_offers.daily_budget = 0`` on it with that seed (common random numbers), so the
    difference in active customers is the offers' effect, not noise between worlds. The costs per
    customer are ratios of totals over the replications (spend summed / customers summed): one
    replication whose offers saved nobody by chance then weighs in by its spend instead of making the
    mean infinite. Other values are means; ``runs`` holds every replication's own values.

    Args:
        scenario: the scenario (with a retention offer budget for a meaningful retention cost).
        replications: number of paired replications (≥ 1).
        seed: root seed of the replications (default: the scenario's).
        progress: show a progress bar over replications.
    """
    if replications < 1:
        raise ValueError(f"replications must be at least 1; got {replications}")
    check_memory(scenario)  # a ScenarioError before any world is built, if it will not fit
    without = scenario.with_overrides({"retention_offers.daily_budget": 0.0})
    seeds = replication_seeds(scenario.seed if seed is None else seed, replications)
    rows = [
        _one_replication(scenario, without, s)
        for s in tqdm(seeds, desc="8:1", unit="replication", disable=not progress, leave=False)
    ]
    runs = pd.DataFrame(rows)

    def mean(column: str) -> float:
        values = runs[column].to_numpy(dtype=np.float64)
        if np.isinf(values).any():
            return math.inf
        finite = values[np.isfinite(values)]
        return float(finite.mean()) if finite.size else math.nan

    acquisition_cost = _ratio(mean("acquisition_spend"), mean("new_customers_ads"))
    retention_cost = _retention_cost(mean("retention_spend"), mean("customers_saved"))
    return EightToOne(
        acquisition_cost_per_new_customer=acquisition_cost,
        retention_cost_per_saved_customer=retention_cost,
        cost_ratio=_ratio(acquisition_cost, retention_cost),
        customers_saved=mean("customers_saved"),
        break_even_uplift=mean("break_even_uplift"),
        clv_multiple=mean("clv_multiple"),
        profit=mean("profit"),
        profit_without_offers=mean("profit_without_offers"),
        acquisition_spend=mean("acquisition_spend"),
        retention_spend=mean("retention_spend"),
        runs=runs,
    )
