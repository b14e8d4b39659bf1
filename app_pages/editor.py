"""Scenario editor: every field of the scenario schema, validated as you type.

The form is generated from the schema by :mod:`sim.ui.form` (labels in words with units, sections,
which mechanisms are switched off), so a section added to the scenario later appears here without
page code. Edits are kept for the session, also while other pages are open, until they are saved.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages.common import add_to_library, library, library_files, put_in_library
from app_pages.state import kept
from sim.scenario import ScenarioError, scenario_from_dict, scenario_from_text, scenario_to_yaml
from sim.ui.form import (
    FormField,
    changed_overrides,
    field_label,
    field_unit,
    form_sections,
    get_path,
    initial_value,
    off_sections,
    parse_text,
    plain_schedule,
    removed_paths,
    schedule_chart,
    schedule_preview,
    schedule_table,
    section_title,
    set_paths,
    switch_variant,
    widget_text,
)
from sim.ui.library import unique_name
from sim.ui.text import markdown_literal

st.title("Scenario editor")
st.markdown(
    "Every setting of a scenario, by section, with its unit (hover **?** for what it means and its "
    "allowed range). Values are checked as you type; the same change can be made from the command "
    "line with the `--set` lines shown below. Unsaved edits stay here while you visit other pages."
)

#: Session key of the scenario just saved: the next run opens it (its own edits: none).
OPEN_SAVED = "_ed_open_saved"

names = list(library())
if st.session_state.get(OPEN_SAVED) in names:
    st.session_state["ed_base"] = st.session_state.pop(OPEN_SAVED)
if st.session_state.get("ed_base") not in names:
    st.session_state.pop("ed_base", None)
top = st.columns([2, 2, 1])
base_name = top[0].selectbox(
    "Scenario to start from",
    names,
    key=kept("ed_base", "funnel_heavy" if "funnel_heavy" in names else names[0]),
)
search = str(
    top[1].text_input(
        "Find a setting", key=kept("ed_search", ""), placeholder="e.g. budget, churn, reward, days"
    )
).strip()
changed_only = bool(top[2].toggle("Show changed only", key=kept("ed_changed_only", False)))

base = scenario_from_text(library()[base_name], source=base_name, attachments=library_files(base_name))
base_data: dict[str, Any] = base.model_dump(mode="json", exclude={"base_dir"})
prefix = f"ed:{base_name}:"
currency = base.economics.currency


def over_time(field: FormField, data: dict[str, Any]) -> bool:
    """Whether a field that takes a number or a schedule is edited as a schedule.

    Its "vary over time" switch says so (kept for the session); it starts on when the scenario's
    value is a schedule.
    """
    if field.kind != "schedule":
        return False
    start = isinstance(initial_value(field, data), dict)
    return bool(st.session_state[kept(prefix + field.path + ":over_time", start)])


def _native(field: FormField, data: dict[str, Any]) -> bool:
    """Fields edited by a number box, switch or choice (the rest are text boxes)."""
    if field.kind == "schedule":
        return not field.optional and not over_time(field, data)
    return field.kind in ("bool", "choice") or (field.kind in ("int", "float") and not field.optional)


def _whole(field: FormField) -> bool:
    return field.kind == "int" or (field.kind == "schedule" and isinstance(field.default, int))


def schedule_text(field: FormField, data: dict[str, Any]) -> str:
    """The scenario's value as a schedule's YAML (a number becomes a schedule of that value)."""
    value = initial_value(field, data)
    return widget_text(field, value if isinstance(value, dict) else {"value": value or 0})


def _start(field: FormField, data: dict[str, Any]) -> Any:
    """The value a widget starts from: the scenario's, as the widget holds it."""
    value = initial_value(field, data)
    if field.kind == "schedule" and isinstance(value, dict):
        value = value.get("value", 0)  # a schedule edited as a plain number starts from its base value
    if not _native(field, data):
        return widget_text(field, value)
    if _whole(field):
        return int(value)
    if field.kind in ("float", "schedule"):
        return float(value)
    if field.kind == "bool":
        return bool(value)
    return value


# Pass 1: read every widget's state, choose variants, and validate, so messages go under fields.
data = dict(base_data)
for section in form_sections(data):
    if section.variant_path is not None:
        key = kept(prefix + section.variant_path, str(data[section.path]["kind"]))
        data = switch_variant(data, section.path, str(st.session_state[key]))
sections = form_sections(data)
values: dict[str, Any] = {}
local_errors: dict[str, str] = {}
for section in sections:
    for field in section.fields:
        if over_time(field, data):
            raw = st.session_state[kept(prefix + field.path + ":schedule", schedule_text(field, data))]
        else:
            raw = st.session_state[kept(prefix + field.path, _start(field, data))]
        if field.kind == "choice" and raw not in field.options:
            raw = st.session_state[prefix + field.path] = _start(field, data)
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
labels = {field.path: field_label(field, currency) for section in sections for field in section.fields}

# Summary: validity, unsaved edits, overrides, save and download.
overrides = changed_overrides(base_data, edited)
dropped = removed_paths(base_data, edited)
if problems:

    def _where(path: str) -> str:
        """A problem's field in words, then its path unless the words say it ("Days", not "Days (days)")."""
        label = labels.get(path, path or "the scenario")
        if label.lower() == path.replace("_", " ").lower() or not path:
            return markdown_literal(label)
        return f"{markdown_literal(label)} (`{path}`)"

    lines = "\n".join(
        f"- {_where(path)}: {markdown_literal('; '.join(texts))}" for path, texts in problems.items()
    )
    count = sum(len(t) for t in problems.values())
    many = count != 1
    st.error(
        f"**{count} problem{'s' if many else ''}**: fix {'them' if many else 'it'} to use this scenario:"
        f"\n\n{lines}"
    )
else:
    st.success("Valid scenario." + (" No changes yet." if not overrides and not dropped else ""))
if overrides or dropped:
    st.warning(
        f"**Unsaved edits** to {base_name}: {len(overrides) + len(dropped)} setting(s) changed. They stay "
        "here while you use other pages; **Add to scenarios** to compare them."
    )
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

name_field = next(f for f in sections[0].fields if f.path == "name")
save_cols = st.columns([3, 1, 1], vertical_alignment="bottom")
save_cols[0].text_input(
    "Name (saved under this name; also the file name)",
    key=prefix + "name",
    help=name_field.description,
)
new_name = str(values.get("name") or base_name).strip() or base_name
invalid_reason = "Fix the problems listed above first." if scenario is None else None


def _saved(name: str, message: str) -> None:
    """After saving as ``name``: the editor opens the saved scenario, whose edits are now its values.

    The edits of the scenario it started from are saved, so they are dropped (it opens as it is in
    the library); the page runs again at once, so nothing still says "Unsaved edits".
    """
    st.session_state["ed_saved"] = name
    st.session_state.pop("_ed_confirm", None)
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]
    st.session_state[OPEN_SAVED] = name
    st.toast(message)
    st.rerun()


def _save(name: str) -> None:
    """Add the edited scenario to the library as ``name`` (replacing one of that name)."""
    assert scenario is not None
    put_in_library(name, scenario)
    _saved(name, f"Saved {name}: pick it on the Compare page.")


if save_cols[1].button(
    "Add to scenarios", disabled=scenario is None, key="ed_save", type="primary", help=invalid_reason
):
    if new_name in library():
        st.session_state["_ed_confirm"] = new_name
    else:
        added = add_to_library(new_name, scenario)  # type: ignore[arg-type]
        _saved(added, f"Added {added}: pick it on the Compare page.")
if scenario is not None and st.session_state.get("_ed_confirm") == new_name:
    other = unique_name(new_name, library())
    st.warning(f"A scenario named **{new_name}** already exists in this session. Replace it?")
    confirm = st.columns([1, 1, 1, 3])
    if confirm[0].button(f"Replace {new_name}", key="ed_replace"):
        _save(new_name)
    if confirm[1].button(f"Save as {other}", key="ed_save_other"):
        _save(other)
    if confirm[2].button("Cancel", key="ed_save_cancel"):
        st.session_state.pop("_ed_confirm", None)
        st.rerun()
save_cols[2].download_button(
    "Download YAML",
    scenario_to_yaml(scenario) if scenario is not None else "",
    file_name=f"{new_name}.yaml",
    mime="application/x-yaml",
    key="ed_download",
    disabled=scenario is None,
    help=invalid_reason or "The edited scenario as a file for `ripple run`.",
)
if scenario is None:
    save_cols[2].caption("Download is off until the scenario is valid.")
if st.session_state.get("ed_saved") == base_name and not (overrides or dropped):
    save_cols[0].caption(f"Saved as **{base_name}**.")


def draw(field: FormField) -> None:
    """One widget for ``field`` (its value comes from the session), with its problems right below it."""
    key = prefix + field.path
    help_text = field.description + (f" Allowed: {field.allowed}." if field.allowed else "")
    label = labels.get(field.path) or field_label(field, currency)
    kwargs: dict[str, Any] = {"help": help_text + f" (`{field.path}`)", "key": key}
    if field.kind == "choice":
        st.selectbox(label, list(field.options), **kwargs)
    elif field.kind == "bool":
        st.checkbox(label, **kwargs)
    elif field.kind == "schedule" and draw_schedule(field, label, kwargs["help"]):
        pass  # drawn as a schedule
    elif _native(field, data) and _whole(field):
        st.number_input(label, step=1, format="%d", **kwargs)
    elif _native(field, data):
        st.number_input(label, format="%g", **kwargs)
    elif field.kind == "text" and field.multiline:
        st.text_area(label, height=100, **kwargs)
    elif field.kind == "yaml":
        st.text_area(label + "  (YAML)", **kwargs)
    else:
        st.text_input(label, placeholder="none" if field.optional else None, **kwargs)
    for text in problems.get(field.path, []):
        st.error(markdown_literal(text), icon="⚠️")


def draw_schedule(field: FormField, label: str, help_text: str) -> bool:
    """A "vary over time" switch and, switched on, the schedule: its YAML, a table and a chart.

    The table lists its pieces; the chart its values over the horizon. Returns False while the field
    is a plain number (the caller then draws the number box).
    """
    st.checkbox(
        "vary over time",
        key=prefix + field.path + ":over_time",
        help="A schedule: a value, periods by day range (day 1 = the first simulated day), weekly and "
        "yearly multipliers.",
    )
    if not over_time(field, data):
        return False
    text = st.text_area(label + "  (schedule, YAML)", key=prefix + field.path + ":schedule", help=help_text)
    try:
        parsed = parse_text(field, text)
    except ValueError:
        parsed = None
    table = schedule_table(parsed, field_unit(field, currency))
    if not table.empty:
        st.table(table, hide_index=True)  # a static table: nothing is clipped in a narrow column
        st.caption("Days count from 1, the first simulated day (day 0 in the run's charts is the start).")
        days = values.get("days")
        horizon = days if isinstance(days, int) and days > 0 else base.days
        # The y axis says the unit alone ("USD/day"): the label is right above, and a longer title
        # is cut on a chart this short.
        unit = field_unit(field, currency) or "value"
        st.vega_lite_chart(schedule_chart(schedule_preview(parsed, horizon), horizon, unit), width="stretch")
    return True


def _matches(field: FormField) -> bool:
    """Whether ``field`` passes the search box and the "changed only" switch."""
    now, before = get_path(edited, field.path), get_path(base_data, field.path)
    if changed_only and plain_schedule(now) == plain_schedule(before):
        return False
    if not search:
        return True
    haystack = f"{labels[field.path]} {field.path} {field.description}".lower()
    return all(word in haystack for word in search.lower().split())


#: Sections' open state as the user left it ({expander key: open}), kept for the session.
opened: dict[str, bool] = st.session_state.setdefault("_ed_opened", {})


switched_off = off_sections(edited)
shown_any = False
for section in sections:
    fields = [f for f in section.fields if f.path != "name" and _matches(f)]
    section_problems = [t for t in problems.get(section.path, []) if section.path not in field_paths]
    has_problem = bool(section_problems) or any(f.path in problems for f in section.fields)
    filtering = bool(search) or changed_only
    if not fields and (filtering or not (has_problem or section.variant_path)):
        continue
    shown_any = True
    off = section.path in switched_off
    title = section_title(section) + ("  ·  off" if off else "")
    # Whether a section is open is tracked here: Streamlit shuts an expander whose label or
    # ``expanded`` changes between reruns, and both change as the user edits inside it (a section
    # switched off, a problem fixed). A section the user opened or closed stays so; the others
    # open while they have a problem or a search or "changed only" is on.
    open_key = f"_ed_open:{prefix}{section.path}"
    expanded = bool(opened.get(open_key, has_problem or bool(search) or changed_only or (not section.path)))
    with st.expander(
        title,
        expanded=expanded,
        icon=":material/toggle_off:" if off else None,
        key=open_key,
        on_change="rerun",
    ):
        opened[open_key] = bool(st.session_state.get(open_key, expanded))
        if section.description:
            st.caption(section.description + (" Switched off in this scenario." if off else ""))
        for text in section_problems:
            st.error(markdown_literal(text), icon="⚠️")
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
        for index, field in enumerate(fields):
            with columns[index % 3]:
                draw(field)
if not shown_any:
    st.info("No setting matches." + (" (Only changed settings are shown.)" if changed_only else ""))
