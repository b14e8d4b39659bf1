"""Sign-up and first order are separate events: who orders, when, and what the metrics count."""

from __future__ import annotations

import math

import numpy as np

from sim import run
from sim.world.population import NEVER
from tests.conftest import quiet_scenario

#: A cohort of 4,000 sign-ups on day 1 (seed users), nothing else happening.
COHORT = {
    "network.n": 5000,
    "days": 60,
    "seeding.budget": 4000.0,
    "seeding.cost_per_seed": 1.0,
    "population.rate_purchase_per_day": 0.0,
}


def test_sign_ups_order_with_the_first_order_probability_after_a_geometric_delay():
    p_first, mean_delay = 0.6, 3.0
    scenario = quiet_scenario(
        {**COHORT, "customers.p_first_order": p_first, "customers.days_to_first_order": mean_delay}
    )
    result = run(scenario, keep_population=True)
    population = result.population
    assert population is not None
    cohort = population.day_first_acquired == 1
    n = int(cohort.sum())
    assert n == 4000
    ordered = population.day_first_order[cohort] != NEVER
    # The chance of a delay past the horizon is (3/4)^59 ≈ 4e-8: every future buyer has ordered.
    share = ordered.mean()
    assert abs(share - p_first) < 4 * math.sqrt(p_first * (1 - p_first) / n)
    delays = population.day_first_order[cohort][ordered] - 1
    # Geometric on 0, 1, … with mean m has variance m(m + 1).
    assert abs(delays.mean() - mean_delay) < 4 * math.sqrt(mean_delay * (mean_delay + 1) / delays.size)
    assert delays.min() == 0
    # With no repeat purchases, a buyer placed exactly one order; a non-buyer none.
    assert (population.n_orders[cohort][ordered] == 1).all()
    assert (population.n_orders[cohort][~ordered] == 0).all()
    # Customers are buyers; sign-ups who never ordered are counted apart.
    summary = result.summary
    assert summary["new_signups"] == n
    assert summary["new_customers"] == summary["new_customers_seed"] == int(ordered.sum())
    assert summary["never_ordered"] == n - int(ordered.sum())
    assert summary["active_customers"] == int(ordered.sum())
    steps = result.steps
    assert steps["first_orders_seed"].sum() == int(ordered.sum())
    assert steps["orders"].sum() == int(ordered.sum())


def test_with_certain_immediate_first_orders_joining_is_ordering():
    result = run(quiet_scenario(COHORT), keep_population=True)
    population = result.population
    assert population is not None
    cohort = population.day_first_acquired == 1
    assert (population.day_first_order[cohort] == 1).all()
    assert result.summary["never_ordered"] == 0


def test_cac_counts_customers_who_ordered_not_bare_sign_ups():
    overrides = {
        "network.n": 3000,
        "days": 90,
        "ads.daily_budget": 30.0,
        "ads.funnel": "one_stage",
        "ads.p_purchase": 0.05,
    }
    certain = run(quiet_scenario(overrides))
    doubtful = run(quiet_scenario({**overrides, "customers.p_first_order": 0.5}))
    # The same sign-ups and spend on the same numbers; half of them never buy.
    assert certain.summary["new_signups"] == doubtful.summary["new_signups"]
    assert doubtful.summary["new_customers_ads"] < 0.7 * certain.summary["new_customers_ads"]
    assert doubtful.summary["cac_ads"] > 1.4 * certain.summary["cac_ads"]
    spend = float(doubtful.steps["spend_ads"].sum())
    assert math.isclose(doubtful.summary["cac_ads"], spend / doubtful.summary["new_customers_ads"])


def test_a_buyer_who_comes_back_orders_on_the_day_they_return():
    scenario = quiet_scenario(
        {
            "network.n": 2000,
            "days": 120,
            "population.share_initial_customers": 0.5,
            "population.rate_purchase_per_day": 0.0,
            "customers.rel_churn": 1.0,
            "population.churn_alpha": 1.0,
            "population.churn_beta": 1.0,
            "population.days_churn_period": 30,
            "customers.rel_winback": 1.0,
            "organic.rate_per_day": 0.01,  # the way back, before the day's orders are placed
        }
    )
    result = run(scenario, keep_population=True)
    population = result.population
    assert population is not None
    day_zero = population.day_first_order == 0
    came_back = day_zero & (population.n_acquisitions >= 2)
    assert came_back.sum() > 0
    # Day-0 customers buy nothing on their own (rate 0): one order on each return, none otherwise.
    np.testing.assert_array_equal(
        population.n_orders[day_zero], population.n_acquisitions[day_zero].astype(np.int32) - 1
    )
