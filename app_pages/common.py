"""Widgets and cached calls shared by the pages (UI only; the work happens in :mod:`sim`)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from app_pages.state import kept
from sim.analysis.compare import start_workers
from sim.scenario import (
    MAX_PEOPLE,
    MAX_SCENARIO_BYTES,
    MIN_PEOPLE,
    Scenario,
    ScenarioError,
    scenario_from_text,
    scenario_to_yaml,
)
from sim.ui.jobs import JobBoard
from sim.ui.library import (
    MAX_GRAPH_UPLOAD_BYTES,
    GraphInfo,
    graph_info,
    preset_files,
    preset_texts,
    read_uploads,
    unique_name,
    upload_digest,
)
from sim.ui.text import markdown_literal
from sim.world.edge_list import EdgeListError

#: Session key of the scenario library: {name: YAML text}, presets first, then edits and uploads.
LIBRARY = "library"
#: Session key of the files that go with library scenarios: {name: {file name: bytes}}.
LIBRARY_FILES = "library_files"
#: Finished comparisons kept for reuse by their inputs (in any tab or session of this server).
KEEP_RESULTS = 16
#: Session key of the uploads added so far: {fingerprint of the file and its graph: library name}.
UPLOADED = "uploaded_scenarios"
#: Default people in the market on pages that simulate on demand (env var for quick demos and tests).
DEFAULT_PEOPLE = int(os.environ.get("RIPPLE_APP_PEOPLE", "0")) or None
#: What the uploader (a scenario with its graph file) accepts per file, in whole MB (Streamlit's unit):
#: the graph file's limit; a scenario file is held to MAX_SCENARIO_BYTES when it is read. The
#: server's own cap, ``server.maxUploadSize`` in .streamlit/config.toml, covers it.
UPLOAD_MB = math.ceil(MAX_GRAPH_UPLOAD_BYTES / 2**20)

#: A library scenario's files, as hashable arguments of cached functions: ((file name, bytes), ...).
Files = tuple[tuple[str, bytes], ...]


def init_library() -> None:
    """Put the presets (and the graph files beside them) in the session's scenario library, once."""
    if LIBRARY not in st.session_state:
        st.session_state[LIBRARY] = preset_texts()
    if LIBRARY_FILES not in st.session_state:
        st.session_state[LIBRARY_FILES] = preset_files()


def library_files(name: str) -> dict[str, bytes]:
    """The files that go with library scenario ``name`` (its sandbox: it can read no others)."""
    init_library()
    files: dict[str, dict[str, bytes]] = st.session_state[LIBRARY_FILES]
    return dict(files.get(name, {}))


def files_of(name: str) -> Files:
    """:func:`library_files` as a hashable, ordered tuple (for cached functions' keys)."""
    return tuple(sorted(library_files(name).items()))


def scenario_from_library_text(text: str, files: Files, source: str | None = None) -> Scenario:
    """Parse a library scenario's text with its files as its sandbox (every page parses this way)."""
    return scenario_from_text(text, source=source, attachments=dict(files))


def show_graph_notes(info: GraphInfo | None) -> None:
    """One caption with what reading the scenario's graph file changed or assumed."""
    if info is not None and info.notes:
        st.caption(f"Graph file **{info.file}**: " + "; ".join(info.notes) + ".")


def library() -> dict[str, str]:
    """The session's scenarios, ``{name: YAML text}``."""
    init_library()
    scenarios: dict[str, str] = st.session_state[LIBRARY]
    return scenarios


def people_input(
    column: Any,
    key: str,
    scenario: Scenario | None,
    value: int,
    step: int,
    help_text: str | None = None,
) -> tuple[int, GraphInfo | None]:
    """The "People in the market" input: any count the schema allows, or the graph file's, fixed.

    For a scenario whose graph comes from a file, the count is the file's: the input is shown
    disabled with the reason (its key carries the count, so another file's value never lingers).
    Returns the people and the graph file's info (None for a generated graph).
    """
    info = graph_info(scenario) if scenario is not None else None
    if info is not None:
        people = column.number_input(
            "People in the market",
            min_value=info.n_people,
            max_value=info.n_people,
            value=info.n_people,
            disabled=True,
            key=f"{key}_from_file_{info.n_people}",
            help=f"Fixed by the graph file {info.file}: it holds {info.n_people:,} people.",
        )
        return int(people), info
    people = column.number_input(
        "People in the market",
        min_value=MIN_PEOPLE,
        max_value=MAX_PEOPLE,
        step=step,
        key=kept(key, min(max(value, MIN_PEOPLE), MAX_PEOPLE)),
        help=help_text,
    )
    return int(people), None


def strategy_and_people(
    columns: Sequence[Any],
    key: str,
    preferred: tuple[str, ...],
    people_default: int,
    people_step: int,
    people_help: str | None = None,
    people_min: int | None = None,
) -> tuple[str, Scenario, int]:
    """A strategy picker and a market-size input in the first two ``columns``, kept for the session.

    The strategy defaults to the first of ``preferred`` in the library; the size to the scenario's
    ``network.n``, capped at ``people_default`` (pages that simulate on demand keep it small). Any
    size the schema allows is accepted (``people_min`` is kept for callers and ignored); a graph
    file fixes the size to its people (the input is disabled with the reason, see
    :func:`people_input`) and its notes are shown.
    """
    del people_min  # the schema's bounds apply everywhere
    names = list(library())
    default = next((n for n in preferred if n in names), names[0])
    if st.session_state.get(f"{key}_strategy") not in names:
        st.session_state.pop(f"{key}_strategy", None)
    name = columns[0].selectbox("Strategy", names, key=kept(f"{key}_strategy", default))
    base = scenario_named(name)
    size = base.network.n if base.network.n is not None else people_default
    people, info = people_input(
        columns[1],
        f"{key}_people",
        base,
        DEFAULT_PEOPLE or min(size, people_default),
        people_step,
        people_help,
    )
    show_graph_notes(info)
    return name, base, people


def add_to_library(name: str, scenario: Scenario) -> str:
    """Store ``scenario`` (and the files it carries) under ``name`` (made unique); return the name used."""
    name = unique_name(name, library())
    put_in_library(name, scenario)
    return name


def put_in_library(name: str, scenario: Scenario) -> None:
    """Store ``scenario`` and the files it carries under ``name``, replacing any scenario of that name."""
    library()[name] = scenario_to_yaml(scenario.model_copy(update={"name": name[:80]}))
    st.session_state[LIBRARY_FILES][name] = dict(scenario.attachments or {})


def scenario_named(name: str, overrides: dict[str, Any] | None = None) -> Scenario:
    """The library scenario ``name``, with dotted-path overrides (raises ScenarioError).

    The scenario is sandboxed to its library files: a graph file must be one of them.
    """
    return _parsed(library()[name], json.dumps(overrides or {}, sort_keys=True), name, files_of(name))


@st.cache_data(show_spinner=False, max_entries=128)
def _parsed(text: str, overrides: str, source: str, files: Files = ()) -> Scenario:
    """A scenario text parsed and validated with overrides (JSON), cached: pages rerun on every click.

    ``files`` are its sandbox (:func:`files_of`). It only computes (a cached function never touches
    the page); errors are raised, not cached.
    """
    return scenario_from_text(text, json.loads(overrides) or None, source=source, attachments=dict(files))


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
    except EdgeListError as exc:
        show_graph_problem(exc)
    except Exception as exc:
        st.error(
            f"**Something went wrong:** {markdown_literal(f'{type(exc).__name__}: {exc}')[:300]}\n\n"
            "Nothing was changed. If this keeps happening, run the same scenario with "
            "`ripple run --debug` to see the details."
        )


def show_graph_problem(exc: EdgeListError, heading: str = "The graph file cannot be used") -> None:
    """One error box for a graph file: the summary, up to five example lines and the likely fix."""
    headline, *details = exc.lines()
    lines = "\n".join(f"- {line.strip()}" for line in details)
    st.error(f"**{heading}:** {headline}" + (f"\n\n{lines}" if lines else ""))


def upload_scenario(key: str) -> None:
    """A file uploader that adds valid scenarios (with their graph files) to the library.

    A scenario may come with the graph file it names (``network.path``: the file's name); it can use
    only files uploaded with it. Each scenario file is checked fully, graph included, before
    anything changes; what is wrong is listed instead.
    """
    uploaded_files = st.file_uploader(
        f"Upload a scenario (YAML, at most {MAX_SCENARIO_BYTES // 1000:,} kB) together with its graph "
        f"file, if it has one (an edge list, GraphML, GEXF, GML or Pajek, any file name; at most "
        f"{MAX_GRAPH_UPLOAD_BYTES // 1_000_000:,} MB)",
        key=key,
        # Any file name: a graph file may have any extension, and one that cannot be read is refused
        # by its reader with the reason ("is binary data, not a text edge list"). Restricting types
        # made the browser drop such a file, and the scenario then said it was never uploaded.
        type=None,
        accept_multiple_files=True,
        help=(
            "A file like those in scenarios/. A scenario whose network is a graph file names it by file "
            "name (network.path: karate.txt) and is uploaded with it; it cannot read files on the "
            "server. Everything is checked before anything changes."
        ),
        max_upload_size=UPLOAD_MB,
    )
    if not uploaded_files:
        return
    done: dict[str, list[str]] = st.session_state.setdefault(f"{key}:done", {})
    marker = "|".join(sorted(f.file_id for f in uploaded_files))
    if marker in done:
        for line in done[marker]:
            st.caption(line)
        return
    uploaded = {f.name: f.getvalue() for f in uploaded_files}
    scenarios, problems = read_uploads(uploaded)
    for filename, exc in problems.items():
        if isinstance(exc, EdgeListError):
            show_graph_problem(
                exc, f"{markdown_literal(filename)} was not added: its graph file cannot be used"
            )
        elif isinstance(exc, ScenarioError):
            text_file = not any("must be a text file" in problem.allowed for problem in exc.problems)
            what = "a valid scenario" if text_file else "a text scenario file"
            show_problems(exc, f"{markdown_literal(filename)} was not added: it is not {what}")
    # The uploader keeps earlier files in its list, so an upload hands over the earlier files again:
    # a scenario (with its graph file) added before in this session is not added a second time.
    added: dict[str, str] = st.session_state.setdefault(UPLOADED, {})
    messages = []
    for filename, scenario in scenarios.items():
        digest = upload_digest(uploaded[filename], scenario.attachments)
        if added.get(digest) in library():
            messages.append(
                f"{markdown_literal(filename)} is already in the scenarios as "
                f"**{markdown_literal(added[digest])}**."
            )
            st.caption(messages[-1])
            continue
        name = add_to_library(scenario.name, scenario)
        added[digest] = name
        messages.append(
            f"Added {markdown_literal(filename)} to the scenarios as **{markdown_literal(name)}**."
        )
        st.success(messages[-1])
    if messages:  # never add the same upload twice; refused files are listed once more
        done[marker] = messages + [
            f"{markdown_literal(filename)} was not added (see the problems above)." for filename in problems
        ]


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


@st.cache_resource(show_spinner=False)
def job_board() -> JobBoard:
    """The app's board of comparisons (one per server process, shared by every session and tab).

    Held by Streamlit's resource cache, not in a module: Streamlit's file watcher drops every watched
    module from ``sys.modules`` when any source file changes (a checkout, a merge), so a module-level
    board was built anew and every kept result was lost (a link opened later simulated again). The
    resource cache outlives that reload; it only computes.
    """
    return JobBoard(keep=KEEP_RESULTS)


def style_once() -> None:
    """The app's few style rules: results greyed out while they are for other inputs."""
    st.html(
        "<style>"
        ".st-key-cmp_results_stale { opacity: 0.45; filter: grayscale(0.7); transition: opacity .2s; }"
        "</style>"
    )
