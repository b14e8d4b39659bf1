"""The 8:1 measurement (sim/analysis/lesson.py): budget split and the paired counterfactual."""

from __future__ import annotations

import math

import pytest

from sim import ScenarioError
from sim.analysis.lesson import EightToOne, budget_split, measure_eight_to_one
from tests.conftest import quiet_scenario

MARKET = {
    "network.n": 1500,
    "days": 90,
    "population.share_initial_customers": 0.3,
    "population.rate_purchase_per_day": 0.1,
    "population.churn_alpha": 1.0,
    "population.churn_beta": 1.0,
    "population.days_churn_period": 90,
    "customers.rel_churn": 1.0,
    "ads.funnel": "one_stage",
    "ads.p_purchase": 0.01,
    "ads.cpm": 5.0,
    "retention_offers.targeting": "uplift",
    "retention_offers.share_persuadable": 0.4,
    "retention_offers.cost_per_offer": 2.0,
}


def test_budget_split_moves_money_between_ads_and_offers():
    scenario = budget_split(quiet_scenario(MARKET), 100.0, 0.25)
    assert scenario.ads.daily_budget == pytest.approx(75.0)
    assert scenario.retention_offers.daily_budget == pytest.approx(25.0)
    with pytest.raises(ScenarioError, match="share_to_retention"):
        budget_split(scenario, 100.0, 1.5)
    with pytest.raises(ScenarioError, match="total_daily_budget"):
        budget_split(scenario, -1.0, 0.5)


def test_measured_eight_to_one_comes_from_a_paired_counterfactual():
    scenario = budget_split(quiet_scenario(MARKET), 40.0, 0.5)
    lesson = measure_eight_to_one(scenario, replications=3, seed=11)
    assert isinstance(lesson, EightToOne)
    assert len(lesson.runs) == 3 and "seed" in lesson.runs
    assert lesson.customers_saved > 0
    assert 0 < lesson.retention_spend <= 20.0 * 90  # fewer offers once everyone eligible has one
    # Costs per customer are ratios of totals over the replications.
    runs = lesson.runs
    assert lesson.retention_cost_per_saved_customer == pytest.approx(
        runs["retention_spend"].sum() / runs["customers_saved"].sum()
    )
    assert lesson.acquisition_cost_per_new_customer == pytest.approx(
        runs["acquisition_spend"].sum() / runs["new_customers_ads"].sum()
    )
    assert lesson.cost_ratio == pytest.approx(
        lesson.acquisition_cost_per_new_customer / lesson.retention_cost_per_saved_customer
    )
    assert 0 < lesson.break_even_uplift < 1 and lesson.clv_multiple > 0
    # The counterfactual is the same scenario without offers, on the same seeds: rerunning agrees.
    again = measure_eight_to_one(scenario, replications=3, seed=11)
    assert again.runs.equals(lesson.runs)


def test_no_offers_means_no_retention_cost_and_nobody_saved():
    lesson = measure_eight_to_one(budget_split(quiet_scenario(MARKET), 40.0, 0.0), replications=2, seed=1)
    assert lesson.customers_saved == 0
    assert math.isnan(lesson.retention_cost_per_saved_customer)
    assert lesson.profit == pytest.approx(lesson.profit_without_offers)
