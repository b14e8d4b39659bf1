"""The 8:1 page's charts and words (no Streamlit): the curve across the slider, the map, tables in words.

Everything here turns a :class:`~sim.analysis.lesson.EightToOneCurve` or an
:class:`~sim.sweep.eight_to_one_map.EightToOneMap` into what a teacher reads: Altair charts whose data
do not depend on the slider (only the marker moves), budgets left unspent said in words, and the
per-replication table with words instead of missing values.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from sim.analysis.lesson import EIGHT, EightToOne, EightToOneCurve
from sim.analysis.report import eight_to_one_headline, unspent_sentence
from sim.sweep.eight_to_one_map import EightToOneMap

__all__ = [
    "curve_charts",
    "curve_frame",
    "map_chart",
    "money",
    "ratio_text",
    "runs_in_words",
    "unspent_words",
]

#: The map's colours stop at this ratio each way (a lever 64 times cheaper is as blue as it gets).
COLOUR_LIMIT = 64.0
#: The map legend's labels: powers of 4 up to the colour limit, far enough apart to read.
LEGEND_VALUES = [4.0**k for k in range(-3, 4)]
#: Ratios drawn as reference lines: break-even and the folklore.
_LEVELS = pd.DataFrame({"ratio": [1.0, EIGHT], "label": ["1:1 (break-even)", "8:1 (the folklore)"]})
_LEVEL_COLOURS = alt.Scale(domain=list(_LEVELS["label"]), range=["#777777", "#b2182b"])


def money(value: float, currency: str, decimals: int = 0) -> str:
    """An amount of money in words: "2,167 USD"; "nothing measurable" when undefined, ∞ when unbounded."""
    if value is None or math.isnan(value):
        return "nothing measurable"
    if math.isinf(value):
        return "unbounded (it bought nothing)" if value > 0 else "unbounded"
    return f"{value:,.{decimals}f} {currency}".strip()


def ratio_text(cost_ratio: float) -> str:
    """The ratio as a short label that cannot read as zero: "15.2 : 1" (acquisition dearer) or "1 : 1.5"."""
    if math.isnan(cost_ratio):
        return "no ratio"
    if math.isinf(cost_ratio):
        return "ads bought nothing"
    if cost_ratio <= 0 or math.isinf(1 / cost_ratio):
        return "offers bought nothing"
    if cost_ratio >= 1:
        return f"{cost_ratio:.1f} : 1" if cost_ratio < 100 else f"{cost_ratio:,.0f} : 1"
    inverse = 1 / cost_ratio
    return f"1 : {inverse:.1f}" if inverse < 100 else f"1 : {inverse:,.0f}"


def unspent_words(result: EightToOne, currency: str) -> list[str]:
    """A sentence for each lever that left part of its budget unspent at this split (none when all spent).

    A lever counts as having left money when it spent less than 98% of its budget over the horizon.
    """
    lines = []
    if result.ads_budget > 0 and result.ads_spend < 0.98 * result.ads_budget:
        lines.append(
            unspent_sentence("ads", money(result.ads_spend, currency), money(result.ads_budget, currency))
        )
    if result.offers_budget > 0 and result.offers_spend < 0.98 * result.offers_budget:
        lines.append(
            unspent_sentence(
                "offers", money(result.offers_spend, currency), money(result.offers_budget, currency)
            )
        )
    return lines


def _cost_words(value: float, currency: str) -> str:
    if math.isnan(value):
        return "not measured (nothing spent)"
    if math.isinf(value):
        return "bought nothing"
    return money(value, currency, 2)


def runs_in_words(result: EightToOne, currency: str) -> pd.DataFrame:
    """The per-replication measurements as text: one row per replication, no missing values.

    Columns: replication, what the ads spent and added, what the offers spent and added, their cost
    ratio in words, profit with both levers, without the ads and without the offers.
    """
    rows = []
    margin = result.margin_per_customer_year
    for number, record in enumerate(result.runs.to_dict("records"), start=1):
        row = {str(key): float(value) for key, value in record.items()}
        ads_cost = _per_year(row["ads_spend"], row["ads_value"], margin)
        offers_cost = _per_year(row["offers_spend"], row["offers_value"], margin)
        if math.isfinite(ads_cost) and math.isfinite(offers_cost) and offers_cost > 0:
            ratio_words = eight_to_one_headline(ads_cost / offers_cost)
        elif not row["ads_spend"] > 0 or not row["offers_spend"] > 0:
            ratio_words = "no ratio: a lever spent nothing"
        elif math.isinf(ads_cost) and math.isinf(offers_cost):
            ratio_words = "no ratio: neither lever added anything"
        else:
            ratio_words = eight_to_one_headline(math.inf if math.isinf(ads_cost) else 0.0)
        rows.append(
            {
                "replication": str(number),
                "ads spent": money(row["ads_spend"], currency),
                "ads added (margin)": money(row["ads_value"], currency),
                "cost per customer-year won": _cost_words(ads_cost, currency),
                "offers spent": money(row["offers_spend"], currency),
                "offers added (margin)": money(row["offers_value"], currency),
                "cost per customer-year kept": _cost_words(offers_cost, currency),
                "ratio": ratio_words,
                "profit": money(row["profit"], currency),
                "profit without the ads": money(row["profit_without_ads"], currency),
                "profit without the offers": money(row["profit_without_offers"], currency),
            }
        )
    return pd.DataFrame(rows)


def _per_year(spend: float, value: float, margin: float) -> float:
    if not spend > 0 or not math.isfinite(margin):
        return math.nan
    return spend / value * margin if value > 0 else math.inf


def curve_frame(curve: EightToOneCurve) -> pd.DataFrame:
    """The curve's chart data: one row per split with profit and the ratio (finite ratios only)."""
    table = curve.table()
    frame = table[["share_to_retention", "profit", "profit_low", "profit_high", "cost_ratio"]].copy()
    frame["ratio_low"] = table["cost_ratio_low"]
    frame["ratio_high"] = table["cost_ratio_high"]
    finite = frame["cost_ratio"].where(frame["cost_ratio"].between(0, math.inf, inclusive="neither"))
    frame["ratio"] = finite
    frame["ratio_label"] = [ratio_text(r) for r in table["cost_ratio"]]
    return frame


def curve_charts(curve: EightToOneCurve, share: float, currency: str) -> tuple[Any, Any]:
    """Two charts across the slider: profit (mean, 95% band) and the measured ratio (log scale, 95% bars).

    The data are the curve's alone; ``share`` only places the marker (a rule and a point on each), so
    moving the slider redraws the same data with the marker moved. Each chart fills its container.
    """
    data = curve_frame(curve)
    marker = data.iloc[[int(np.argmin((data["share_to_retention"] - share).abs().to_numpy()))]]
    x = alt.X(
        "share_to_retention:Q", title="share of the budget on retention offers", axis=alt.Axis(format="%")
    )
    base = alt.Chart(data)
    band = base.mark_area(opacity=0.2, color="#54a24b").encode(
        x=x, y=alt.Y("profit_low:Q", title=f"profit ({currency})"), y2="profit_high:Q"
    )
    line = base.mark_line(point=True, color="#54a24b").encode(
        x=x,
        y=alt.Y("profit:Q", title=f"profit ({currency})", scale=alt.Scale(zero=False)),
        tooltip=[
            alt.Tooltip("share_to_retention:Q", format=".0%", title="on offers"),
            alt.Tooltip("profit:Q", format=",.0f", title="profit"),
            alt.Tooltip("profit_low:Q", format=",.0f", title="95% low"),
            alt.Tooltip("profit_high:Q", format=",.0f", title="95% high"),
        ],
    )
    rule = alt.Chart(marker).mark_rule(color="black", strokeDash=[4, 3]).encode(x="share_to_retention:Q")
    here = alt.Chart(marker).mark_point(size=180, filled=True, color="black").encode(x=x, y="profit:Q")
    # Titles are lists of short lines: these charts are drawn half a page wide (about 40 characters).
    profit = alt.layer(band, line, rule, here).properties(
        title=alt.TitleParams(["Profit at each split"], subtitle=["mean of the replications, 95% band"]),
        height=260,
    )

    ratios = data.dropna(subset=["ratio"])
    # The axis spans the measured ratios, 1 and 8 (a decade of room each way); wider intervals are cut.
    low = min([1.0, *ratios["ratio"]]) / 4
    high = max([EIGHT, *ratios["ratio"]]) * 4
    ratio_scale = alt.Scale(type="log", domain=[max(low, 1e-3), min(high, 1e3)], clamp=True)
    # Short: a rotated axis title longer than the plot is tall grows the chart past its frame, and
    # Streamlit then squeezes the plot (the chart's title says what the ratio is).
    ratio_title = "ratio (log scale)"
    y_ratio = alt.Y("ratio:Q", title=ratio_title, scale=ratio_scale, axis=alt.Axis(format="~g"))
    bars = (
        alt.Chart(ratios.dropna(subset=["ratio_low", "ratio_high"]))
        .mark_errorbar(color="#555", clip=True)
        .encode(x=x, y=alt.Y("ratio_low:Q", title=ratio_title, scale=ratio_scale), y2="ratio_high:Q")
    )
    points = (
        alt.Chart(ratios)
        .mark_line(point=True, color="#4c78a8")
        .encode(
            x=x,
            y=y_ratio,
            tooltip=[
                alt.Tooltip("share_to_retention:Q", format=".0%", title="on offers"),
                alt.Tooltip("ratio_label:N", title="acquisition : retention"),
            ],
        )
    )
    levels = (
        alt.Chart(_LEVELS)
        .mark_rule(strokeDash=[6, 3])
        .encode(
            y=y_ratio,
            color=alt.Color("label:N", scale=_LEVEL_COLOURS, legend=None),
        )
    )
    # The reference lines are named on the plot, not in a legend: a legend beside or below a
    # half-width chart squeezed its log axis to a sliver in Chromium.
    level_names = (
        alt.Chart(_LEVELS)
        .mark_text(align="left", baseline="bottom", dx=2, dy=-2, fontSize=11)
        .encode(
            x=alt.value(0),
            y=y_ratio,
            text="label:N",
            color=alt.Color("label:N", scale=_LEVEL_COLOURS, legend=None),
        )
    )
    marked = marker.dropna(subset=["ratio"])
    layers = [levels, level_names, bars, points, rule]
    if len(marked):
        layers.append(
            alt.Chart(marked).mark_point(size=180, filled=True, color="black").encode(x=x, y=y_ratio)
        )
    cost = alt.layer(*layers).properties(
        title=alt.TitleParams(["Acquisition ÷ retention cost"], subtitle=["above 1: retention is cheaper"]),
        height=260,
    )
    return profit, cost


def _map_label(ratio: float) -> str:
    """A cell's ratio in a few characters: "15 : 1", "1 : 2.5", "∞ : 1" when ads bought nothing."""
    if math.isnan(ratio):
        return "?"
    if math.isinf(ratio):
        return "∞ : 1"
    if ratio <= 0:
        return "1 : ∞"
    return ratio_text(ratio)


def _axis_labels(values: pd.Series) -> str:
    """A Vega expression that labels grid positions 0, 1, … with the values they stand for, as %."""
    labels = {round(float(i)): f"{float(v):.0%}" for i, v in zip(values.index, values, strict=True)}
    cases = " : ".join(f"datum.value == {i} ? '{label}'" for i, label in sorted(labels.items()))
    return f"{cases} : ''"


def map_chart(the_map: EightToOneMap) -> Any:
    """Where 8:1 holds: cells coloured by the ratio, its 1:1 and 8:1 lines and the scenario's own market.

    Each grid value is one equal tile (the values need not be evenly spaced); blue tiles: retention is
    cheaper, red: acquisition is. Each tile shows its ratio, and a cross marks the scenario's own
    maturity and churn.
    """
    cells = the_map.cells.copy()
    cells["ratio_label"] = [_map_label(r) for r in cells["cost_ratio"]]
    cells["ratio_shown"] = 10.0 ** cells["log10_ratio"]
    x_labels = cells.groupby("x")["maturity"].first()
    y_labels = cells.groupby("y")["annual_churn"].first()
    x_axis = alt.Axis(values=list(x_labels.index), labelExpr=_axis_labels(x_labels), grid=False)
    y_axis = alt.Axis(values=list(y_labels.index), labelExpr=_axis_labels(y_labels), grid=False)
    x_scale = alt.Scale(domain=[-0.5, len(x_labels) - 0.5], nice=False, zero=False)
    y_scale = alt.Scale(domain=[-0.5, len(y_labels) - 0.5], nice=False, zero=False)
    x = alt.X(
        "x0:Q",
        title="market maturity: share of people already customers at the start",
        axis=x_axis,
        scale=x_scale,
    )
    y = alt.Y("y0:Q", title="churn: share of customers lost in a year", axis=y_axis, scale=y_scale)
    tiles = (
        alt.Chart(cells)
        .mark_rect(stroke="white")
        .encode(
            x=x,
            x2="x1:Q",
            y=y,
            y2="y1:Q",
            color=alt.Color(
                "ratio_shown:Q",
                title="acquisition ÷ retention",
                scale=alt.Scale(
                    type="log",
                    scheme="redblue",
                    domain=[1 / COLOUR_LIMIT, COLOUR_LIMIT],
                    domainMid=1,
                    clamp=True,
                ),
                # Labels a factor 4 apart on a long gradient: 4, 8 and 16 side by side overlapped.
                legend=alt.Legend(
                    format="~g", values=LEGEND_VALUES, gradientLength=320, labelOverlap="greedy"
                ),
            ),
            tooltip=[
                alt.Tooltip("maturity:Q", format=".0%", title="customers at the start"),
                alt.Tooltip("annual_churn:Q", format=".0%", title="lost a year"),
                alt.Tooltip("ratio_label:N", title="acquisition : retention"),
                alt.Tooltip("cheaper:N", title="cheaper lever"),
            ],
        )
    )
    labels = (
        alt.Chart(cells)
        .mark_text(fontSize=13, fontWeight="bold", color="black")
        .encode(x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale), text="ratio_label:N")
    )
    layers = [tiles, labels]
    contours = the_map.contours
    if len(contours):
        lines = contours.assign(label=[f"{level:g}:1 line" for level in contours["level"]])
        layers.append(
            alt.Chart(lines)
            .mark_line(strokeWidth=3)
            .encode(
                x=alt.X("x:Q", scale=x_scale),
                y=alt.Y("y:Q", scale=y_scale),
                detail="line:N",
                order="order:Q",
                strokeDash=alt.StrokeDash("label:N", title="contour"),
                color=alt.value("black"),
            )
        )
    marker = pd.DataFrame(
        {
            "x": [the_map.scenario_x],
            "y": [the_map.scenario_y],
            "maturity": [the_map.scenario_maturity],
            "annual_churn": [the_map.scenario_annual_churn],
            "what": ["this scenario"],
        }
    )
    layers.append(
        alt.Chart(marker)
        .mark_point(shape="cross", size=500, filled=True, color="#222", strokeWidth=2)
        .encode(
            x=alt.X("x:Q", scale=x_scale),
            y=alt.Y("y:Q", scale=y_scale),
            tooltip=[
                "what:N",
                alt.Tooltip("maturity:Q", format=".0%", title="customers at the start"),
                alt.Tooltip("annual_churn:Q", format=".0%", title="lost a year"),
            ],
        )
    )
    return alt.layer(*layers).properties(
        title=alt.TitleParams(
            ["Where 8:1 holds:", "acquisition ÷ retention cost per customer-year"],
            subtitle=[
                "Blue: retention is cheaper; red: acquisition is cheaper",
                f"(colours stop at {COLOUR_LIMIT:g}×). The cross is this scenario.",
            ],
        ),
        height=420,
    )
