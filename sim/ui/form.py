"""A scenario's schema as a list of form fields, and edits as dotted-path overrides.

The app's scenario editor draws one widget per :class:`FormField`; nothing about sections or fields is
written in the page. A section added to :class:`~sim.scenario.Scenario` later (incentives, loyalty
tiers, …) therefore appears in the editor without page code: plain numbers, whole numbers, switches,
choices (``Literal``), optional values, nested sections and tagged unions (``network.kind``) have
their own field kinds, and anything else (lists of tiers, mappings) is edited as YAML text. A field
that takes a number or a schedule (``ads.daily_budget``) is of kind ``schedule``: its text is a number
or a YAML schedule, and :func:`schedule_table` and :func:`schedule_preview` give the small table and
the chart the editor shows for it.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

import altair as alt
import numpy as np
import pandas as pd
from annotated_types import MaxLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario import Scenario, ScenarioError, Schedule, apply_overrides, daily_values, parse_yaml
from sim.scenario.docs import field_range
from sim.scenario.schedule import schedule_bounds
from sim.scenario.section import number_bounds
from sim.scenario.yaml_io import dump_yaml

__all__ = [
    "FieldKind",
    "FormField",
    "FormSection",
    "changed_overrides",
    "field_label",
    "field_unit",
    "form_sections",
    "get_path",
    "initial_value",
    "off_sections",
    "parse_text",
    "path_label",
    "plain_schedule",
    "removed_paths",
    "schedule_chart",
    "schedule_preview",
    "schedule_table",
    "section_title",
    "set_paths",
    "switch_variant",
    "union_members",
    "widget_text",
]

FieldKind = Literal["float", "int", "bool", "choice", "text", "yaml", "schedule"]
#: Top-level fields that are not user settings.
_HIDDEN = frozenset({"base_dir"})


@dataclass(frozen=True)
class FormField:
    """One editable value.

    Attributes:
        path: dotted path in the scenario (``ads.daily_budget``): the ``--set`` key.
        label: the field's name.
        kind: which widget edits it (``yaml`` = free YAML text, for lists and mappings;
            ``schedule`` = a number or a schedule, as text, shown with a table and a preview chart).
        description: help text with the unit, from the schema.
        allowed: the allowed range or options as text (``[0, 1]``, ``≥ 0``), may be empty.
        optional: ``None`` (written "none") is allowed.
        options: the choices of a ``choice`` field.
        low, high: numeric bounds, if any (inclusive unless ``low_open``/``high_open``).
        default: the schema's default (plain data; ``None`` when required or none).
        multiline: text allowed to be long (over 200 characters) deserves a text area.
    """

    path: str
    label: str
    kind: FieldKind
    description: str
    allowed: str
    optional: bool = False
    options: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    default: Any = None
    multiline: bool = False


@dataclass(frozen=True)
class FormSection:
    """A group of fields: a scenario section or a nested section inside one.

    ``variant_path`` names the discriminator (``network.kind``) when the section is a tagged union;
    then ``variants`` maps each tag to its model and ``fields`` are those of the current variant.
    """

    path: str
    title: str
    description: str
    fields: tuple[FormField, ...]
    variant_path: str | None = None
    variants: tuple[str, ...] = ()


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(args) < len(get_args(annotation)):
            return args[0], True
    return annotation, False


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def union_members(annotation: Any) -> list[type[BaseModel]]:
    """The models of a tagged union of sections (``network``), or ``[]`` if it is not one."""
    if get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) not in (typing.Union, types.UnionType):
        return []
    members = list(get_args(annotation))
    if members and all(_is_model(m) and "kind" in m.model_fields for m in members):
        return members
    return []


def _bounds(info: FieldInfo) -> dict[str, Any]:
    limits = number_bounds(info)
    out: dict[str, Any] = {}
    if limits.low is not None:
        out["low"] = float(limits.low)
        if limits.low_open:
            out["low_open"] = True
    if limits.high is not None:
        out["high"] = float(limits.high)
        if limits.high_open:
            out["high_open"] = True
    return out


def _plain_default(info: FieldInfo) -> Any:
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    return value


def _field(path: str, name: str, info: FieldInfo) -> FormField:
    annotation, optional = _unwrap_optional(info.annotation)
    common = {
        "path": path,
        "label": name,
        "description": info.description or "",
        "allowed": field_range(info),
        "optional": optional,
        "default": _plain_default(info),
    }
    bounds = schedule_bounds(info)
    if bounds is not None:  # the number's range; the editor offers the schedule beside it
        common["allowed"] = bounds.number_text()
        return FormField(kind="schedule", low=bounds.ge, high=bounds.le, **common)
    if get_origin(annotation) is Literal:
        return FormField(kind="choice", options=get_args(annotation), **common)
    if annotation is bool:
        return FormField(kind="bool", **common)
    if annotation is int:
        return FormField(kind="int", **common, **_bounds(info))
    if annotation is float:
        return FormField(kind="float", **common, **_bounds(info))
    if annotation is str:
        longest = min((m.max_length for m in info.metadata if isinstance(m, MaxLen)), default=None)
        return FormField(kind="text", multiline=longest is not None and longest > 200, **common)
    return FormField(kind="yaml", **common)


def _sections_of(
    model: type[BaseModel], prefix: str, title: str, data: Mapping[str, Any]
) -> list[FormSection]:
    """The section for ``model`` (plain fields) followed by one section per nested model."""
    fields: list[FormField] = []
    nested: list[FormSection] = []
    for name, info in model.model_fields.items():
        if not prefix and name in _HIDDEN:
            continue
        path = f"{prefix}.{name}" if prefix else name
        annotation, optional = _unwrap_optional(info.annotation)
        members = union_members(info.annotation)
        child = data.get(name) if isinstance(data, Mapping) else None
        switched_off = optional and isinstance(data, Mapping) and name in data and child is None
        if members:
            nested += _union_section(path, info, members, child if isinstance(child, Mapping) else {})
        elif _is_model(annotation) and not switched_off:
            nested += _sections_of(annotation, path, path, child if isinstance(child, Mapping) else {})
        else:
            fields.append(_field(path, name, info))
    own = FormSection(path=prefix, title=title, description=_doc(model), fields=tuple(fields))
    return ([own] if fields else []) + nested


def _union_section(
    path: str, info: FieldInfo, members: list[type[BaseModel]], data: Mapping[str, Any]
) -> list[FormSection]:
    tags = tuple(str(m.model_fields["kind"].default) for m in members)
    kind = str(data.get("kind", tags[0]))
    model = members[tags.index(kind)] if kind in tags else members[0]
    inner = _sections_of(model, path, path, data)
    head = inner[0] if inner and inner[0].path == path else FormSection(path, path, "", ())
    fields = tuple(f for f in head.fields if f.label != "kind")
    section = FormSection(
        path=path,
        title=path,
        description=_doc(model),
        fields=fields,
        variant_path=f"{path}.kind",
        variants=tags,
    )
    return [section, *(s for s in inner if s.path != path)]


def _doc(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip()
    return doc.split("\n\n")[0].replace("\n", " ")


def form_sections(
    data: Mapping[str, Any] | None = None, model: type[BaseModel] = Scenario
) -> list[FormSection]:
    """Every editable section of a scenario (or another ``model``), in schema order.

    ``data`` (a scenario dumped to plain data) picks the variant of tagged unions such as
    ``network.kind``; the top-level scalars (name, seed, days) come first as section ``""``.
    """
    return _sections_of(model, "", "general", data or {})


_MISSING: Any = object()


def get_path(data: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted path of nested mappings (``default`` when the path is missing)."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def initial_value(field: FormField, data: Mapping[str, Any]) -> Any:
    """The value a form starts from: the scenario's, else the schema default."""
    value = get_path(data, field.path, _MISSING)
    return field.default if value is _MISSING else value


def widget_text(field: FormField, value: Any) -> str:
    """A value as text for a text box: ``none`` for None, YAML for lists and mappings."""
    if value is None:
        return "none"
    if field.kind == "yaml" or (field.kind == "schedule" and isinstance(value, Mapping)):
        return dump_yaml(value, sort_keys=False, allow_unicode=True)
    return str(value)


def parse_text(field: FormField, text: str) -> Any:
    """Read a text box back: ``none``/blank → None where allowed; numbers and YAML parsed.

    Raises ValueError with a sentence for text that is not YAML. Whether the value is *allowed* is
    for the scenario's validation to say (so the message is the same as on the command line).
    """
    stripped = text.strip()
    if field.optional and stripped.lower() in ("", "none", "null", "~"):
        return None
    if field.kind == "text":
        return text
    try:
        return parse_yaml(stripped)
    except ScenarioError as exc:  # the reader of scenario files: the same words, the same refusals
        problem = exc.problems[0]
        where = f" ({problem.path})" if problem.path else ""
        detail = problem.given or problem.allowed
        if problem.allowed != "must be valid YAML":
            detail = f"{problem.allowed}" + (f"; got {problem.given}" if problem.given else "")
        raise ValueError(f"must be valid YAML{where}: {detail}") from None


def _as_schedule(value: Any) -> Schedule | None:
    """A schedule from a field's value (a mapping or a :class:`Schedule`); None for a number or junk."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, Mapping):
        try:
            return Schedule.model_validate(dict(value))
        except ValueError:
            return None
    return None


#: The text of a cell a row of the schedule table has nothing for (never "None" or "nan").
BLANK = "–"


def _number(value: float) -> str:
    return f"{value:,.6g}"


def schedule_table(value: Any, unit: str = "") -> pd.DataFrame:
    """A schedule as a small table of text, one row per piece.

    Columns: ``part`` (otherwise, period, weekly, yearly), ``days`` (the day range, day of the week or
    day-of-year range; day 1 is the first simulated day), ``value`` (an amount, headed
    ``value (<unit>)`` when ``unit`` is given) and ``multiplier``; a cell a row has nothing for is
    :data:`BLANK`. Empty for a number (a constant) or a value that is not a valid schedule.
    """
    schedule = _as_schedule(value)
    amount = f"value ({unit})" if unit else "value"
    columns = ["part", "days", amount, "multiplier"]
    if schedule is None:
        return pd.DataFrame(columns=columns)
    rows: list[dict[str, Any]] = [{"part": "otherwise", "days": "all other days", amount: schedule.value}]
    for period in schedule.periods:
        end = "the horizon" if period.end is None else str(period.end)
        rows.append({"part": "period", "days": f"days {period.start}–{end}", amount: period.value})
    for index, rel in enumerate(schedule.weekly or []):
        rows.append({"part": "weekly", "days": f"day {index + 1} of each week", "multiplier": rel})
    for peak in schedule.yearly:
        rows.append(
            {"part": "yearly", "days": f"days {peak.start}–{peak.end} of each year", "multiplier": peak.rel}
        )
    table = pd.DataFrame(rows, columns=columns)
    for column in (amount, "multiplier"):
        table[column] = [BLANK if pd.isna(v) else _number(float(v)) for v in table[column]]
    return table


def schedule_preview(value: Any, days: int) -> pd.DataFrame:
    """The value of a number or schedule on days 1..``days``: columns ``day``, ``value`` (the chart's data).

    Day 1 is the first simulated day (day 0, where the run's charts and step tables start, is the
    market as built). Empty when ``value`` is neither a number nor a valid schedule.
    """
    schedule = _as_schedule(value)
    if schedule is None and not (isinstance(value, int | float) and not isinstance(value, bool)):
        return pd.DataFrame(columns=["day", "value"])
    values = daily_values(schedule if schedule is not None else float(value), days)
    return pd.DataFrame({"day": np.arange(1, days + 1), "value": values[1:]})


def schedule_chart(preview: pd.DataFrame, days: int, title: str) -> dict[str, Any]:
    """The editor's line chart of :func:`schedule_preview` as a Vega-Lite specification.

    The x axis runs over exactly days 1..``days`` (the horizon, not a rounded-up 400), the y axis is
    titled ``title`` (the field's unit, "USD/day"); the data is the named dataset ``schedule``.
    """
    chart = (
        alt.Chart(alt.NamedData(name="schedule"))
        .mark_line(point=days == 1, interpolate="step-after" if days > 1 else "linear")
        .encode(
            x=alt.X(
                "day:Q",
                title="day (1 = the first simulated day)",
                scale=alt.Scale(domain=[1, max(days, 1)], nice=False),
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
            y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=True)),
            tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("value:Q", title=title, format=",.6g")],
        )
        .properties(height=160)
    )
    spec: dict[str, Any] = chart.to_dict()
    spec["datasets"] = {"schedule": preview}
    return spec


def plain_schedule(value: Any) -> Any:
    """A schedule's value as the change it makes: a number for a constant schedule, else a compact schedule.

    A schedule that is only ``value: 12`` (or whose periods, weekly and yearly multipliers change
    nothing) *is* the number 12: ticking "vary over time" is not an edit. Other schedules come back as
    their shortest mapping (defaults left out), so two spellings of one schedule compare equal.
    Anything that is not a schedule mapping is returned as it is.
    """
    if not (isinstance(value, Mapping) and "value" in value and set(value) <= set(Schedule.model_fields)):
        return value
    schedule = _as_schedule(value)
    if schedule is None:
        return value
    constant = (
        all(period.value == schedule.value for period in schedule.periods)
        and all(rel == 1 for rel in schedule.weekly or [])
        and all(peak.rel == 1 for peak in schedule.yearly)
    )
    if constant:
        return schedule.value
    return {"value": schedule.value, **schedule.model_dump(mode="json", exclude_defaults=True)}


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if prefix and isinstance(data, Mapping) and "value" in data:
        plain = plain_schedule(data)
        if plain is not data:  # a schedule is one setting, compared whole (one override, as lists are)
            return {prefix: plain}
    if isinstance(data, Mapping) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b)


def format_override_value(value: Any) -> str:
    """A value as ``--set`` reads it back (YAML flow style; ``null`` for none)."""
    text = dump_yaml(
        value, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False
    ).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def changed_overrides(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The ``path=value`` overrides that turn scenario data ``before`` into ``after``, sorted by path.

    A changed ``kind`` of a tagged union comes first within its section so the CLI applies it before
    the new variant's fields. Lists and schedules are compared whole (one override each); a schedule
    equal to a number is that number (:func:`plain_schedule`), so switching to a schedule is no change.
    """
    old, new = _flatten(before), _flatten(after)
    changed = [path for path, value in new.items() if path not in old or not _same(old[path], value)]
    changed.sort(key=lambda path: (path.rsplit(".", 1)[0], not path.endswith(".kind"), path))
    return [f"{path}={format_override_value(new[path])}" for path in changed]


def removed_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Dotted paths set in ``before`` but absent from ``after`` (a changed ``network.kind`` drops fields).

    ``--set`` cannot delete a key, so the page says to save the edited file instead.
    """
    new = _flatten(after)
    return sorted(path for path in _flatten(before) if path not in new)


def switch_variant(data: Mapping[str, Any], section: str, kind: str) -> dict[str, Any]:
    """A copy of scenario data whose tagged-union ``section`` (``network``) is of variant ``kind``.

    Values the new variant also has (``n``) are kept; the rest start from the schema defaults.
    """
    result = dict(data)
    current = data.get(section)
    if isinstance(current, Mapping) and current.get("kind") == kind:
        return result
    members = union_members(Scenario.model_fields[section].annotation)
    model = next(m for m in members if m.model_fields["kind"].default == kind)
    kept = {
        key: value for key, value in (current or {}).items() if key in model.model_fields and key != "kind"
    }
    result[section] = {"kind": kind, **kept}
    return result


def set_paths(data: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with each dotted path set (see :func:`sim.scenario.apply_overrides`)."""
    return apply_overrides(dict(data), values)


_ACRONYMS = {
    "cpm": "CPM",
    "kol": "KOL",
    "kols": "KOLs",
    "ids": "IDs",
    "cac": "CAC",
    "clv": "CLV",
    "roi": "ROI",
}
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_UNIT = re.compile(r"(currency|days|people|accounts|points|referrals|contacts|offers)( per [a-zA-Z ]+)?")


def _words(parts: list[str]) -> str:
    return " ".join(_ACRONYMS.get(part, part) for part in parts)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


#: Names whose words by the naming conventions would read like a neighbour's or say too little.
_LABEL_WORDS = {
    "window": "window kind",  # beside days_window, which reads "Window (days)"
    "days_window": "window length",
    "points_per_currency": "points earned",
}


def field_unit(field: FormField, currency: str = "") -> str:
    """The unit of a field in short words ("USD/day", "days", "0–1", "×"), from the schema.

    Read from the unit the description gives in parentheses ("Ad spend per day (currency per day).")
    and, where it has none, from the naming conventions: ``p_``/``share_`` are 0–1, ``rel_`` a multiplier,
    ``days_`` days, ``..._per_day`` per day, ``x_per_y`` x/y (``points_per_currency`` → "points/USD").
    """
    name = field.path.rsplit(".", 1)[-1]
    for inside in _PARENTHESES.findall(field.description):
        for part in inside.split(";"):
            if _UNIT.fullmatch(part.strip()):
                return part.strip().replace("currency", currency or "currency").replace(" per ", "/")
    if name.startswith("rel_"):
        return "×"
    if "_per_" in name and not name.endswith("_per_day"):  # x_per_y: so many x per y ("points/USD")
        left, right = name.rsplit("_per_", 1)
        per = currency or "currency" if right == "currency" else right.replace("_", " ")
        return f"{left.rsplit('_', 1)[-1]}/{per}"
    if name.startswith("days_") or name == "days":
        return "days"
    if name.endswith("_per_day") or name.startswith("rate_"):
        return "per day"
    if name.startswith(("p_", "share_")) or (field.allowed == "[0.0, 1.0]" and field.kind == "float"):
        return "0–1"
    return ""


def field_label(field: FormField, currency: str = "") -> str:
    """A field's name in words with its unit: ``ads.daily_budget`` → "Daily budget (USD/day)".

    Prefixes follow the project's naming: ``p_x`` → "X probability", ``share_x`` → "Share of x",
    ``rel_x`` → "X multiplier", ``days_x`` → "X", ``n_x`` → "Number of x", ``rate_x`` → "X rate".
    """
    name = field.path.rsplit(".", 1)[-1]
    if len(name) == 1:  # a symbol (network.n, network.m): say what it is
        return f"{name}: {field.description.split('(')[0].strip().rstrip('.').lower()}"
    parts = name.split("_")
    if parts[-2:] == ["per", "day"] and len(parts) > 2:
        parts = parts[:-2]
    head, rest = parts[0], parts[1:]
    if name in _LABEL_WORDS:
        text = _LABEL_WORDS[name]
    elif head == "p" and rest:
        text = f"{_words(rest)} probability"
    elif head == "share" and rest:
        text = f"share of {_words(rest[1:] if rest[0] == 'of' else rest)}"
    elif head == "rel" and rest:
        text = f"{_words(rest)} multiplier"
    elif head == "days" and rest:
        text = _words(rest)
    elif head == "n" and rest:
        text = f"number of {_words(rest)}"
    elif head == "rate" and rest:
        text = f"{_words(rest)} rate"
    elif head == "rate":
        text = "rate"
    else:
        text = _words(parts)
    unit = field_unit(field, currency)
    if unit.lower() == text.lower():  # "Days", not "Days (days)"
        unit = ""
    return _sentence(text) + (f" ({unit})" if unit else "")


def section_title(section: FormSection) -> str:
    """A section's title in words: ``retention_offers`` → "Retention offers", ``""`` → "General"."""
    if not section.path:
        return "General"
    return " › ".join(_sentence(_words(part.split("_"))) for part in section.path.split("."))


def off_sections(data: Mapping[str, Any]) -> set[str]:
    """Scenario sections whose mechanisms are all switched off in ``data`` (plain scenario data).

    Read from the rules themselves: a rule is off when the settings of its own section that switch it
    off (:attr:`sim.rules.Rule.zero_intensity`) all hold; a section is off when every rule reading
    it is. Sections no rule reads are never "off".
    """
    from sim.rules import REGISTRY  # the rules say what switches them off

    state: dict[str, list[bool]] = {}
    for rule in REGISTRY:
        own = {
            path: value for path, value in rule.zero_intensity.items() if path.startswith(f"{rule.section}.")
        }
        off = bool(own) and all(_same(get_path(data, path), value) for path, value in own.items())
        state.setdefault(rule.section, []).append(off)
    sections_off = {section for section, offs in state.items() if all(offs)}
    # A section nested in one that is off (rival.ads inside rival) is off with it.
    for section in list(sections_off):
        node = get_path(data, section)
        if isinstance(node, Mapping):
            sections_off |= {f"{section}.{key}" for key, value in node.items() if isinstance(value, Mapping)}
    return sections_off


def path_label(path: str, currency: str = "", data: Mapping[str, Any] | None = None) -> str:
    """The words a scenario field is shown in, found by its dotted path: "Ads › Daily budget (USD/day)".

    For chart axes and tables that name a field by its path (a sweep's factors). ``data`` (scenario
    data) picks variants such as ``network.kind``. A path that is not a field comes back as it is.
    """
    for section in form_sections(data):
        for field in section.fields:
            if field.path == path:
                label = field_label(field, currency)
                return f"{section_title(section)} › {label}" if section.path else label
    return path
