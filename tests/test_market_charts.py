"""Spend by budget over time and market share: the data the charts draw, and their marks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import compare, load_scenario
from sim.analysis.market import market_share_over_time, spend_lines, spend_over_time
from sim.ui import viz
from sim.ui.viz import market_share_chart, spend_chart
from tests.conftest import SCENARIOS

WEEKDAYS = {
    "value": 20.0,
    "weekly": [1, 1, 1, 1, 1, 0, 0],
    "periods": [{"start": 1, "end": 7, "value": 40.0}],
}


def _comparison():
    base = load_scenario(SCENARIOS / "rival_ripple.yaml", {"network.n": 1500, "days": 28})
    scheduled = base.with_overrides({"name": "weekdays", "retention_offers.daily_budget": WEEKDAYS})
    return compare([base, scheduled], replications=2)


def test_spend_follows_its_schedule_in_the_chart_data():
    comparison = _comparison()
    data = spend_over_time(comparison)
    lines = set(data["line"])
    assert {"ads: search", "ads: social", "ads: tv", "rival's ads", "retention offers"} <= lines
    assert "ads" not in lines  # several channels: each is drawn instead of the total
    offers = data[(data["strategy"] == "weekdays") & (data["line"] == "retention offers")].set_index("day")
    weekend = [6, 7, 13, 14, 20, 21, 27, 28]
    assert (offers.loc[weekend, "mean"] == 0).all()
    assert (offers.loc[[8, 9, 10], "mean"] <= 20.0 + 1e-9).all() and offers.loc[1:5, "mean"].max() <= 40.0
    assert (data["low"] >= 0).all()  # no band of spend below zero, however few the replications
    baseline = data[(data["strategy"] == "rival_ripple") & (data["line"] == "retention offers")]
    assert (baseline["mean"] == 0).all()  # a line of the comparison, flat where nothing is spent
    chart = spend_chart(data, comparison.strategies, "USD")
    marks = {layer["mark"]["type"] for layer in chart["spec"]["layer"]}
    assert marks == {"area", "line", "text"}  # bands, mean lines, and each budget line labelled
    assert chart["facet"]["field"] == "strategy"


def test_market_share_over_time_is_ours_over_both_brands():
    comparison = _comparison()
    share = market_share_over_time(comparison)
    steps = comparison.steps
    day = steps[(steps["day"] == 10) & (steps["strategy"] == "rival_ripple")]
    expected = (day["n_customer"] / (day["n_customer"] + day["n_rival"])).mean()
    row = share[(share["day"] == 10) & (share["strategy"] == "rival_ripple")]
    assert np.isclose(row["mean"].iloc[0], expected)
    assert share["low"].between(0, 1).all() and share["high"].between(0, 1).all()
    chart = market_share_chart(share, comparison.strategies)
    assert chart["layer"][1]["mark"]["type"] == "line"
    plain = compare([load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 500, "days": 5})], replications=1)
    assert market_share_over_time(plain).empty and spend_lines(plain.steps)


#: The Compare page's column on a 1,400-px browser window (measured in Chromium during a walk) and
#: what a panel needs beyond its plot width: the y axis with its title, the labels at the lines'
#: right ends and the spacing between panels.
COLUMN_PX = 950
PANEL_EXTRA_PX = 180


def _curves(strategies: list[str], x: str, group: str, groups: list[str]) -> pd.DataFrame:
    days = range(1, 366)
    rows = [
        {"strategy": s, x: d, group: g, "mean": float(d), "low": d - 1.0, "high": d + 1.0}
        for s in strategies
        for g in groups
        for d in days
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n", range(1, 7))
def test_charts_with_a_panel_per_strategy_fit_the_page_and_show_every_strategy(n: int) -> None:
    """Four strategies side by side were wider than the page: the fourth panel was never seen."""
    strategies = ["funnel_heavy", "ripple_heavy", "hybrid", "referral_only", "two_sided_credit", "x"][:n]
    charts = {
        "cumulative": viz.cumulative_chart(
            _curves(strategies, "day", "channel", ["ads", "sharing"]), strategies
        ),
        "spend": viz.spend_chart(
            _curves(strategies, "day", "line", ["ads", "referral programme"]), strategies, "USD"
        ),
        "retention by channel": viz.retention_chart(
            _curves(strategies, "age_days", "group", ["ads", "organic"]), strategies, "channel"
        ),
        "retention by cohort": viz.retention_chart(
            _curves(strategies, "age_days", "group", ["1-30", "31-60"]), strategies, "cohort"
        ),
    }
    for name, chart in charts.items():
        facet = chart["facet"]
        assert facet["field"] == "strategy" and facet["sort"] == strategies, name
        per_row, width = chart["columns"], chart["spec"]["width"]
        rows = -(-n // per_row)
        assert per_row * rows >= n, name  # every panel has a place
        assert per_row * (width + PANEL_EXTRA_PX) <= COLUMN_PX, (name, per_row, width)
        assert width >= 200, name  # a year of days still reads
        drawn = {layer["mark"]["type"] for layer in chart["spec"]["layer"]}
        assert "line" in drawn or "point" in drawn, name
        data = chart["datasets"]["curves"]
        assert set(data["strategy"]) == set(strategies), name  # every panel has marks
        assert (data.groupby("strategy")["mean"].count() > 0).all(), name
