"""Network page: the ripple spreading over a drawable sample of the social graph, day by day."""

from __future__ import annotations

import time
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app_pages.common import Files, files_of, scenario_from_library_text, scenario_named, strategy_and_people
from sim.scenario import scenario_to_yaml
from sim.ui import viz
from sim.ui.spread import (
    MAX_SHOWN_NODES,
    NetworkSample,
    SpreadHistory,
    frame_at,
    layout,
    network_sample,
    record_spread,
)

st.title("The ripple on the network")
st.markdown(
    "A sample of the market's social graph, coloured by where each person stands or by the channel that "
    "made them a customer. Special people are marked: ◆ KOLs, ■ employees, ▲ seeded users, ✚ fake "
    "accounts. Small markets are drawn whole; larger ones as a connected sample."
)

cols = st.columns(4)
name, base, people = strategy_and_people(
    cols,
    "net",
    ("seeding_hubs", "ripple_heavy"),
    people_default=2000,
    people_step=500,
    people_help="Sets network.n; the whole market is simulated, a sample is drawn.",
)
days = cols[2].number_input(
    "Days", min_value=1, max_value=3650, value=min(int(base.days), 365), step=30, key="net_days"
)
shown = cols[3].number_input(
    "People drawn",
    min_value=50,
    max_value=MAX_SHOWN_NODES,
    value=min(600, MAX_SHOWN_NODES),
    step=100,
    key="net_shown",
    help=f"At most {MAX_SHOWN_NODES:,}: the layout is computed once for this sample and cached.",
)
scenario = scenario_named(name, {"network.n": int(people), "days": int(days)})
text = scenario_to_yaml(scenario)


@st.cache_data(show_spinner="Laying out the sample…", max_entries=8)
def cached_layout(
    network_yaml: str, seed: int, max_nodes: int, files: Files = ()
) -> tuple[NetworkSample, np.ndarray]:
    """Sample and spring layout, keyed by the graph's definition (network section + seed) only."""
    world_scenario = scenario_from_library_text(network_yaml, files)
    sample = network_sample(world_scenario, seed, max_nodes=max_nodes)
    return sample, layout(sample, seed=seed % 2**32)


@st.cache_data(show_spinner="Simulating…", max_entries=8)
def cached_history(scenario_yaml: str, seed: int, nodes: bytes, files: Files = ()) -> SpreadHistory:
    """Day-by-day states of the sampled people (keyed by scenario text, seed and the sample)."""
    scenario = scenario_from_library_text(scenario_yaml, files)
    return record_spread(scenario, np.frombuffer(nodes, dtype=np.int64), seed)


sample, positions = cached_layout(text, int(scenario.seed), int(shown), files_of(name))
history = cached_history(text, int(scenario.seed), sample.nodes.astype(np.int64).tobytes(), files_of(name))

controls = st.columns([3, 1, 1])
colour_by = controls[1].radio("Colour by", ["stage", "channel"], key="net_colour", horizontal=True)
play = controls[2].button("▶ Play", key="net_play", help="Animate from day 0 to the chosen day.")
day = controls[0].slider("Day", 0, history.days, value=history.days, key="net_day")

edges = sample.edges
edge_frame = pd.DataFrame(
    {
        "x": positions[edges[:, 0], 0] if len(edges) else [],
        "y": positions[edges[:, 0], 1] if len(edges) else [],
        "x2": positions[edges[:, 1], 0] if len(edges) else [],
        "y2": positions[edges[:, 1], 1] if len(edges) else [],
    }
)
blank = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)


def picture(on_day: int) -> Any:
    """The sample on ``on_day``: friendships as lines, people as marks coloured by stage or channel."""
    nodes = frame_at(history, on_day, positions)
    nodes["marker size"] = np.where(nodes["role"] == "ordinary", 28, 130)
    if colour_by == "stage":
        scale = alt.Scale(domain=list(viz.STAGE_COLOURS), range=list(viz.STAGE_COLOURS.values()))
        colour = alt.Color("stage:N", scale=scale, title="stage", legend=alt.Legend(orient="right"))
    else:
        present = sorted(set(nodes["channel"]) | {"none"})
        colour = alt.Color("channel:N", scale=viz.channel_scale(present), title="channel (active customers)")
    roles = [r for r in viz.ROLE_SHAPES if r in set(nodes["role"])]
    shape = alt.Shape(
        "role:N",
        scale=alt.Scale(domain=roles, range=[viz.ROLE_SHAPES[r] for r in roles]),
        title="role",
    )
    links = (
        alt.Chart(edge_frame)
        .mark_rule(color="#cccccc", opacity=0.35, strokeWidth=0.6)
        .encode(x=alt.X("x:Q", axis=blank), y=alt.Y("y:Q", axis=blank), x2="x2:Q", y2="y2:Q")
    )
    marks = (
        alt.Chart(nodes)
        .mark_point(filled=True, opacity=0.9)
        .encode(
            x=alt.X("x:Q", axis=blank),
            y=alt.Y("y:Q", axis=blank),
            color=colour,
            shape=shape,
            size=alt.Size("marker size:Q", legend=None, scale=None),
            tooltip=["person:Q", "stage:N", "channel:N", "role:N"],
        )
    )
    title = f"Day {on_day}: {len(nodes):,} of {sample.n_people:,} people, {len(edges):,} friendships drawn"
    return alt.layer(links, marks).properties(title=title, height=560)


def counts_chart(on_day: int) -> Any:
    """Whole-market stage counts over time, with a marker at ``on_day``."""
    counts = history.counts
    stage_columns = [f"n_{s}" for s in viz.STAGE_COLOURS]
    long = counts.melt(id_vars="day", value_vars=stage_columns, var_name="stage", value_name="people")
    long["stage"] = long["stage"].str.removeprefix("n_")
    scale = alt.Scale(domain=list(viz.STAGE_COLOURS), range=list(viz.STAGE_COLOURS.values()))
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("day:Q", title="day", scale=alt.Scale(nice=False)),
            y=alt.Y("people:Q", title="people (whole market)", axis=alt.Axis(format=",.0f")),
            color=alt.Color("stage:N", scale=scale, title="stage", legend=alt.Legend(orient="top-right")),
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"day": [on_day]}))
        .mark_rule(color="black", strokeDash=[4, 3])
        .encode(x="day:Q")
    )
    return alt.layer(lines, rule).properties(title="People in each stage, whole market", height=560)


left, right = st.columns([3, 2])
network_slot = left.empty()
counts_slot = right.empty()
if play:
    for frame_day in np.unique(np.linspace(0, day, num=min(day + 1, 24)).astype(int)):
        network_slot.altair_chart(picture(int(frame_day)), width="stretch")
        counts_slot.altair_chart(counts_chart(int(frame_day)), width="stretch")
        time.sleep(0.05)
network_slot.altair_chart(picture(day), width="stretch")
counts_slot.altair_chart(counts_chart(day), width="stretch")
role_counts = pd.Series(frame_at(history, day, positions)["role"]).value_counts()
st.caption(
    "Roles in the drawn sample: "
    + ", ".join(f"{role}: {int(role_counts.get(role, 0)):,}" for role in viz.ROLE_SHAPES)
    + ". Roles are assigned by the roles/seeding and fraud rules when a scenario switches them on."
)
