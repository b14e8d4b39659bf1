"""The ad channel: budget, frequency cap, targeting and wear-out."""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np

from sim import MarketModel, compare, run
from sim.world.population import Stage
from tests.conftest import quiet_scenario

HEAVY_ADS = {
    "network.n": 800,
    "days": 40,
    "ads.daily_budget": 40.0,
    "ads.cpm": 5.0,  # 8,000 impressions a day for 800 people: the cap must bind
    "ads.frequency_cap": 3,
    "ads.days_frequency_window": 7,
}


def test_no_one_sees_more_than_the_cap_in_any_window():
    scenario = quiet_scenario(HEAVY_ADS)
    model = MarketModel(scenario)
    window: deque[np.ndarray] = deque(maxlen=7)
    previous = model.population.n_ad_exposures.copy()
    for _ in range(scenario.days):
        model.step()
        window.append(model.population.n_ad_exposures - previous)
        previous = model.population.n_ad_exposures.copy()
        assert np.sum(window, axis=0).max() <= 3
    # The cap bound: spend stayed below budget on capped days.
    steps = run(scenario).steps
    assert (steps["spend_ads"] < scenario.ads.daily_budget).any()


def test_targeting_prospects_spares_customers_and_a_community_target_stays_inside():
    scenario = quiet_scenario(
        {
            **HEAVY_ADS,
            "network": {"kind": "communities", "n": 800, "n_communities": 4},
            "ads.target_community": 2,
            "ads.frequency_cap": None,
            "population.share_initial_customers": 0.3,
        }
    )
    model = MarketModel(scenario)
    customers = model.population.stage == Stage.CUSTOMER
    model.step()
    seen = model.population.n_ad_exposures > 0
    assert seen.any()
    assert not (seen & customers).any()
    assert (model.population.community[seen] == 2).all()


def test_wear_out_lowers_what_the_same_impressions_achieve():
    base = quiet_scenario(
        {
            **HEAVY_ADS,
            "ads.frequency_cap": None,
            "ads.wearout_half_life_exposures": None,
            "ads.target": "everyone",
        }
    )
    worn = base.with_overrides({"ads.wearout_half_life_exposures": 1.0})
    result = compare({"fresh": base, "worn": worn}, replications=4, seed=2)
    paired = result.paired.set_index("metric")
    assert paired.loc["new_customers_ads", "ci_high"] < 0
    # Same budget, same impressions bought: only their effect differs.
    steps = result.steps.groupby("strategy")["impressions"].sum()
    assert steps["fresh"] == steps["worn"]


def test_one_stage_funnel_converts_directly_and_three_stages_step_by_step():
    one = quiet_scenario({**HEAVY_ADS, "ads.funnel": "one_stage", "ads.p_purchase": 0.2, "days": 1})
    model = MarketModel(one)
    model.step()
    counts = model.population.stage_counts()
    assert counts[Stage.CUSTOMER] > 0 and counts[Stage.AWARE] == counts[Stage.CONSIDERING] == 0
    three = one.with_overrides({"ads.funnel": "three_stage", "ads.p_aware": 0.5})
    model = MarketModel(three)
    model.step()
    counts = model.population.stage_counts()
    assert counts[Stage.AWARE] > 0 and counts[Stage.CUSTOMER] == 0  # one stage a day at most


def test_ad_customers_never_fall_as_the_budget_rises_over_six_orders_of_magnitude():
    """The hybrid preset on one world and one seed (common random numbers), budget 10 → 10,000,000 a
    day: more budget never buys fewer ad customers. Past the point where the frequency cap lets no
    more impressions through, nothing changes at all, and the extra budget is reported unspent.

    (Impressions per person per day used to be cut at 255, and the funnel collapsed near that
    point: 32 → 4 → 0 ad customers at 5,000 → 6,000 → 7,000 a day on this market.)
    """
    from sim import load_scenario
    from sim.world.build import build_world
    from tests.conftest import SCENARIOS

    base = load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 3000, "days": 120})
    world = build_world(base, base.seed)
    budgets = [10.0, 100.0, 1_000.0, 5_000.0, 6_000.0, 7_000.0, 1e5, 1e7]
    results = [run(base.with_overrides({"ads.daily_budget": b}), world=world) for b in budgets]
    ad_customers = [int(r.steps["new_ads"].sum() + r.steps["won_back_ads"].sum()) for r in results]
    assert ad_customers[-1] > ad_customers[0] > 0
    assert all(b >= a for a, b in itertools.pairwise(ad_customers)), ad_customers
    saturated = results[2:]  # 1,000 a day already fills every window to the cap
    for result in saturated[1:]:
        assert result.steps["new_ads"].tolist() == saturated[0].steps["new_ads"].tolist()
        assert result.steps["spend_ads"].sum() == saturated[0].steps["spend_ads"].sum()
    for budget, result in zip(budgets, results, strict=True):
        steps = result.steps.iloc[1:]
        # Every unit of the budget is either spent on impressions or reported unspent.
        np.testing.assert_allclose(steps["spend_ads"] + steps["ads_unspent"], budget, rtol=1e-9)


def test_any_number_of_impressions_per_person_is_served_without_a_cap():
    """No frequency cap, no wear-out, one-stage funnel: a person shown ~10^6 impressions a day
    converts for sure; the impressions served match the budget."""
    scenario = quiet_scenario(
        {
            "network.n": 400,
            "days": 1,
            "ads.daily_budget": 4_000_000.0,
            "ads.cpm": 1.0,  # 4e9 impressions for 400 people: 1e7 each
            "ads.frequency_cap": None,
            "ads.wearout_half_life_exposures": None,
            "ads.funnel": "one_stage",
            "ads.p_purchase": 0.001,
            "ads.target": "everyone",
        }
    )
    model = MarketModel(scenario)
    model.step()
    assert (model.population.stage == Stage.CUSTOMER).all()
    served = model.steps_frame()["impressions"].iloc[-1]
    assert 0.999 * 4e9 <= served <= 4e9
    exposures = model.population.n_ad_exposures
    assert exposures.min() > 9e6 and exposures.max() < 1.1e7
