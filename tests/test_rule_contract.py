"""One contract for every registered rule (docs/architecture.md, "Tests").

For each rule: its parameters are a scenario section; a step writes only the columns it declares;
a seeded replay is identical; and at zero intensity it changes nothing and spends nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import MarketModel
from sim.rules import REGISTRY, Rule, ordered_rules
from sim.scenario import Scenario
from sim.world.population import Population
from tests.conftest import make_scenario

# Everything on, small and busy enough that every rule acts within a few days.
BUSY = {
    "network.kind": "erdos_renyi",
    "network.n": 600,
    "network.mean_degree": 8,
    "days": 20,
    "population.share_initial_customers": 0.2,
    "population.rate_purchase_per_day": 0.3,
    "population.churn_alpha": 2.0,
    "population.churn_beta": 2.0,
    "population.days_churn_period": 30,
    "organic.rate_per_day": 0.01,
    "ads.daily_budget": 50.0,
    "ads.cpm": 5.0,
    "ads.p_aware": 0.3,
    "ads.p_consider": 0.3,
    "ads.p_purchase": 0.3,
    "sharing.rate_share_per_day": 0.5,
    "sharing.p_convert": 0.3,
    "sharing.max_shares_per_customer": 3.0,
    "customers.p_good_experience": 0.7,
    # referral programme, attack and defences
    "fraud.n_attackers": 4,
    "fraud.accounts_per_attacker": 6,
    "fraud.rate_accounts_per_day": 2.0,
    "fraud.rate_coupon_farmers_per_day": 3.0,
    "fraud.days_fake_life": 3,
    "fraud.days_farmer_stay": 2,
    "incentives.enabled": True,
    "incentives.who": "both",
    "incentives.amount_referrer": 10.0,
    "incentives.amount_friend": 5.0,
    "incentives.days_holding": 2,
    "incentives.kind": "store_credit",
    "incentives.amount_employee": 4.0,
    "incentives.days_clawback_window": 10,
    "incentives.share_uplift_max": 0.5,
    "incentives.low_value_pull": 0.5,
    "incentives.rel_churn_referrer_active": 0.8,
    "defences.p_identity_detect": 0.3,
    "defences.p_identity_false_positive": 0.05,
    "defences.ring_detection": True,
    "defences.days_detection_interval": 2,
    "defences.ring_min_size": 3,
    "defences.ring_min_internal_share": 0.3,  # a small dense graph: rings merge with honest referrals
    "defences.action": "flag",
    "defences.review_capacity_per_day": 3,
    # retention levers, roles, seeding, field team, loyalty
    "habit.rel_churn_habit": 0.5,
    "retention_offers.daily_budget": 20.0,
    "retention_offers.cost_per_offer": 2.0,
    "retention_offers.targeting": "uplift",
    "winback.daily_budget": 10.0,
    "winback.cost_per_contact": 1.0,
    "winback.p_convert": 0.3,
    "roles.n_employees": 10,
    "roles.n_kols": 5,
    "roles.kol_fee_per_day": 3.0,
    "seeding.budget": 200.0,
    "seeding.cost_per_seed": 10.0,
    "seeding.selection": "hubs",
    "field_team.n_reps": 2,
    "field_team.contacts_per_rep_per_day": 10,
    "field_team.p_convert": 0.2,
    "field_team.commission_amount": 1.0,
    "field_team.rel_convert_signup_push": 1.5,
    "field_team.rel_churn_signup_push": 2.0,
    # a rival brand with one paid channel, word of mouth, discovery, and customers who switch
    "rival.enabled": True,
    "rival.share_initial_customers": 0.1,
    "rival.rate_organic_per_day": 0.01,
    "rival.ads.daily_budget": 40.0,
    "rival.ads.cpm": 5.0,
    "rival.ads.p_aware": 0.3,
    "rival.ads.p_consider": 0.3,
    "rival.ads.p_purchase": 0.3,
    "rival.rate_share_per_day": 0.5,
    "rival.p_convert": 0.3,
    "rival.rel_switch": 0.5,
    "loyalty.membership": "open",
    "loyalty.redemption_points": 50.0,
    "loyalty.rel_churn_full_balance": 0.8,
    "loyalty.rel_purchase_near_goal": 1.3,
    "loyalty.rel_purchase_after_reward": 0.7,
    "loyalty.days_grace": 2,
    "loyalty.days_window": 5,
    "loyalty.tiers": [
        {"name": "base"},
        {"name": "silver", "threshold": 50, "rel_points": 1.5, "rel_churn": 0.8, "discount": 0.02},
        {
            "name": "gold",
            "threshold": 150,
            "rel_points": 2,
            "rel_churn": 0.6,
            "rel_share": 2,
            "service_cost_per_order": 1,
        },
    ],
}

rule_classes = pytest.mark.parametrize("rule_class", REGISTRY, ids=lambda r: r.name)


def run_rule_days(scenario: Scenario, rule_class: type[Rule], days: int, seed: int = 5):
    """Step a model; before and after ``rule_class`` runs each day, record what it changed.

    Returns the columns it changed, what it spent, the population after each of its steps, and the
    ledger lines it posted.
    """
    model = MarketModel(scenario, seed=seed)
    (rule,) = [r for r in model.rules if isinstance(r, rule_class)]
    changed: set[str] = set()
    spent_by_rule = 0.0
    history = []
    lines = []
    for _ in range(days):
        model.day += 1
        model.ledger.start_day(model.day)
        for other in model.rules:
            if other is rule:
                before = model.population.snapshot()
                lines_before = len(model.ledger)
                other.step(model)
                after = model.population.snapshot()
                changed |= {name for name in before if not np.array_equal(before[name], after[name])}
                posted = model.ledger._lines[lines_before:]
                spent_by_rule += sum(line[4] for line in posted)
                lines.extend(posted)
                history.append(after)
            else:
                other.step(model)
    return changed, spent_by_rule, history, lines


def test_registry_is_complete_and_ordered():
    names = [rule.name for rule in REGISTRY]
    assert len(set(names)) == len(names)
    phases = [rule.phase for rule in ordered_rules()]
    assert phases == sorted(phases)


@rule_classes
def test_params_are_a_scenario_section(rule_class):
    scenario = make_scenario(BUSY)
    assert rule_class.section in Scenario.model_fields
    assert getattr(scenario, rule_class.section) is not None


@rule_classes
def test_declared_columns_exist(rule_class):
    assert rule_class.reads <= set(Population.column_names)
    assert rule_class.writes <= set(Population.column_names)


@rule_classes
def test_writes_only_declared_columns(rule_class):
    changed, _, _, _ = run_rule_days(make_scenario(BUSY), rule_class, days=10)
    assert changed, f"{rule_class.name} changed nothing in a busy market"
    assert changed <= rule_class.writes, f"undeclared writes: {changed - rule_class.writes}"


@rule_classes
def test_seeded_replay_is_identical(rule_class):
    scenario = make_scenario(BUSY)
    _, spent_a, history_a, _ = run_rule_days(scenario, rule_class, days=6, seed=9)
    _, spent_b, history_b, _ = run_rule_days(scenario, rule_class, days=6, seed=9)
    assert spent_a == spent_b
    for day_a, day_b in zip(history_a, history_b, strict=True):
        for name in day_a:
            np.testing.assert_array_equal(day_a[name], day_b[name])


@rule_classes
def test_zero_intensity_does_nothing(rule_class):
    scenario = make_scenario({**BUSY, **rule_class.zero_intensity})
    changed, spent, _, _ = run_rule_days(scenario, rule_class, days=10)
    assert changed == set(), f"{rule_class.name} at zero intensity changed {changed}"
    assert spent == 0.0
