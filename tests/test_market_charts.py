"""Spend by budget over time and market share: the data the charts draw, and their marks."""

from __future__ import annotations

import numpy as np

from sim import compare, load_scenario
from sim.analysis.market import market_share_over_time, spend_lines, spend_over_time
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
    baseline = data[(data["strategy"] == "rival_ripple") & (data["line"] == "retention offers")]
    assert (baseline["mean"] == 0).all()  # a line of the comparison, flat where nothing is spent
    chart = spend_chart(data, comparison.strategies, "USD")
    marks = {layer["mark"]["type"] for layer in chart["spec"]["layer"]}
    assert marks == {"area", "line", "text"}  # bands, mean lines, and each budget line labelled
    assert chart["facet"]["column"]["field"] == "strategy"


def test_market_share_over_time_is_ours_over_both_brands():
    comparison = _comparison()
    share = market_share_over_time(comparison)
    steps = comparison.steps
    day = steps[(steps["day"] == 10) & (steps["strategy"] == "rival_ripple")]
    expected = (day["n_customer"] / (day["n_customer"] + day["n_rival"])).mean()
    row = share[(share["day"] == 10) & (share["strategy"] == "rival_ripple")]
    assert np.isclose(row["mean"].iloc[0], expected)
    chart = market_share_chart(share, comparison.strategies)
    assert chart["layer"][1]["mark"]["type"] == "line"
    plain = compare([load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 500, "days": 5})], replications=1)
    assert market_share_over_time(plain).empty and spend_lines(plain.steps)
