"""Compare page: two to four strategies on one market, paired over replications.

Inputs are kept for the session and mirrored in the URL (``?s=funnel_heavy&s=hybrid&reps=5&seed=7&
people=2500&days=120``), so a link reproduces a comparison. The comparison runs in a background job
(:mod:`sim.ui.jobs`): the page shows its progress and time left, offers Cancel, greys out the previous
results while inputs change, and draws a result computed by any session for the same inputs at once.
"""

from __future__ import annotations

import time

import streamlit as st

from app_pages.common import (
    DEFAULT_PEOPLE,
    compare_workers,
    files_of,
    job_board,
    library,
    people_input,
    scenario_named,
    show_graph_notes,
    show_problems,
    upload_scenario,
)
from app_pages.state import kept, reset
from sim.analysis import report
from sim.scenario import MAX_PEOPLE, MIN_PEOPLE, ScenarioError, scenario_to_yaml
from sim.ui import viz
from sim.ui.compare_view import ComparisonView, Inputs, reproduction_zip, run_comparison
from sim.ui.jobs import Job, Progress
from sim.ui.library import attack_line, world_problems
from sim.ui.text import markdown_literal

#: Query-string names of the inputs (a link to the page reproduces the comparison).
URL_INPUTS = {"reps": "cmp_reps", "seed": "cmp_seed", "people": "cmp_people", "days": "cmp_days"}
LIMITS = {
    "cmp_reps": (1, 100),
    "cmp_seed": (0, 2**53 - 1),
    "cmp_people": (MIN_PEOPLE, MAX_PEOPLE),
    "cmp_days": (1, 3650),
}

st.title("Compare strategies")
st.markdown(
    "Pick two to four strategies. Each replication builds **one market** (the same people on the same "
    "social graph) and runs every strategy on it with the **same random numbers**, so the differences "
    "below are *paired*: far more precise than comparing separate runs."
)

names = list(library())


def _from_url() -> None:
    """Fill the inputs from the URL once per session (a shared link), before any widget is drawn."""
    if st.session_state.get("_cmp_url_read"):
        return
    st.session_state["_cmp_url_read"] = True
    params = st.query_params
    known = [n for n in params.get_all("s") if n in names]
    wanted = known[:4]
    if wanted:
        reset("cmp_strategies", wanted)
    replaced: list[tuple[str, str, str]] = []  # (parameter, value in the link, why it was not used)
    if len(known) > 4:
        replaced.append(("s", ", ".join(known[4:]), "a comparison takes at most four strategies"))
    for param, key in URL_INPUTS.items():
        text = params.get(param)
        if text is None:
            continue
        low, high = LIMITS[key]
        allowed = f"a whole number from {low:,} to {high:,}"
        try:
            value = int(text.strip())
        except ValueError:
            replaced.append((param, text, f"not {allowed}"))
            continue
        if not low <= value <= high:
            replaced.append((param, text, f"not {allowed}"))
        reset(key, min(max(value, low), high))
    st.session_state["_cmp_url_replaced"] = replaced
    unknown = [n for n in params.get_all("s") if n not in names]
    if unknown:
        st.session_state["_cmp_url_unknown"] = unknown


_from_url()
defaults = [n for n in ("funnel_heavy", "ripple_heavy", "hybrid") if n in names] or names[:2]
if "cmp_strategies" in st.session_state:  # a strategy may have left the library (never here today)
    st.session_state["cmp_strategies"] = [n for n in st.session_state["cmp_strategies"] if n in names]
chosen = st.multiselect(
    "Strategies (the first is the baseline)",
    names,
    max_selections=4,
    key=kept("cmp_strategies", defaults),
)
if st.session_state.get("_cmp_url_unknown"):
    st.warning(
        "The link names strategies this session does not have (uploaded or edited elsewhere): "
        + ", ".join(st.session_state.pop("_cmp_url_unknown"))
        + ". Upload their files below to compare them."
    )

first = scenario_named(chosen[0]) if chosen else scenario_named(defaults[0])
cols = st.columns(4)
replications = cols[0].number_input(
    "Replications", min_value=1, max_value=100, step=1, key=kept("cmp_reps", 5), help="Markets simulated."
)
seed = cols[1].number_input(
    "Seed",
    min_value=0,
    max_value=2**53 - 1,  # what a browser's numbers hold exactly
    step=1,
    key=kept("cmp_seed", int(first.seed)),
    help="Root seed: each replication's seed derives from it.",
)
people, graph = people_input(
    cols[2],
    "cmp_people",
    first,
    DEFAULT_PEOPLE or first.network.n or 10_000,
    1000,
    "Sets network.n for every strategy (smaller runs faster).",
)
days = cols[3].number_input(
    "Days",
    min_value=1,
    max_value=3650,
    step=30,
    key=kept("cmp_days", int(first.days)),
    help="Horizon: sets days for every strategy.",
)
st.query_params.from_dict(
    {"s": chosen, "reps": str(replications), "seed": str(seed), "people": str(people), "days": str(days)}
)

replaced_values = st.session_state.pop("_cmp_url_replaced", [])
if replaced_values:  # once, when the link is read: say what was used instead of each bad value
    used = {"reps": f"{replications:,}", "seed": str(seed), "people": f"{people:,}", "days": f"{days:,}"}
    lines = [
        f"- `{param}`: {markdown_literal(repr(text))} is {why}; used {used[param]}"
        if param in used
        else f"- `{param}`: {markdown_literal(text)} left out ({why})"
        for param, text, why in replaced_values
    ]
    st.warning("The link has values this page cannot use; each was replaced:\n\n" + "\n".join(lines))
show_graph_notes(graph)

with st.expander("Upload a scenario"):
    upload_scenario("cmp_upload")

if len(chosen) < 2:
    st.info("Choose at least two strategies to compare.")
    st.stop()

try:
    named = {
        name: scenario_named(
            name, {"name": name[:80], "network.n": int(people), "days": int(days), "seed": int(seed)}
        )
        for name in chosen
    }
except ScenarioError as exc:
    show_problems(exc, "A chosen strategy is not valid with these settings")
    st.stop()

problems = world_problems(named)
if problems:
    st.error(
        "**These strategies cannot be compared side by side.** A comparison builds one market per "
        "replication (the real people and their ties: the `network` and `population` sections) and runs "
        "every strategy on it, with one horizon (`days`), so that differences are paired. Choose "
        "strategies that share them, or edit one in the Scenario editor so it matches the baseline:\n\n"
        + "\n".join(f"- {line}" for line in problems)
    )
    st.stop()
attack = attack_line(named)
if attack:
    st.info(attack, icon=":material/security:")

inputs = Inputs(
    texts=tuple((name, scenario_to_yaml(scenario)) for name, scenario in named.items()),
    replications=int(replications),
    seed=int(seed),
    files=tuple((name, files_of(name)) for name in named),
)
workers = compare_workers(inputs.replications)

buttons = st.columns([1, 1, 4])
run_clicked = buttons[0].button("Run comparison", type="primary", key="cmp_run")
mine: Job | None = st.session_state.get("cmp_job")
if mine is not None and mine.running and mine.key != inputs.key:
    mine.cancel()  # the inputs changed: that run is not wanted any more (its results stay greyed)
if run_clicked:

    def work(progress: Progress) -> ComparisonView:
        """The page's run function, in the job's thread: it computes, never draws."""
        return run_comparison(inputs, progress, workers)

    mine = job_board().start(inputs.key, work, total=inputs.runs)
    st.session_state["cmp_job"] = mine
running_here = mine is not None and mine.running and mine.key == inputs.key
cancel_slot = buttons[1].empty()
if running_here and cancel_slot.button("Cancel", key="cmp_cancel", help="Stop; the last results stay."):
    assert mine is not None
    mine.cancel()
    mine.wait(10)
job = mine if mine is not None and mine.key == inputs.key else job_board().get(inputs.key)

if job is not None and job.running:
    bar = st.progress(job.fraction, text="Simulating…")
    status = st.empty()
    while job.running:
        left = job.seconds_left()
        bar.progress(
            job.fraction,
            text=f"Simulating: run {job.done} of {job.total or inputs.runs}"
            + (f", about {left:.0f} s left" if left is not None else ""),
        )
        time.sleep(0.2)
    bar.empty()
if job is None or not job.running:
    cancel_slot.empty()  # nothing runs (finished, failed or just cancelled): no Cancel to press
if job is not None and job.state == "cancelled":
    st.warning("Cancelled: nothing was kept from that run. Press **Run comparison** to start again.")
elif job is not None and job.state == "failed":
    st.error(f"**The comparison failed:** {type(job.error).__name__}: {job.error}")

fresh = job is not None and job.state == "done"
if fresh:
    assert job is not None
    st.session_state["cmp_shown"] = job
shown: Job | None = st.session_state.get("cmp_shown")
if shown is None:
    st.caption(
        f"Press **Run comparison** to simulate {inputs.runs} runs "
        f"({len(chosen)} strategies × {inputs.replications} replications). Results are kept: the same "
        "inputs show them again at once, in any tab."
    )
    st.stop()

view: ComparisonView = shown.result
stale = shown.key != inputs.key
if stale:
    st.warning(
        "The results below are for earlier inputs "
        f"({', '.join(view.inputs.names)}; {view.inputs.replications} replications, seed "
        f"{view.inputs.seed}, {view.people:,} people, {view.days} days). Press **Run comparison** "
        "to update them."
    )
box = st.container(key="cmp_results_stale" if stale else "cmp_results")
with box:
    st.caption(
        f"{len(view.inputs.names)} strategies × {view.inputs.replications} replications, "
        f"{view.people:,} people, {view.days} days, seed {view.inputs.seed}; simulated in "
        f"{shown.seconds:.1f} s."
    )
    strategies = view.comparison.strategies
    colours = viz.strategy_colours(strategies)

    st.subheader("The answer")
    st.markdown("\n".join(f"- {sentence}" for sentence in view.verdict))
    notes = getattr(view, "budget_notes", [])  # a result kept from before this field had none
    if notes:  # one box, a line per strategy: four strategies would otherwise stack four boxes
        st.warning(
            "\n".join(f"- {note}" for note in notes) if len(notes) > 1 else notes[0],
            icon=":material/savings:",
        )

    st.subheader("Headline numbers")
    st.caption(
        f"Mean over replications. Under each number: the paired difference against the baseline, "
        f"{view.comparison.baseline} (hover ? for the 95% intervals)."
    )
    card_columns = st.columns(len(strategies))
    for column, strategy, colour in zip(card_columns, strategies, colours, strict=True):
        with column:
            st.html(
                f'<div style="font-weight:600;font-size:1.05rem"><span style="color:{colour}">■</span> '
                f"{strategy}</div>"
            )
            for card in view.cards[strategy]:
                st.metric(
                    card.label,
                    card.value,
                    delta=card.delta,
                    delta_color=card.delta_colour,  # type: ignore[arg-type]
                    help=card.help,
                    border=True,
                )

    st.subheader("Charts")
    charts = view.charts
    st.vega_lite_chart(charts["profit"], width="stretch")
    if charts.get("market_share") is not None:
        st.vega_lite_chart(charts["market_share"], width="stretch")
    if charts["cumulative"] is None:
        st.caption("No strategy won a new customer in this horizon, so there is no acquisition curve.")
    else:
        st.vega_lite_chart(charts["cumulative"])
    if charts["cac"] is None:
        st.caption(report.no_cac_words(view.comparison, view.currency))
    else:
        st.vega_lite_chart(charts["cac"], width="stretch")
        if "sharing" in set(view.cac["channel"]):
            st.caption(report.SHARING_CAC_CAPTION)
    if charts.get("spend") is not None:
        st.vega_lite_chart(charts["spend"])  # a budget that is a schedule shows its shape here
    group_by = st.radio(
        "Retention curves by", ["channel", "cohort"], horizontal=True, key=kept("cmp_retention_by", "channel")
    )
    retention = charts[f"retention_{group_by}"]
    if retention is None:
        st.info(
            f"Too few customers per {group_by} (fewer than 20 in a run) to draw retention curves"
            + (": a longer horizon or a larger market helps." if view.days < 60 else ".")
        )
    else:
        st.vega_lite_chart(retention)
        with_curves = set(view.retention[group_by]["strategy"])
        missing = [name for name in strategies if name not in with_curves]
        if missing:  # a strategy without a panel is said, not silently left out
            st.caption(
                f"No curve for {', '.join(missing)}: fewer than 20 customers in any {group_by} in a run."
            )

    with st.expander("Tables: every metric, with 95% intervals and paired differences"):
        show_all = st.toggle(
            "Show every metric",
            key=kept("cmp_all_metrics", False),
            help="Off: metrics that are zero or undefined for every strategy (levers none uses) are hidden.",
        )
        table = view.tables[bool(show_all)]
        st.caption(
            "Mean [95% interval] over replications; the last columns are paired differences against "
            f"{view.comparison.baseline}; * marks an interval that excludes zero."
        )
        st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(table) + 1) + 3)

    st.subheader("Download and reproduce")
    files = view.downloads
    download_cols = st.columns(len(files))
    for column, (filename, data) in zip(download_cols, files.items(), strict=True):
        column.download_button(filename, data, file_name=filename, key=f"dl_{filename}")
    st.markdown(
        "The scenarios as compared (with these People, Days and Seed) reproduce the same numbers from a "
        "terminal:"
    )
    command = view.reproduce["command.txt"]
    assert isinstance(command, str)
    st.code(command.strip(), language="bash", wrap_lines=True)
    yaml_cols = st.columns(len(strategies) + 1)
    yaml_cols[0].download_button(
        "scenarios + command (zip)",
        reproduction_zip(view.reproduce),
        file_name="ripple_comparison.zip",
        mime="application/zip",
        key="dl_reproduce_zip",
    )
    for column, (filename, text) in zip(
        yaml_cols[1:], [(f, t) for f, t in view.reproduce.items() if f.endswith(".yaml")], strict=True
    ):
        column.download_button(
            filename, text, file_name=filename, mime="application/x-yaml", key=f"dl_yaml_{filename}"
        )
