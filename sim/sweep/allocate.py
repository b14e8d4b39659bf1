"""Sharing a total budget out among budget fields: the allocation ``ripple optimise`` searches.

An experiment's ``allocate:`` names a total (currency over the horizon) and the budget fields that
share it, e.g. each ad channel's ``daily_budget`` and the referral programme's ``budget``. A trial
suggests one weight in [0, 1] per field (``share:<path>``); the shares are the weights over their sum
(equal shares when every weight is 0), and :func:`allocation_point` turns them into the fields'
values: a daily budget gets ``share × total / days`` a day (a schedule is scaled so its sum over the
horizon is ``share × total``, keeping its shape), a horizon budget ``share × total``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from sim.scenario import Scenario
from sim.scenario.schedule import Schedule, horizon_total, scale_schedule

__all__ = [
    "SHARE_PREFIX",
    "allocation_point",
    "base_weights",
    "budget_value",
    "is_daily",
    "shares_of",
    "split_params",
]

#: Prefix of a trial's allocation weights (``share:ads.daily_budget``).
SHARE_PREFIX = "share:"


def is_daily(path: str) -> bool:
    """Whether a budget field is a daily budget (currency per day) rather than one over the horizon."""
    return path.rsplit(".", 1)[-1] == "daily_budget"


def budget_value(scenario: Scenario, path: str) -> Any:
    """The value at a budget field's dotted path (list items by index); raises KeyError if there is none."""
    value: Any = scenario
    for part in path.split("."):
        if isinstance(value, list):
            if not part.isdigit() or int(part) >= len(value):
                raise KeyError(path)
            value = value[int(part)]
        elif isinstance(value, BaseModel) and part in type(value).model_fields:
            value = getattr(value, part)
        else:
            raise KeyError(path)
    return value


def shares_of(weights: Sequence[float]) -> list[float]:
    """Weights as shares summing to 1 (equal shares when they are all 0)."""
    total = float(sum(weights))
    if total <= 0:
        return [1.0 / len(weights)] * len(weights)
    return [float(w) / total for w in weights]


def allocation_point(
    base: Scenario, budgets: Sequence[str], total: float, weights: Sequence[float]
) -> dict[str, Any]:
    """The budget fields' values (plain data, by dotted path) that share ``total`` by ``weights``."""
    point: dict[str, Any] = {}
    for path, share in zip(budgets, shares_of(weights), strict=True):
        amount = share * total
        if not is_daily(path):
            point[path] = amount
            continue
        current = budget_value(base, path)
        if isinstance(current, Schedule) and horizon_total(current, base.days) > 0:
            scaled = scale_schedule(current, amount / horizon_total(current, base.days))
            assert isinstance(scaled, Schedule)
            point[path] = scaled.model_dump(mode="json")
        else:
            point[path] = amount / base.days
    return point


def base_weights(base: Scenario, budgets: Sequence[str]) -> list[float] | None:
    """The base scenario's own split as weights (each field's amount over the horizon ÷ the largest).

    None when a field is unlimited (a horizon budget of none) or nothing is spent.
    """
    amounts = []
    for path in budgets:
        value = budget_value(base, path)
        if value is None:
            return None
        amounts.append(horizon_total(value, base.days) if is_daily(path) else float(value))
    largest = max(amounts)
    if largest <= 0:
        return None
    return [amount / largest for amount in amounts]


def split_params(params: Mapping[str, Any], budgets: Sequence[str]) -> tuple[dict[str, Any], list[float]]:
    """A trial's parameters as (factor values by path, the allocation's weights in ``budgets`` order)."""
    factors = {k: v for k, v in params.items() if not k.startswith(SHARE_PREFIX)}
    weights = [float(params[SHARE_PREFIX + path]) for path in budgets]
    return factors, weights
