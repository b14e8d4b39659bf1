"""Scenario editor: every field of the scenario schema, validated as you type.

The form is generated from the schema by :mod:`sim.ui.form`, so a section added to the scenario later
appears here without page code.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages.common import add_to_library, library, library_files
from sim.scenario import ScenarioError, scenario_from_dict, scenario_from_text, scenario_to_yaml
from sim.ui.form import (
    FormField,
    changed_overrides,
    form_sections,
    initial_value,
    parse_text,
    removed_paths,
    schedule_preview,
    schedule_table,
    set_paths,
    switch_variant,
    widget_text,
)

st.title("Scenario editor")
st.markdown(
    "Every setting of a scenario, grouped by section, with its unit and allowed range (hover **?** "
    "for help). Values are checked as you type; the same change can be made from the command line "
    "with the `--set` lines shown below."
)

names = list(library())
base_name = st.selectbox(
    "Scenario to start from",
    names,
    index=names.index("funnel_heavy") if "funnel_heavy" in names else 0,
    key="ed_base",
)
base = scenario_from_text(library()[base_name], source=base_name)
base_data: dict[str, Any] = base.model_dump(mode="json", exclude={"base_dir"})
prefix = f"ed:{base_name}:"


def raw_value(field: FormField, data: dict[str, Any]) -> Any:
    """The widget's current value (its session state), else the scenario's value."""
    if field.kind == "schedule" and over_time(field, data):
        return st.session_state.get(prefix + field.path + ":schedule", schedule_text(field, data))
    key = prefix + field.path
    if key in st.session_state:
        return st.session_state[key]
    value = initial_value(field, data)
    return value if _native(field, data) else widget_text(field, value)


def _native(field: FormField, data: dict[str, Any]) -> bool:
    """Fields edited by a number box, switch or choice (the rest are text boxes)."""
    if field.kind == "schedule":  # a number box while it is a number, else a schedule's text
        return not field.optional and not over_time(field, data)
    return field.kind in ("bool", "choice") or (field.kind in ("int", "float") and not field.optional)


def over_time(field: FormField, data: dict[str, Any]) -> bool:
    """Whether a field that takes a number or a schedule is edited as a schedule.

    Its "vary over time" switch says so; before it is drawn, whether the scenario's value is one.
    """
    switch = st.session_state.get(prefix + field.path + ":over_time")
    return bool(switch) if switch is not None else isinstance(initial_value(field, data), dict)


def schedule_text(field: FormField, data: dict[str, Any]) -> str:
    """The scenario's value as a schedule's YAML (a number becomes a schedule of that value)."""
    value = initial_value(field, data)
    return widget_text(field, value if isinstance(value, dict) else {"value": value or 0})


# Pass 1: read every widget's state, choose variants, and validate, so messages go under fields.
data = dict(base_data)
for section in form_sections(data):
    if section.variant_path is not None:
        kind = st.session_state.get(prefix + section.variant_path, data[section.path]["kind"])
        data = switch_variant(data, section.path, str(kind))
sections = form_sections(data)
values: dict[str, Any] = {}
local_errors: dict[str, str] = {}
for section in sections:
    for field in section.fields:
        raw = raw_value(field, data)
        if _native(field, data):
            values[field.path] = raw
            continue
        try:
            values[field.path] = parse_text(field, str(raw))
        except ValueError as exc:
            local_errors[field.path] = str(exc)
            values[field.path] = initial_value(field, data)
edited = set_paths(data, values)
problems: dict[str, list[str]] = {}
scenario = None
try:
    scenario = scenario_from_dict(edited, attachments=library_files(base_name))
except ScenarioError as exc:
    for problem in exc.problems:
        text = problem.allowed + (f" (given: {problem.given})" if problem.given else "")
        problems.setdefault(problem.path, []).append(text)
for path, message in local_errors.items():
    problems.setdefault(path, []).append(message)
if local_errors:
    scenario = None  # a box that could not be read was replaced by its old value: nothing to save
field_paths = {field.path for section in sections for field in section.fields}

# Summary: validity, overrides, save and download.
overrides = changed_overrides(base_data, edited)
dropped = removed_paths(base_data, edited)
if problems:
    lines = "\n".join(f"- `{path or '(scenario)'}`: {'; '.join(texts)}" for path, texts in problems.items())
    st.error(
        f"**{sum(len(t) for t in problems.values())} problem(s)** — fix them to use this scenario:\n\n{lines}"
    )
else:
    st.success("Valid scenario." + (" No changes yet." if not overrides and not dropped else ""))
if overrides:
    st.markdown("**The same change from the command line:**")
    st.code(
        f"ripple run scenarios/{base_name}.yaml " + " ".join(f"--set '{line}'" for line in overrides),
        language="bash",
        wrap_lines=True,
    )
if dropped:
    st.caption(
        "`--set` cannot remove settings (" + ", ".join(f"`{p}`" for p in dropped) + "): download the "
        "edited file instead."
    )
save_cols = st.columns([2, 1, 1])
new_name = save_cols[0].text_input("Save as", value=f"{base_name} (edited)", key="ed_save_name")
if save_cols[1].button("Add to scenarios", disabled=scenario is None, key="ed_save", type="primary"):
    assert scenario is not None
    saved = add_to_library(new_name.strip() or base_name, scenario)
    st.toast(f"Added {saved}: pick it on the Compare page.")
    st.session_state["ed_saved"] = saved
if st.session_state.get("ed_saved"):
    save_cols[0].caption(f"Saved as **{st.session_state['ed_saved']}**.")
if scenario is not None:
    save_cols[2].download_button(
        "Download YAML",
        scenario_to_yaml(scenario),
        file_name=f"{new_name.strip() or base_name}.yaml",
        mime="application/x-yaml",
        key="ed_download",
    )


def draw(field: FormField) -> None:
    """One widget for ``field``, with its problems right below it."""
    key = prefix + field.path
    help_text = field.description + (f" Allowed: {field.allowed}." if field.allowed else "")
    label = field.label + (f"  ·  {field.allowed}" if field.allowed and field.kind != "choice" else "")
    value = initial_value(field, data)
    kwargs: dict[str, Any] = {"help": help_text, "key": key}
    if field.kind == "choice":
        options = list(field.options)
        st.selectbox(label, options, index=options.index(value) if value in options else 0, **kwargs)
    elif field.kind == "bool":
        st.checkbox(label, value=bool(value), **kwargs)
    elif field.kind == "schedule" and draw_schedule(field, label, help_text):
        pass  # drawn as a schedule
    elif _native(field, data) and (
        field.kind == "int" or (field.kind == "schedule" and isinstance(field.default, int))
    ):
        st.number_input(label, value=int(value), step=1, format="%d", **kwargs)
    elif _native(field, data):
        st.number_input(label, value=float(value), format="%g", **kwargs)
    elif field.kind == "text" and field.multiline:
        st.text_area(label, value=widget_text(field, value), height=100, **kwargs)
    elif field.kind == "yaml":
        st.text_area(label + "  (YAML)", value=widget_text(field, value), **kwargs)
    else:
        placeholder = "none" if field.optional else None
        st.text_input(label, value=widget_text(field, value), placeholder=placeholder, **kwargs)
    for text in problems.get(field.path, []):
        st.error(text, icon="⚠️")


def draw_schedule(field: FormField, label: str, help_text: str) -> bool:
    """A "vary over time" switch and, switched on, the schedule: its YAML, a table and a chart.

    The table lists its pieces; the chart its values over the horizon. Returns False while the field
    is a plain number (the caller then draws the number box).
    """
    st.checkbox(
        "vary over time",
        value=over_time(field, data),
        key=prefix + field.path + ":over_time",
        help="A schedule: a value, periods by day range, weekly and yearly multipliers.",
    )
    if not over_time(field, data):
        return False
    key = prefix + field.path + ":schedule"
    text = st.text_area(
        label + "  (schedule, YAML)", value=schedule_text(field, data), key=key, help=help_text
    )
    try:
        parsed = parse_text(field, text)
    except ValueError:
        parsed = None
    table = schedule_table(parsed)
    if not table.empty:
        st.dataframe(table, hide_index=True, width="stretch")
        days = values.get("days")
        horizon = days if isinstance(days, int) and days > 0 else base.days
        st.line_chart(schedule_preview(parsed, horizon), x="day", y="value", height=160)
    return True


for section in sections:
    with st.container(border=True):
        st.subheader(section.title if section.path else "General")
        if section.description:
            st.caption(section.description)
        for text in problems.get(section.path, []) if section.path not in field_paths else []:
            st.error(text, icon="⚠️")
        if section.variant_path is not None:
            draw(
                FormField(
                    path=section.variant_path,
                    label="kind",
                    kind="choice",
                    description="Which graph (each kind has its own fields).",
                    allowed="",
                    options=section.variants,
                    default=section.variants[0],
                )
            )
        columns = st.columns(3)
        for index, field in enumerate(section.fields):
            with columns[index % 3]:
                draw(field)
