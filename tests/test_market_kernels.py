"""The market rules' compiled days do exactly what their NumPy formulation does.

Each rule's daily step is one (or a few) numba kernels that compute counter-based uniforms
(:mod:`sim.engine.counter`) only for the people a decision concerns. Here each kernel's day is run
next to a NumPy reference (array code, kept only in this file) that takes the same counter-based
uniforms for *everyone* and indexes them, on twin models in the same state: every population
column, every tally and the ledger must come out identical, bit for bit, including on days with
nobody eligible and with everyone eligible, and neither touches the rule's generator. Then: a
person's uniform, hence their outcome, does not depend on who else is eligible that day.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from sim import load_scenario
from sim.engine.counter import draw_key, stream_key, uniforms
from sim.engine.model import MarketModel
from sim.engine.random import (
    SUMMING_MAX_RATE,
    binomial_from_uniform,
    geometric_with_residual,
    poisson_with_residual,
    stream,
)
from sim.rules import purchases as purchases_module
from sim.rules._pick import pick_lowest, pick_lowest_in, pick_top
from sim.rules.base import Rule
from sim.rules.retention import OfferResponse
from sim.world.population import CHANNELS, NEVER, NOT_DUE, Channel, Stage, add_counts
from tests.conftest import ROOT

ALL_RULES = ROOT / "benchmarks" / "all_rules.yaml"


def _twins(overrides: dict[str, Any], days: int) -> tuple[MarketModel, MarketModel]:
    """Two models of the every-rule scenario, run ``days`` days: the same state, twice."""
    scenario = load_scenario(
        ALL_RULES, {"network.kind": "barabasi_albert", "network.m": 5, "network.n": 1500, **overrides}
    )
    model = MarketModel(scenario)
    model.run(days)
    return model, copy.deepcopy(model)


def _start_day(model: MarketModel) -> None:
    model.day += 1
    model._tallies.clear()
    model.ledger.start_day(model.day)


def _rule(model: MarketModel, name: str) -> Rule:
    return next(rule for rule in model.rules if rule.name == name)


def _assert_same(compiled: MarketModel, reference: MarketModel, name: str) -> None:
    """Every column, tally, ledger line and the rule's generator state agree exactly."""
    ours, theirs = compiled.population.snapshot(), reference.population.snapshot()
    for column, values in theirs.items():
        np.testing.assert_array_equal(ours[column], values, err_msg=column)
    assert dict(compiled._tallies) == dict(reference._tallies)
    left, right = compiled.ledger.to_frame(), reference.ledger.to_frame()
    assert left.equals(right)
    assert _rule(compiled, name).rng.bit_generator.state == _rule(reference, name).rng.bit_generator.state


def _run_both(
    compiled: MarketModel,
    reference: MarketModel,
    name: str,
    reference_step: Callable[[Any, MarketModel], None],
    days: int = 3,
) -> dict[str, float]:
    """Step the rule ``days`` days on both twins, checking them after each; the summed tallies.

    The rule's generator is never drawn from during a day (its uniforms are counter-based).
    """
    totals: dict[str, float] = {}
    state = _rule(compiled, name).rng.bit_generator.state
    for _ in range(days):
        _start_day(compiled)
        _start_day(reference)
        _rule(compiled, name).step(compiled)
        reference_step(_rule(reference, name), reference)
        _assert_same(compiled, reference, name)
        assert _rule(compiled, name).rng.bit_generator.state == state
        for key, value in compiled._tallies.items():
            totals[key] = totals.get(key, 0) + value
    return totals


def _day_uniforms(rule: Any, model: MarketModel, n: int, site: int = 0) -> np.ndarray:
    """The rule's counter-based uniforms of today's draw ``site`` for ids 0 … n − 1."""
    return uniforms(draw_key(rule._key, model.day, site), n)


# --------------------------------------------------------------------------------------- purchases


def _purchases_reference(rule: Any, model: MarketModel) -> None:
    """The purchases rule's day as NumPy array code (everyone's uniform drawn, the customers' used)."""
    pop = model.population
    day = model.day
    u_orders = _day_uniforms(rule, model, pop.n)
    active = np.flatnonzero(pop.stage == Stage.CUSTOMER)
    if active.size == 0:
        return
    first = pop.day_first_order[active]
    never_ordered = first == NEVER
    uniforms = u_orders[active]
    due = pop.day_first_order_due[active]
    undecided = never_ordered & (due == NEVER)
    if undecided.any():
        u = uniforms[undecided]
        p_first = rule.params.p_first_order
        buys = u < p_first
        delay, residual = geometric_with_residual(u[buys] / p_first, rule._p_delay)
        planned = np.full(u.size, NOT_DUE, dtype=np.int64)
        planned[buys] = day + delay
        due[undecided] = planned
        pop.day_first_order_due[active[undecided]] = planned
        u[buys] = residual
        uniforms[undecided] = u
    starting = never_ordered & (due <= day)
    ordering = ~never_ordered | starting
    people = active[ordering]
    if people.size == 0:
        return
    rate = pop.rate_purchase[people]
    rel_purchase = pop.rel_purchase[people]
    if np.any(rel_purchase != 1.0):
        rate = rate * rel_purchase
    if rule._demand is not None:
        rate = rate * rule._demand[day]
    orders, u_bad = poisson_with_residual(uniforms[ordering], rate)
    starts = starting[ordering]
    orders += starts | (pop.day_acquired[people] == day)
    first_buyers = people[starts]
    if first_buyers.size:
        pop.day_first_order[first_buyers] = day
        real = first_buyers[first_buyers < model.n_real]
        by_channel = np.bincount(pop.first_channel[real], minlength=len(CHANNELS))
        for channel in purchases_module.FIRST_ORDER_CHANNELS:
            count = int(by_channel[CHANNELS.index(channel)])
            if count:
                model.tally(f"first_orders_{channel}", count)
    buying = orders > 0
    buyers, orders, u_bad = people[buying], orders[buying], u_bad[buying]
    if buyers.size == 0:
        return
    bad = binomial_from_uniform(u_bad, orders, 1.0 - rule.params.p_good_experience)
    spend = orders * pop.order_value[buyers].astype(np.float64)
    add_counts(pop.n_orders, buyers, orders)
    pop.revenue[buyers] += spend
    add_counts(pop.n_bad_experiences, buyers, bad)
    add_counts(pop.n_good_experiences, buyers, orders - bad)
    revenue = float(spend.sum())
    margin = model.scenario_config.economics.gross_margin
    model.ledger.earn("sales", "revenue", revenue)
    model.ledger.spend("sales", "cost_of_goods", revenue * (1.0 - margin))
    model.tally("orders", int(orders.sum()))


#: Rates spread so widely that some pass SUMMING_MAX_RATE (NumPy's incomplete-gamma path).
HEAVY_BUYERS = {"population.rate_purchase_per_day": 5.0, "population.purchase_rate_shape": 0.05}


def _everyone_customer(*models: MarketModel) -> None:
    """Every real person an active customer; a third of them sign-ups with no first-order plan yet."""
    for model in models:
        pop = model.population
        pop.stage[: model.n_real] = Stage.CUSTOMER
        fresh = np.arange(0, model.n_real, 3)
        pop.day_first_order[fresh] = NEVER
        pop.day_first_order_due[fresh] = NEVER


@pytest.mark.parametrize(
    ("overrides", "shake"),
    [
        ({}, None),  # the every-rule scenario as it runs
        ({"customers.p_first_order": 0.5, "customers.days_to_first_order": 0.0}, _everyone_customer),
        ({"customers.days_to_first_order": 5.0}, _everyone_customer),
        (HEAVY_BUYERS, _everyone_customer),
    ],
)
def test_the_purchases_kernel_books_what_the_array_code_booked(overrides, shake):
    compiled, reference = _twins({"days": 60, **overrides}, 20)
    if shake is not None:
        shake(compiled, reference)
    if overrides is HEAVY_BUYERS:
        assert compiled.population.rate_purchase.max() > SUMMING_MAX_RATE
    _run_both(compiled, reference, "purchases", _purchases_reference)


def test_the_purchases_kernel_on_a_day_without_customers_does_nothing():
    compiled, reference = _twins({"days": 30}, 3)
    for model in (compiled, reference):
        model.population.stage[:] = Stage.UNAWARE
    _run_both(compiled, reference, "purchases", _purchases_reference, days=1)
    assert "orders" not in compiled._tallies


def test_the_kernel_draws_match_the_array_draws():
    """Counts of the compiled Poisson, geometric and binomial draws are NumPy's, at edge uniforms too."""
    rng = np.random.default_rng(3)
    u = np.concatenate([[0.0, 1e-300, 0.5, float(np.nextafter(1.0, 0.0))], rng.random(4000)])
    for rate in (0.0, 1e-9, 0.033, 1.0, 7.5, SUMMING_MAX_RATE):
        counts, residual = poisson_with_residual(u, np.full(u.size, rate))
        drawn = [purchases_module._poisson(x, rate) for x in u]
        assert [c for c, _ in drawn] == counts.tolist()
        np.testing.assert_allclose([r for _, r in drawn], residual, rtol=1e-12, atol=1e-12)
    for p in (1.0, 0.5, 1.0 / 3.0, 1e-3):
        counts, residual = geometric_with_residual(u, p)
        log_q = float(np.log1p(-p)) if p < 1.0 else 0.0
        drawn = [purchases_module._geometric(x, p, log_q) for x in u]
        assert [c for c, _ in drawn] == counts.tolist()
        np.testing.assert_allclose([r for _, r in drawn], residual, rtol=1e-9, atol=1e-12)
    trials = rng.integers(0, 40, u.size)
    for p in (0.0, 0.1, 0.9, 1.0):
        q_pow = (1.0 - p) ** np.arange(purchases_module._POW_TABLE, dtype=np.int64)
        expected = binomial_from_uniform(u, trials, p)
        bad = [purchases_module._binomial(x, int(n), p, q_pow) for x, n in zip(u, trials, strict=True)]
        assert bad == expected.tolist()


# ------------------------------------------------------------------------------------------ rival


def _join_rival_reference(model: MarketModel, people: np.ndarray) -> None:
    pop = model.population
    day = model.day
    if people.size == 0:
        return
    ours = people[pop.stage[people] == Stage.CUSTOMER]
    if ours.size:
        pop.day_churned[ours] = day
        first = ours[pop.day_first_churned[ours] == NEVER]
        pop.day_first_churned[first] = day
        model.tally("lost_to_rival", int(ours.size))
        model.tally("churned", int(ours.size))
    pop.stage_before_rival[people] = pop.stage[people]
    pop.stage[people] = Stage.RIVAL
    pop.rival_stage[people] = Stage.CUSTOMER
    pop.day_rival_acquired[people] = day
    model.tally("new_rival", int(people.size))


def _leave_rival_reference(model: MarketModel, people: np.ndarray) -> None:
    if people.size == 0:
        return
    pop = model.population
    before = pop.stage_before_rival[people]
    was_ours = (pop.day_first_acquired[people] != NEVER) | (before == Stage.CUSTOMER)
    pop.stage[people] = np.where(was_ours, Stage.CHURNED, before).astype(np.int8)
    pop.rival_stage[people] = Stage.CHURNED
    model.tally("rival_churned", int(people.size))


def _switch_to_rival_reference(model: MarketModel, customers: np.ndarray) -> np.ndarray:
    rival = model.scenario_config.rival
    pop = model.population
    factor = np.full(customers.size, rival.rel_switch * rival.rel_switch_offer)
    offered = pop.day_offer_ends[customers] >= model.day
    if offered.any():
        factor[offered] *= pop.rel_churn_offer[customers[offered]]
    loyalty = pop.rel_churn_loyalty[customers]
    if np.any(loyalty != 1.0):
        factor *= loyalty
    return factor


def _rival_reference(rule: Any, model: MarketModel) -> None:
    """The rival rule's day as NumPy array code: every non-customer's exact hazard, no thinning."""
    p = rule.params
    pop = model.population
    graph = model.graph
    n_real = model.n_real
    u = _day_uniforms(rule, model, n_real)
    stage = pop.stage[:n_real]
    rival = stage == Stage.RIVAL
    # Who joins: decided on the day's starting state, before anyone churns.
    q = p.rate_share_per_day * p.p_convert
    candidates = np.flatnonzero(~rival)
    h = np.full(candidates.size, p.rate_organic_per_day)
    sharers = np.zeros(pop.n, dtype=bool)
    sharers[:n_real] = rival & (pop.day_rival_acquired[:n_real] < model.day)
    if q > 0 and sharers.any():
        shares = rule._shares(model, sharers)
        heard = graph.sum_over_neighbours_at(candidates, shares)
        if p.normalisation == "fraction":
            pressure = heard / np.maximum(graph.degree[candidates], 1).astype(np.float64)
        else:
            pressure = heard / max(graph.mean_degree, 1e-12)
        h = h + q * pressure
    ours = stage[candidates] == Stage.CUSTOMER
    if ours.any():
        h[ours] *= _switch_to_rival_reference(model, candidates[ours])
    returning = (pop.rival_stage[candidates] == Stage.CHURNED) & ~ours
    h[returning] *= rule.scenario.customers.rel_winback
    joiners = candidates[u[candidates] < -np.expm1(-h)]
    # The rival's customers churn.
    customers = np.flatnonzero(rival)
    rel = rule.scenario.customers.rel_churn * p.rel_churn
    if customers.size and rel != 0.0:
        p_base = pop.p_churn_base[customers].astype(np.float64)
        p_churn = -np.expm1(np.log1p(-np.minimum(p_base, 1 - 1e-15)) * rel)
        _leave_rival_reference(model, customers[u[customers] < p_churn])
    _join_rival_reference(model, joiners)


#: A rival that moves many people each day, both ways, with offers and loyalty in play.
BUSY_RIVAL = {
    "rival.rate_share_per_day": 1.0,
    "rival.p_convert": 0.3,
    "rival.rate_organic_per_day": 0.002,
    "rival.rel_switch": 1.0,
    "rival.rel_churn": 3.0,
    "rival.share_initial_customers": 0.05,
}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        BUSY_RIVAL,
        {**BUSY_RIVAL, "rival.normalisation": "count", "rival.days_share_half_life": None},
        {**BUSY_RIVAL, "rival.days_share_half_life": 0.5, "customers.rel_winback": 0.0},
        {**BUSY_RIVAL, "rival.rate_share_per_day": 0.0, "customers.rel_churn": 0.0},
        {**BUSY_RIVAL, "rival.rate_organic_per_day": 0.0, "rival.share_initial_customers": 0.0},
        # A quiet rival: its bounds are low enough that the day screens blocks of people.
        {"rival.rate_organic_per_day": 0.0005, "rival.rate_share_per_day": 0.02, "rival.rel_churn": 0.1},
        # The complete graph: everyone hears every sharer.
        {**BUSY_RIVAL, "network": {"kind": "complete", "n": 600}, "fraud.n_attackers": 0},
    ],
)
def test_the_rival_kernel_moves_who_the_array_code_moved(overrides):
    compiled, reference = _twins({"days": 60, **overrides}, 15)
    totals = _run_both(compiled, reference, "rival", _rival_reference, days=4)
    if overrides:  # a busy rival: people join it (and, where they can, leave it) every few days
        assert totals.get("new_rival", 0) > 0


def test_the_rival_kernel_with_everyone_at_the_rival_only_churns():
    compiled, reference = _twins({"days": 60, **BUSY_RIVAL}, 5)
    for model in (compiled, reference):
        pop = model.population
        real = slice(0, model.n_real)
        pop.stage_before_rival[real] = pop.stage[real]
        pop.stage[real] = Stage.RIVAL
        pop.rival_stage[real] = Stage.CUSTOMER
    totals = _run_both(compiled, reference, "rival", _rival_reference, days=1)
    assert totals["rival_churned"] > 0 and "new_rival" not in totals


# ------------------------------------------------------------------------------------------ churn


def _churn_reference(rule: Any, model: MarketModel) -> None:
    """The churn rule's day as NumPy array code."""
    pop = model.population
    u_churn = _day_uniforms(rule, model, pop.n)
    active = np.flatnonzero(pop.stage == Stage.CUSTOMER)
    if active.size == 0 or rule.params.rel_churn == 0.0:
        return
    p_base = pop.p_churn_base[active].astype(np.float64)
    bad = pop.n_bad_experiences[active]
    multiplier = rule.params.rel_churn * rule.params.rel_churn_per_bad_experience ** bad.astype(np.float64)
    rel_referred = pop.rel_churn_referred[active]
    if np.any(rel_referred != 1.0):
        multiplier = multiplier * rel_referred
    habit = model.scenario_config.habit
    if habit.rel_churn_habit != 1.0:
        net_good = pop.n_good_experiences[active].astype(np.int32) - bad.astype(np.int32)
        habitual = net_good >= habit.good_experiences_for_habit
        multiplier = multiplier * np.where(habitual, habit.rel_churn_habit, 1.0)
    for column in (pop.rel_churn_fit, pop.rel_churn_loyalty):
        factor = column[active]
        if np.any(factor != 1.0):
            multiplier = multiplier * factor.astype(np.float64)
    offered = pop.day_offer_ends[active] >= model.day
    if offered.any():
        multiplier = multiplier * np.where(offered, pop.rel_churn_offer[active].astype(np.float64), 1.0)
    hazard = np.log1p(-np.minimum(p_base, 1 - 1e-15)) * multiplier
    p_churn = np.where(multiplier == 1.0, p_base, -np.expm1(hazard))
    leavers = active[u_churn[active] < p_churn]
    if leavers.size == 0:
        return
    pop.stage[leavers] = Stage.CHURNED
    pop.day_churned[leavers] = model.day
    first = leavers[pop.day_first_churned[leavers] == NEVER]
    pop.day_first_churned[first] = model.day
    model.tally("churned", int(leavers.size))


def _neutral_levers(*models: MarketModel) -> None:
    """Every active customer's churn multiplier exactly 1: p is p_churn_base itself."""
    for model in models:
        pop = model.population
        for column in (pop.rel_churn_referred, pop.rel_churn_fit, pop.rel_churn_loyalty, pop.rel_churn_offer):
            column[:] = 1.0
        pop.n_bad_experiences[:] = 0
        pop.day_offer_ends[:] = NEVER
        # Churn-prone customers, so that some leave within the few days compared.
        pop.p_churn_base[:] = np.float32(0.05)
        pop.stage[: model.n_real : 2] = Stage.CUSTOMER


@pytest.mark.parametrize(
    ("overrides", "shake"),
    [
        ({}, None),  # habit, loyalty, offers, referred customers: every lever in play
        ({"customers.rel_churn": 3.0}, _everyone_customer),
        ({"habit.rel_churn_habit": 1.0}, _neutral_levers),
        ({"customers.rel_churn": 0.0}, _everyone_customer),  # nobody churns
    ],
)
def test_the_churn_kernel_churns_whom_the_array_code_churned(overrides, shake):
    compiled, reference = _twins({"days": 60, **overrides}, 20)
    if shake is not None:
        shake(compiled, reference)
    # Ten days: the every-rule scenario's few customers churn about one every three days.
    totals = _run_both(compiled, reference, "churn", _churn_reference, days=10)
    assert (totals.get("churned", 0) > 0) == (overrides.get("customers.rel_churn") != 0.0)


# ------------------------------------------------------------------------------ retention offers


def _response_multiplier(rule: Any, groups: np.ndarray) -> np.ndarray:
    p = rule.params
    rel = np.ones(groups.size, dtype=np.float64)
    rel[groups == OfferResponse.PERSUADABLE] = p.rel_churn_persuaded
    rel[groups == OfferResponse.SLEEPING_DOG] = p.rel_churn_sleeping_dog
    return rel


def _retention_offers_reference(rule: Any, model: MarketModel) -> None:
    """The retention offers' day as NumPy array code (sim.rules._pick's choices)."""
    pop = model.population
    if rule._offers.idle:
        return
    u_pick = _day_uniforms(rule, model, pop.n)
    n_offers = rule._offers.take(model.day)
    if n_offers == 0:
        return
    eligible = np.flatnonzero((pop.stage == Stage.CUSTOMER) & (pop.day_offer_ends < model.day))
    if eligible.size == 0:
        return
    targeting = rule.params.targeting
    if targeting == "random":
        chosen = pick_lowest(eligible, u_pick, n_offers)
    else:
        rel_bad = model.scenario_config.customers.rel_churn_per_bad_experience
        risk = pop.p_churn_base[eligible] * rel_bad ** pop.n_bad_experiences[eligible].astype(np.float64)
        if targeting == "churn_risk":
            chosen = pick_top(eligible, risk, u_pick, n_offers)
        else:
            uplift = risk * (1.0 - _response_multiplier(rule, rule._believed[eligible]))
            worth = uplift > 0
            chosen = pick_top(eligible[worth], uplift[worth], u_pick, n_offers)
    if chosen.size == 0:
        return
    groups = pop.offer_response[chosen]
    pop.day_offer_ends[chosen] = model.day + rule.params.days_effect - 1
    pop.rel_churn_offer[chosen] = _response_multiplier(rule, groups)
    cost = chosen.size * rule.params.cost_per_offer
    model.ledger.spend("retention", "offers", cost)
    model.tally("retention_offers", int(chosen.size))
    model.tally("offers_to_persuadables", int(np.count_nonzero(groups == OfferResponse.PERSUADABLE)))
    model.tally("spend_retention", cost)


def _equal_risks(*models: MarketModel) -> None:
    """Everyone a customer, and everyone equally at risk: every offer is decided by a tie."""
    _everyone_customer(*models)
    for model in models:
        model.population.p_churn_base[:] = np.float32(0.002)
        model.population.n_bad_experiences[:] = 0


def _a_few_tied_at_the_top(*models: MarketModel) -> None:
    """Twenty-nine customers share the highest risk, more than a day's offers: a tie among a few."""
    _everyone_customer(*models)
    for model in models:
        model.population.p_churn_base[100:3000:100] = np.float32(0.9)
        model.population.n_bad_experiences[100:3000:100] = 0


#: Weekday offers, more of them than the every-rule scenario makes.
MANY_OFFERS = {"retention_offers.daily_budget": 40.0}


@pytest.mark.parametrize(
    ("overrides", "shake"),
    [
        ({}, _everyone_customer),  # uplift targeting, weekdays only (customers to target)
        ({**MANY_OFFERS, "retention_offers.targeting": "random"}, _everyone_customer),
        ({**MANY_OFFERS, "retention_offers.targeting": "churn_risk"}, _everyone_customer),
        ({**MANY_OFFERS, "retention_offers.p_uplift_model_correct": 0.3}, _everyone_customer),
        ({**MANY_OFFERS, "retention_offers.targeting": "churn_risk"}, _equal_risks),
        ({**MANY_OFFERS, "retention_offers.targeting": "churn_risk"}, _a_few_tied_at_the_top),
        ({"retention_offers.daily_budget": 1e5, "retention_offers.targeting": "uplift"}, _everyone_customer),
    ],
)
def test_the_retention_offer_kernels_offer_to_whom_the_array_code_offered(overrides, shake):
    compiled, reference = _twins({"days": 60, **overrides}, 14)
    if shake is not None:
        shake(compiled, reference)
    totals = _run_both(compiled, reference, "retention_offers", _retention_offers_reference, days=7)
    assert totals["retention_offers"] > 0


def test_a_retention_offer_day_without_eligible_customers_spends_nothing():
    compiled, reference = _twins({"days": 60, **MANY_OFFERS, "retention_offers.targeting": "random"}, 14)
    for model in (compiled, reference):
        model.population.day_offer_ends[:] = 10_000  # everyone is under an offer
    totals = _run_both(compiled, reference, "retention_offers", _retention_offers_reference, days=3)
    assert "retention_offers" not in totals


# ---------------------------------------------------------------------------------------- winback


def _winback_reference(rule: Any, model: MarketModel) -> None:
    pop = model.population
    if rule._contacts.idle:
        return
    u_pick = _day_uniforms(rule, model, pop.n, site=0)
    u_convert = _day_uniforms(rule, model, pop.n, site=1)
    n_contacts = rule._contacts.take(model.day)
    churned = pop.stage[: model.n_real] == Stage.CHURNED
    contacted = pick_lowest_in(churned, u_pick[: model.n_real], n_contacts)
    if contacted.size == 0:
        return
    cost = contacted.size * rule.params.cost_per_contact
    model.ledger.spend("winback", "contacts", cost)
    model.tally("winback_contacts", int(contacted.size))
    model.tally("spend_winback", cost)
    model.acquire(contacted[u_convert[contacted] < rule.params.p_convert], Channel.WINBACK)


def _many_churned(*models: MarketModel) -> None:
    for model in models:
        model.population.stage[: model.n_real : 3] = Stage.CHURNED


@pytest.mark.parametrize(
    ("overrides", "shake"),
    [
        ({}, None),  # two contacts a day
        ({"winback.daily_budget": 60.0, "winback.p_convert": 0.5}, _many_churned),  # past the sparse draws
        ({"winback.daily_budget": 1e5}, _many_churned),  # every churned person contacted
        ({"winback.daily_budget": 1.0}, None),  # a contact every other day
    ],
)
def test_the_winback_kernel_contacts_and_wins_back_whom_the_array_code_did(overrides, shake):
    compiled, reference = _twins({"days": 60, **overrides}, 14)
    if shake is not None:
        shake(compiled, reference)
    totals = _run_both(compiled, reference, "winback", _winback_reference, days=4)
    assert totals["winback_contacts"] > 0


def test_winback_without_churned_people_contacts_nobody():
    compiled, reference = _twins({"days": 60}, 14)
    for model in (compiled, reference):
        stage = model.population.stage
        stage[stage == Stage.CHURNED] = Stage.UNAWARE
    totals = _run_both(compiled, reference, "winback", _winback_reference, days=2)
    assert "winback_contacts" not in totals


# ------------------------------------------------------------------- common random numbers per person


def _drop_every_other(model: MarketModel, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
    """Every other person at ``stage`` (real people only) made unaware: (those kept, those dropped)."""
    pop = model.population
    at_stage = np.flatnonzero(pop.stage[: model.n_real] == stage)
    kept, dropped = at_stage[::2], at_stage[1::2]
    pop.stage[dropped] = Stage.UNAWARE
    pop.rival_stage[dropped] = Stage.UNAWARE
    return kept, dropped


@pytest.mark.parametrize(
    ("name", "overrides", "stage", "columns"),
    [
        ("churn", {"customers.rel_churn": 3.0}, Stage.CUSTOMER, ("stage", "day_churned")),
        (
            "purchases",
            {"customers.p_first_order": 0.5},
            Stage.CUSTOMER,
            ("n_orders", "n_bad_experiences", "day_first_order_due", "day_first_order"),
        ),
        # Joining the rival rightly depends on how many friends are its customers, so the rival case
        # compares leaving it alone: nobody joins (no rival sharing or discovery), many leave.
        (
            "rival",
            {
                **BUSY_RIVAL,
                "rival.rate_share_per_day": 0.0,
                "rival.rate_organic_per_day": 0.0,
                "rival.share_initial_customers": 0.2,
            },
            Stage.RIVAL,
            ("stage", "rival_stage"),
        ),
    ],
)
def test_a_persons_decision_does_not_depend_on_who_else_is_eligible(name, overrides, stage, columns):
    """Half the eligible people removed on one twin: the other half decide exactly as on the full twin.

    Each person's uniform is a function of (seed, rule, day, person): dropping others from the day
    (fewer customers, fewer rival customers) moves nobody's number, so the same people churn, order
    and leave the rival, on several days running.
    """
    full, thinned = _twins({"days": 60, **overrides}, 15)
    if name == "purchases":
        _everyone_customer(full, thinned)
    kept, _ = _drop_every_other(thinned, stage)
    assert kept.size > 50
    moved = 0
    for _ in range(3):
        for model in (full, thinned):
            _start_day(model)
            _rule(model, name).step(model)
        for column in columns:
            ours, theirs = getattr(full.population, column)[kept], getattr(thinned.population, column)[kept]
            np.testing.assert_array_equal(ours, theirs, err_msg=column)
        moved = int(np.count_nonzero(full.population.stage[kept] != stage))
    if name == "purchases":
        assert full.population.n_orders[kept].sum() > 0
    else:
        assert moved > 0  # some of the kept people churned: the check compared real decisions


MARKET_RULES = ("purchases", "churn", "rival", "retention_offers", "winback")


def test_the_market_rules_keys_depend_on_seed_and_name_only():
    """Each rule's counter-based key is its own stream's (seed and rule name), whatever else is on.

    Switching every other strategy rule off (ads, sharing, incentives, …) leaves the key, hence every
    person's uniform of every day, where it was: common random numbers across strategies.
    """
    scenario = load_scenario(ALL_RULES, {"network.n": 600, "days": 5})
    quiet = scenario.with_overrides(
        {"ads.daily_budget": 0.0, "sharing.rate_share_per_day": 0.0, "incentives.enabled": False}
    )
    everything, fewer = MarketModel(scenario, seed=4), MarketModel(quiet, seed=4)
    for name in MARKET_RULES:
        key = _rule(everything, name)._key
        assert key == stream_key(stream(4, name))
        assert _rule(fewer, name)._key == key
    assert len({_rule(everything, name)._key for name in MARKET_RULES}) == len(MARKET_RULES)
