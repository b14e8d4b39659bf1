"""The 8:1 page's charts and words (sim/ui/lesson.py), tested by their data, marks and text."""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.lesson import EightToOneCurve, eight_to_one_curve
from sim.analysis.report import eight_to_one_headline
from sim.sweep.eight_to_one_map import EightToOneMap
from sim.ui.lesson import curve_charts, map_chart, ratio_text, runs_in_words, unspent_words
from tests.chart_layout import FULL_WIDTH_CHARS, HALF_WIDTH_CHARS, INSIDE, legends, title_lines
from tests.conftest import quiet_scenario
from tests.test_lesson import MARKET

#: The lesson tests' market, smaller: the charts and words need a curve, not precision.
SMALL = {**MARKET, "network.n": 400, "days": 60}


@pytest.fixture(scope="module")
def curve() -> EightToOneCurve:
    # 500 a day on 400 people: the frequency cap leaves most of the ads' budget unspent.
    return eight_to_one_curve(quiet_scenario(SMALL), 500.0, replications=2, seed=4)


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for key in ("layer", "vconcat", "hconcat"):
        for child in spec.get(key, []):
            found.extend(_layers(child))
    if "mark" in spec:
        found.append(spec)
    return found


def _mark(layer: dict[str, Any]) -> str:
    mark = layer["mark"]
    return mark["type"] if isinstance(mark, dict) else mark


def test_the_slider_moves_only_the_marker(curve: EightToOneCurve) -> None:
    for left, right in zip(curve_charts(curve, 0.2, "USD"), curve_charts(curve, 0.7, "USD"), strict=True):
        left_spec, right_spec = left.to_dict(), right.to_dict()
        datasets_left, datasets_right = left_spec["datasets"], right_spec["datasets"]
        # The curve's data are the same; the only dataset that differs is the marker's one row.
        differing = {k for k in datasets_left if k not in datasets_right}
        assert len(differing) == 1 and len(datasets_left[differing.pop()]) == 1
        shares = [{row.get("share_to_retention") for row in rows} for rows in datasets_left.values()]
        drawn = {p.share_to_retention for p in curve.points if 0 < p.cost_ratio < math.inf}  # log scale
        assert set(curve.shares) in shares or drawn in shares
    profit, ratio = (chart.to_dict() for chart in curve_charts(curve, 0.3, "USD"))  # a drawn ratio
    assert {"area", "line", "rule", "point"} <= {_mark(layer) for layer in _layers(profit)}
    assert {"errorbar", "line", "rule", "point"} <= {_mark(layer) for layer in _layers(ratio)}
    # The ratio chart is on a log scale with the 1:1 and 8:1 reference lines.
    text = json.dumps(ratio)
    assert '"type": "log"' in text and "8:1 (the folklore)" in text and "1:1 (break-even)" in text


def test_unspent_budgets_are_said_in_words(curve: EightToOneCurve) -> None:
    at = curve.at(0.2)
    lines = unspent_words(at, "USD")
    assert at.ads_spend < at.ads_budget
    assert lines[0].startswith(
        f"The ads could spend only {at.ads_spend:,.0f} USD of {at.ads_budget:,.0f} USD"
    )
    everything = curve.at(1.0)  # no ads at all: nothing left unspent by them
    assert not any("ads could spend" in line for line in unspent_words(everything, "USD"))


def test_the_per_replication_table_is_words_without_missing_values(curve: EightToOneCurve) -> None:
    for share in (0.0, 0.3, 1.0):  # without offers, measured, without ads
        table = runs_in_words(curve.at(share), "USD")
        assert len(table) == 2 and table["replication"].tolist() == ["1", "2"]
        cells = table.astype(str).to_numpy().ravel().tolist()
        assert all(isinstance(cell, str) and cell for cell in cells)
        assert not any(bad in cell.lower() for cell in cells for bad in ("none", "nan", "<na>"))
    assert "no ratio: a lever spent nothing" in runs_in_words(curve.at(0.0), "USD")["ratio"].tolist()


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_ratio_reads_as_a_number_below_one(ratio: float) -> None:
    for text in (ratio_text(ratio), eight_to_one_headline(ratio)):
        numbers = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]
        assert all(n >= 1 for n in numbers), (ratio, text)


def test_ratio_labels_never_read_as_zero() -> None:
    assert ratio_text(15.19) == "15.2 : 1"
    assert ratio_text(1 / 9.2) == "1 : 9.2"
    assert ratio_text(0.001) == "1 : 1,000"
    assert ratio_text(math.inf) == "ads bought nothing" and ratio_text(0.0) == "offers bought nothing"
    assert ratio_text(math.nan) == "no ratio"


def test_the_map_draws_cells_contours_and_the_scenario_marker() -> None:
    cells = pd.DataFrame(
        [
            {"maturity": m, "annual_churn": c, "rel_churn": c, "cost_ratio": r, "cost_ratio_low": math.nan,
             "cost_ratio_high": math.nan, "status": "measured", "log10_ratio": math.log10(r) if r > 0 else -3,
             "cheaper": "retention" if r > 1 else "acquisition", "holds": r >= 8,
             "x": x, "y": y, "x0": x - 0.5, "x1": x + 0.5, "y0": y - 0.5, "y1": y + 0.5}
            for x, y, m, c, r in [
                (0, 0, 0.01, 0.2, 0.5), (1, 0, 0.5, 0.2, 2.0), (0, 1, 0.01, 0.6, 0.0), (1, 1, 0.5, 0.6, 20.0)
            ]
        ]
    )  # fmt: skip
    line = {"level": [1.0, 1.0], "line": [0, 0], "order": [0, 1], "x": [0.5, 0.2], "y": [0.0, 1.0]}
    contours = pd.DataFrame({**line, "maturity": [0.25, 0.1], "annual_churn": [0.2, 0.6]})
    the_map = EightToOneMap(cells, contours, 0.2, 10.0, 0.01, 0.25, 0.0, 0.125, runs=pd.DataFrame())
    spec = map_chart(the_map).to_dict()
    # Drawn the page's width: every title line fits; the colour legend's labels are apart (4, 8 and
    # 16 used to overlap) on a long gradient.
    assert all(len(line) <= FULL_WIDTH_CHARS for line in title_lines(spec)), title_lines(spec)
    (legend,) = [leg for leg in legends(spec) if "values" in leg]
    values = sorted(legend["values"])
    assert min(b / a for a, b in itertools.pairwise(values)) >= 4
    assert legend["gradientLength"] >= 300
    marks = [_mark(layer) for layer in _layers(spec)]
    assert marks == ["rect", "text", "line", "point"]
    data = spec["datasets"]
    marker = [rows for rows in data.values() if rows and "what" in rows[0]]
    assert marker == [
        [{"x": 0.0, "y": 0.125, "maturity": 0.01, "annual_churn": 0.25, "what": "this scenario"}]
    ]
    labels = {row["ratio_label"] for rows in data.values() for row in rows if "ratio_label" in row}
    assert labels == {"1 : 2.0", "2.0 : 1", "1 : ∞", "20.0 : 1"}
    text = json.dumps(spec)
    assert '"scheme": "redblue"' in text and '"domainMid": 1' in text
    assert "datum.value == 0 ? '1%' : datum.value == 1 ? '50%'" in text  # tiles labelled by their values


def test_the_curve_charts_titles_fit_half_a_page_and_legends_stay_off_the_data(
    curve: EightToOneCurve,
) -> None:
    """The two charts are drawn side by side: a long title was cut ("…the paired budget exp…").

    The kind: every title line of a half-width chart fits its width; no legend sits inside a plot
    or beside a half-width one.
    """
    for chart in curve_charts(curve, 0.2, "USD"):
        spec = chart.to_dict()
        lines = title_lines(spec)
        assert lines and all(len(line) <= HALF_WIDTH_CHARS for line in lines), lines
        assert all(leg.get("orient", "right") not in INSIDE | {"right"} for leg in legends(spec))
    # A rotated y-axis title longer than the plot is tall made Chromium squeeze the ratio plot.
    for chart in curve_charts(curve, 0.2, "USD"):
        y_titles = {
            enc["y"]["title"]
            for layer in chart.to_dict()["layer"]
            for enc in [layer.get("encoding", {})]
            if isinstance(enc.get("y"), dict) and "title" in enc["y"]
        }
        assert y_titles and all(len(title) <= 20 for title in y_titles), y_titles
    # The reference lines are named on the plot (a legend below it squeezed the log axis to a sliver).
    _, ratio = curve_charts(curve, 0.2, "USD")
    texts = [layer for layer in ratio.to_dict()["layer"] if layer["mark"]["type"] == "text"]
    assert texts and all(layer["encoding"]["text"]["field"] == "label" for layer in texts)
