"""Widgets and cached calls shared by the pages (UI only; the work happens in :mod:`sim`)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from sim.analysis.compare import Comparison, compare, start_workers
from sim.scenario import MAX_SCENARIO_BYTES, Scenario, ScenarioError, scenario_from_text, scenario_to_yaml
from sim.ui.library import preset_texts, read_upload, unique_name
from sim.ui.text import markdown_literal

#: Session key of the scenario library: {name: YAML text}, presets first, then edits and uploads.
LIBRARY = "library"
#: Default people in the market on pages that simulate on demand (env var for quick demos and tests).
DEFAULT_PEOPLE = int(os.environ.get("RIPPLE_APP_PEOPLE", "0")) or None
#: What the scenario uploader accepts, in whole MB (Streamlit's unit); the server's own cap,
#: ``server.maxUploadSize`` in .streamlit/config.toml, covers it.
SCENARIO_UPLOAD_MB = math.ceil(MAX_SCENARIO_BYTES / 2**20)


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
    """A strategy picker and a market-size input in the first two ``columns``.

    The strategy defaults to the first of ``preferred`` in the library; the size to the scenario's
    ``network.n``, capped at ``people_default`` (pages that simulate on demand keep it small).
    """
    names = list(library())
    default = next((n for n in preferred if n in names), names[0])
    name = columns[0].selectbox("Strategy", names, index=names.index(default), key=f"{key}_strategy")
    base = scenario_named(name)
    people = columns[1].number_input(
        "People in the market",
        min_value=people_min,
        max_value=200_000,
        value=DEFAULT_PEOPLE or min(int(base.network.n), people_default),
        step=people_step,
        key=f"{key}_people",
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
    return scenario_from_text(library()[name], overrides or None, source=name)


def show_problems(exc: ScenarioError, heading: str) -> None:
    """One error box: a heading and one line per problem (path, what is allowed, what was given).

    Problem lines quote the user's input (keys, values, file names): they are shown as text, never
    as Markdown (no links, images or ``:emoji:`` codes from an uploaded file).
    """
    lines = "\n".join(f"- {markdown_literal(str(problem))}" for problem in exc.problems)
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
            f"**Something went wrong:** {markdown_literal(f'{type(exc).__name__}: {exc}')[:300]}\n\n"
            "Nothing was changed. If this keeps happening, run the same scenario with "
            "`ripple run --debug` to see the details."
        )


def upload_scenario(key: str) -> None:
    """A file uploader that adds a valid scenario to the library, or lists what is wrong with it."""
    uploaded = st.file_uploader(
        f"Upload a scenario file (YAML, at most {MAX_SCENARIO_BYTES // 1000:,} kB)",
        key=key,
        help="A file like those in scenarios/. It is checked fully before anything changes.",
        max_upload_size=SCENARIO_UPLOAD_MB,
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
        show_problems(exc, f"{markdown_literal(uploaded.name)} was not added: it is not a valid scenario")
        return
    name = add_to_library(scenario.name, scenario)
    done[marker] = (
        f"Added {markdown_literal(uploaded.name)} to the scenarios as **{markdown_literal(name)}**."
    )
    st.success(done[marker])


def compare_workers(replications: int) -> int:
    """Processes a comparison runs on: every core, at most one per replication."""
    return max(1, min(os.cpu_count() or 1, replications))


@st.cache_resource(show_spinner=False)
def warm_compare_workers() -> bool:
    """Start the comparison's worker processes once per app process, in the background."""
    start_workers(compare_workers(5))
    return True


@st.cache_data(show_spinner=False, max_entries=16)
def cached_compare(
    texts: tuple[tuple[str, str], ...], replications: int, seed: int, _on_run: Any = None
) -> Comparison:
    """Compare the strategies given as ``(name, YAML text)`` pairs (cached by texts, R and seed)."""
    named = {name: scenario_from_text(text, source=name) for name, text in texts}
    # Replications run side by side on every core; the results are those of a serial run.
    return compare(named, replications, seed, on_run=_on_run, workers=compare_workers(replications))
