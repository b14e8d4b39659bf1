"""A rival brand in the same market: the state machine, switching, market share, and Libai et al.'s
acceleration versus expansion (docs/science.md §10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given

from sim import load_scenario, run
from sim.analysis.compare import mean_interval, replication_seeds
from sim.engine.model import MarketModel
from sim.rules._brands import switch_to_rival
from sim.scenario import Scenario
from sim.world.build import build_world
from sim.world.population import NEVER, Stage
from tests.conftest import SCENARIOS, quiet_scenario
from tests.strategies import property_checks, rival_scenarios

#: A rival that grows by its ads, word of mouth and discovery, and customers who switch both ways.
ACTIVE_RIVAL = {
    "rival.enabled": True,
    "rival.share_initial_customers": 0.02,
    "rival.rate_organic_per_day": 0.0005,
    "rival.ads.daily_budget": 20.0,
    "rival.ads.cpm": 8.0,
    "rival.ads.p_aware": 0.05,
    "rival.ads.p_consider": 0.03,
    "rival.ads.p_purchase": 0.03,
    "rival.rate_share_per_day": 0.2,
    "rival.p_convert": 0.05,
    "rival.rel_switch": 0.5,
}


def _hybrid(overrides: dict | None = None, n: int = 3000, days: int = 120) -> Scenario:
    return load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": n, "days": days, **(overrides or {})})


def test_a_rival_that_never_acts_changes_nothing():
    base = _hybrid()
    idle = base.with_overrides(
        {"rival.enabled": True, "rival.ads.daily_budget": 0.0, "rival.rate_share_per_day": 0.0}
    )
    off, on = run(base), run(idle)
    pd.testing.assert_frame_equal(off.steps, on.steps[off.steps.columns])
    pd.testing.assert_frame_equal(off.ledger, on.ledger)
    assert (on.steps["n_rival"] == 0).all() and (on.steps["share_of_market"].iloc[1:] == 1.0).all()
    assert "share_of_market" not in off.steps.columns  # the brands' columns come with a rival


def _check_states(model: MarketModel) -> None:
    pop = model.real_population()
    rival = pop.stage == Stage.RIVAL
    assert np.array_equal(rival, pop.rival_stage == Stage.CUSTOMER)  # at most one brand, both agree
    assert pop.stage.max() <= Stage.RIVAL and pop.rival_stage.max() <= Stage.CHURNED
    assert (pop.stage_before_rival[rival] != NEVER).all()


@property_checks
@given(rival_scenarios())
def test_every_person_is_a_customer_of_at_most_one_brand_and_the_flows_add_up(scenario):
    model = MarketModel(scenario)
    _check_states(model)
    for _ in range(scenario.days):
        model.step()
        _check_states(model)
    steps = model.steps_frame()
    stages = [f"n_{stage.name.lower()}" for stage in Stage]
    assert (steps[stages].sum(axis=1) == model.n_real).all()
    run_days = steps.iloc[1:]
    flows = run_days["new_rival"] - run_days["rival_churned"] - run_days["won_from_rival"]
    np.testing.assert_array_equal(steps["n_rival"].diff().iloc[1:], flows)
    assert (run_days["lost_to_rival"] <= run_days["churned"]).all()  # a switch away is a churn for us
    shares = steps["n_customer"] / (steps["n_customer"] + steps["n_rival"])
    np.testing.assert_allclose(steps["share_of_market"], shares.where(shares.notna()), equal_nan=True)


def test_switching_happens_only_at_its_rate_and_both_ways():
    locked = run(_hybrid({**ACTIVE_RIVAL, "rival.rel_switch": 0.0}))
    assert locked.summary["won_from_rival"] == locked.summary["lost_to_rival"] == 0
    open_market = run(_hybrid(ACTIVE_RIVAL))
    assert open_market.summary["won_from_rival"] > 0 and open_market.summary["lost_to_rival"] > 0
    pop = run(_hybrid(ACTIVE_RIVAL), keep_population=True).population
    assert pop is not None
    # Customers lost to the rival ended their spell with us, as a churn does.
    lost = (pop.stage == Stage.RIVAL) & (pop.day_first_acquired != NEVER)
    assert (
        lost.any() and (pop.day_churned[lost] != NEVER).all() and (pop.day_first_churned[lost] != NEVER).all()
    )


def _paired(metric: str, low: dict, high: dict, replications: int = 6) -> tuple[float, float, float]:
    """Mean paired difference of ``metric`` (high − low) over replications, with its 95% interval."""
    diffs = []
    for seed in replication_seeds(11, replications):
        a, b = _hybrid({**ACTIVE_RIVAL, **low}), _hybrid({**ACTIVE_RIVAL, **high})
        world = build_world(a, seed)
        diffs.append(run(b, seed, world=world).summary[metric] - run(a, seed, world=world).summary[metric])
    mean, lo, hi, _ = mean_interval(np.array(diffs))
    return mean, lo, hi


def test_a_rival_welcome_offer_takes_more_of_our_customers():
    mean, low, _high = _paired(
        "lost_to_rival", {"rival.rel_switch_offer": 1.0}, {"rival.rel_switch_offer": 3.0}
    )
    assert low > 0, mean


def test_the_rivals_retention_keeps_its_customers_from_switching_to_us():
    mean, _low, high = _paired("won_from_rival", {"rival.rel_churn": 1.0}, {"rival.rel_churn": 0.2})
    assert high < 0, mean


def test_our_offers_and_tiers_lower_our_customers_switching():
    scenario = _hybrid({**ACTIVE_RIVAL, "rival.rel_switch_offer": 2.0})
    model = MarketModel(scenario)
    model.day = 5
    pop = model.population
    people = np.arange(4)
    pop.stage[people] = Stage.CUSTOMER
    pop.day_offer_ends[1] = 10  # under a retention offer that halves their churn
    pop.rel_churn_offer[1] = 0.5
    pop.day_offer_ends[2] = 4  # an offer that has ended
    pop.rel_churn_offer[2] = 0.5
    pop.rel_churn_loyalty[3] = 0.8  # a loyalty tier that cuts churn by a fifth
    factor = switch_to_rival(model, people)
    base = 0.5 * 2.0  # rel_switch × rel_switch_offer
    np.testing.assert_allclose(factor, [base, base * 0.5, base, base * 0.8])


def test_each_brand_spreads_by_its_own_word_of_mouth():
    quiet = {
        "network.kind": "erdos_renyi",
        "network.n": 3000,
        "network.mean_degree": 10,
        "days": 60,
        "rival.enabled": True,
        "rival.share_initial_customers": 0.02,
        "rival.rel_churn": 0.0,
    }
    silent = run(quiet_scenario({**quiet, "rival.rate_share_per_day": 0.0})).steps
    talking = run(quiet_scenario({**quiet, "rival.rate_share_per_day": 0.5, "rival.p_convert": 0.2})).steps
    assert silent["n_rival"].iloc[-1] == silent["n_rival"].iloc[0] > 0  # no ads, no talk: no growth
    assert talking["n_rival"].iloc[-1] > 2 * talking["n_rival"].iloc[0]
    assert (talking["n_customer"] == 0).all()  # our brand, with nothing switched on, gains nobody


def test_people_who_leave_either_brand_can_adopt_either():
    pop = run(_hybrid({**ACTIVE_RIVAL, "rival.rel_churn": 3.0}, days=240), keep_population=True).population
    assert pop is not None
    real = slice(0, 3000)
    left_rival = pop.rival_stage[real] == Stage.CHURNED
    assert (left_rival & (pop.stage[real] == Stage.CUSTOMER)).any()  # left the rival, now ours
    # Ours, then the rival's, then gone from both (back as churned with us).
    assert (left_rival & (pop.stage[real] == Stage.CHURNED) & (pop.day_first_acquired[real] != NEVER)).any()
    never_ours = left_rival & (pop.day_first_acquired[real] == NEVER)
    assert (pop.stage[real][never_ours] != Stage.CHURNED).all()  # never ours: back where they were


def test_share_of_voice_and_market_share_follow_their_definitions():
    result = run(_hybrid(ACTIVE_RIVAL))
    steps = result.steps.iloc[1:]
    voice = steps["spend_ads"] / (steps["spend_ads"] + steps["spend_rival_ads"])
    np.testing.assert_allclose(steps["share_of_voice"], voice)
    assert result.summary["share_of_voice"] == pytest.approx(
        steps["spend_ads"].sum() / (steps["spend_ads"].sum() + steps["spend_rival_ads"].sum())
    )
    last = result.steps.iloc[-1]
    assert result.summary["market_share"] == pytest.approx(
        last["n_customer"] / (last["n_customer"] + last["n_rival"])
    )
    assert result.summary["rival_customers"] == last["n_rival"]
    # The rival's spend is its own: never in our ledger, never above its budget.
    assert (steps["spend_rival_ads"] <= 20.0 + 1e-9).all() and steps["spend_rival_ads"].sum() > 0
    assert not result.ledger["purpose"].str.contains("rival").any()


def test_seeds_are_never_the_rivals_customers():
    scenario = _hybrid(
        {**ACTIVE_RIVAL, "rival.share_initial_customers": 0.5, "seeding.budget": 2000.0}, days=2
    )
    model = MarketModel(scenario)
    rivals_before = model.population.stage == Stage.RIVAL
    model.step()
    seeded = model.population.role == 3  # Role.SEED
    assert seeded.sum() == 100 and not (seeded & rivals_before).any()


def _libai_market(rival: bool, seeded: bool) -> Scenario:
    """A Bass market (complete graph, p = 0.002, q = 0.05 a day, no churn, shares that never fade);
    with a rival just like us and no switching. Seeding makes 2% of the people customers on day 1."""
    overrides = {
        "days": 365,
        "organic.rate_per_day": 0.002,
        "sharing.rate_share_per_day": 0.1,
        "sharing.p_convert": 0.5,
        "seeding.budget": 40 * 20.0 if seeded else 0.0,
        "seeding.cost_per_seed": 20.0,
    }
    if rival:
        overrides |= {
            "rival.enabled": True,
            "rival.rate_organic_per_day": 0.002,
            "rival.rate_share_per_day": 0.1,
            "rival.p_convert": 0.5,
            "rival.days_share_half_life": None,
            "rival.rel_switch": 0.0,
        }
    return quiet_scenario(overrides).with_overrides({"network": {"kind": "complete", "n": 2000}})


def _seeding_effects(rival: bool, replications: int = 8) -> np.ndarray:
    """Per replication (common random numbers): customers gained at the horizon, customer-days gained,
    and market share gained, by seeding."""
    rows = []
    for seed in replication_seeds(7, replications):
        world = build_world(_libai_market(rival, False), seed)
        without = run(_libai_market(rival, False), seed, world=world).steps
        seeded = run(_libai_market(rival, True), seed, world=world).steps
        share = (seeded["share_of_market"].iloc[-1] - without["share_of_market"].iloc[-1]) if rival else 0.0
        rows.append(
            (
                seeded["n_customer"].iloc[-1] - without["n_customer"].iloc[-1],
                seeded["n_customer"].sum() - without["n_customer"].sum(),
                share,
            )
        )
    return np.array(rows, dtype=float)


def test_seeding_accelerates_a_monopoly_but_expands_share_under_competition():
    """Libai, Muller & Peres (2013): without competition or churn a seeding programme's value is
    acceleration (the same customers, sooner); against a rival it is mostly expansion (customers the
    rival would have taken). Paired on common random numbers; intervals are t-based over replications."""
    seeds = 40
    monopoly = _seeding_effects(rival=False)
    final, low, high, _ = mean_interval(monopoly[:, 0])
    assert (abs(final) <= 0.005 * 2000 and low <= 0 <= high) or final == 0  # everyone adopts either way
    _days, days_low, _, _ = mean_interval(monopoly[:, 1])
    assert days_low > 0  # …but sooner: customer-days gained (acceleration)
    competition = _seeding_effects(rival=True)
    gained, gained_low, _, _ = mean_interval(competition[:, 0])
    _share, share_low, _, _ = mean_interval(competition[:, 2])
    assert share_low > 0  # a larger final market share (expansion)…
    assert gained_low > seeds  # …by more customers than the seeds themselves
    assert gained > 20 * max(abs(final), 1.0)
