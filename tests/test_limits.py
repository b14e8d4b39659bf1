"""Every value the schema accepts runs: no overflow, no infinite books, no wrapped counter.

The schema's bounds come from what the engine can represent (see ``sim.scenario.section``). These
tests push every numeric field of every section to its bounds, alone and all together, with every
rule switched on, and run a few days: the run must finish with finite books and counts.
"""

from __future__ import annotations

import copy
import typing
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim import run
from sim.scenario import Scenario, ScenarioError, TierSpec, scenario_from_dict
from sim.scenario.channels import channels_as_section
from sim.scenario.schedule import schedule_bounds
from sim.scenario.section import number_bounds
from sim.sweep.paths import leaf_paths
from sim.world.population import Population, Stage, add_counts

ROOT = Path(__file__).resolve().parents[1]


@cache
def _all_rules() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "benchmarks" / "all_rules.yaml").read_text())
    # Paid channels written as a list are the section form for dotted paths (ads.daily_budget).
    data["ads"] = channels_as_section(data["ads"])
    data["network"]["n"] = 150
    data["days"] = 4
    data["fraud"]["n_attackers"] = 3
    return data


def _bounds(info: Any) -> tuple[float | None, float | None, bool]:
    limits = number_bounds(info)
    return limits.low, limits.high, limits.low_open


def _numeric_fields(model: type[BaseModel]) -> list[tuple[str, type, float | None, float | None, bool]]:
    fields = []
    for name, info in model.model_fields.items():
        schedule = schedule_bounds(info)
        if schedule is not None:  # a number or a schedule: its number's bounds
            fields.append((name, int if schedule.integer else float, schedule.ge, schedule.le, False))
            continue
        args = set(typing.get_args(info.annotation)) | {info.annotation}
        if bool in args:
            continue
        if float in args or int in args:
            kind = int if int in args and float not in args else float
            fields.append((name, kind, *_bounds(info)))
    return fields


#: (dotted path, type, low, high, low is open) of every numeric field outside ``network``; the
#: loyalty tiers by index (tier 0 is the base tier, its threshold fixed at 0).
FIELDS: list[tuple[str, type, float | None, float | None, bool]] = [
    (f"{section}.{name}", kind, low, high, low_open)
    for section, info in Scenario.model_fields.items()
    if section != "network" and isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
    for name, kind, low, high, low_open in _numeric_fields(info.annotation)
] + [
    (f"loyalty.tiers.{tier}.{name}", kind, low, high, low_open)
    for tier in (1, 2)
    for name, kind, low, high, low_open in _numeric_fields(TierSpec)
]


def _value(kind: type, low: float | None, high: float | None, low_open: bool, which: str) -> Any:
    if which == "max":
        value = high
    else:
        value = low
        if low_open and low is not None:
            value = float(np.nextafter(low, np.inf)) if kind is float else int(low) + 1
    if value is None:
        return None
    return int(value) if kind is int else float(value)


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _extreme(choices: dict[str, str]) -> dict[str, Any]:
    """The all-rules scenario with each field at the bound chosen for it, kept only where the whole
    scenario stays valid (cross-field rules, such as budget / price, decide what can go together)."""
    data = _all_rules()
    for path, kind, low, high, low_open in FIELDS:
        which = choices.get(path)
        if which is None:
            continue
        value = _value(kind, low, high, low_open, which)
        if value is None:
            continue
        trial = _set(data, path, value)
        try:
            scenario_from_dict(trial)
        except ScenarioError:
            continue
        data = trial
    return data


def _runs_with_finite_books(data: dict[str, Any]) -> None:
    scenario = scenario_from_dict(data)
    result = run(scenario, keep_population=True)
    amounts = result.ledger["amount"].to_numpy(dtype=float)
    assert np.isfinite(amounts).all() and (amounts >= 0).all()
    steps = result.steps.select_dtypes("number")
    # Shares against the rival are NaN on a day with nothing to share (no customers, no ad spend).
    shares = steps[[c for c in ("share_of_market", "share_of_voice") if c in steps]].to_numpy(dtype=float)
    assert (np.isnan(shares) | ((shares >= 0) & (shares <= 1))).all()
    numbers = steps.drop(columns=["share_of_market", "share_of_voice"], errors="ignore").to_numpy(dtype=float)
    assert np.isfinite(numbers).all()
    population = result.population
    assert population is not None
    for name in ("n_orders", "n_good_experiences", "n_bad_experiences", "n_acquisitions", "n_ad_exposures"):
        assert (population.column(name) >= 0).all(), name  # no counter wrapped around
    for name in ("revenue", "points", "points_earned", "reward_paid"):
        column = population.column(name)
        assert np.isfinite(column).all() and (column >= 0).all(), name


def test_the_field_list_covers_every_money_count_and_rate():
    paths = {path for path, *_ in FIELDS}
    for expected in (
        "ads.daily_budget",
        "ads.frequency_cap",
        "population.order_value_mean",
        "incentives.amount_referrer",
        "loyalty.endowed_points",
        "loyalty.tiers.2.threshold",
    ):
        assert expected in paths
    unbounded = [path for path, _kind, _low, high, _open in FIELDS if high is None]
    assert unbounded == [], f"every numeric field needs an upper bound the engine can represent: {unbounded}"


@pytest.mark.parametrize("which", ["max", "min"])
def test_every_field_at_its_bound_together_runs_with_finite_books(which):
    data = _extreme({path: which for path, *_ in FIELDS})
    before, after = leaf_paths(_all_rules()), leaf_paths(data)
    at_bound = [path for path in after if before.get(path) != after[path]]
    assert len(at_bound) > 100  # of 125: the rest cannot go together (budget / price, shares, …)
    _runs_with_finite_books(data)


@pytest.mark.parametrize(
    "case",
    [
        {"ads.daily_budget": 1e308},
        {"population.order_value_mean": 1e306},
        {"incentives.amount_referrer": 1e308},
        {"loyalty.endowed_points": 1e308},
    ],
)
def test_the_values_that_used_to_crash_at_run_time_are_refused_with_their_bound(case):
    """These validated and then died with OverflowError or 'LedgerError … inf' on day one."""
    ((path, value),) = case.items()
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(_set(_all_rules(), path, value))
    (problem,) = exc.value.problems
    assert problem.path == path and problem.allowed.startswith("must be ≤ 1e+")


@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.fixed_dictionaries({path: st.sampled_from(["max", "min", "keep"]) for path, *_ in FIELDS}))
def test_any_mix_of_bounds_runs_with_finite_books(choices):
    _runs_with_finite_books(_extreme({p: w for p, w in choices.items() if w != "keep"}))


def test_a_frequency_cap_past_the_int32_range_now_runs():
    """2,147,483,648 overflowed the int32 window counter; the counter is int64 and the cap bounded."""
    data = _set(_set(_all_rules(), "ads.frequency_cap", 2147483648), "ads.daily_budget", 1e6)
    _runs_with_finite_books(data)
    with pytest.raises(ScenarioError, match=r"ads\.frequency_cap: must be ≤ 1e\+12"):
        scenario_from_dict(_set(_all_rules(), "ads.frequency_cap", 2**70))


def test_count_columns_stop_at_their_largest_value_instead_of_wrapping():
    population = Population(3)
    people = np.array([0, 2])
    population.n_good_experiences[:] = 32_000
    add_counts(population.n_good_experiences, people, np.array([5_000, 1]))
    assert population.n_good_experiences.tolist() == [32_767, 32_000, 32_001]
    add_counts(population.n_orders, people, 2**40)
    assert population.n_orders.tolist() == [2**31 - 1, 0, 2**31 - 1]
    assert population.stage.tolist() == [Stage.UNAWARE] * 3


@pytest.mark.parametrize("block", [0.7, 3.3, 500.0])
def test_redeeming_a_huge_balance_never_leaves_it_negative(block):
    """Whole blocks of a balance near the points bound are redeemed exactly (found by the mix above).

    ``points − floor(points / block) × block`` goes below zero for about 1 balance in 30 near 1e15
    when the block is not a power of two times an integer; the balance must stay in [0, block).
    """
    data = _all_rules()
    data = _set(data, "loyalty.membership", "open")
    data = _set(data, "loyalty.endowed_points", 1e15 - 12_345.678)
    data = _set(data, "loyalty.points_per_currency", 0.37)
    data = _set(data, "loyalty.redemption_points", block)
    result = run(scenario_from_dict(data), keep_population=True)
    assert result.population is not None
    points = result.population.column("points")
    assert (points >= 0).all() and (points < block).all()
    assert result.population.column("points_redeemed").max() > 0
