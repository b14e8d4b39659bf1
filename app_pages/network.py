"""Network page: the ripple spreading over a drawable sample of the social graph, day by day.

Play, Pause, Step and a speed control, as NetLogo's go, go-once and speed slider: playing reruns only
the player (a Streamlit fragment) on a timer, and a day is advanced only once the previous one was
drawn in full, so no frame is skipped. The charts' specifications do not change from day to day
(:func:`sim.ui.viz.network_spec`): a new day only swaps the people's data in the browser.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.common import Files, files_of, scenario_from_library_text, scenario_named, strategy_and_people
from app_pages.state import kept
from sim.analysis.compare import SHARED_WORLD_SECTIONS
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

#: Speeds offered (days per second) → (frames per second, days per frame): at most 4 frames a second,
#: which a busy machine still draws in full.
SPEEDS: dict[str, tuple[float, int]] = {
    "1 day/s": (1.0, 1),
    "2 days/s": (2.0, 1),
    "4 days/s": (4.0, 1),
    "8 days/s": (4.0, 2),
    "16 days/s": (4.0, 4),
    "32 days/s": (4.0, 8),
}

st.title("The ripple on the network")
st.markdown(
    "A sample of the market's social graph, coloured by where each person stands or by the channel that "
    "made them a customer. Special people are marked: ◆ KOLs, ■ employees, ▲ seeded users, ✚ fake "
    "accounts. Small markets are drawn whole; larger ones as a connected sample. **Play** runs the days, "
    "**Step** moves one frame, the speed sets days per second."
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
    "Days", min_value=1, max_value=3650, step=30, key=kept("net_days", min(int(base.days), 365))
)
shown = cols[3].number_input(
    "People drawn",
    min_value=50,
    max_value=MAX_SHOWN_NODES,
    step=100,
    key=kept("net_shown", min(600, MAX_SHOWN_NODES)),
    help=f"At most {MAX_SHOWN_NODES:,}: the layout is computed once for this sample and cached.",
)
scenario = scenario_named(name, {"network.n": int(people), "days": int(days)})
text = scenario_to_yaml(scenario)
world_key = json.dumps({s: scenario.market()[s] for s in SHARED_WORLD_SECTIONS}, sort_keys=True)


@st.cache_data(show_spinner="Laying out the sample…", max_entries=8)
def cached_layout(
    world: str, seed: int, max_nodes: int, files: Files, _scenario_text: str
) -> tuple[NetworkSample, np.ndarray]:
    """Sample and layout of one world (keyed by its definition, graph file and seed); never draws."""
    sample = network_sample(scenario_from_library_text(_scenario_text, files), seed, max_nodes=max_nodes)
    return sample, layout(sample, seed=seed % 2**32)


@st.cache_data(show_spinner="Simulating…", max_entries=8)
def cached_history(scenario_yaml: str, seed: int, nodes: bytes, files: Files = ()) -> SpreadHistory:
    """Day-by-day states of the sampled people (keyed by scenario text, seed and the sample)."""
    scenario = scenario_from_library_text(scenario_yaml, files)
    return record_spread(scenario, np.frombuffer(nodes, dtype=np.int64), seed)


sample, positions = cached_layout(world_key, int(scenario.seed), int(shown), files_of(name), text)
history = cached_history(text, int(scenario.seed), sample.nodes.astype(np.int64).tobytes(), files_of(name))
edges = sample.edges
edge_frame = pd.DataFrame(
    {
        "x": positions[edges[:, 0], 0] if len(edges) else [],
        "y": positions[edges[:, 0], 1] if len(edges) else [],
        "x2": positions[edges[:, 1], 0] if len(edges) else [],
        "y2": positions[edges[:, 1], 1] if len(edges) else [],
    }
)

last = history.days
# The frame shown lives in a session key of its own: while playing, a timed rerun may arrive with the
# slider's older value from the browser, which must not move the frame back.
st.session_state["_net_frame"] = min(int(st.session_state.get("_net_frame", last)), last)
st.session_state.setdefault("_net_playing", False)


def _play() -> None:
    """Start (from day 0 when at the end) or pause."""
    playing = not st.session_state["_net_playing"]
    if playing and st.session_state["_net_frame"] >= last:
        st.session_state["_net_frame"] = 0
    st.session_state["_net_playing"] = playing
    st.session_state["_net_drawn"] = None


def _step() -> None:
    """One frame forward (pauses first)."""
    st.session_state["_net_playing"] = False
    step = SPEEDS[st.session_state.get("net_speed", "2 days/s")][1]
    st.session_state["_net_frame"] = min(last, int(st.session_state["_net_frame"]) + step)


def _scrub() -> None:
    """The day slider moved by hand: show that day (and pause)."""
    st.session_state["_net_playing"] = False
    st.session_state["_net_frame"] = int(st.session_state["net_day"])


playing = bool(st.session_state["_net_playing"])
fps, per_frame = SPEEDS[st.session_state.get("net_speed", "2 days/s")]


@st.fragment(run_every=1.0 / fps if playing else None)
def player() -> None:
    """Controls and the two charts; while playing, each timed run draws the next frame."""
    if st.session_state["_net_playing"] != playing:
        st.rerun()  # Play or Pause was pressed here: rerun the page to start or stop the timer
    frame = int(st.session_state["_net_frame"])
    if st.session_state["_net_playing"] and st.session_state.get("_net_drawn") == frame:
        # The previous frame was drawn in full: move on (a run cut short draws its frame again).
        if frame >= last:
            st.session_state["_net_playing"] = False
            st.rerun()  # stop the timer
        frame = st.session_state["_net_frame"] = min(last, frame + per_frame)
    st.session_state["net_day"] = frame
    controls = st.columns(
        [2, 2, 3, 3, 4]
    )  # wide enough for an icon and its word (narrower cut "Play" to "P…")
    # Material icons, not emoji: a browser without emoji fonts drew "⏭" as a missing-glyph box.
    playing_now = st.session_state["_net_playing"]
    controls[0].button(
        "Pause" if playing_now else "Play",
        icon=":material/pause:" if playing_now else ":material/play_arrow:",
        key="net_play",
        on_click=_play,
        help="Run the days one frame after another (go).",
    )
    controls[1].button(
        "Step",
        icon=":material/skip_next:",
        key="net_step",
        on_click=_step,
        help="One frame forward (go once).",
    )
    controls[2].select_slider("Speed", list(SPEEDS), key=kept("net_speed", "2 days/s"))
    colour_by = controls[3].radio(
        "Colour by", ["stage", "channel"], key=kept("net_colour", "stage"), horizontal=True
    )
    controls[4].slider("Day", 0, max(last, 1), key="net_day", on_change=_scrub, disabled=last == 0 or playing)
    nodes = frame_at(history, frame, positions)
    customers = int((nodes["stage"] == "customer").sum())
    st.caption(
        f"Day {frame} of {last}: {len(nodes):,} of {sample.n_people:,} people drawn, {len(edges):,} "
        f"friendships; {customers:,} of them active customers.",
    )
    left, right = st.columns([3, 2])
    left.vega_lite_chart(viz.network_spec(nodes, edge_frame, colour_by), width="stretch", key="net_chart")
    right.vega_lite_chart(viz.stage_counts_spec(history.counts, frame), width="stretch", key="net_counts")
    st.session_state["_net_drawn"] = frame


player()
shown_day = int(st.session_state["_net_frame"])
role_counts = pd.Series(frame_at(history, shown_day, positions)["role"]).value_counts()
st.caption(
    "Roles in the drawn sample: "
    + ", ".join(f"{role}: {int(role_counts.get(role, 0)):,}" for role in viz.ROLE_SHAPES)
    + ". Roles are assigned by the roles/seeding and fraud rules when a scenario switches them on."
)
