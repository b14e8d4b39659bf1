"""Building blocks of every scenario section: the base class, value types and the engine's limits.

Each module of this package defines its sections on :class:`Section`, and
:class:`sim.scenario.Scenario` adds one field per section.

Values are checked strictly: a number field takes a number (a whole number is fine where a decimal
is expected), never ``true`` or a quoted ``"0.5"``; a whole-number field takes a whole number. A
switch (:data:`Switch`) takes ``true``/``false`` or the words ``yes``/``no``/``on``/``off``. Where a
field may be left unset, the word ``none`` (or ``null``) unsets it, in a file and on the command line
alike.

The upper bounds below are what the engine can represent, not what is realistic (each field's
description says that): every amount is a float64 and the ledger sums amounts over up to
20,000,000 people × 36,500 days, so no amount, count or rate may be so large that a total becomes
infinite or a count overflows its integer column.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo

__all__ = [
    "MAX_COUNT",
    "MAX_DAYS",
    "MAX_MONEY",
    "MAX_PEOPLE",
    "MAX_POINTS",
    "MAX_UNITS_PER_DAY",
    "NumberBounds",
    "Probability",
    "Section",
    "Share",
    "Switch",
    "format_number",
    "number_bounds",
    "units_per_day_problem",
]


@dataclass(frozen=True)
class NumberBounds:
    """A number field's declared limits (``ge``/``gt`` and ``le``/``lt``); None where there is none."""

    low: Any = None
    high: Any = None
    low_open: bool = False  # ``gt``: the low limit itself is not allowed
    high_open: bool = False  # ``lt``: the high limit itself is not allowed


def number_bounds(info: FieldInfo) -> NumberBounds:
    """The limits a pydantic field declares with ``ge``, ``gt``, ``le`` or ``lt`` (as declared)."""
    low: Any = None
    high: Any = None
    low_open = high_open = False
    for meta in info.metadata:
        if isinstance(meta, Ge):
            low = meta.ge
        elif isinstance(meta, Gt):
            low, low_open = meta.gt, True
        elif isinstance(meta, Le):
            high = meta.le
        elif isinstance(meta, Lt):
            high, high_open = meta.lt, True
    return NumberBounds(low, high, low_open, high_open)


#: A probability per event or per day, in [0, 1].
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
#: A share of a population or an amount, in [0, 1].
Share = Annotated[float, Field(ge=0.0, le=1.0)]

#: Largest amount of money one field may hold (currency: per day, per order, per person, a budget).
#: Far above any real marketing amount; it keeps every total the ledger forms (amount × orders ×
#: people × days, with the log-normal tail of order values) finite in float64.
MAX_MONEY = 1e12
#: Largest number of loyalty points one field may hold (a threshold, points given at enrolment).
MAX_POINTS = 1e15
#: Most whole units a budget buys in a day (impressions, offers, contacts, seeds): budget / price
#: must stay at most this, so day counts are exact in float64 (below 2**53) and fit int64.
MAX_UNITS_PER_DAY = 1e15
#: Most people a count of people may name: the largest market (``network.n``).
MAX_PEOPLE = 20_000_000
#: Largest count per person or per day (caps, limits, review capacity): fits the int64 counters the
#: rules compare it with, with room for a horizon's worth of days.
MAX_COUNT = 10**12
#: Longest duration a field may hold (days): the longest horizon.
MAX_DAYS = 36_500

_NONE_WORDS = frozenset({"none", "null", "~"})
_SWITCH_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _switch(value: Any) -> Any:
    """``true``/``false`` as they are; the words yes/no/on/off (any case) as booleans; the rest as given."""
    if isinstance(value, str):
        return _SWITCH_WORDS.get(value.strip().lower(), value)
    return value


#: On/off: ``true``/``false``, or the words ``yes``/``no``/``on``/``off``; never a number.
Switch = Annotated[bool, BeforeValidator(_switch)]


def _admits_none_not_text(annotation: Any) -> bool:
    """Whether a field's type allows None but not free text (so the word ``none`` can only mean None)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _admits_none_not_text(typing.get_args(annotation)[0])
    if origin not in (typing.Union, types.UnionType):
        return False
    args = typing.get_args(annotation)
    return type(None) in args and str not in args


def format_number(value: Any) -> str:
    """A bound as messages and docs write it: a power of ten as ``1e+12``, anything else as it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1e9:
        short = f"{value:.0e}"
        if float(short) == value:
            return short
    return str(value)


def units_per_day_problem(budget: float, price: float, ratio: str, unit: str, scale: float = 1.0) -> str:
    """Why ``budget / price × scale`` whole units a day cannot be represented, or ``""`` when they can.

    ``ratio`` names the computation in the message (``"ads.daily_budget / ads.cpm × 1000"``).
    """
    units = budget / price * scale
    if units <= MAX_UNITS_PER_DAY:
        return ""
    return (
        f"{ratio} ({unit} a day) must be at most {MAX_UNITS_PER_DAY:.0e}, so that day counts stay exact; "
        f"got {units:.3g}"
    )


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are checked on assignment.

    Numbers are strict (``true`` is not 1.0, ``"0.5"`` is not 0.5), and the word ``none`` unsets a
    field that may be unset.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _none_words(cls, data: Any) -> Any:
        """``none``/``null`` (any case) → None in fields that may be unset and are not free text."""
        if not isinstance(data, dict):
            return data
        changed = None
        for name, info in cls.model_fields.items():
            value = data.get(name)
            if (
                isinstance(value, str)
                and value.strip().lower() in _NONE_WORDS
                and _admits_none_not_text(info.annotation)
            ):
                changed = changed if changed is not None else dict(data)
                changed[name] = None
        return changed if changed is not None else data
