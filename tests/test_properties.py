"""Invariants over random scenarios (hypothesis): people are conserved, money adds up."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from sim import run
from sim.world.population import Stage
from tests.strategies import property_checks, scenarios

STAGE_COLUMNS = [f"n_{stage.name.lower()}" for stage in Stage]


@property_checks
@given(scenarios())
def test_every_person_is_in_exactly_one_stage_every_day(scenario):
    result = run(scenario, keep_population=True)
    steps = result.steps
    assert (steps[STAGE_COLUMNS].sum(axis=1) == scenario.network.n).all()
    assert (steps[STAGE_COLUMNS] >= 0).all().all()
    # Active customers move only by acquisitions and churn.
    acquired = steps.filter(regex=r"^(new|won_back)_").sum(axis=1)
    flow = acquired - steps["churned"]
    np.testing.assert_array_equal(steps["n_customer"].diff().iloc[1:], flow.iloc[1:])
    population = result.population
    assert population is not None
    assert set(np.unique(population.stage)) <= {int(s) for s in Stage}
    # Someone who was ever a customer has a first acquisition day; nobody else does.
    ever = population.n_acquisitions > 0
    assert np.array_equal(ever, population.day_first_acquired >= 0)


@property_checks
@given(scenarios())
def test_money_spent_equals_the_ledger_and_never_exceeds_the_budget(scenario):
    result = run(scenario)
    ledger, steps = result.ledger, result.steps
    assert (ledger["amount"] >= 0).all()
    spent = ledger[ledger["flow"] == "spend"]
    by_day_ads = spent[spent["channel"] == "ads"].groupby("day")["amount"].sum()
    assert (by_day_ads <= scenario.ads.daily_budget + 1e-9).all()
    assert np.isclose(steps["spend_ads"].sum(), by_day_ads.sum())
    marketing = spent[spent["channel"].isin(["ads", "sharing"])]["amount"].sum()
    assert np.isclose(result.summary["marketing_spend"], marketing)
    assert np.isclose(steps["marketing_spend"].sum(), marketing)
    revenue = ledger[(ledger["flow"] == "earn") & (ledger["channel"] == "sales")]["amount"].sum()
    assert np.isclose(result.summary["revenue"], revenue)
    # Without a referral programme word of mouth costs nothing.
    assert steps["spend_sharing"].sum() == 0.0
    # Impressions are charged at the CPM.
    assert np.isclose(steps["spend_ads"].sum(), steps["impressions"].sum() * scenario.ads.cpm / 1000)
