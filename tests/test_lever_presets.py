"""The lever presets: what each one is for shows up when it runs."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, run
from sim.analysis.channel_mix import new_customer_shares
from sim.world.build import build_world
from sim.world.population import Channel
from tests.conftest import SCENARIOS


def test_the_loyalty_and_retention_presets_run_on_the_hybrid_market():
    hybrid = load_scenario(SCENARIOS / "hybrid.yaml")
    for name in ("loyalty_tiers", "retention_uplift"):
        assert load_scenario(SCENARIOS / f"{name}.yaml").market() == hybrid.market()
    tiers = load_scenario(SCENARIOS / "loyalty_tiers.yaml").loyalty
    assert len(tiers.tiers) == 3 and tiers.downgrade == "one_tier"
    assert load_scenario(SCENARIOS / "retention_uplift.yaml").retention_offers.targeting == "uplift"


def test_the_seeding_presets_differ_only_in_who_is_seeded():
    hubs = load_scenario(SCENARIOS / "seeding_hubs.yaml").model_dump()
    random = load_scenario(SCENARIOS / "seeding_random.yaml").model_dump()
    differences = {
        (section, key)
        for section in hubs
        if isinstance(hubs[section], dict)
        for key in hubs[section]
        if hubs[section][key] != random[section][key]
    }
    assert differences == {("seeding", "selection")}


@pytest.mark.slow
def test_hub_seeding_preset_reaches_more_customers_than_random_seeding():
    overrides = {"network.n": 4000, "days": 200}
    hubs = load_scenario(SCENARIOS / "seeding_hubs.yaml", overrides)
    random = load_scenario(SCENARIOS / "seeding_random.yaml", overrides)
    gains = []
    for seed in range(3):
        world = build_world(hubs, seed)
        gains.append(
            run(hubs, seed, world=world).summary["new_customers"]
            - run(random, seed, world=world).summary["new_customers"]
        )
    assert np.mean(gains) > 2 * np.std(gains, ddof=1) / np.sqrt(len(gains))


def test_field_launch_hands_over_to_word_of_mouth():
    scenario = load_scenario(SCENARIOS / "field_launch.yaml", {"days": 240})
    result = run(scenario, keep_population=True)
    shares = new_customer_shares(result.steps, period_days=30).set_index(["period_start", "channel"])
    assert shares.loc[(1, "field"), "share"] > 0.5  # the reps start it
    after = result.steps[result.steps["day"] > scenario.field_team.days_active]
    assert after["new_field"].sum() == 0 and after["new_sharing"].sum() > 0  # friends carry on
    later = shares.loc[(211, "sharing"), "share"]
    assert later > 0.5
    np.testing.assert_allclose(shares.groupby(level="period_start")["share"].sum().dropna(), 1.0, rtol=1e-12)
    pop = result.population
    assert pop is not None
    assert set(pop.community[pop.first_channel == Channel.FIELD].tolist()) == {0}  # city 0 only


def test_the_bank_trades_employee_points_for_referrals():
    """More points per referral → more employee referrals (the reward raises their sharing), at a cost."""
    overrides = {"network.n": 4000, "days": 180}
    few = load_scenario(
        SCENARIOS / "employee_referrals_bank.yaml", {**overrides, "incentives.amount_employee": 20.0}
    )
    many = few.with_overrides({"incentives.amount_employee": 300.0})
    referrals, costs = [], []
    for seed in range(3):
        world = build_world(few, seed)
        low, high = run(few, seed, world=world).summary, run(many, seed, world=world).summary
        referrals.append(high["referred_by_employee"] - low["referred_by_employee"])
        costs.append(high["employee_rewards_paid"] / max(high["referred_by_employee"], 1))
        assert high["employee_rewards_paid"] > low["employee_rewards_paid"]
    assert np.mean(referrals) > 2 * np.std(referrals, ddof=1) / np.sqrt(len(referrals))
    # Each referral costs what the points cost the bank: 300 × 0.3 (paid on sign-up, gross).
    assert np.allclose(costs, 300 * many.incentives.points_cost_share, rtol=0.05)
