"""The Bass model limits (docs/science.md §1).

Complete graph, no churn, one funnel stage, a constant external hazard p (organic) and sharing with
``rate_share_per_day × p_convert = q``: the mean adoption share over replications must follow
``F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t})`` within 0.01 at every step, with rates per year
divided by 365 and daily steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.compare import replication_seeds
from sim.engine.model import MarketModel
from sim.world.build import build_world
from tests.conftest import quiet_scenario

P_YEAR, Q_YEAR = 0.03, 0.38  # Sultan, Farley & Lehmann's average product


def bass_curve(p: float, q: float, t: np.ndarray) -> np.ndarray:
    """Closed-form Bass cumulative adoption share."""
    decay = np.exp(-(p + q) * t)
    return (1 - decay) / (1 + (q / p) * decay)


def simulate_adoption(overrides: dict, replications: int, seed: int = 11) -> np.ndarray:
    """Adoption share (customers / n) per day, one row per replication (day 0 first)."""
    scenario = quiet_scenario(overrides)
    curves = []
    for run_seed in replication_seeds(seed, replications):
        model = MarketModel(scenario, seed=run_seed, world=build_world(scenario, run_seed))
        shares = [model.population.stage_counts()[3] / scenario.network.n]
        for _ in range(scenario.days):
            model.step()
            shares.append(model.population.stage_counts()[3] / scenario.network.n)
        curves.append(shares)
    return np.array(curves)


def bass_overrides(p_year: float, q_year: float, n: int, years: float, **extra) -> dict:
    p_convert = 0.5
    return {
        "network": {"kind": "complete", "n": n},
        "days": int(years * 365),
        "organic.rate_per_day": p_year / 365,
        "sharing.rate_share_per_day": q_year / 365 / p_convert,
        "sharing.p_convert": p_convert,
        "sharing.normalisation": "fraction",
        "population.rate_purchase_per_day": 0.0,
        **extra,
    }


@pytest.mark.slow
def test_mean_adoption_follows_the_bass_curve_within_one_point():
    n, years = 10_000, 13
    curves = simulate_adoption(bass_overrides(P_YEAR, Q_YEAR, n, years), replications=8)
    t_years = np.arange(curves.shape[1]) / 365
    expected = bass_curve(P_YEAR, Q_YEAR, t_years)
    mean = curves.mean(axis=0)
    worst = np.abs(mean - expected).max()
    assert worst < 0.01, f"largest gap to F(t) is {worst:.4f}"
    # The curve is an S: it passes its inflection near t* = ln(q/p)/(p+q) = 6.19 years.
    t_star = np.log(Q_YEAR / P_YEAR) / (P_YEAR + Q_YEAR)
    assert abs(np.interp(0.4605, mean, t_years) - t_star) < 0.15


def test_without_imitation_adoption_is_exponential():
    # q = 0: F(t) = 1 − e^{−pt}, no S-curve. A higher p keeps the test short.
    p_year, n, years = 0.8, 10_000, 4
    curves = simulate_adoption(bass_overrides(p_year, 0.0, n, years), replications=3)
    t_years = np.arange(curves.shape[1]) / 365
    expected = 1 - np.exp(-p_year * t_years)
    # One run's share is binomial around F(t): sd ≤ 0.5/sqrt(n); the mean of 3 is tighter.
    tolerance = 4 * 0.5 / np.sqrt(n * 3)
    assert np.abs(curves.mean(axis=0) - expected).max() < tolerance


def test_a_ripple_with_no_seed_and_no_ads_goes_nowhere():
    curves = simulate_adoption(bass_overrides(0.0, 5.0, 2_000, 1), replications=2)
    assert curves.max() == 0.0


def test_seeded_ripple_without_ads_is_logistic():
    # p = 0 with a seed fraction F0: the discrete logistic F_t = F + (1 − F)(1 − e^{−qF}).
    q_day, f0, n, days = 0.03, 0.02, 10_000, 400
    overrides = bass_overrides(0.0, q_day * 365, n, days / 365, **{"population.share_initial_customers": f0})
    curves = simulate_adoption(overrides, replications=6)
    expected = [f0]
    for _ in range(days):
        f = expected[-1]
        expected.append(f + (1 - f) * (1 - np.exp(-q_day * f)))
    # Compare with the realised day-0 share: the seed count itself is random.
    start_gap = np.abs(curves[:, 0].mean() - f0)
    assert start_gap < 4 * np.sqrt(f0 * (1 - f0) / (n * 6))
    assert np.abs(curves.mean(axis=0) - np.array(expected)).max() < 0.02


def test_adoption_rises_with_p_and_with_q_on_common_random_numbers():
    # Larger p or q never lowers adoption on any day (pathwise, same random numbers).
    n, years = 2_000, 3
    base = simulate_adoption(bass_overrides(0.1, 1.0, n, years), replications=2)
    more_p = simulate_adoption(bass_overrides(0.2, 1.0, n, years), replications=2)
    more_q = simulate_adoption(bass_overrides(0.1, 2.0, n, years), replications=2)
    assert np.all(more_p >= base) and np.all(more_q >= base)
    assert more_p[:, -1].mean() > base[:, -1].mean() and more_q[:, -1].mean() > base[:, -1].mean()


def test_normalisation_decides_whether_a_sparse_graph_is_slower_or_faster_than_bass():
    # docs/science.md §1: by the fraction of one's own friends, every sparse graph is slower than the
    # complete graph; by the count of customer friends (over the mean degree), hubs adopt early
    # and a scale-free graph runs ahead of Bass.
    p_year, q_year, n, years = 0.05, 2.0, 4_000, 2
    t = np.arange(int(years * 365) + 1) / 365
    bass = bass_curve(p_year, q_year, t)
    sparse = {"network": {"kind": "barabasi_albert", "n": n, "m": 2}}
    fraction = simulate_adoption(
        {**bass_overrides(p_year, q_year, n, years), **sparse, "sharing.normalisation": "fraction"}, 3
    ).mean(axis=0)
    count = simulate_adoption(
        {**bass_overrides(p_year, q_year, n, years), **sparse, "sharing.normalisation": "count"}, 3
    ).mean(axis=0)
    middle = (bass > 0.1) & (bass < 0.6)  # where the curves are steep and noise is small
    assert np.all(fraction[middle] < bass[middle])
    # Under count the hubs go first, so the lead is early; the low-degree rest adopts later.
    early = (bass > 0.1) & (bass < 0.4)
    assert np.all(count[early] > bass[early])
