"""Hypothesis strategies shared by the property tests: random but valid scenarios."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sim.scenario import Scenario, apply_overrides, scenario_from_dict

#: Settings of every property test over random scenarios; RIPPLE_HYPOTHESIS_EXAMPLES raises the number
#: of scenarios for a deeper hunt.
property_checks = settings(
    max_examples=int(os.environ.get("RIPPLE_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

probabilities = st.floats(0.0, 1.0, allow_nan=False)
small_rates = st.floats(0.0, 0.3, allow_nan=False)


@st.composite
def networks(draw: st.DrawFn) -> dict[str, Any]:
    """A small graph of any generated kind."""
    n = draw(st.integers(12, 150))
    kind = draw(
        st.sampled_from(["complete", "erdos_renyi", "barabasi_albert", "watts_strogatz", "communities"])
    )
    if kind == "complete":
        return {"kind": kind, "n": n}
    if kind == "erdos_renyi":
        return {"kind": kind, "n": n, "mean_degree": draw(st.floats(0.5, 6.0))}
    if kind == "barabasi_albert":
        return {"kind": kind, "n": n, "m": draw(st.integers(1, 4))}
    if kind == "watts_strogatz":
        return {"kind": kind, "n": n, "k": draw(st.sampled_from([2, 4, 6])), "p_rewire": draw(probabilities)}
    blocks = draw(st.integers(2, 4))
    return {
        "kind": kind,
        "n": n,
        "n_communities": blocks,
        "mean_degree_within": draw(st.floats(0.0, 2.0)),
        "mean_degree_between": draw(st.floats(0.5, 2.0)),
    }


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A valid scenario with every mechanism at a random intensity."""
    overrides = {
        "days": draw(st.integers(3, 25)),
        "seed": draw(st.integers(0, 2**32)),
        "population.share_initial_customers": draw(st.floats(0.0, 0.5)),
        "population.rate_purchase_per_day": draw(small_rates),
        "population.churn_alpha": draw(st.floats(0.2, 3.0)),
        "population.churn_beta": draw(st.floats(0.2, 3.0)),
        "population.days_churn_period": draw(st.integers(5, 365)),
        "customers.p_good_experience": draw(probabilities),
        "customers.rel_winback": draw(probabilities),
        "organic.rate_per_day": draw(small_rates),
        "ads.daily_budget": draw(st.floats(0.0, 50.0)),
        "ads.cpm": draw(st.floats(0.5, 20.0)),
        "ads.target": draw(st.sampled_from(["everyone", "prospects"])),
        "ads.funnel": draw(st.sampled_from(["three_stage", "one_stage"])),
        "ads.p_aware": draw(probabilities),
        "ads.p_consider": draw(probabilities),
        "ads.p_purchase": draw(probabilities),
        "ads.frequency_cap": draw(st.none() | st.integers(1, 5)),
        "ads.days_frequency_window": draw(st.integers(1, 10)),
        "ads.wearout_half_life_exposures": draw(st.none() | st.floats(0.5, 5.0)),
        "sharing.rate_share_per_day": draw(st.floats(0.0, 2.0)),
        "sharing.p_convert": draw(probabilities),
        "sharing.normalisation": draw(st.sampled_from(["fraction", "count"])),
        "sharing.days_share_half_life": draw(st.none() | st.floats(0.5, 60.0)),
        "sharing.max_shares_per_customer": draw(st.none() | st.floats(0.1, 10.0)),
        "customers.p_first_order": draw(probabilities),
        "customers.days_to_first_order": draw(st.floats(0.0, 5.0)),
    }
    data = apply_overrides({"network": draw(networks())}, overrides)
    return scenario_from_dict(data)


@st.composite
def programme_scenarios(draw: st.DrawFn) -> Scenario:
    """A valid scenario with a referral programme, an attack and defences at random settings."""
    base = draw(scenarios())
    network = base.network.model_dump(mode="json")
    if network["kind"] == "complete":  # fake accounts need a sparse graph
        network = {"kind": "erdos_renyi", "n": network["n"], "mean_degree": 3.0}
    trigger = draw(st.sampled_from(["sign_up", "first_purchase", "active_after_days"]))
    required = draw(st.integers(0, 5)) if trigger == "active_after_days" else 0
    budget = draw(st.none() | st.floats(0.0, 500.0))
    overrides = {
        "fraud.n_attackers": draw(st.integers(0, min(5, network["n"]))),
        "fraud.accounts_per_attacker": draw(st.integers(1, 8)),
        "fraud.share_rings": draw(probabilities),
        "fraud.ring_links_to_real": draw(st.integers(0, 2)),
        "fraud.rate_accounts_per_day": draw(st.floats(0.0, 3.0)),
        "fraud.cost_per_account": draw(st.floats(0.5, 10.0)),
        "fraud.days_fake_life": draw(st.integers(1, 10)),
        "fraud.rate_coupon_farmers_per_day": draw(st.floats(0.0, 3.0)),
        "fraud.days_farmer_stay": draw(st.integers(1, 10)),
        "incentives.enabled": True,
        "incentives.who": draw(st.sampled_from(["referrer", "friend", "both"])),
        "incentives.kind": draw(st.sampled_from(["cash", "store_credit", "points"])),
        "incentives.amount_referrer": draw(st.floats(0.0, 30.0)),
        "incentives.amount_friend": draw(st.floats(0.0, 30.0)),
        "incentives.share_of_first_order": draw(st.floats(0.0, 1.0)),
        "incentives.trigger": trigger,
        "incentives.days_active_required": required,
        "incentives.days_holding": required + draw(st.integers(0, 5)),
        "incentives.days_clawback_window": draw(st.none() | st.integers(0, 10)),
        "incentives.amount_employee": draw(st.floats(0.0, 30.0)),
        "incentives.employee_kind": draw(st.sampled_from(["cash", "points"])),
        "fraud.share_farmers_never_buy": draw(probabilities),
        "incentives.cap_per_referrer": draw(st.none() | st.floats(0.0, 60.0)),
        "incentives.cap_per_referrer_period": draw(st.none() | st.floats(0.0, 40.0)),
        "incentives.days_cap_period": draw(st.integers(1, 10)),
        "incentives.budget": budget,
        "incentives.pacing_tolerance": None if budget is None else draw(st.none() | st.floats(0.0, 0.5)),
        "incentives.personalised": draw(st.booleans()),
        "incentives.share_uplift_max": draw(st.floats(0.0, 2.0)),
        "incentives.weak_tie_emphasis": draw(probabilities),
        "incentives.low_value_pull": draw(st.floats(0.0, 2.0)),
        "incentives.rel_churn_referrer_active": draw(probabilities),
        "defences.max_referrals_per_day": draw(st.none() | st.integers(0, 3)),
        "defences.max_rewarded_referrals": draw(st.none() | st.integers(0, 5)),
        "defences.p_identity_detect": draw(probabilities),
        "defences.p_identity_false_positive": draw(st.floats(0.0, 0.3)),
        "defences.ring_detection": draw(st.booleans()),
        "defences.days_detection_interval": draw(st.integers(1, 5)),
        "defences.ring_min_size": draw(st.integers(2, 6)),
        "defences.action": draw(st.sampled_from(["block", "flag"])),
        "defences.review_capacity_per_day": draw(st.integers(0, 5)),
    }
    data = apply_overrides({**base.model_dump(mode="json"), "network": network}, overrides)
    return scenario_from_dict(data)


@st.composite
def lever_scenarios(draw: st.DrawFn) -> Scenario:
    """:func:`scenarios` plus the levers (habit, offers, win-back, roles, seeding, field team, loyalty)."""
    base = draw(scenarios())
    n = base.network.n
    overrides: dict[str, Any] = {
        "customers.rel_churn": draw(st.floats(0.5, 5.0)),
        "habit.rel_churn_habit": draw(probabilities),
        "habit.good_experiences_for_habit": draw(st.integers(1, 5)),
        "retention_offers.daily_budget": draw(st.floats(0.0, 30.0)),
        "retention_offers.cost_per_offer": draw(st.floats(0.5, 10.0)),
        "retention_offers.days_effect": draw(st.integers(1, 20)),
        "retention_offers.targeting": draw(st.sampled_from(["random", "churn_risk", "uplift"])),
        "retention_offers.p_uplift_model_correct": draw(probabilities),
        "winback.daily_budget": draw(st.floats(0.0, 30.0)),
        "winback.cost_per_contact": draw(st.floats(0.5, 10.0)),
        "winback.p_convert": draw(probabilities),
        "roles.n_employees": draw(st.integers(0, n // 4)),
        "roles.n_kols": draw(st.integers(0, n // 4)),
        "roles.kol_selection": draw(st.sampled_from(["degree", "random"])),
        "roles.p_convert": draw(probabilities),
        "seeding.budget": draw(st.floats(0.0, 200.0)),
        "seeding.selection": draw(st.sampled_from(["random", "hubs"])),
        "field_team.n_reps": draw(st.integers(0, 3)),
        "field_team.p_convert": draw(probabilities),
        "field_team.commission": draw(st.sampled_from(["per_signup", "per_retained"])),
        "field_team.commission_amount": draw(st.floats(0.0, 10.0)),
        "field_team.days_retained": draw(st.integers(1, 10)),
        "field_team.rel_convert_signup_push": draw(st.floats(1.0, 3.0)),
        "loyalty.membership": draw(st.sampled_from(["off", "open", "closed"])),
        "loyalty.join_spend": draw(st.floats(0.0, 100.0)),
        "loyalty.redemption_points": draw(st.floats(1.0, 200.0)),
        "loyalty.days_points_expiry": draw(st.none() | st.integers(1, 30)),
        "loyalty.window": draw(st.sampled_from(["rolling", "calendar"])),
        "loyalty.days_window": draw(st.integers(1, 30)),
        "loyalty.downgrade": draw(st.sampled_from(["none", "one_tier", "to_base"])),
        "loyalty.days_grace": draw(st.integers(0, 10)),
        "loyalty.rel_purchase_near_goal": draw(st.floats(1.0, 2.0)),
        "loyalty.rel_purchase_after_reward": draw(probabilities),
        "loyalty.tiers": [
            {"name": "base"},
            {
                "name": "silver",
                "threshold": draw(st.floats(1.0, 50.0)),
                "rel_churn": draw(st.floats(0.0, 2.0)),
            },
            {"name": "gold", "threshold": 100.0, "rel_share": draw(st.floats(1.0, 3.0))},
        ],
    }
    return base.with_overrides(overrides)


@st.composite
def schedules(draw: st.DrawFn, top: float = 50.0, days: int = 40) -> dict[str, Any]:
    """A valid schedule (plain data) of amounts up to ``top``: periods, weekly and yearly multipliers."""
    schedule: dict[str, Any] = {"value": draw(st.floats(0.0, top))}
    starts = sorted(draw(st.sets(st.integers(1, days), max_size=3)))
    periods = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] - 1 if index + 1 < len(starts) else days + 5
        end = (
            draw(st.none() | st.integers(start, limit))
            if index + 1 == len(starts)
            else draw(st.integers(start, limit))
        )
        periods.append({"start": start, "end": end, "value": draw(st.floats(0.0, top))})
    if periods:
        schedule["periods"] = periods
    if draw(st.booleans()):
        schedule["weekly"] = draw(st.lists(st.floats(0.0, 3.0), min_size=7, max_size=7))
    if draw(st.booleans()):
        start = draw(st.integers(1, 365))
        schedule["yearly"] = [
            {"start": start, "end": draw(st.integers(1, 365)), "rel": draw(st.floats(0.0, 3.0))}
        ]
    return schedule


@st.composite
def rival_scenarios(draw: st.DrawFn) -> Scenario:
    """A valid scenario with a rival brand (ads, word of mouth, discovery, switching) at random settings,
    and our own levers that change switching (retention offers, a loyalty tier that cuts churn)."""
    base = draw(scenarios())
    overrides = {
        "rival.enabled": True,
        "rival.share_initial_customers": draw(st.floats(0.0, 0.4)),
        "rival.rate_organic_per_day": draw(small_rates),
        "rival.ads.daily_budget": draw(st.floats(0.0, 50.0) | schedules()),
        "rival.ads.cpm": draw(st.floats(0.5, 20.0)),
        "rival.ads.target": draw(st.sampled_from(["everyone", "prospects"])),
        "rival.ads.funnel": draw(st.sampled_from(["three_stage", "one_stage"])),
        "rival.ads.p_aware": draw(probabilities),
        "rival.ads.p_consider": draw(probabilities),
        "rival.ads.p_purchase": draw(probabilities),
        "rival.ads.days_adstock_half_life": draw(st.none() | st.floats(0.5, 20.0)),
        "rival.rate_share_per_day": draw(st.floats(0.0, 2.0)),
        "rival.p_convert": draw(probabilities),
        "rival.days_share_half_life": draw(st.none() | st.floats(0.5, 60.0)),
        "rival.normalisation": draw(st.sampled_from(["fraction", "count"])),
        "rival.rel_switch": draw(probabilities),
        "rival.rel_switch_offer": draw(st.floats(0.0, 5.0)),
        "rival.rel_churn": draw(st.floats(0.0, 5.0)),
        "customers.rel_churn": draw(st.floats(0.0, 3.0)),
        "ads.days_adstock_half_life": draw(st.none() | st.floats(0.5, 20.0)),
        "ads.saturation_half_reach": draw(st.none() | st.floats(0.01, 1.0)),
        "retention_offers.daily_budget": draw(st.floats(0.0, 20.0)),
        "retention_offers.cost_per_offer": 1.0,
        "winback.daily_budget": draw(st.floats(0.0, 10.0)),
        "winback.cost_per_contact": 1.0,
    }
    data = apply_overrides(base.model_dump(mode="json", exclude={"base_dir"}), overrides)
    return scenario_from_dict(data)
