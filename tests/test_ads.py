"""The ad channel: budget, frequency cap, targeting and wear-out."""

from __future__ import annotations

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
