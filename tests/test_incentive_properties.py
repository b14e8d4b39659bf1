"""Invariants of the referral programme over random scenarios (hypothesis): caps, budget, pace, people."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from sim.engine.model import MarketModel
from sim.rules.incentives import Incentives
from sim.world.population import Stage
from tests.strategies import programme_scenarios, property_checks

STAGE_COLUMNS = [f"n_{stage.name.lower()}" for stage in Stage]


@property_checks
@given(programme_scenarios())
def test_no_referrer_is_paid_above_a_cap_and_spend_stays_within_budget_and_pace(scenario):
    model = MarketModel(scenario)
    (programme,) = [rule for rule in model.rules if isinstance(rule, Incentives)]
    spec = scenario.incentives
    paid_by_day = []
    for _ in range(scenario.days):
        before = model.population.reward_paid.copy()
        model.step()
        paid_by_day.append(model.population.reward_paid - before)
        if spec.cap_per_referrer is not None:
            assert (model.population.reward_paid <= spec.cap_per_referrer + 1e-9).all()
        if spec.cap_per_referrer_period is not None:
            window = paid_by_day[-spec.days_cap_period :]
            assert (np.sum(window, axis=0) <= spec.cap_per_referrer_period + 1e-9).all()
    steps = model.steps_frame()
    ledger = model.ledger.to_frame()
    # Every reward the programme pays, the employees' included, counts against its budget.
    rewards = ledger[ledger["purpose"].isin(["incentive_rewards", "employee_rewards"])]["amount"]
    assert programme._spent == np.float64(rewards.sum()) or abs(programme._spent - rewards.sum()) < 1e-6
    if spec.budget is not None:
        assert rewards.sum() <= spec.budget + 1e-6
        if spec.pacing_tolerance is not None:
            run_steps = steps[steps["day"] > 0]
            ahead = run_steps["programme_spend_cumulative"] - run_steps["programme_plan_cumulative"] * (
                1 + spec.pacing_tolerance
            )
            assert (ahead <= 1e-6).all()


@property_checks
@given(programme_scenarios())
def test_real_people_are_conserved_and_fakes_never_count(scenario):
    model = MarketModel(scenario)
    model.run()
    steps = model.steps_frame()
    assert (steps[STAGE_COLUMNS].sum(axis=1) == scenario.network.n).all()
    acquired = steps.filter(regex=r"^(new|won_back)_").sum(axis=1)
    flow = acquired - steps["churned"]
    np.testing.assert_array_equal(steps["n_customer"].diff().iloc[1:], flow.iloc[1:])
    assert model.population.n == scenario.network.n + scenario.fraud.n_fake_accounts
    # Rewards are never negative and a referrer's total is what the ledger shows for the referrer side.
    assert (model.population.reward_paid >= 0).all()
