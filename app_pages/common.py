"""Widgets and cached calls shared by the pages (UI only; the work happens in :mod:`sim`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from app_pages.state import kept
from sim.analysis.compare import start_workers
from sim.scenario import MAX_SCENARIO_BYTES, Scenario, ScenarioError, scenario_from_text, scenario_to_yaml
from sim.ui.library import preset_texts, read_upload, unique_name

#: Session key of the scenario library: {name: YAML text}, presets first, then edits and uploads.
LIBRARY = "library"
#: Default people in the market on pages that simulate on demand (env var for quick demos and tests).
DEFAULT_PEOPLE = int(os.environ.get("RIPPLE_APP_PEOPLE", "0")) or None


def init_library() -> None:
    """Put the presets in the session's scenario library (once per session)."""
    if LIBRARY not in st.session_state:
        st.session_state[LIBRARY] = preset_texts()


def library() -> dict[str, str]:
    """The session's scenarios, ``{name: YAML text}``."""
    init_library()
    scenarios: dict[str, str] = st.session_state[LIBRARY]
    return scenarios


def strategy_and_people(
    columns: Sequence[Any],
    key: str,
    preferred: tuple[str, ...],
    people_default: int,
    people_min: int,
    people_step: int,
    people_help: str | None = None,
) -> tuple[str, Scenario, int]:
    """A strategy picker and a market-size input in the first two ``columns``, kept for the session.

    The strategy defaults to the first of ``preferred`` in the library; the size to the scenario's
    ``network.n``, capped at ``people_default`` (pages that simulate on demand keep it small).
    """
    names = list(library())
    default = next((n for n in preferred if n in names), names[0])
    if st.session_state.get(f"{key}_strategy") not in names:
        st.session_state.pop(f"{key}_strategy", None)
    name = columns[0].selectbox("Strategy", names, key=kept(f"{key}_strategy", default))
    base = scenario_named(name)
    people = columns[1].number_input(
        "People in the market",
        min_value=people_min,
        max_value=200_000,
        step=people_step,
        key=kept(f"{key}_people", DEFAULT_PEOPLE or min(int(base.network.n), people_default)),
        help=people_help,
    )
    return name, base, int(people)


def add_to_library(name: str, scenario: Scenario) -> str:
    """Store ``scenario`` under ``name`` (made unique) and return the name used."""
    scenarios = library()
    name = unique_name(name, scenarios)
    scenarios[name] = scenario_to_yaml(scenario.model_copy(update={"name": name[:80]}))
    return name


def scenario_named(name: str, overrides: dict[str, Any] | None = None) -> Scenario:
    """The library scenario ``name``, with dotted-path overrides (raises ScenarioError)."""
    return _parsed(library()[name], json.dumps(overrides or {}, sort_keys=True), name)


@st.cache_data(show_spinner=False, max_entries=128)
def _parsed(text: str, overrides: str, source: str) -> Scenario:
    """A scenario text parsed and validated with overrides (JSON), cached: pages rerun on every click.

    It only computes (a cached function never touches the page); errors are raised, not cached.
    """
    return scenario_from_text(text, json.loads(overrides) or None, source=source)


def show_problems(exc: ScenarioError, heading: str) -> None:
    """One error box: a heading and one line per problem (path, what is allowed, what was given)."""
    lines = "\n".join(f"- {problem}" for problem in exc.problems)
    st.error(
        f"**{heading}** ({len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}):\n\n{lines}"
    )


def guarded(action: Callable[[], None]) -> None:
    """Run a page; turn any error into a message instead of a traceback."""
    try:
        action()
    except ScenarioError as exc:
        show_problems(exc, "This scenario cannot be used")
    except Exception as exc:
        st.error(
            f"**Something went wrong:** {type(exc).__name__}: {exc}\n\n"
            "Nothing was changed. If this keeps happening, run the same scenario with "
            "`ripple run --debug` to see the details."
        )


def upload_scenario(key: str) -> None:
    """A file uploader that adds a valid scenario to the library, or lists what is wrong with it."""
    uploaded = st.file_uploader(
        f"Upload a scenario file (YAML, at most {MAX_SCENARIO_BYTES // 1000:,} kB)",
        key=key,
        help="A file like those in scenarios/. It is checked fully before anything changes.",
    )
    if uploaded is None:
        return
    done: dict[str, str] = st.session_state.setdefault(f"{key}:done", {})
    marker = f"{uploaded.file_id}"
    if marker in done:
        st.caption(done[marker])
        return
    try:
        scenario = read_upload(uploaded.name, uploaded.getvalue())
    except ScenarioError as exc:
        text_file = not any("must be a text file" in problem.allowed for problem in exc.problems)
        what = "a valid scenario" if text_file else "a text scenario file"
        show_problems(exc, f"{uploaded.name} was not added: it is not {what}")
        return
    name = add_to_library(scenario.name, scenario)
    done[marker] = f"Added {uploaded.name} to the scenarios as **{name}**."
    st.success(done[marker])


def compare_workers(replications: int) -> int:
    """Processes a comparison runs on: every core, at most one per replication."""
    return max(1, min(os.cpu_count() or 1, replications))


@st.cache_resource(show_spinner=False)
def warm_compare_workers() -> bool:
    """Start the comparison's worker processes once per app process, in the background.

    Like every cached function of the app it only computes: it never creates or updates an element
    (a cached call replays the elements it made, which fails when they lie outside it).
    """
    start_workers(compare_workers(5))
    return True


def style_once() -> None:
    """The app's few style rules: results greyed out while they are for other inputs."""
    st.html(
        "<style>"
        ".st-key-cmp_results_stale { opacity: 0.45; filter: grayscale(0.7); transition: opacity .2s; }"
        "</style>"
    )
