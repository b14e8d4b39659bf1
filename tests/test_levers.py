"""The levers: habit, offers, win-back, roles and seeding, field team, loyalty (on common random numbers)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

from sim import ScenarioError, run
from sim.engine.model import MarketModel
from sim.rules.retention import OfferResponse
from sim.world.build import build_world
from sim.world.population import NEVER, Channel, Role, Stage
from tests.conftest import QUIET, make_scenario, quiet_scenario
from tests.strategies import lever_scenarios, property_checks

#: A market of existing customers who buy and churn, nothing else: the levers act on it.
CUSTOMER_BASE = {
    "network.n": 2000,
    "days": 120,
    "population.share_initial_customers": 0.5,
    "population.rate_purchase_per_day": 0.1,
    "population.churn_alpha": 1.0,
    "population.churn_beta": 1.0,
    "population.days_churn_period": 90,
    "customers.rel_churn": 1.0,
}


def paired(scenario, variants: dict[str, dict], seed: int):
    """Run each variant of ``scenario`` on one world with one seed (common random numbers)."""
    world = build_world(scenario, seed)
    return {name: run(scenario.with_overrides(o), seed, world=world) for name, o in variants.items()}


def mean_and_se(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))


# ----------------------------------------------------------------------------------------- habit


def test_habit_lowers_churn_and_is_off_by_default():
    scenario = quiet_scenario(CUSTOMER_BASE)
    runs = paired(scenario, {"off": {}, "habit": {"habit.rel_churn_habit": 0.3}}, seed=3)
    assert runs["habit"].steps["churned"].sum() < 0.8 * runs["off"].steps["churned"].sum()
    # rel_churn_habit = 1 is the core model exactly.
    same = paired(scenario, {"a": {}, "b": {"habit.good_experiences_for_habit": 1}}, seed=3)
    assert same["a"].steps.equals(same["b"].steps)


def test_bad_experiences_delay_the_habit():
    scenario = quiet_scenario({**CUSTOMER_BASE, "habit.rel_churn_habit": 0.3})
    # Same churn per bad experience (rel 1): only the habit differs.
    runs = paired(
        scenario.with_overrides({"customers.rel_churn_per_bad_experience": 1.0}),
        {"good": {"customers.p_good_experience": 1.0}, "mixed": {"customers.p_good_experience": 0.6}},
        4,
    )
    assert runs["mixed"].steps["churned"].sum() > runs["good"].steps["churned"].sum()


# -------------------------------------------------------------------------------- retention offers

OFFERS = {
    "retention_offers.daily_budget": 50.0,
    "retention_offers.cost_per_offer": 5.0,
    "retention_offers.days_effect": 30,
    "retention_offers.share_persuadable": 0.3,
    "retention_offers.share_sleeping_dog": 0.15,
}


def test_uplift_targeting_saves_more_customers_per_unit_spent_than_random():
    scenario = quiet_scenario({**CUSTOMER_BASE, **OFFERS})
    advantage = []
    for seed in range(4):
        runs = paired(
            scenario,
            {
                "none": {"retention_offers.daily_budget": 0.0},
                "random": {"retention_offers.targeting": "random"},
                "uplift": {"retention_offers.targeting": "uplift"},
            },
            seed,
        )
        base = runs["none"].summary["active_customers"]
        per_spend = {
            name: (runs[name].summary["active_customers"] - base) / runs[name].summary["retention_spend"]
            for name in ("random", "uplift")
        }
        assert runs["uplift"].summary["retention_spend"] > 0
        advantage.append(per_spend["uplift"] - per_spend["random"])
    mean, se = mean_and_se(advantage)
    assert mean > 2 * se and mean > 0


def test_offers_reach_groups_at_their_shares_and_sleeping_dogs_churn_more():
    scenario = quiet_scenario({**CUSTOMER_BASE, **OFFERS, "retention_offers.targeting": "random"})
    model = MarketModel(scenario, seed=1)
    shares = np.bincount(model.population.offer_response, minlength=4) / model.population.n
    se = math.sqrt(0.3 * 0.7 / model.population.n)
    assert abs(shares[OfferResponse.PERSUADABLE] - 0.3) < 4 * se
    runs = paired(
        scenario,
        {
            "dogs": {"retention_offers.share_persuadable": 0.0, "retention_offers.share_sleeping_dog": 1.0},
            "none": {"retention_offers.daily_budget": 0.0},
        },
        seed=2,
    )
    assert runs["dogs"].summary["active_customers"] < runs["none"].summary["active_customers"]


# ------------------------------------------------------------------------------------------ win-back


def test_winback_brings_churned_customers_back_and_costs_per_contact():
    scenario = quiet_scenario(
        {
            **CUSTOMER_BASE,
            "winback.daily_budget": 20.0,
            "winback.cost_per_contact": 2.0,
            "winback.p_convert": 0.2,
        }
    )
    runs = paired(scenario, {"off": {"winback.daily_budget": 0.0}, "on": {}}, seed=5)
    on = runs["on"]
    assert on.steps["won_back_winback"].sum() > 0
    assert runs["off"].steps["won_back_winback"].sum() == 0
    assert on.summary["active_customers"] > runs["off"].summary["active_customers"]
    contacts = on.steps["winback_contacts"].sum()
    assert contacts <= 10 * scenario.days
    spent = on.ledger[on.ledger["channel"] == "winback"]["amount"].sum()
    assert spent == pytest.approx(2.0 * contacts)


# --------------------------------------------------------------------------------- seeding and roles


def _seeding_runs(rate: float, seed: int):
    scenario = make_scenario(
        {
            **QUIET,
            "network.kind": "barabasi_albert",
            "network.n": 3000,
            "network.m": 2,
            "days": 120,
            "seed": seed,
            "customers.rel_churn": 1.0,
            "population.churn_alpha": 1.0,
            "population.churn_beta": 1.0,
            "population.days_churn_period": 60,
            "population.rate_purchase_per_day": 0.0,
            "sharing.rate_share_per_day": rate,
            "sharing.p_convert": 0.1,
            "sharing.normalisation": "count",
            "seeding.budget": 600.0,
            "seeding.cost_per_seed": 20.0,
        }
    )
    runs = paired(
        scenario, {"random": {"seeding.selection": "random"}, "hubs": {"seeding.selection": "hubs"}}, seed
    )
    return runs["random"].summary["new_customers"], runs["hubs"].summary["new_customers"]


@pytest.mark.slow
def test_hub_seeding_beats_random_near_the_threshold_and_less_when_spread_is_strong():
    """docs/science.md §2: hubs matter near the spreading threshold; far above it every seed takes off."""
    weak = np.array([_seeding_runs(0.3, seed) for seed in range(4)], dtype=float)
    strong = np.array([_seeding_runs(1.0, seed) for seed in range(4)], dtype=float)
    mean, se = mean_and_se(weak[:, 1] - weak[:, 0])
    assert mean > 2 * se and mean > 0
    relative_weak = weak[:, 1] / weak[:, 0] - 1
    relative_strong = strong[:, 1] / strong[:, 0] - 1
    mean, se = mean_and_se(relative_weak - relative_strong)
    assert mean > 2 * se and mean > 0


def test_seeds_are_hubs_and_customers_on_day_one_and_the_budget_buys_them():
    scenario = quiet_scenario(
        {"seeding.budget": 100.0, "seeding.cost_per_seed": 10.0, "seeding.selection": "hubs"}
    )
    result = run(scenario, keep_population=True)
    pop = result.population
    seeds = np.flatnonzero(pop.role == Role.SEED)
    assert seeds.size == 10
    assert (pop.first_channel[seeds] == Channel.SEED).all() and (pop.day_first_acquired[seeds] == 1).all()
    degree = build_world(scenario).graph.degree
    assert degree[seeds].min() >= np.sort(degree)[-10]
    assert result.steps["spend_seed"].sum() == pytest.approx(100.0)


def test_community_seeding_stays_in_its_community():
    scenario = make_scenario(
        {
            **QUIET,
            "days": 30,
            "network.kind": "communities",
            "network.n": 400,
            "network.n_communities": 4,
            "network.mean_degree_within": 5,
            "network.mean_degree_between": 1,
            "seeding.budget": 200.0,
            "seeding.selection": "community",
            "seeding.community": 2,
        }
    )
    pop = run(scenario, keep_population=True).population
    assert set(pop.community[pop.role == Role.SEED].tolist()) == {2}


def test_employees_and_kols_bring_customers_and_reports_split_them_by_role():
    scenario = quiet_scenario(
        {
            "network.n": 1000,
            "roles.n_employees": 20,
            "roles.n_kols": 5,
            "roles.p_convert": 0.2,
            "roles.kol_fee_per_day": 1.0,
            "incentives.enabled": True,  # the employee programme pays per employee referral
            "incentives.amount_employee": 3.0,
            "incentives.employee_kind": "cash",
            "incentives.trigger": "sign_up",
        }
    )
    result = run(scenario, keep_population=True)
    pop = result.population
    assert (pop.role == Role.EMPLOYEE).sum() == 20 and (pop.role == Role.KOL).sum() == 5
    degree = build_world(scenario).graph.degree
    assert degree[pop.role == Role.KOL].min() >= np.sort(degree)[-5]
    summary = result.summary
    assert summary["referred_by_employee"] > 0 and summary["referred_by_kol"] > 0
    referred = pop.referrer != NEVER
    assert summary["referred_by_kol"] == (pop.role[pop.referrer[referred]] == Role.KOL).sum()
    spend = result.ledger[result.ledger["purpose"] == "employee_rewards"]["amount"].sum()
    assert spend == pytest.approx(3.0 * summary["referred_by_employee"])
    assert result.ledger[result.ledger["purpose"] == "kol_fees"]["amount"].sum() == pytest.approx(5.0 * 30)


# --------------------------------------------------------------------------------------- field team

FIELD = {
    "network.n": 3000,
    "days": 150,
    "population.rate_purchase_per_day": 0.05,
    "population.churn_alpha": 1.0,
    "population.churn_beta": 1.0,
    "population.days_churn_period": 120,
    "customers.rel_churn": 1.0,
    "field_team.n_reps": 3,
    "field_team.contacts_per_rep_per_day": 10,
    "field_team.p_convert": 0.1,
    "field_team.commission_amount": 10.0,
    "field_team.days_retained": 30,
    "field_team.rel_convert_signup_push": 2.0,
    "field_team.rel_churn_signup_push": 3.0,
}


def test_commission_on_retained_customers_keeps_customers_longer_than_on_signups():
    scenario = quiet_scenario(FIELD)
    gaps = []
    for seed in range(3):
        runs = paired(
            scenario,
            {
                "signup": {"field_team.commission": "per_signup"},
                "retained": {"field_team.commission": "per_retained"},
            },
            seed,
        )
        retention = {}
        for name, result in runs.items():
            table = result.retention
            row = table[
                (table["group_by"] == "channel") & (table["group"] == "field") & (table["age_days"] == 56)
            ]
            retention[name] = float(row["retention"].iloc[0])
        gaps.append(retention["retained"] - retention["signup"])
        assert runs["signup"].summary["new_customers_field"] > runs["retained"].summary["new_customers_field"]
        assert runs["signup"].summary["field_pushed_share"] > 0.3
    mean, se = mean_and_se(gaps)
    assert mean > 2 * se and mean > 0


def test_field_team_works_in_its_community_for_its_days_and_books_salaries():
    scenario = make_scenario(
        {
            **QUIET,
            "days": 30,
            "network.kind": "communities",
            "network.n": 400,
            "network.n_communities": 4,
            "network.mean_degree_within": 5,
            "network.mean_degree_between": 1,
            "field_team.n_reps": 2,
            "field_team.p_convert": 0.3,
            "field_team.community": 1,
            "field_team.salary_per_rep_per_day": 50.0,
            "field_team.days_active": 10,
        }
    )
    result = run(scenario, keep_population=True)
    pop = result.population
    field = pop.first_channel == Channel.FIELD
    assert field.any() and set(pop.community[field].tolist()) == {1}
    assert (pop.day_first_acquired[field] <= 10).all()
    salaries = result.ledger[result.ledger["purpose"] == "salaries"]["amount"].sum()
    assert salaries == pytest.approx(2 * 50.0 * 10)
    assert result.summary["marketing_spend"] >= salaries


# ------------------------------------------------------------------------------------------ loyalty

TIERS = [
    {"name": "member"},
    {"name": "silver", "threshold": 40, "rel_churn": 0.5},
    {"name": "gold", "threshold": 120, "rel_churn": 0.3},
]
LOYALTY = {**CUSTOMER_BASE, "loyalty.membership": "open", "loyalty.redemption_points": 100.0}


def test_tier_benefits_that_cut_churn_raise_retention():
    scenario = quiet_scenario({**LOYALTY, "loyalty.tiers": TIERS})
    neutral = [{**tier, "rel_churn": 1.0} for tier in TIERS]
    runs = paired(scenario, {"tiers": {}, "neutral": {"loyalty.tiers": neutral}}, seed=6)
    assert runs["tiers"].summary["active_customers"] > runs["neutral"].summary["active_customers"]
    assert runs["tiers"].steps["churned"].sum() < runs["neutral"].steps["churned"].sum()


def test_benefits_cost_what_the_ledger_says():
    tiers = [{"name": "member", "discount": 0.05, "service_cost_per_order": 1.0}]
    scenario = quiet_scenario({**LOYALTY, "loyalty.tiers": tiers, "loyalty.value_per_point": 0.02})
    result = run(scenario, keep_population=True)
    ledger = result.ledger[result.ledger["channel"] == "loyalty"].groupby("purpose")["amount"].sum()
    revenue = result.steps["revenue"].sum()
    # Every buyer is a member from their first order (open programme): all revenue earns the discount.
    assert ledger["discounts"] == pytest.approx(0.05 * revenue)
    assert ledger["service"] == pytest.approx(1.0 * result.steps["orders"].sum())
    assert ledger["redemptions"] == pytest.approx(0.02 * result.population.points_redeemed.sum())
    assert result.summary["loyalty_spend"] == pytest.approx(ledger.sum())
    assert result.summary["profit"] == pytest.approx(
        result.summary["gross_margin"] - result.summary["marketing_spend"] - ledger.sum()
    )


def test_points_are_never_negative_and_balances_add_up():
    scenario = quiet_scenario(
        {**LOYALTY, "loyalty.tiers": TIERS, "loyalty.days_points_expiry": 20, "days": 60}
    )
    model = MarketModel(scenario, seed=2)
    for _ in range(scenario.days):
        model.step()
        pop = model.population
        assert (pop.points >= 0).all()
        np.testing.assert_allclose(
            pop.points_earned, pop.points + pop.points_redeemed + pop.points_expired, rtol=1e-9, atol=1e-6
        )


def test_breakage_is_a_share_and_rises_with_shorter_expiry():
    scenario = quiet_scenario({**LOYALTY, "days": 200, "population.rate_purchase_per_day": 0.03})
    runs = paired(
        scenario,
        {"short": {"loyalty.days_points_expiry": 20}, "long": {"loyalty.days_points_expiry": 90}},
        seed=7,
    )
    short, long = runs["short"].summary["loyalty_breakage"], runs["long"].summary["loyalty_breakage"]
    assert 0.0 <= long < short <= 1.0


def test_soft_landing_drops_one_tier_after_the_grace_period():
    tiers = [{"name": "base"}, {"name": "silver", "threshold": 10}, {"name": "gold", "threshold": 20}]
    scenario = quiet_scenario(
        {
            **LOYALTY,
            "loyalty.tiers": tiers,
            "loyalty.window": "calendar",
            "loyalty.days_window": 10,
            "loyalty.days_grace": 3,
            "customers.rel_churn": 0.0,
            "days": 9,
        }
    )
    model = MarketModel(scenario, seed=1)
    model.run()
    pop = model.population
    gold = np.flatnonzero(pop.tier == 2)
    assert gold.size
    pop.rel_purchase[gold] = 0.0  # stop buying: they will not requalify in the next window
    pop.rate_purchase[gold] = 0.0
    model.run(11)  # day 20: the second window ends with nothing bought: the grace period starts
    assert (pop.tier[gold] == 2).all()
    model.run(2)
    assert (pop.tier[gold] == 2).all()
    model.run(1)  # day 23: grace over, down one tier (a soft landing, not to the base)
    assert (pop.tier[gold] == 1).all()


def test_tier_thresholds_must_ascend_and_errors_name_the_fields():
    with pytest.raises(ScenarioError, match=r"tiers\[\]\.threshold must be strictly ascending"):
        quiet_scenario(
            {"loyalty.tiers": [{"name": "a"}, {"name": "b", "threshold": 5}, {"name": "c", "threshold": 5}]}
        )
    with pytest.raises(ScenarioError, match=r"seeding.community needs network.kind = communities"):
        quiet_scenario({"seeding.selection": "community", "seeding.community": 1})
    with pytest.raises(ScenarioError, match="share_persuadable"):
        quiet_scenario(
            {"retention_offers.share_persuadable": 0.8, "retention_offers.share_sleeping_dog": 0.5}
        )


# ----------------------------------------------------------------------------- invariants (hypothesis)

STAGE_COLUMNS = [f"n_{stage.name.lower()}" for stage in Stage]


@property_checks
@given(lever_scenarios())
def test_people_in_each_state_are_conserved_every_day_with_churn_and_winback(scenario):
    result = run(scenario, keep_population=True)
    steps = result.steps
    assert (steps[STAGE_COLUMNS].sum(axis=1) == scenario.network.n).all()
    new = steps.filter(regex=r"^new_").sum(axis=1)
    back = steps.filter(regex=r"^won_back_").sum(axis=1)
    # Customers: + new + won back − churned; churned: + churned − won back; the rest: − new.
    np.testing.assert_array_equal(
        steps["n_customer"].diff().iloc[1:], (new + back - steps["churned"]).iloc[1:]
    )
    np.testing.assert_array_equal(steps["n_churned"].diff().iloc[1:], (steps["churned"] - back).iloc[1:])
    prospects = steps[["n_unaware", "n_aware", "n_considering"]].sum(axis=1)
    np.testing.assert_array_equal(prospects.diff().iloc[1:], -new.iloc[1:])
    pop = result.population
    assert pop is not None
    assert (pop.points >= 0).all()
    # Retention and win-back spend is a cost: profit subtracts it.
    spend = result.ledger[result.ledger["flow"] == "spend"].groupby("channel")["amount"].sum()
    kept = sum(spend.get(c, 0.0) for c in ("retention", "winback", "loyalty"))
    assert np.isclose(
        result.summary["profit"], result.summary["gross_margin"] - result.summary["marketing_spend"] - kept
    )


# --------------------------------------------------------------------------------------- choosing


def test_pick_lowest_and_pick_top_match_a_full_sort():
    from sim.rules._pick import pick_lowest, pick_top

    rng = np.random.default_rng(0)
    uniforms = rng.random(50_000)
    candidates = np.flatnonzero(rng.random(50_000) < 0.7)
    for k in (0, 1, 7, 300, candidates.size - 1, candidates.size + 5):
        expected = candidates[np.argsort(uniforms[candidates])[:k]]
        assert set(pick_lowest(candidates, uniforms, k).tolist()) == set(expected.tolist())
        score = rng.integers(0, 20, candidates.size).astype(float)  # many ties
        order = np.lexsort((uniforms[candidates], -score))
        assert set(pick_top(candidates, score, uniforms, k).tolist()) == set(candidates[order[:k]].tolist())


def test_picking_from_a_mask_gives_the_same_ids_in_the_same_order():
    from sim.rules._pick import pick_lowest, pick_lowest_in

    rng = np.random.default_rng(1)
    uniforms = rng.random(50_000)
    for share in (0.001, 0.05, 0.7, 1.0):
        mask = rng.random(50_000) < share
        candidates = np.flatnonzero(mask)
        for k in (0, 1, 7, 300, 20_000, candidates.size - 1, candidates.size, candidates.size + 5):
            expected = pick_lowest(candidates, uniforms, k)
            assert np.array_equal(pick_lowest_in(mask, uniforms, k), expected), (share, k)
