"""Every budget in a scenario holds: the money flows it governs never exceed it.

Rules declare the budget fields they spend against (``Rule.budgets``: the ledger lines each governs,
per day or over the run). These tests check the whole kind at once: every budget field of the schema
is declared by a rule, a rule posts no spend outside the lines its budget governs, and over random
scenarios (and the presets) the governed lines stay within every budget.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import load_scenario, run
from sim.rules import REGISTRY
from sim.scenario import Scenario, apply_overrides, daily_values, scenario_from_dict
from sim.sweep.paths import leaf_paths
from tests.conftest import SCENARIOS, make_scenario
from tests.strategies import programme_scenarios, property_checks
from tests.test_rule_contract import BUSY, run_rule_days

BUDGETS = {path: budget for rule in REGISTRY for path, budget in rule.budgets.items()}


def value_at(scenario: Scenario, path: str) -> Any:
    value: Any = scenario
    for key in path.split("."):
        value = value[int(key)] if isinstance(value, list) else getattr(value, key)
    return value


def scenario_budgets(scenario: Scenario) -> dict[str, Any]:
    """Every budget of ``scenario`` (one per ad channel too), by field path, with the lines it governs."""
    return {path: budget for rule in REGISTRY for path, budget in rule.budgets_for(scenario).items()}


def overspend(scenario: Scenario, ledger: pd.DataFrame) -> list[str]:
    """Budgets whose governed ledger lines exceed them, as readable lines (empty when all hold).

    A budget may be a schedule: a daily budget is then checked day by day against its value that day
    (``accrued``: spend to day t against the sum of the values to day t), a horizon budget against the
    money released to each day (and so its sum over the horizon).
    """
    problems = []
    for path, budget in scenario_budgets(scenario).items():
        limit = value_at(scenario, path)
        if limit is None:
            continue
        per_day = daily_values(limit, scenario.days)
        lines = ledger[
            (ledger["flow"] == "spend")
            & (ledger["channel"] == budget.channel)
            & ledger["purpose"].isin(budget.purposes)
        ]
        by_day = lines.groupby("day")["amount"].sum().reindex(range(1, scenario.days + 1), fill_value=0.0)
        released = per_day[1:].cumsum()
        if budget.per == "day":
            excess = by_day - per_day[1:]
        elif budget.per == "accrued" or not isinstance(limit, (int, float)):
            # unspent budget carries over: spend to day t ≤ the budget released to day t
            excess = by_day.cumsum() - released
        else:
            excess = pd.Series([by_day.sum() - limit])
        worst = float(excess.max()) if len(excess) else 0.0
        if worst > 1e-6:
            problems.append(f"{path} = {limit} but spend went {worst} over it ({budget.per})")
    return problems


def test_every_budget_field_of_the_schema_is_governed_by_a_rule():
    leaves = leaf_paths(Scenario().model_dump(mode="json"))
    # The rival's budgets are its own money: its spend is in the step table, never in our ledger.
    budget_fields = {
        path
        for path in leaves
        if path.rsplit(".", 1)[-1].endswith("budget") and not path.startswith("rival.")
    }
    assert budget_fields == set(BUDGETS)


@pytest.mark.parametrize("rule_class", [r for r in REGISTRY if r.budgets], ids=lambda r: r.name)
def test_a_rule_with_a_budget_spends_only_in_the_lines_its_budget_governs(rule_class):
    scenario = make_scenario({**BUSY, "incentives.days_holding": 0, "incentives.budget": 1e9})
    model_lines = run_rule_days(scenario, rule_class, days=10)[3]
    assert model_lines, f"{rule_class.name} spent nothing in a busy market"
    governed = {
        (b.channel, purpose) for b in rule_class.budgets_for(scenario).values() for purpose in b.purposes
    }
    spent = {(channel, purpose) for (_day, channel, purpose, flow, _amount) in model_lines if flow == "spend"}
    assert spent <= governed, f"{rule_class.name} spends outside its budget: {spent - governed}"


def test_a_referral_budget_caps_the_employee_rewards_too():
    # The bank pays employees per referral; a budget of 20 holds for them as for everyone.
    for budget in (20.0, 200.0):  # 20 buys no reward (one costs 30), 200 buys six
        scenario = load_scenario(
            SCENARIOS / "employee_referrals_bank.yaml",
            {"network.n": 3000, "days": 120, "incentives.budget": budget},
        )
        result = run(scenario)
        assert overspend(scenario, result.ledger) == []
        assert result.summary["employee_rewards_paid"] <= budget
        assert result.summary["budget_used"] <= 1.0
    assert result.summary["employee_rewards_paid"] == pytest.approx(180.0)


@st.composite
def budgeted_scenarios(draw: st.DrawFn) -> Scenario:
    """A programme with employees, fraud and defences, plus every other budgeted lever, small budgets."""
    base = draw(programme_scenarios())
    n = base.network.n
    budget = st.floats(0.0, 60.0, allow_nan=False)
    overrides = {
        "roles.n_employees": draw(st.integers(0, n // 4)),
        "roles.employee_rate_share_per_day": draw(st.floats(0.0, 1.0)),
        "incentives.amount_employee": draw(st.floats(0.0, 40.0)),
        "incentives.budget": draw(budget),
        "incentives.pacing_tolerance": None,
        "ads.daily_budget": draw(st.floats(0.0, 10.0)),
        "seeding.budget": draw(budget),
        "retention_offers.daily_budget": draw(st.floats(0.0, 10.0)),
        "winback.daily_budget": draw(st.floats(0.0, 10.0)),
    }
    return scenario_from_dict(apply_overrides(base.model_dump(mode="json"), overrides))


@property_checks
@given(budgeted_scenarios())
def test_no_budget_is_ever_exceeded(scenario):
    assert overspend(scenario, run(scenario).ledger) == []


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_presets_stay_within_their_budgets_even_when_they_are_small(path):
    scenario = load_scenario(path, {"days": 90})
    if scenario.network.kind != "edge_list":  # a graph file brings its own people
        scenario = scenario.with_overrides({"network.n": 1500})
    tight = {p: 5.0 for p in scenario_budgets(scenario) if value_at(scenario, p) not in (None, 0.0)}
    scenario = scenario.with_overrides(tight)
    assert overspend(scenario, run(scenario).ledger) == []
