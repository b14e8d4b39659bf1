"""The 8:1 page under Streamlit's AppTest: the presets, the curve, the slider, the map, words not blanks.

Small markets (300 people, 2 replications) keep each test to seconds; the numbers come from real runs.
"""

from __future__ import annotations

import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.apptest_support import no_traceback, open_app, texts

TIMEOUT = 300
COUNTER = re.compile(r"Simulation runs on this page so far: ([\d,]+)")


def _lesson(people: int = 300, replications: int = 2) -> AppTest:
    # set before the page first runs, so it simulates small
    return open_app("lesson", timeout=TIMEOUT, state={"l_people": people, "l_reps": replications})


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    """Each test counts the runs it causes: start without results another test left in this process."""
    st.cache_resource.clear()  # the page's store of results shared by every session


def _runs_so_far(app: AppTest) -> int:
    (count,) = COUNTER.findall(texts(app.caption))
    return int(count.replace(",", ""))


def test_the_page_explains_and_opens_on_the_market_where_eight_to_one_holds() -> None:
    app = _lesson()
    assert app.title[0].value == "The 8:1 lesson"
    text = texts(app.markdown)
    assert "break-even uplift" in text and "When 8:1 holds, and when it does not" in text
    assert app.selectbox(key="l_strategy").value == "eight_to_one_holds"
    assert "A mature, saturated market in which 8:1 holds" in texts(app.caption)  # why, in one sentence
    labels = [m.label for m in app.metric]
    assert labels[:3] == [
        "Acquisition cost per new customer-year",
        "Retention cost per kept customer-year",
        "Measured ratio (acquisition : retention)",
    ]
    ratio = app.metric[2].value
    assert re.fullmatch(r"[\d,]+\.\d : 1|1 : [\d,]+\.\d|.*bought nothing|no ratio", ratio), ratio
    assert not ratio.startswith("0")  # never "0.1 : 1"
    assert len(app.get("vega_lite_chart")) == 2  # profit and the ratio across the slider
    # 11 splits: each with and without each lever, 30 distinct runs per replication.
    assert _runs_so_far(app) == 30 * 2
    verdict = texts(app.info)
    assert verdict.startswith("Here ") and "per customer-year" in verdict and "Moving the next" in verdict
    # The browser suite finds the verdict by the text "Here " (any case, inside words too): no other
    # text on the page may contain it.
    others = [e.value for kind in (app.markdown, app.caption, app.warning) for e in kind]
    assert not [text for text in others if "here " in str(text).lower()]


def test_moving_the_slider_moves_a_marker_and_runs_nothing() -> None:
    app = _lesson()
    runs = _runs_so_far(app)
    seen = set()
    for share in (0.0, 0.3, 0.5, 0.8, 1.0):
        app.slider(key="l_share").set_value(share).run()
        no_traceback(app)
        assert _runs_so_far(app) == runs
        assert len(app.get("vega_lite_chart")) == 2
        seen.add((app.metric[0].value, app.metric[1].value, app.metric[5].value))
    assert len(seen) == 5  # every split shows its own measurement
    app.slider(key="l_share").set_value(0.0).run()
    assert "No money goes to retention offers at this split" in texts(app.info)
    app.slider(key="l_share").set_value(1.0).run()
    assert "No money goes to ads at this split" in texts(app.info)
    assert app.metric[0].value == "not measured"


def test_the_fresh_market_preset_says_why_eight_to_one_fails_and_unspent_money_in_words() -> None:
    app = _lesson()
    runs = _runs_so_far(app)
    app.selectbox(key="l_strategy").set_value("eight_to_one_fails").run()
    no_traceback(app)
    assert "A fresh market in which 8:1 fails" in texts(app.caption)
    assert _runs_so_far(app) == runs + 60
    # A budget far beyond what 300 people can absorb: the ads cannot spend it, and the page says so.
    total = next(n for n in app.number_input if n.label.startswith("Total daily budget"))
    total.set_value(500.0).run()
    no_traceback(app)
    warnings = texts(app.warning)
    assert re.search(r"The ads could spend only [\d,]+ USD of 146,000 USD", warnings), warnings


def test_the_per_replication_table_is_in_words() -> None:
    app = _lesson()
    (table,) = app.dataframe
    frame = table.value
    assert len(frame) == 2 and "cost per customer-year won" in frame.columns
    cells = frame.astype(str).to_numpy().ravel().tolist()
    assert not any(bad in cell.lower() for cell in cells for bad in ("none", "nan", "<na>"))


def test_the_map_is_drawn_through_the_sweep_once_and_survives_the_slider() -> None:
    app = _lesson()
    runs = _runs_so_far(app)
    app.toggle(key="l_map").set_value(True).run()
    no_traceback(app)
    assert len(app.get("vega_lite_chart")) == 3
    assert re.search(r"8:1 holds in \d+ of 20 markets", texts(app.caption))
    assert _runs_so_far(app) == runs + 20 * 3  # 5 maturities × 4 churns, three runs each
    for share in (0.4, 0.6):
        app.slider(key="l_share").set_value(share).run()
        no_traceback(app)
        assert len(app.get("vega_lite_chart")) == 3 and _runs_so_far(app) == runs + 60
    # Away to another page and back: nothing runs again.
    app.switch_page("app_pages/editor.py").run()
    app.switch_page("app_pages/lesson.py").run()
    no_traceback(app)
    assert _runs_so_far(app) == runs + 60 and len(app.get("vega_lite_chart")) == 3


def test_a_second_session_with_the_same_inputs_simulates_nothing() -> None:
    """Results are shared across sessions (a fresh browser context used to rerun all 120 runs).

    The kind: every heavy result on the page (the curve and the map) is keyed only by its inputs, so a
    new session, a reload or a second tab with the same inputs draws them without simulating.
    """
    first = _lesson()
    first.toggle(key="l_map").set_value(True).run()
    no_traceback(first)
    assert _runs_so_far(first) == 30 * 2 + 20 * 3
    shown = [m.value for m in first.metric]
    second = open_app("lesson", timeout=TIMEOUT, state={"l_people": 300, "l_reps": 2, "l_map": True})
    no_traceback(second)
    assert _runs_so_far(second) == 0
    assert [m.value for m in second.metric] == shown
    assert len(second.get("vega_lite_chart")) == 3
    # Other inputs are other results: the second session simulates them (and only them).
    second.number_input(key="l_reps").set_value(1).run()
    no_traceback(second)
    assert _runs_so_far(second) == 30 * 1
