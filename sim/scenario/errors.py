"""Scenario errors: one :class:`Problem` per bad value, in sentences a person can act on.

Pydantic's validation errors are translated into "``field``: must be … ; got …" lines (the
scikit-learn style); :class:`ScenarioError` carries them all, so a user fixes a file in one pass.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from sim.scenario.market import GRAPH_KINDS
from sim.scenario.schedule import SCHEDULE_TAGS
from sim.scenario.section import format_number

__all__ = [
    "MAX_PROBLEMS",
    "RETIRED_KEYS",
    "Problem",
    "ScenarioError",
    "allowed_from",
    "clip_text",
    "format_number",
    "given_text",
    "problems_from",
]

#: Keys that older scenario files used, by dotted path, and the fields that replaced them. Loading a
#: file with one names the replacement in one line instead of a bare "unknown key".
RETIRED_KEYS: dict[str, str] = {
    "sharing.reward_per_referral": (
        "incentives.amount_referrer (with incentives.enabled: true; the referral programme, "
        "which also raises sharing)"
    ),
    "roles.employee_reward_per_referral": "incentives.amount_employee (with incentives.employee_kind)",
    "incentives.employee_points_per_referral": (
        "incentives.amount_employee (with incentives.employee_kind: points)"
    ),
    "incentives.clawback": "incentives.days_clawback_window (none = no clawback)",
}

#: Longest text of one part of a problem line (path, allowed, given). Input is untrusted: a key or a
#: value may be a megabyte long, and a message must stay one readable line.
MAX_GIVEN_CHARS = 80
_MAX_PATH_CHARS = 120
_MAX_ALLOWED_CHARS = 400
#: Most problems one error lists; the rest are counted in a last line (a file with 100,000 unknown
#: keys gets a screenful, not 100,000 lines).
MAX_PROBLEMS = 50


def clip_text(text: str, limit: int = MAX_GIVEN_CHARS) -> str:
    """``text`` cut to ``limit`` characters (the cut marked with ``...``), on one line."""
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One invalid value: where it is, what is allowed, and what was given.

    Each part is cut to a bounded length on construction (untrusted input never makes a message
    unbounded).
    """

    path: str
    allowed: str
    given: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", clip_text(str(self.path), _MAX_PATH_CHARS))
        object.__setattr__(self, "allowed", clip_text(str(self.allowed), _MAX_ALLOWED_CHARS))
        object.__setattr__(self, "given", clip_text(str(self.given), MAX_GIVEN_CHARS + 40))

    def __str__(self) -> str:
        where = self.path or "(scenario)"
        if self.given:
            return f"{where}: {self.allowed}; got {self.given}"
        return f"{where}: {self.allowed}"


class ScenarioError(ValueError):
    """A scenario could not be loaded; ``problems`` lists every bad value, one per line."""

    def __init__(self, problems: Iterable[Problem], source: str | None = None) -> None:
        listed: list[Problem] = []
        hidden = 0
        for problem in problems:
            if len(listed) < MAX_PROBLEMS:
                listed.append(problem)
            else:
                hidden += 1
        if hidden:
            listed.append(Problem("", f"{hidden} more problem(s) not listed; fix these first", ""))
        self.problems = listed
        self.source = None if source is None else clip_text(str(source), _MAX_PATH_CHARS)
        source = self.source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{head}{len(self.problems)} problem(s)\n{lines}")


class _ShortRepr(reprlib.Repr):
    """``repr`` that never builds a long string: few items, short strings, no huge integers."""

    def __init__(self) -> None:
        super().__init__(
            maxlevel=3,
            maxtuple=6,
            maxlist=6,
            maxarray=6,
            maxdict=4,
            maxset=6,
            maxfrozenset=6,
            maxdeque=6,
            maxstring=MAX_GIVEN_CHARS,
            maxlong=40,
            maxother=MAX_GIVEN_CHARS,
        )

    def repr_int(self, x: int, level: int) -> str:
        # Python refuses to turn an int of more than 4,300 digits into text (and doing so is slow).
        if x.bit_length() > 128:
            digits = int(math.log10(abs(x))) + 1
            if digits < 100_000 and abs(x) < 10 ** (digits - 1):  # log10 rounded up past a power of 10
                digits -= 1
            return f"<a whole number of about {digits} digits>"
        return super().repr_int(x, level)


_SHORT_REPR = _ShortRepr()


def given_text(value: Any) -> str:
    """A bad value as shown in a message: a bounded ``repr``, cut to 80 characters.

    Safe on any input: huge or deeply nested containers, enormous integers and long strings are
    summarised without building their full text.
    """
    try:
        text = _SHORT_REPR.repr(value)
    except Exception:  # a hostile __repr__ or an unprintable value: say what it is instead
        text = f"<a value of type {type(value).__name__}>"
    return clip_text(text, MAX_GIVEN_CHARS)


def allowed_from(error: Mapping[str, Any]) -> str:
    """Turn one pydantic error into a 'must be …' sentence (scikit-learn style)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    messages = {
        "greater_than_equal": lambda: f"must be ≥ {format_number(ctx.get('ge'))}",
        "greater_than": lambda: f"must be > {format_number(ctx.get('gt'))}",
        "less_than_equal": lambda: f"must be ≤ {format_number(ctx.get('le'))}",
        "less_than": lambda: f"must be < {format_number(ctx.get('lt'))}",
        "extra_forbidden": lambda: "unknown key (check the spelling; see docs/scenarios.md)",
        "missing": lambda: "is required",
        "int_parsing": lambda: "must be a whole number",
        "int_from_float": lambda: "must be a whole number",
        "int_type": lambda: "must be a whole number",
        "float_parsing": lambda: "must be a number",
        "float_type": lambda: "must be a number",
        "finite_number": lambda: "must be a finite number",
        "string_type": lambda: "must be text",
        "string_too_short": lambda: f"must have at least {ctx.get('min_length')} character(s)",
        "string_too_long": lambda: f"must have at most {ctx.get('max_length')} characters",
        "bool_parsing": lambda: "must be true or false",
        "bool_type": lambda: "must be true or false",
        "list_type": lambda: "must be a list",
        "literal_error": lambda: f"must be one of {ctx.get('expected')}",
        "union_tag_invalid": lambda: f"kind must be one of {ctx.get('expected_tags')}",
        "union_tag_not_found": lambda: f"needs a 'kind' ({', '.join(GRAPH_KINDS)})",
        "model_type": lambda: "must be a mapping of keys to values",
        "dict_type": lambda: "must be a mapping of keys to values",
    }
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return messages.get(kind, lambda: str(error["msg"]).lower())()


#: Error types that say a value is not a number (a schedulable field also takes a schedule).
_NOT_A_NUMBER = frozenset({"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"})


def problems_from(exc: ValidationError) -> list[Problem]:
    """One :class:`Problem` per error of a pydantic validation of a scenario."""
    problems = []
    for error in exc.errors(include_url=False):
        # A discriminated union puts the chosen tag in the location (a graph kind, or whether a
        # schedulable field was read as a number or a schedule); users never typed it.
        parts = [
            str(p)
            for p in error["loc"]
            if not (isinstance(p, str) and (p in GRAPH_KINDS or p in SCHEDULE_TAGS))
        ]
        path = ".".join(parts)
        allowed = allowed_from(error)
        if "a number" in error["loc"] and error["type"] in _NOT_A_NUMBER:
            allowed += " or a schedule (a mapping of value, periods, weekly, yearly; docs/scenarios.md)"
        if error["type"] == "extra_forbidden" and path in RETIRED_KEYS:
            allowed = f"was replaced by {RETIRED_KEYS[path]}; see docs/scenarios.md"
        given = "" if error["type"] in ("missing", "extra_forbidden") else given_text(error.get("input"))
        if error["type"] == "value_error":
            # Our own validators already say what was given; their message names the fields.
            given = ""
        problems.append(Problem(path=path, allowed=allowed, given=given))
    return problems
