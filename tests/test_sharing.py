"""Word of mouth that fades: the viral coefficient K, 1/(1 − K), share budgets, and who shares.

docs/science.md §3: with every customer making a finite expected number of shares, one paid customer
brings ``1/(1 − K)`` customers in all when K < 1 (no churn, a large market).
"""

from __future__ import annotations

import math

import numpy as np

from sim import run
from sim.analysis.compare import replication_seeds
from sim.engine.model import MarketModel
from sim.rules.sharing import expected_lifetime_shares
from sim.world.build import build_world
from sim.world.population import NEVER, Channel, Stage
from tests.conftest import quiet_scenario

#: A paid cohort of seed users on a large complete graph, nothing else: no ads, no organic, no churn.
COHORT = 300
VIRAL = {
    "network": {"kind": "complete", "n": 50_000},
    "days": 300,
    "sharing.normalisation": "fraction",
    "sharing.p_convert": 0.5,
    "sharing.days_share_half_life": 7.0,
    "seeding.budget": float(COHORT),
    "seeding.cost_per_seed": 1.0,
}


def test_a_paid_cohort_brings_one_over_one_minus_k_customers_in_all():
    # K = p_convert × expected shares in a customer's life, here 0.5 at rate 0.0946 a day.
    rate = 0.5 / 0.5 * (1.0 - 0.5 ** (1.0 / 7.0))
    scenario = quiet_scenario({**VIRAL, "sharing.rate_share_per_day": rate})
    k = scenario.sharing.p_convert * expected_lifetime_shares(scenario.sharing, scenario.days - 1)
    assert abs(k - 0.5) < 1e-6
    totals = []
    for seed in replication_seeds(17, 4):
        result = run(scenario, seed, world=build_world(scenario, seed), keep_population=True)
        population = result.population
        assert population is not None
        assert result.summary["new_customers_seed"] == COHORT
        totals.append(int((population.day_first_acquired > 0).sum()))
    expected = COHORT / (1.0 - k)
    # Each customer's direct referrals are (nearly) Poisson(K): a cohort member's whole progeny has
    # variance K/(1 − K)³ (a branching process); the cohort adds up COHORT independent ones.
    standard_error = math.sqrt(COHORT * k / (1.0 - k) ** 3 / len(totals))
    assert abs(np.mean(totals) - expected) < 4 * standard_error, (np.mean(totals), expected, standard_error)


def test_expected_lifetime_shares_is_the_geometric_sum():
    scenario = quiet_scenario({"sharing.rate_share_per_day": 0.2, "sharing.days_share_half_life": 30.0})
    x = 0.5 ** (1 / 30)
    assert math.isclose(expected_lifetime_shares(scenario.sharing), 0.2 / (1 - x))
    assert math.isclose(expected_lifetime_shares(scenario.sharing, 10), 0.2 * (1 - x**10) / (1 - x))
    capped = scenario.with_overrides({"sharing.max_shares_per_customer": 2.0})
    assert expected_lifetime_shares(capped.sharing) == 2.0
    flat = quiet_scenario({"sharing.rate_share_per_day": 0.2})  # no fading: unbounded without a horizon
    assert expected_lifetime_shares(flat.sharing) == math.inf
    assert math.isclose(expected_lifetime_shares(flat.sharing, 10), 2.0)


def _sharing_weights(overrides: dict, days: int) -> tuple[MarketModel, np.ndarray]:
    """Step a model ``days`` days and return the sharing rule's weights for the next day."""
    from sim.rules.sharing import Sharing

    model = MarketModel(quiet_scenario(overrides))
    for _ in range(days):
        model.step()
    (rule,) = [r for r in model.rules if isinstance(r, Sharing)]
    model.day += 1
    pop = model.population
    sharers = (pop.stage == Stage.CUSTOMER) & (pop.day_acquired < model.day) & (pop.day_first_order >= 0)
    weights = rule._weights(model, sharers)
    assert weights is not None
    return model, weights


def test_a_customer_shares_at_the_rate_that_fades_with_the_half_life_and_stops_at_the_budget():
    base = {
        "network.n": 300,
        "population.share_initial_customers": 0.2,
        "sharing.rate_share_per_day": 0.5,
        "sharing.days_share_half_life": 4.0,
    }
    model, weights = _sharing_weights(base, days=8)
    initial = model.population.day_acquired == 0
    # Day 9 is the 9th sharing day of a day-0 customer: 0.5^(8/4) of the first day's rate.
    np.testing.assert_allclose(weights[initial], 0.25)
    # A budget of 1.5 shares: 0.5 + 0.42 + 0.35 + 0.30 ≈ 1.57 → the 4th day is cut, later days are 0.
    model, weights = _sharing_weights({**base, "sharing.max_shares_per_customer": 1.5}, days=3)
    x = 0.5 ** (1 / 4)
    left = 1.5 - 0.5 * (1 + x + x**2)
    np.testing.assert_allclose(weights[model.population.day_acquired == 0], left / 0.5)
    model, weights = _sharing_weights({**base, "sharing.max_shares_per_customer": 1.5}, days=6)
    assert not weights[model.population.day_acquired == 0].any()


def test_a_shorter_half_life_or_a_share_budget_means_fewer_referrals_on_the_same_numbers():
    base = quiet_scenario(
        {
            "network.n": 3000,
            "network.mean_degree": 8,
            "days": 150,
            "population.share_initial_customers": 0.02,
            "sharing.rate_share_per_day": 0.3,
            "sharing.p_convert": 0.08,
            "sharing.days_share_half_life": 30.0,
        }
    )
    world = build_world(base)
    long = run(base, world=world).summary["new_customers_sharing"]
    short = run(base.with_overrides({"sharing.days_share_half_life": 10.0}), world=world).summary
    capped = run(base.with_overrides({"sharing.max_shares_per_customer": 2.0}), world=world).summary
    assert short["new_customers_sharing"] < long
    assert capped["new_customers_sharing"] < long


def test_sign_ups_who_never_order_never_share_or_refer():
    scenario = quiet_scenario(
        {
            "network.n": 2000,
            "days": 60,
            "population.share_initial_customers": 0.05,
            "sharing.rate_share_per_day": 0.5,
            "sharing.p_convert": 0.2,
            "customers.p_first_order": 0.5,
            "customers.days_to_first_order": 3.0,
        }
    )
    result = run(scenario, keep_population=True)
    population = result.population
    assert population is not None
    referrers = np.unique(population.referrer[population.referrer != NEVER])
    assert referrers.size > 0
    # Everyone who referred someone had ordered before that day.
    referred = population.referrer != NEVER
    ordered_before = population.day_first_order[population.referrer[referred]]
    assert (ordered_before >= 0).all()
    assert (ordered_before < population.day_acquired[referred]).all()
    assert (population.first_channel[referred] == Channel.SHARING).all()
