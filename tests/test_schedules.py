"""Budgets and demand that change over time: the schedule format, its errors, and spend that follows it.

A number still means a constant; a schedule is a small mapping (periods by day range, weekly and
yearly multipliers). Every budget may be one, and the ledger still holds each budget: spend follows
the schedule day by day and sums to it where the budget binds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import load_scenario, run
from sim.scenario import ScenarioError, Schedule, daily_values, horizon_total, scenario_from_dict
from sim.ui.form import (
    form_sections,
    parse_text,
    schedule_chart,
    schedule_preview,
    schedule_table,
    widget_text,
)
from tests.conftest import SCENARIOS, quiet_scenario
from tests.strategies import property_checks, schedules
from tests.test_budgets import overspend

LAUNCH = {"value": 10.0, "periods": [{"start": 1, "end": 7, "value": 40.0}], "weekly": [1, 1, 1, 1, 1, 0, 0]}


def test_a_schedule_is_periods_then_weekly_then_yearly_multipliers():
    schedule = Schedule.model_validate(
        {
            "value": 10.0,
            "periods": [{"start": 3, "end": 4, "value": 40.0}, {"start": 9, "value": 5.0}],
            "weekly": [1, 1, 1, 1, 1, 0.5, 0],
            "yearly": [{"start": 364, "end": 2, "rel": 3.0}],  # over the new year
        }
    )
    values = schedule.values(12)
    # day:            1      2     3     4     5     6     7    8    9    10    11   12
    expected = [30.0, 30.0, 40.0, 40.0, 10.0, 5.0, 0.0, 10.0, 5.0, 5.0, 5.0, 5.0]
    np.testing.assert_allclose(values[1:], expected)
    assert values[0] == values[1]  # day 0, before the run, reads as day 1
    year_two = schedule.values(366)
    assert year_two[363] == 5.0 * 0.5  # the open period from day 9; weekly[362 % 7 = 5]; no peak
    assert year_two[365] == 5.0 * 1 * 3.0  # day 365 of the year: in the peak (weekly[364 % 7 = 0])
    assert year_two[366] == 5.0 * 1 * 3.0  # day 1 of the next year: the peak again (weekly[1])


def test_a_number_is_a_constant_and_horizon_totals_add_the_days():
    np.testing.assert_array_equal(daily_values(7.5, 4), [7.5] * 5)
    assert horizon_total(7.5, 4) == 30.0
    assert horizon_total(Schedule.model_validate(LAUNCH), 14) == 7 * 40 * 5 / 7 + 10 * 5  # weekdays only


@pytest.mark.parametrize(
    ("value", "path", "fragment"),
    [
        ({"value": -1}, "ads.daily_budget.value", "must be ≥ 0.0"),
        (
            {"periods": [{"start": 5, "end": 2, "value": 1}]},
            "ads.daily_budget.periods.0",
            "end must be ≥ start",
        ),
        (
            {"periods": [{"start": 1, "end": 5, "value": 1}, {"start": 5, "value": 2}]},
            "ads.daily_budget",
            "periods must not overlap",
        ),
        ({"weekly": [1, 1, 1]}, "ads.daily_budget.weekly", "at least 7"),
        ({"weekly": [1, 1, 1, 1, 1, 1, -1]}, "ads.daily_budget.weekly.6", "must be ≥ 0.0"),
        ({"yearly": [{"start": 0, "end": 3, "rel": 2}]}, "ads.daily_budget.yearly.0.start", "must be ≥ 1"),
        (
            {"yearly": [{"start": 1, "end": 10, "rel": 2}, {"start": 5, "end": 6, "rel": 2}]},
            "ads.daily_budget",
            "overlap",
        ),
        ({"valu": 3}, "ads.daily_budget.valu", "unknown key"),
        ("ten", "ads.daily_budget", "must be a number or a schedule"),
        ([1, 2], "ads.daily_budget", "must be a number or a schedule"),
    ],
)
def test_bad_schedules_name_the_field_the_rule_and_the_value(value, path, fragment):
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict({"ads": {"daily_budget": value}})
    problems = [str(problem) for problem in caught.value.problems]
    assert any(p.startswith(path + ":") and fragment in p for p in problems), problems


def test_a_whole_number_field_takes_a_schedule_of_fractions():
    scenario = scenario_from_dict({"field_team": {"n_reps": {"value": 2, "weekly": [1, 1, 1, 1, 1, 0.5, 0]}}})
    assert isinstance(scenario.field_team.n_reps, Schedule)
    with pytest.raises(ScenarioError, match=r"field_team\.n_reps: must be a whole number or a schedule"):
        scenario_from_dict({"field_team": {"n_reps": 1.5}})


def test_a_schedule_round_trips_through_yaml_and_overrides():
    scenario = load_scenario(SCENARIOS / "hybrid.yaml", {"ads.daily_budget": LAUNCH})
    assert isinstance(scenario.ads.daily_budget, Schedule)
    again = scenario.with_overrides({"ads.daily_budget.value": 20.0})
    assert again.ads.daily_budget.value == 20.0 and again.ads.daily_budget.periods[0].value == 40.0
    from sim.scenario import scenario_from_text, scenario_to_yaml

    assert scenario_from_text(scenario_to_yaml(scenario)).model_dump() == scenario.model_dump()


def test_a_constant_schedule_runs_exactly_as_the_number():
    base = load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 1500, "days": 40})
    as_number = run(base)
    as_schedule = run(base.with_overrides({"ads.daily_budget": {"value": base.ads.daily_budget}}))
    pd.testing.assert_frame_equal(as_number.steps, as_schedule.steps)
    pd.testing.assert_frame_equal(as_number.ledger, as_schedule.ledger)


def _market(overrides: dict) -> object:
    """Many prospects, no cap: a budget is spent whenever there is one."""
    return quiet_scenario(
        {
            "network.n": 3000,
            "days": 28,
            "ads.cpm": 10.0,
            "ads.frequency_cap": None,
            "ads.p_aware": 0.0,
            "ads.p_consider": 0.0,
            "ads.p_purchase": 0.0,
            **overrides,
        }
    )


def test_ad_spend_follows_its_schedule_day_by_day_and_never_passes_it():
    scenario = _market({"ads.daily_budget": LAUNCH})
    steps = run(scenario).steps.set_index("day")
    planned = daily_values(scenario.ads.daily_budget, scenario.days)
    spend = steps["spend_ads"].to_numpy()
    assert (spend[1:] <= planned[1:] + 1e-9).all()  # a budget of the day, never passed
    weekend = (np.arange(1, 29) - 1) % 7 >= 5
    assert (spend[1:][weekend] == 0).all()
    # The impressions bought are spread as Poisson counts (their total falls short of the budget by
    # about its standard deviation, never above): spend is within 4 standard deviations of the plan.
    working = ~weekend
    impressions = planned[1:][working] / scenario.ads.cpm * 1000
    tolerance = 4 * np.sqrt(impressions) * scenario.ads.cpm / 1000
    assert (np.abs(spend[1:][working] - planned[1:][working]) <= tolerance).all()
    launch, maintenance = spend[1:8][working[:7]].mean(), spend[8:][working[7:]].mean()
    assert launch / maintenance == pytest.approx(4.0, rel=0.02)
    assert overspend(scenario, run(scenario).ledger) == []


def test_scheduled_retention_and_winback_spend_sum_to_their_budget():
    base = load_scenario(
        SCENARIOS / "retention_uplift.yaml",
        {
            "network.n": 2000,
            "days": 60,
            "population.share_initial_customers": 0.3,
            "winback.cost_per_contact": 1.0,
        },
    )
    offers = {
        "value": 12.0,
        "weekly": [1, 1, 1, 1, 1, 0, 0],
        "periods": [{"start": 20, "end": 29, "value": 0.0}],
    }
    contacts = {"value": 3.0, "periods": [{"start": 1, "end": 10, "value": 9.0}]}
    scenario = base.with_overrides(
        {"retention_offers.daily_budget": offers, "winback.daily_budget": contacts}
    )
    result = run(scenario)
    steps = result.steps.set_index("day")
    offer_plan = daily_values(scenario.retention_offers.daily_budget, scenario.days)
    assert (steps.loc[20:29, "spend_retention"] == 0).all()
    weekend = ((steps.index.to_numpy() - 1) % 7 >= 5) & (steps.index.to_numpy() > 0)
    assert (steps["spend_retention"].to_numpy()[weekend] == 0).all()
    # Offers are whole: the ledger sums to the schedule's total, short by less than one offer.
    cost = scenario.retention_offers.cost_per_offer
    spent = result.ledger.query("channel == 'retention'")["amount"].sum()
    assert offer_plan[1:].sum() - cost < spent <= offer_plan[1:].sum() + 1e-9
    contact_plan = daily_values(scenario.winback.daily_budget, scenario.days)
    contacted = result.ledger.query("channel == 'winback'")["amount"].sum()
    assert contacted <= contact_plan[1:].sum() + 1e-9
    assert overspend(scenario, result.ledger) == []


def test_a_field_team_schedule_sets_reps_on_duty_each_day():
    scenario = quiet_scenario(
        {
            "network.n": 2000,
            "days": 14,
            "field_team.n_reps": {"value": 2, "weekly": [1, 1, 1, 1, 1, 0.5, 0]},
            "field_team.contacts_per_rep_per_day": 10,
            "field_team.salary_per_rep_per_day": 50.0,
            "field_team.p_convert": 0.0,
        }
    )
    steps = run(scenario).steps.set_index("day")
    assert steps.loc[1:5, "field_contacts"].tolist() == [20] * 5
    assert steps.loc[6, "field_contacts"] == 10 and steps.loc[7, "field_contacts"] == 0
    assert steps.loc[1, "spend_field"] == 100.0 and steps.loc[6, "spend_field"] == 50.0
    assert steps.loc[7, "spend_field"] == 0.0


def test_a_scheduled_referral_budget_releases_money_day_by_day():
    base = load_scenario(SCENARIOS / "ripple_heavy.yaml", {"network.n": 3000, "days": 90})
    # Nothing for a month, then half of one reward (10) a day: 30 in all by day 90, well under what the
    # programme pays without a schedule (a schedule that never binds could not show it holds back).
    release = {"value": 0.5, "periods": [{"start": 1, "end": 30, "value": 0.0}]}
    scenario = base.with_overrides({"incentives.budget": release})
    steps = run(scenario).steps.set_index("day")
    released = np.cumsum(daily_values(scenario.incentives.budget, scenario.days)[1:])
    spent = steps["programme_spend_cumulative"].to_numpy()[1:]
    assert (spent <= released + 1e-9).all()
    assert spent[29] == 0 and spent[-1] > 0
    np.testing.assert_allclose(steps["programme_plan_cumulative"].to_numpy()[1:], released)
    assert run(base).summary["rewards_paid"] > spent[-1]  # the schedule held the programme back


def test_demand_seasonality_raises_orders_on_its_days_only():
    base = load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 2000, "days": 40, "seed": 4})
    peak = {"value": 1.0, "yearly": [{"start": 21, "end": 30, "rel": 3.0}]}
    flat, seasonal = run(base).steps, run(base.with_overrides({"customers.rel_demand": peak})).steps
    before = slice(0, 21)  # days 0-20: the same random numbers, the same demand, the same orders
    pd.testing.assert_frame_equal(flat.iloc[before], seasonal.iloc[before])
    assert seasonal.loc[21, "orders"] >= flat.loc[21, "orders"]  # more orders from the same uniforms
    assert seasonal.loc[21:30, "orders"].sum() > 2 * flat.loc[21:30, "orders"].sum()


@st.composite
def scheduled_budgets(draw):
    scenario = load_scenario(
        SCENARIOS / "retention_uplift.yaml",
        {
            "network.n": 800,
            "days": 30,
            "population.share_initial_customers": 0.2,
            "winback.cost_per_contact": 1.0,
        },
    )
    return scenario.with_overrides(
        {
            "ads.daily_budget": draw(schedules(top=20.0)),
            "retention_offers.daily_budget": draw(schedules(top=20.0)),
            "winback.daily_budget": draw(schedules(top=10.0)),
            "incentives.enabled": True,
            "incentives.amount_referrer": 5.0,
            "incentives.budget": draw(schedules(top=10.0)),
            "field_team.n_reps": draw(schedules(top=3.0)),
            "field_team.salary_per_rep_per_day": 10.0,
        }
    )


@property_checks
@given(scheduled_budgets())
def test_no_scheduled_budget_is_ever_exceeded(scenario):
    assert overspend(scenario, run(scenario).ledger) == []


def test_the_editor_shows_a_schedule_as_a_table_and_a_chart():
    data = load_scenario(SCENARIOS / "hybrid.yaml", {"ads.daily_budget": LAUNCH}).model_dump(mode="json")
    field = next(f for s in form_sections(data) for f in s.fields if f.path == "ads.daily_budget")
    assert field.kind == "schedule" and field.low == 0.0
    text = widget_text(field, data["ads"]["daily_budget"])
    parsed = parse_text(field, text)
    assert parsed == data["ads"]["daily_budget"]  # the text box gives the schedule back
    table = schedule_table(parsed, "USD/day")
    assert table["part"].tolist() == ["otherwise", "period", *["weekly"] * 7]
    assert table.loc[0, "days"] == "all other days"  # not "every other day" (alternate days)
    assert table.loc[1, "days"] == "days 1–7" and table.loc[1, "value (USD/day)"] == "40"
    # Every cell is words or a number as text: a row's missing part is "–", never None or nan.
    cells = table.to_numpy().ravel().tolist()
    assert all(isinstance(c, str) and c and c.lower() not in ("none", "nan") for c in cells)
    assert table.loc[2, "value (USD/day)"] == "–" and table.loc[2, "multiplier"] == "1"
    chart = schedule_preview(parsed, 14)
    assert chart["day"].tolist() == list(range(1, 15))
    spec = schedule_chart(chart, 14, "Daily budget (USD/day)")  # the axes say what and how far
    assert (
        spec["encoding"]["x"]["scale"]["domain"] == [1, 14]
        and spec["encoding"]["x"]["scale"]["nice"] is False
    )
    assert spec["encoding"]["y"]["title"] == "Daily budget (USD/day)"
    np.testing.assert_allclose(chart["value"], daily_values(Schedule.model_validate(LAUNCH), 14)[1:])
    assert schedule_table(12.0).empty and schedule_preview(12.0, 3)["value"].tolist() == [12.0] * 3
    assert parse_text(field, "12") == 12 and schedule_preview("junk", 3).empty


def test_a_schedule_budget_is_its_own_pace():
    with pytest.raises(ScenarioError, match="a schedule budget is the pace itself"):
        scenario_from_dict({"incentives": {"budget": {"value": 5.0}, "pacing_tolerance": 0.1}})
