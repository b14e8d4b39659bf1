"""Values that change over time: budgets with a launch burst and seasonality, demand with a holiday peak.

A budget (or the demand multiplier) is written either as a number, which means a constant, or as a
small mapping, a :class:`Schedule`::

    daily_budget:
      value: 100                            # every day outside a period (maintenance)
      periods:
        - {start: 1, end: 14, value: 400}   # a launch burst on days 1-14
      weekly: [1, 1, 1, 1, 1.2, 1.5, 1.3]   # × by day of the week; day 1 of the run is the first
      yearly:
        - {start: 330, end: 358, rel: 2.0}  # × on these days of every year (a holiday peak)

On day t (t = 1 is the first simulated day) the value is ``base(t) × weekly[(t − 1) mod 7] ×
yearly(t)``: ``base(t)`` is the value of the period holding t (else ``value``), and ``yearly(t)`` the
``rel`` of the yearly range holding day ``((t − 1) mod 365) + 1`` of the year (else 1). Periods may
not overlap, nor may yearly ranges; a yearly range with ``start > end`` runs over the new year.

Fields that accept a schedule are declared with :func:`schedulable`; rules turn them into one value
per day with :func:`daily_values` once, when a run starts.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

import numpy as np
from pydantic import Discriminator, Field, Tag, model_validator
from pydantic.fields import FieldInfo

from sim.scenario.section import MAX_MONEY, Section, format_number

__all__ = [
    "SCHEDULE_TAGS",
    "Schedule",
    "ScheduleBounds",
    "SchedulePeriod",
    "SeasonalRange",
    "daily_values",
    "horizon_total",
    "is_schedule",
    "peak_value",
    "scale_schedule",
    "schedulable",
    "schedule_bounds",
]

#: Days in the model's year (yearly ranges repeat every this many days).
DAYS_PER_YEAR = 365
#: The tags a schedulable field puts in a validation error's location; error messages drop them.
SCHEDULE_TAGS: frozenset[str] = frozenset({"a number", "a schedule"})


class SchedulePeriod(Section):
    """A range of days with its own value: a launch burst, a maintenance level, a pause."""

    start: int = Field(
        ..., ge=1, le=36_500, description="First day of the period (day 1 = the first simulated day)."
    )
    end: int | None = Field(
        None, ge=1, le=36_500, description="Last day of the period, inclusive; none = to the horizon."
    )
    value: float = Field(
        ..., ge=0.0, le=MAX_MONEY, description="The value on these days, in the field's own unit."
    )

    @model_validator(mode="after")
    def _ordered(self) -> SchedulePeriod:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end must be ≥ start; got start = {self.start}, end = {self.end}")
        return self


class SeasonalRange(Section):
    """A multiplier on a range of days of every year: a holiday peak, a summer lull."""

    start: int = Field(..., ge=1, le=DAYS_PER_YEAR, description="First day of the year of the range (1-365).")
    end: int = Field(
        ...,
        ge=1,
        le=DAYS_PER_YEAR,
        description="Last day of the year of the range, inclusive (start > end runs over the new year).",
    )
    rel: float = Field(..., ge=0.0, le=1000.0, description="Multiplier on these days (1 = no change).")

    def days(self) -> np.ndarray:
        """The range's days of the year (1-based)."""
        if self.start <= self.end:
            return np.arange(self.start, self.end + 1)
        return np.concatenate([np.arange(self.start, DAYS_PER_YEAR + 1), np.arange(1, self.end + 1)])


Multiplier = Annotated[float, Field(ge=0.0, le=1000.0)]


class Schedule(Section):
    """A value that changes over time: periods by day range, then weekly and yearly multipliers.

    On day t the value is ``base(t) × weekly[(t − 1) mod 7] × yearly(t)``: ``base(t)`` is the value
    of the period holding t (else ``value``); ``yearly(t)`` is the ``rel`` of the yearly range holding
    day ``((t − 1) mod 365) + 1`` of the year (else 1).
    """

    value: float = Field(
        0.0,
        ge=0.0,
        le=MAX_MONEY,
        description="The value on days outside every period, in the field's own unit.",
    )
    periods: list[SchedulePeriod] = Field(
        default_factory=list, description="Day ranges with their own value (they may not overlap)."
    )
    weekly: list[Multiplier] | None = Field(
        None,
        min_length=7,
        max_length=7,
        description="Seven multipliers, one per day of the week, day 1 of the run first; none = 1.",
    )
    yearly: list[SeasonalRange] = Field(
        default_factory=list,
        description="Ranges of days of the year with a multiplier (they may not overlap).",
    )

    @model_validator(mode="after")
    def _no_overlaps(self) -> Schedule:
        spans = sorted(
            (p.start, p.end if p.end is not None else 10**9, index) for index, p in enumerate(self.periods)
        )
        for (_s0, e0, i0), (s1, _e1, i1) in itertools.pairwise(spans):
            if s1 <= e0:
                raise ValueError(f"periods must not overlap; periods {i0} and {i1} share day {s1}")
        seen = np.zeros(DAYS_PER_YEAR + 1, dtype=bool)
        for index, peak in enumerate(self.yearly):
            days = peak.days()
            if seen[days].any():
                raise ValueError(
                    f"yearly ranges must not overlap; range {index} repeats day {days[seen[days]][0]}"
                )
            seen[days] = True
        return self

    def values(self, days: int) -> np.ndarray:
        """The value on days 0..``days`` (float64, length days + 1; day 0, before the run, is day 1's)."""
        t = np.arange(days + 1)
        t[0] = 1
        base = np.full(days + 1, self.value, dtype=np.float64)
        for period in self.periods:
            end = days if period.end is None else min(period.end, days)
            if period.start <= end:
                base[period.start : end + 1] = period.value
        base[0] = base[1] if days >= 1 else self.value
        if self.weekly is not None:
            base *= np.asarray(self.weekly, dtype=np.float64)[(t - 1) % 7]
        if self.yearly:
            rel = np.ones(DAYS_PER_YEAR + 1)
            for peak in self.yearly:
                rel[peak.days()] = peak.rel
            base *= rel[(t - 1) % DAYS_PER_YEAR + 1]
        return base


def _kind(value: Any) -> str:
    return "a schedule" if isinstance(value, (Mapping, Schedule)) else "a number"


@dataclass(frozen=True)
class ScheduleBounds:
    """Marks a field that takes a number or a :class:`Schedule`, with the number's bounds.

    The docs (``docs/scenarios.md``) and the app's editor read it to say what the field allows.
    """

    ge: float | None = None
    le: float | None = None
    integer: bool = False

    def number_text(self) -> str:
        """The number's allowed range as text (``≥ 0.0``, ``[0.0, 100.0]``)."""
        if self.ge is not None and self.le is not None:
            return f"[{format_number(self.ge)}, {format_number(self.le)}]"
        if self.ge is not None:
            return f"≥ {format_number(self.ge)}"
        return "a number"

    def text(self) -> str:
        """The allowed values as text: the number's range, or a schedule."""
        return f"{self.number_text()}, or a schedule"


def schedulable(*, ge: float | None = 0.0, le: float | None = None, integer: bool = False) -> Any:
    """The type of a field that is a number (a constant) or a :class:`Schedule`.

    Args:
        ge: lower bound of the number (a schedule's values are ≥ 0).
        le: upper bound of the number.
        integer: the number is a whole number (a schedule may still give fractions).

    Validation errors name the field (the union's tags are dropped from their path).
    """
    number: Any = int if integer else float
    constrained = Annotated[number, Field(ge=ge, le=le)]
    return Annotated[
        Annotated[constrained, Tag("a number")] | Annotated[Schedule, Tag("a schedule")],
        Discriminator(_kind),
        ScheduleBounds(ge=ge, le=le, integer=integer),
    ]


def schedule_bounds(info: FieldInfo) -> ScheduleBounds | None:
    """The :class:`ScheduleBounds` of a field declared with :func:`schedulable` (optional or not), or None."""
    found = next((m for m in info.metadata if isinstance(m, ScheduleBounds)), None)
    if found is not None:
        return found
    for arg in get_args(info.annotation):  # ``schedulable(...) | None``
        if get_origin(arg) is Annotated:
            found = next((m for m in arg.__metadata__ if isinstance(m, ScheduleBounds)), None)
            if found is not None:
                return found
    return None


def peak_value(value: float | Schedule) -> float:
    """The largest value a schedulable field takes on any day (a number is its own peak).

    An upper bound for a schedule: the largest of its values times its largest weekly and yearly
    multipliers.
    """
    if not isinstance(value, Schedule):
        return float(value)
    base = max([value.value, *(period.value for period in value.periods)])
    weekly = max(value.weekly) if value.weekly is not None else 1.0
    yearly = max([1.0, *(season.rel for season in value.yearly)])
    return float(base * weekly * yearly)


def is_schedule(value: Any) -> bool:
    """Whether ``value`` is a schedule (a :class:`Schedule` or its plain mapping)."""
    return isinstance(value, (Schedule, Mapping))


def daily_values(value: float | Schedule, days: int) -> np.ndarray:
    """The value of a schedulable field on days 0..``days`` (float64, length ``days + 1``).

    A number gives a constant array; a :class:`Schedule` its values (see :meth:`Schedule.values`).
    """
    if isinstance(value, Schedule):
        return value.values(days)
    return np.full(days + 1, float(value), dtype=np.float64)


def horizon_total(value: float | Schedule, days: int) -> float:
    """The sum of a schedulable amount over days 1..``days`` (currency when the field is money per day)."""
    return float(daily_values(value, days)[1:].sum())


def scale_schedule(value: float | Schedule, factor: float) -> float | Schedule:
    """A copy of ``value`` with every amount × ``factor``; a schedule keeps its shape (its multipliers)."""
    if not isinstance(value, Schedule):
        return float(value) * factor
    periods = [p.model_copy(update={"value": p.value * factor}) for p in value.periods]
    return value.model_copy(update={"value": value.value * factor, "periods": periods})
