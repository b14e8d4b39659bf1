"""Churn is heterogeneous (shifted-beta-geometric) and the retention metrics measure it."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import betaln

from sim.analysis.metrics import clv, retention_table, top_share
from sim.engine.model import MarketModel
from sim.world.population import NEVER, Channel, Population, Stage
from tests.conftest import quiet_scenario


def test_cohort_survival_follows_the_shifted_beta_geometric_curve():
    # Everyone is a customer on day 0; churn per year ~ Beta(0.704, 1.182); no bad experiences.
    alpha, beta, n = 0.704, 1.182, 20_000
    scenario = quiet_scenario(
        {
            "network.n": n,
            "days": 3 * 365,
            "population.share_initial_customers": 1.0,
            "population.churn_alpha": alpha,
            "population.churn_beta": beta,
            "population.rate_purchase_per_day": 0.0,
            "customers.rel_churn": 1.0,
            "customers.rel_winback": 0.0,
        }
    )
    model = MarketModel(scenario)
    survival = []
    for _year in range(3):
        model.run(365)
        survival.append(model.population.stage_counts()[Stage.CUSTOMER] / n)
    for t, observed in enumerate(survival, start=1):
        expected = np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))
        standard_error = np.sqrt(expected * (1 - expected) / n)
        assert abs(observed - expected) < 5 * standard_error + 0.005, (t, observed, expected)
    # The retention *rate* rises with cohort age although nobody's churn changes.
    rates = np.array(survival[1:]) / np.array(survival[:-1])
    assert rates[1] > rates[0] > survival[0]


def handmade_population() -> Population:
    population = Population(6)
    population.day_first_acquired[:] = [0, 0, 10, 10, NEVER, 50]
    population.day_first_churned[:] = [5, NEVER, 20, NEVER, NEVER, NEVER]
    population.first_channel[:] = [Channel.ADS, Channel.ADS, Channel.SHARING, Channel.SHARING, 0, Channel.ADS]
    population.n_acquisitions[:] = [1, 1, 1, 1, 0, 1]
    return population


def test_retention_table_counts_first_spells_among_people_observed_long_enough():
    table = retention_table(handmade_population(), days=60)
    overall = table[table["group_by"] == "all"].set_index("age_days")
    # Age 7: all five customers were observed that long; person 0 churned on day 5.
    assert overall.loc[7, "at_risk"] == 5 and overall.loc[7, "retained"] == 4
    assert overall.loc[14, "at_risk"] == 4 and overall.loc[14, "retained"] == 2
    by_channel = table[(table["group_by"] == "channel") & (table["age_days"] == 14)].set_index("group")
    assert by_channel.loc["ads", "retention"] == 0.5 and by_channel.loc["sharing", "retention"] == 0.5


def test_top_share_of_equal_and_concentrated_values():
    assert np.isclose(top_share(np.ones(100)), 0.2)
    assert np.isclose(top_share(np.array([0.0] * 8 + [1.0, 1.0])), 1.0)


def test_clv_is_the_geometric_sum_and_unbounded_without_churn_or_discount():
    margin, retention, discount = 120.0, 0.8, 0.1
    # Margin of each future year a customer survives, discounted: Σ m·rᵗ/(1+d)ᵗ for t ≥ 1.
    expected = sum(margin * retention**t / (1 + discount) ** t for t in range(1, 2000))
    assert math.isclose(clv(margin, retention, discount), expected, rel_tol=1e-9)
    assert clv(margin, 1.0, 0.0) == math.inf
    assert clv(-5.0, 1.0, 0.0) == -math.inf
    assert math.isnan(clv(0.0, 1.0, 0.0))
