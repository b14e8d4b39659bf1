"""Compare page: two to four strategies on one market, paired over replications."""

from __future__ import annotations

import time

import streamlit as st

from app_pages.common import (
    DEFAULT_PEOPLE,
    cached_compare,
    files_of,
    library,
    people_input,
    scenario_named,
    show_graph_notes,
    show_problems,
    upload_scenario,
)
from sim.analysis import report
from sim.scenario import ScenarioError, scenario_to_yaml
from sim.ui import viz
from sim.ui.library import world_problems

st.title("Compare strategies")
st.markdown(
    "Pick two to four strategies. Each replication builds **one market** (the same people on the same "
    "social graph) and runs every strategy on it with the **same random numbers**, so the differences "
    "below are *paired*: far more precise than comparing separate runs."
)

names = list(library())
defaults = [n for n in ("funnel_heavy", "ripple_heavy", "hybrid") if n in names] or names[:2]
chosen = st.multiselect(
    "Strategies (the first is the baseline)", names, default=defaults, max_selections=4, key="cmp_strategies"
)

first = scenario_named(chosen[0]) if chosen else None
cols = st.columns(4)
replications = cols[0].number_input(
    "Replications", min_value=1, max_value=100, value=5, step=1, key="cmp_reps", help="Markets simulated."
)
seed = cols[1].number_input(
    "Seed",
    min_value=0,
    value=int(first.seed) if first else 0,
    step=1,
    key="cmp_seed",
    help="Root seed: each replication's seed derives from it.",
)
people, graph = people_input(
    cols[2],
    "cmp_people",
    first,
    DEFAULT_PEOPLE or (first.network.n or 10_000 if first else 10_000),
    1000,
    "Sets network.n for every strategy (smaller runs faster).",
)
days = cols[3].number_input(
    "Days",
    min_value=1,
    max_value=3650,
    value=int(first.days) if first else 365,
    step=30,
    key="cmp_days",
    help="Horizon: sets days for every strategy.",
)

show_graph_notes(graph)

with st.expander("Upload a scenario, or download the chosen ones"):
    upload_scenario("cmp_upload")
    download_cols = st.columns(max(1, len(chosen)))
    for column, name in zip(download_cols, chosen, strict=False):
        column.download_button(
            f"{name}.yaml",
            library()[name],
            file_name=f"{name}.yaml",
            mime="application/x-yaml",
            key=f"dl_yaml_{name}",
        )

if len(chosen) < 2:
    st.info("Choose at least two strategies to compare.")
    st.stop()

overrides = {"network.n": int(people), "days": int(days)}
try:
    named = {name: scenario_named(name, overrides) for name in chosen}
except ScenarioError as exc:
    show_problems(exc, "A chosen strategy is not valid with these settings")
    st.stop()

problems = world_problems(named)
if problems:
    st.error(
        "**These strategies cannot be compared side by side.** A comparison builds one market per "
        "replication (the `network` and `population` sections) and runs every strategy on it, with "
        "one horizon (`days`), so that differences are paired. Choose strategies that share them, or "
        "edit one in the Scenario editor so it matches the baseline:\n\n"
        + "\n".join(f"- {line}" for line in problems)
    )
    st.stop()

texts = tuple((name, scenario_to_yaml(scenario)) for name, scenario in named.items())
strategy_files = tuple((name, files_of(name)) for name in named)
key = (texts, int(replications), int(seed), strategy_files)
if st.button("Run comparison", type="primary", key="cmp_run"):
    bar = st.progress(0.0, text="Simulating…")

    def on_run(done: int, total: int) -> None:
        """Advance the progress bar after each run."""
        bar.progress(done / total, text=f"Simulating: run {done} of {total}")

    started = time.perf_counter()
    st.session_state["cmp_result"] = (key, cached_compare(*key[:3], _on_run=on_run, files=strategy_files))
    st.session_state["cmp_seconds"] = time.perf_counter() - started
    bar.empty()

stored = st.session_state.get("cmp_result")
if stored is None or stored[0] != key:
    st.caption(
        "Press **Run comparison** to simulate these strategies (results are cached by scenario and seed)."
    )
    st.stop()

comparison = stored[1]
baseline = named[comparison.baseline]
currency = baseline.economics.currency
strategies = comparison.strategies
st.caption(
    f"{len(strategies)} strategies × {len(comparison.seeds)} replications, {int(people):,} people, "
    f"{int(days)} days; finished in {st.session_state.get('cmp_seconds', 0):.1f} s."
)

st.subheader("Verdict")
for sentence in report.verdict(comparison, currency):
    st.markdown(f"- {sentence}")

st.subheader("Headline metrics")
show_all = st.toggle(
    "Show every metric",
    value=False,
    key="cmp_all_metrics",
    help="Off: metrics that are zero or undefined for every strategy (levers none of them uses) are hidden.",
)
table = report.metric_table(comparison, currency, in_cells=False, only_active=not show_all)
diff_columns = [c for c in table.columns if c.startswith("Δ ")]
st.caption("Mean [95% interval] over replications.")
rows_height = 35 * (len(table) + 1) + 3  # every metric visible, no scrolling inside the table
st.dataframe(table.drop(columns=diff_columns), hide_index=True, width="stretch", height=rows_height)
st.markdown(f"**Paired differences against the baseline, {comparison.baseline}**")
st.caption(
    "Each replication runs every strategy on the same market and random numbers; this is the mean of "
    "those paired differences [95% interval]. \\* marks an interval that excludes zero."
)
st.dataframe(table[["metric", "unit", *diff_columns]], hide_index=True, width="stretch", height=rows_height)

st.subheader("Charts")
st.altair_chart(viz.cumulative_chart(report.cumulative_by_channel(comparison), strategies))
left, right = st.columns(2)
left.altair_chart(viz.cac_chart(report.cac_by_channel(comparison), strategies, currency), width="stretch")
right.altair_chart(
    viz.profit_chart(report.profit_over_time(comparison), strategies, currency), width="stretch"
)
group_by = st.radio("Retention curves by", ["channel", "cohort"], horizontal=True, key="cmp_retention_by")
curves = report.retention_curves(comparison, group_by)
if curves.empty:
    st.info(f"Too few customers per {group_by} (fewer than 20 in a run) to draw retention curves.")
else:
    st.altair_chart(viz.retention_chart(curves, strategies, group_by))

st.subheader("Download results")
files = report.comparison_downloads(comparison)
download_cols = st.columns(len(files))
for column, (filename, data) in zip(download_cols, files.items(), strict=True):
    column.download_button(filename, data, file_name=filename, key=f"dl_{filename}")
