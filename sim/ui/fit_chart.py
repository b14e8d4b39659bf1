"""The calibration page's chart: the user's data against the fitted curve with its 95% band."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from sim.fit import BassFit, BtydFit, Fit, SbgFit

__all__ = ["fit_chart", "fit_chart_data"]

_DATA_COLOUR = "#4e79a7"
_FIT_COLOUR = "#f28e2b"


def fit_chart_data(fitted: Fit) -> tuple[pd.DataFrame, str, str, str]:
    """The chart's rows (``x``, ``observed``, ``fitted``, ``low``, ``high``) and its titles.

    Returns:
        (rows, x title, y title, chart title). ``low``/``high`` are NaN where there is no band (the
        transaction log's tracking curve).
    """
    if isinstance(fitted, BassFit):
        rows = fitted.table.rename(columns={"period": "x"})[["x", "observed", "fitted", "low", "high"]]
        return rows, "period", f"{fitted.unit} per period", "Sales per period: data and Bass fit (95% band)"
    if isinstance(fitted, SbgFit):
        rows = fitted.table.rename(columns={"period": "x"})[["x", "observed", "fitted", "low", "high"]]
        return (
            rows,
            "periods since joining",
            "share still active",
            "Cohort survival: data and sBG fit (95% band)",
        )
    assert isinstance(fitted, BtydFit)
    rows = fitted.table.rename(columns={"time": "x"}).assign(low=float("nan"), high=float("nan"))
    unit = "weeks" if fitted.time_unit_days == 7 else f"{fitted.time_unit_days:g}-day units"
    return (
        rows[["x", "observed", "fitted", "low", "high"]],
        f"{unit} since the first order",
        "cumulative repeat purchases",
        "Repeat purchases: data and model expectation",
    )


def fit_chart(fitted: Fit) -> Any:
    """Observed points, the fitted line and (where there is one) its shaded 95% band."""
    rows, x_title, y_title, title = fit_chart_data(fitted)
    long = rows.melt(id_vars=["x", "low", "high"], value_vars=["observed", "fitted"], var_name="series")
    long["series"] = long["series"].map({"observed": "your data", "fitted": "fitted model"})
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=["your data", "fitted model"], range=[_DATA_COLOUR, _FIT_COLOUR]),
        title=None,
        legend=alt.Legend(orient="bottom"),
    )
    whole = not isinstance(fitted, BtydFit)  # periods are whole numbers
    x = alt.X(
        "x:Q",
        title=x_title,
        scale=alt.Scale(nice=False, zero=False),
        axis=alt.Axis(tickMinStep=1, format="d") if whole else alt.Axis(),
    )
    tooltip = [
        alt.Tooltip("x:Q", title=x_title),
        alt.Tooltip("series:N"),
        alt.Tooltip("value:Q", format=",.4g"),
    ]
    layers = []
    banded = rows.dropna(subset=["low", "high"])
    if not banded.empty:
        layers.append(
            alt.Chart(banded)
            .mark_area(opacity=0.2, color=_FIT_COLOUR)
            .encode(x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q")
        )
    layers.append(
        alt.Chart(long[long["series"] == "fitted model"])
        .mark_line(strokeWidth=2)
        .encode(x=x, y=alt.Y("value:Q", title=y_title), color=colour, tooltip=tooltip)
    )
    layers.append(
        alt.Chart(long[long["series"] == "your data"])
        .mark_point(filled=True, size=50)
        .encode(x=x, y=alt.Y("value:Q", title=y_title), color=colour, tooltip=tooltip)
    )
    return alt.layer(*layers).properties(title=title, height=320)
