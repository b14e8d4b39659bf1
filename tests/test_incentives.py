"""Referral incentives, fraud and defences: directional claims on common random numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from sim import run
from sim.engine.model import MarketModel
from sim.rules.defences import dense_referral_clusters
from sim.scenario import ScenarioError, scenario_from_dict
from sim.world.build import build_world
from sim.world.population import Channel, FraudKind, Role
from tests.conftest import make_scenario

#: A busy small market: the hybrid preset's shape, referral-driven, no simple reward.
MARKET = {
    "network.kind": "barabasi_albert",
    "network.n": 3000,
    "network.m": 5,
    "days": 120,
    "seed": 11,
    "population.share_initial_customers": 0.03,
    "ads.daily_budget": 0.0,
    "organic.rate_per_day": 0.0002,
    "sharing.rate_share_per_day": 0.2,  # fading with the default half-life: ≈ 9 shares a spell
    "sharing.p_convert": 0.08,
}
PROGRAMME = {
    "incentives.enabled": True,
    "incentives.who": "both",
    "incentives.amount_referrer": 10.0,
    "incentives.amount_friend": 10.0,
}
ATTACK = {
    "fraud.n_attackers": 20,
    "fraud.accounts_per_attacker": 15,
    "fraud.rate_accounts_per_day": 0.5,
    "fraud.cost_per_account": 2.0,
    "fraud.days_fake_life": 7,
    "fraud.rate_coupon_farmers_per_day": 1.0,
    "fraud.days_farmer_stay": 3,
}


def scenario(**overrides):
    """The test market with dotted overrides (keys use ``__`` for dots)."""
    return make_scenario({**MARKET, **{k.replace("__", "."): v for k, v in overrides.items()}})


def paired(base: dict, changed: dict):
    """Run two scenarios differing only in ``changed`` on one world and one seed."""
    first = make_scenario({**MARKET, **base})
    second = make_scenario({**MARKET, **base, **changed})
    world = build_world(first)
    return run(first, world=world, keep_population=True), run(second, world=world, keep_population=True)


def test_attack_without_defences_pays_fraud_and_raises_referral_cac():
    quiet, attacked = paired(
        {**PROGRAMME, **ATTACK, "fraud.rate_accounts_per_day": 0.0, "fraud.rate_coupon_farmers_per_day": 0.0},
        {
            "fraud.rate_accounts_per_day": 0.5,
            "fraud.rate_coupon_farmers_per_day": 1.0,
        },
    )
    assert quiet.summary["rewards_paid_fraud"] == 0.0
    assert quiet.summary["fake_accounts_acquired"] == 0
    assert attacked.summary["rewards_paid_fraud"] > 0.0
    assert attacked.summary["fake_accounts_acquired"] > 0
    assert attacked.summary["referral_cac"] > quiet.summary["referral_cac"]
    assert attacked.summary["cac_sharing"] > quiet.summary["cac_sharing"]
    # Without fraud the referral CAC over honest customers is what the honest programme costs.
    assert attacked.summary["referral_cac_without_fraud"] < attacked.summary["referral_cac"]


def test_fake_accounts_are_never_counted_as_customers():
    result = run(
        scenario(**{k.replace(".", "__"): v for k, v in {**PROGRAMME, **ATTACK}.items()}),
        keep_population=True,
    )
    steps = result.steps
    stages = steps.filter(regex=r"^n_(unaware|aware|considering|customer|churned)$").sum(axis=1)
    assert (stages == MARKET["network.n"]).all()
    population = result.population
    assert population is not None
    assert population.n == MARKET["network.n"] + 20 * 15
    fakes = population.role == Role.FAKE
    assert fakes[MARKET["network.n"] :].all() and not fakes[: MARKET["network.n"]].any()
    activated = int((population.n_acquisitions[fakes] > 0).sum())
    assert activated == result.summary["fake_accounts_acquired"] > 0
    # Sign-ups and new customers (first orders) count only real people.
    real = slice(0, MARKET["network.n"])
    assert result.summary["new_signups"] == int((population.day_first_acquired[real] > 0).sum())
    assert result.summary["new_customers"] == int((population.day_first_order[real] > 0).sum())


def test_more_reward_on_offer_means_more_attack():
    low, high = paired(
        {**PROGRAMME, **ATTACK, "incentives.amount_referrer": 1.5, "incentives.amount_friend": 1.0},
        {
            "incentives.amount_referrer": 20.0,
            "incentives.amount_friend": 20.0,
        },
    )
    assert high.summary["fake_accounts_acquired"] > low.summary["fake_accounts_acquired"]
    assert high.summary["coupon_farmers"] > low.summary["coupon_farmers"]


def test_a_holding_period_as_long_as_fake_lives_cuts_fraudulent_rewards_by_90_percent():
    base = {**PROGRAMME, **ATTACK, "incentives.days_clawback_window": 30}
    paid_at_once, held = paired(base, {"incentives.days_holding": ATTACK["fraud.days_fake_life"]})
    fraud_before = paid_at_once.summary["rewards_paid_fraud"]
    assert fraud_before > 0
    assert held.summary["rewards_paid_fraud"] <= 0.1 * fraud_before
    # Honest customers still get paid, later.
    assert held.summary["rewards_paid_honest"] > 0


def test_identity_false_positives_reduce_honest_referrals():
    base = {**PROGRAMME, "incentives.share_uplift_max": 0.5, "defences.rel_share_after_denial": 0.3}
    clean, strict = paired(base, {"defences.p_identity_false_positive": 0.3})
    assert clean.summary["rewards_denied_honest"] == 0
    assert strict.summary["rewards_denied_honest"] > 0
    assert strict.summary["new_customers_sharing"] < clean.summary["new_customers_sharing"]
    denied = strict.population.n_rewards_denied
    assert denied.sum() == strict.summary["rewards_denied_honest"]


def referred_value(result) -> float:
    population = result.population
    n = MARKET["network.n"]
    referred = (population.first_channel[:n] == Channel.SHARING) & (population.day_first_acquired[:n] > 0)
    return float(population.order_value[:n][referred].mean())


def test_larger_rewards_bring_more_referrals_of_lower_value():
    base = {
        **PROGRAMME,
        "incentives.amount_referrer": 2.0,
        "incentives.amount_friend": 2.0,
        "incentives.share_uplift_max": 1.0,
        "incentives.low_value_pull": 1.0,
    }
    small, large = paired(base, {"incentives.amount_referrer": 40.0, "incentives.amount_friend": 40.0})
    assert large.summary["new_customers_sharing"] > small.summary["new_customers_sharing"]
    assert referred_value(large) < referred_value(small)


def test_rewards_matter_more_over_weak_ties():
    base = {**PROGRAMME, "incentives.share_uplift_max": 1.0}
    model = MarketModel(make_scenario({**MARKET, **base, "incentives.weak_tie_emphasis": 1.0}))
    model.step()  # behaviour is set on the first day
    degree = model.graph.degree
    rel = model.population.rel_share
    hubs, leaves = degree >= np.quantile(degree, 0.9), degree <= np.quantile(degree, 0.1)
    assert rel[hubs].mean() > rel[leaves].mean() > 1.0


def test_with_tie_strengths_rewards_matter_more_to_people_whose_ties_are_weak(tmp_path):
    """On a graph file with a weight column, the weak-tie response reads the weights, not degree."""
    weighted = Path(__file__).parent / "data" / "cases" / "03-karate-weighted.txt"
    plain = tmp_path / "karate.txt"
    plain.write_text("".join(" ".join(line.split()[:2]) + "\n" for line in weighted.read_text().splitlines()))
    settings = {**PROGRAMME, "incentives.share_uplift_max": 1.0, "incentives.weak_tie_emphasis": 1.0}
    uplifts = {}
    for name, path in (("weighted", weighted), ("plain", plain)):
        model = MarketModel(
            make_scenario({**settings, "network.kind": "edge_list", "network.path": str(path)})
        )
        model.step()  # behaviour is set on the first day
        uplifts[name] = model.population.rel_share.astype(float)
    strength = MarketModel(
        make_scenario({**settings, "network.kind": "edge_list", "network.path": str(weighted)})
    ).graph.mean_tie_strength
    assert strength is not None
    weak, strong = strength <= np.quantile(strength, 0.25), strength >= np.quantile(strength, 0.75)
    assert uplifts["weighted"][weak].mean() > uplifts["weighted"][strong].mean() > 1.0
    # Without weights the same people are ranked by degree instead, so the uplifts differ.
    assert not np.allclose(uplifts["weighted"], uplifts["plain"])


def test_referred_customers_churn_less_while_their_referrer_is_active():
    base = {
        **PROGRAMME,
        "population.churn_alpha": 2.0,
        "population.churn_beta": 2.0,
        "population.days_churn_period": 60,
    }
    plain, loyal = paired(base, {"incentives.rel_churn_referrer_active": 0.3})
    assert loyal.summary["retention_90d"] > plain.summary["retention_90d"]


def test_employees_earn_their_reward_per_referral_and_share_more_for_it():
    sc = make_scenario(
        {
            **MARKET,
            **PROGRAMME,
            "incentives.who": "referrer",
            "incentives.amount_employee": 50.0,
            "incentives.employee_kind": "points",
            "incentives.points_cost_share": 0.2,
            "incentives.trigger": "sign_up",
            "incentives.days_clawback_window": None,
            "incentives.share_uplift_max": 0.5,
        }
    )
    world = build_world(sc)
    world.population.role[:300] = Role.EMPLOYEE
    model = MarketModel(sc, world=world)
    model.run()
    steps = model.steps_frame()
    population = model.population
    # A friend is rewarded once, for the referral that first signed them up. The population keeps the
    # latest referrer, which is that one for friends acquired once; a friend won back later may have
    # been first referred by an employee or by someone else, so each of those may or may not count.
    by_staff = (
        (population.referrer >= 0)
        & (population.referrer < 300)
        & (population.first_channel == Channel.SHARING)
        & (population.day_first_acquired > 0)
    )
    once = int((by_staff & (population.n_acquisitions == 1)).sum())
    maybe = int(
        (
            (population.first_channel == Channel.SHARING)
            & (population.day_first_acquired > 0)
            & (population.n_acquisitions > 1)
        ).sum()
    )
    assert once > 0 and maybe < once  # nearly every friend is acquired once
    points = steps["employee_rewards_paid"].sum() / (50.0 * 0.2)  # employee referrals rewarded
    assert once - 1e-9 <= points <= once + maybe + 1e-9
    assert points == pytest.approx(round(points))
    # Employees earn the employee reward instead of the referrer reward.
    assert population.reward_paid[:300].sum() == pytest.approx(points * 50.0)
    # Employees, offered 50 instead of 10, share more (the uplift follows the offer).
    assert population.rel_share[:300].mean() > population.rel_share[300 : MARKET["network.n"]].mean()


def test_personalised_rewards_follow_the_referrers_spend():
    sc = make_scenario(
        {
            **MARKET,
            **PROGRAMME,
            "incentives.who": "referrer",
            "incentives.trigger": "sign_up",  # every referral earns, so paid / referrals is per reward
            "incentives.days_clawback_window": None,
            "incentives.personalised": True,
            "incentives.personal_min": 0.2,
            "incentives.personal_max": 5.0,
        }
    )
    result = run(sc, keep_population=True)
    population = result.population
    # A referrer is paid once per friend, for the friend's first sign-up; ``n_referrals`` also counts
    # a friend won back through the same referrer. Keep the referrers all of whose friends joined once.
    referred = population.referrer >= 0
    joined_once = np.bincount(
        population.referrer[referred & (population.n_acquisitions == 1)], minlength=population.referrer.size
    )
    paid = (population.reward_paid > 0) & (joined_once == population.n_referrals)
    assert paid.sum() > 20
    per_referral = population.reward_paid[paid] / population.n_referrals[paid]
    assert per_referral.min() >= 0.2 * 10.0 - 1e-9 and per_referral.max() <= 5.0 * 10.0 + 1e-9
    assert per_referral.std() > 0
    rho = np.corrcoef(np.argsort(np.argsort(per_referral)), np.argsort(np.argsort(population.revenue[paid])))
    assert rho[0, 1] > 0.3


def test_ring_detection_finds_dense_clusters_and_cuts_fraud():
    rings = {
        **PROGRAMME,
        **ATTACK,
        "fraud.share_rings": 1.0,
        "fraud.rate_coupon_farmers_per_day": 0.0,
        "incentives.days_holding": 14,
        "incentives.days_clawback_window": None,
    }
    open_door, guarded = paired(
        rings, {"defences.ring_detection": True, "defences.days_detection_interval": 3}
    )
    assert guarded.summary["detection_recall"] > 0.5
    assert guarded.summary["detection_precision"] > 0.8
    assert guarded.summary["rewards_paid_fraud"] < 0.5 * open_door.summary["rewards_paid_fraud"]


def test_dense_referral_clusters_on_a_small_graph():
    # Nodes 0-3: a clique (a ring) with one tie out to 4; nodes 4-9: a referral chain of honest
    # people, each with two more friends among 10-19 (embedded in the wider graph).
    edges = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3), (3, 4)] + [(i, i + 1) for i in range(4, 9)]
    edges += [(i, 10 + 2 * (i - 4)) for i in range(4, 9)] + [(i, 11 + 2 * (i - 4)) for i in range(4, 9)]
    rows, cols = zip(*edges, strict=True)
    a = sp.csr_array((np.ones(len(edges)), (rows, cols)), shape=(20, 20))
    a = (a + a.T).tocsr()
    degree = np.asarray(a.sum(axis=1)).ravel()
    friends = np.array([1, 2, 3, 6, 7, 8])
    referrers = np.array([0, 1, 2, 5, 6, 7])
    found = dense_referral_clusters(a, degree, friends, referrers, min_size=3, min_internal_share=0.6)
    np.testing.assert_array_equal(found, [0, 1, 2, 3])


def test_flagged_accounts_wait_for_review_and_review_finds_the_truth():
    rings = {
        **PROGRAMME,
        **ATTACK,
        "fraud.share_rings": 1.0,
        "incentives.days_holding": 14,
        "defences.ring_detection": True,
        "defences.action": "flag",
        "defences.review_capacity_per_day": 5,
    }
    result = run(make_scenario({**MARKET, **rings}), keep_population=True)
    assert result.steps["accounts_reviewed"].sum() > 0
    population = result.population
    cleared = population.account_status == 3
    assert (population.fraud_kind[cleared] == FraudKind.HONEST).all()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"incentives": {"trigger": "active_after_days", "days_active_required": 30, "days_holding": 10}},
            "days_holding = 10, days_active_required = 30",
        ),
        ({"incentives": {"cap_per_referrer": -5}}, "incentives.cap_per_referrer"),
        ({"incentives": {"share_of_first_order": 1.5}}, "incentives.share_of_first_order"),
        ({"incentives": {"personal_min": 3, "personal_max": 2}}, "personal_min = 3"),
        ({"incentives": {"pacing_tolerance": 0.1}}, "needs incentives.budget"),
        ({"network": {"kind": "complete", "n": 50}, "fraud": {"n_attackers": 2}}, "network.kind = complete"),
        (
            {"network": {"kind": "erdos_renyi", "n": 50}, "fraud": {"n_attackers": 60}},
            "at most network.n = 50",
        ),
        ({"defences": {"action": "ban"}}, "defences.action"),
    ],
)
def test_contradictory_programme_settings_are_rejected_naming_the_fields(data, fragment):
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert any(fragment in str(problem) for problem in caught.value.problems), caught.value.problems


def test_grouped_running_sums_match_a_loop():
    from sim.rules.incentives import _grouped_cumsum_before

    rng = np.random.default_rng(3)
    groups = rng.integers(0, 6, size=40)
    values = rng.random(40)
    expected = [values[:i][groups[:i] == groups[i]].sum() for i in range(40)]
    np.testing.assert_allclose(_grouped_cumsum_before(groups, values), expected)
    np.testing.assert_array_equal(_grouped_cumsum_before(np.array([4, 2]), np.ones(2)), [0, 0])


def test_a_programme_that_pays_nothing_changes_nothing():
    base = make_scenario(MARKET)
    idle = make_scenario(
        {
            **MARKET,
            "incentives.enabled": True,
            "incentives.amount_referrer": 0.0,
            "incentives.amount_friend": 0.0,
            "defences.ring_detection": True,
            "fraud.rate_accounts_per_day": 5.0,  # no attackers in the market: nothing to activate
        }
    )
    first, second = run(base), run(idle)
    core = [c for c in first.steps.columns if c in second.steps.columns]
    np.testing.assert_array_equal(first.steps[core].to_numpy(), second.steps[core].to_numpy())
    assert first.ledger.equals(second.ledger)


def test_the_bank_preset_pays_employees_chosen_by_the_roles_rule():
    from sim import load_scenario
    from tests.conftest import SCENARIOS

    scenario = load_scenario(SCENARIOS / "employee_referrals_bank.yaml", {"network.n": 3000, "days": 120})
    result = run(scenario, keep_population=True)
    population = result.population
    employees = population.role == Role.EMPLOYEE
    assert employees.sum() == scenario.roles.n_employees
    referred_by_staff = (
        (population.first_channel == Channel.SHARING)
        & (population.day_first_acquired > 0)
        & (population.referrer >= 0)
        & employees[np.maximum(population.referrer, 0)]
    )
    assert referred_by_staff.sum() > 0
    points = scenario.incentives.amount_employee * scenario.incentives.points_cost_share
    # Every first-time sign-up an employee referred earned points (won-back referrals earn none). The
    # latest referrer is the first one for friends acquired once; a friend won back may have been
    # first referred by an employee or not.
    once = int((referred_by_staff & (population.n_acquisitions == 1)).sum())
    maybe = int(
        (
            (population.first_channel == Channel.SHARING)
            & (population.day_first_acquired > 0)
            & (population.n_acquisitions > 1)
        ).sum()
    )
    rewarded = result.summary["employee_rewards_paid"] / points
    assert once - 1e-9 <= rewarded <= once + maybe + 1e-9
    assert rewarded == pytest.approx(round(rewarded))
    # Ordinary customers earn nothing here: the programme's cost is the employees'.
    assert result.summary["rewards_paid"] == result.summary["employee_rewards_paid"]


# ------------------------------------------------------------------------ taking money back

#: Friends who leave fast: most churn within a month of joining.
LEAVERS = {
    "population.churn_alpha": 2.0,
    "population.churn_beta": 1.0,
    "population.days_churn_period": 30,
}


def test_clawback_without_a_holding_period_recovers_reversible_rewards_of_friends_who_leave():
    credit = {**PROGRAMME, **LEAVERS, "incentives.kind": "store_credit", "incentives.days_holding": 0}
    kept, clawed = paired(
        {**credit, "incentives.days_clawback_window": None}, {"incentives.days_clawback_window": 30}
    )
    recovered = clawed.summary["rewards_clawed_back"]
    assert kept.summary["rewards_clawed_back"] == 0.0
    assert recovered > 0.0
    # The same referrals and payouts on the same numbers: the clawback is money back, nothing else.
    assert clawed.summary["new_customers_sharing"] == kept.summary["new_customers_sharing"]
    assert clawed.summary["rewards_paid"] == pytest.approx(kept.summary["rewards_paid"])
    assert kept.summary["marketing_spend"] - clawed.summary["marketing_spend"] == pytest.approx(recovered)
    ledger = clawed.ledger
    lines = ledger[(ledger["purpose"] == "clawback") & (ledger["flow"] == "earn")]
    assert lines["amount"].sum() == pytest.approx(recovered)
    assert clawed.steps["rewards_clawed_back"].sum() == pytest.approx(recovered)
    # Cash cannot be taken back once paid.
    _, cash = paired({**credit, "incentives.kind": "cash"}, {"incentives.days_clawback_window": 30})
    assert cash.summary["rewards_clawed_back"] == 0.0


def test_a_first_purchase_trigger_pays_coupon_farmers_less_than_a_sign_up_trigger():
    farming = {
        **PROGRAMME,
        "fraud.rate_coupon_farmers_per_day": 2.0,
        "fraud.share_farmers_never_buy": 0.6,
        "incentives.days_clawback_window": None,
        "incentives.trigger": "sign_up",
    }
    on_sign_up, on_purchase = paired(farming, {"incentives.trigger": "first_purchase"})
    assert on_sign_up.summary["coupon_farmers"] == on_purchase.summary["coupon_farmers"] > 0
    assert on_purchase.summary["rewards_paid_fraud"] < on_sign_up.summary["rewards_paid_fraud"]
    # Honest sign-ups who never order cost nothing either under the first-purchase trigger.
    assert on_purchase.summary["rewards_paid_honest"] < on_sign_up.summary["rewards_paid_honest"]
    population = on_sign_up.population
    farmers = population.fraud_kind == FraudKind.COUPON_FARMER
    never = population.day_first_order[farmers] == -1
    assert 0.4 < never.mean() < 0.8  # about share_farmers_never_buy of them never ordered


def test_detection_after_payout_recovers_reversible_rewards():
    rings = {
        **PROGRAMME,
        **ATTACK,
        "fraud.share_rings": 1.0,
        "fraud.rate_coupon_farmers_per_day": 0.0,
        "incentives.kind": "points",
        "incentives.days_holding": 0,  # paid at once: only detection after payout can take it back
        "incentives.days_clawback_window": None,
    }
    open_door, guarded = paired(
        rings, {"defences.ring_detection": True, "defences.days_detection_interval": 3}
    )
    assert open_door.summary["rewards_recovered"] == 0.0
    recovered = guarded.summary["rewards_recovered"]
    assert recovered > 0.0
    assert recovered <= guarded.summary["rewards_paid"]
    ledger = guarded.ledger
    assert ledger[ledger["purpose"] == "recovered"]["amount"].sum() == pytest.approx(recovered)
    # What detection takes back is mostly what fraud was paid.
    assert recovered > 0.5 * guarded.summary["rewards_paid_fraud"]
    # Cash paid before detection stays paid.
    _, cash = paired({**rings, "incentives.kind": "cash"}, {"defences.ring_detection": True})
    assert cash.summary["rewards_recovered"] == 0.0


def test_old_reward_keys_fail_with_a_hint_naming_their_replacement():
    for data, fragment in (
        ({"sharing": {"reward_per_referral": 5}}, "sharing.reward_per_referral: was replaced by incentives."),
        ({"roles": {"employee_reward_per_referral": 1}}, "incentives.amount_employee"),
        ({"incentives": {"employee_points_per_referral": 1}}, "incentives.amount_employee"),
        ({"incentives": {"clawback": True}}, "incentives.days_clawback_window"),
    ):
        with pytest.raises(ScenarioError) as caught:
            scenario_from_dict(data)
        (problem,) = caught.value.problems
        assert fragment in str(problem) and "docs/scenarios.md" in str(problem)
        assert "\n" not in str(problem)
