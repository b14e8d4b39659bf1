"""Charts (Altair) and the one palette every page uses.

Colour means *strategy* wherever strategies appear: each strategy has one colour, fixed by its name,
on every chart and page (:func:`strategy_colours`). Channels are drawn with a clearly different
encoding: line dash and a label at the end of each line on the Compare page, and, on the Network page
(where one strategy is shown and people are points), colours from a separate family of blues, reds
and greys that the strategy palette does not use. Every chart has a title and units on its axes.

Vega-Lite reads ``.``, ``[`` and ``]`` in a field name as a path into nested data and ``:`` as a type
suffix, so a column named ``ads.daily_budget`` draws nothing. Every chart here goes through
:func:`vega_safe`, which gives such columns plain names and keeps the original as the axis title.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from sim.world.population import CHANNELS

__all__ = [
    "CHANNEL_COLOURS",
    "CHANNEL_DASHES",
    "PRESET_STRATEGY_COLOURS",
    "ROLE_SHAPES",
    "STAGE_COLOURS",
    "STRATEGY_COLOURS",
    "by_strategy",
    "cac_chart",
    "channel_dash_scale",
    "channel_scale",
    "cumulative_chart",
    "facet_layout",
    "line_band_chart",
    "market_share_chart",
    "network_spec",
    "profit_chart",
    "retention_chart",
    "sensitivity_chart",
    "spend_chart",
    "stage_counts_spec",
    "strategy_colour",
    "strategy_colours",
    "strategy_scale",
    "sweep_heatmap",
    "sweep_line_chart",
    "vega_safe",
]

#: Strategy colours (ColorBrewer Dark2 and two more): bold hues with no blue, red or cyan, which
#: belong to channels and stages.
STRATEGY_COLOURS: tuple[str, ...] = (
    "#1b9e77",  # teal
    "#7570b3",  # purple
    "#d95f02",  # orange
    "#e7298a",  # magenta
    "#66a61e",  # green
    "#e6ab02",  # mustard
    "#a6761d",  # brown
    "#666666",  # dark grey
    "#8c2d04",  # rust
    "#4a1486",  # violet
)

#: The presets' colours. Presets usually compared together have different ones.
PRESET_STRATEGY_COLOURS: dict[str, str] = {
    "funnel_heavy": "#1b9e77",
    "ripple_heavy": "#d95f02",
    "hybrid": "#7570b3",
    "loyalty_tiers": "#e6ab02",
    "two_sided_credit": "#66a61e",
    "coupon_farming_attack": "#e7298a",
    "coupon_farming_defended": "#a6761d",
    "seeding_hubs": "#e6ab02",
    "seeding_random": "#666666",
    "retention_uplift": "#a6761d",
    "personalised_coupons": "#666666",
    "field_launch": "#8c2d04",
    "employee_referrals_bank": "#4a1486",
}

#: Colour of each acquisition channel on the Network page: blues, reds and greys, a family the
#: strategy palette leaves alone.
CHANNEL_COLOURS: dict[str, str] = {
    "none": "#d9d9d9",
    "initial": "#252525",
    "ads": "#2166ac",
    "sharing": "#d6604d",
    "organic": "#4eb3d3",
    "seed": "#67001f",
    "field": "#053061",
    "winback": "#f4a582",
}
#: Channels added later that are not listed above get these, in order.
_SPARE = ("#92c5de", "#b2182b", "#878787", "#08589e")

#: Line dash of each channel on the Compare page's charts (colour is the strategy's there).
CHANNEL_DASHES: dict[str, list[int]] = {
    "ads": [1, 0],
    "sharing": [8, 4],
    "organic": [2, 3],
    "seed": [8, 3, 2, 3],
    "field": [4, 2],
    "winback": [12, 3, 3, 3, 3, 3],
    "initial": [1, 5],
}
_SPARE_DASHES = ([6, 6], [2, 6], [10, 2, 2, 2])

#: Colour of each funnel stage (Network page): greys and blues, never a strategy's hue.
STAGE_COLOURS: dict[str, str] = {
    "unaware": "#e0e0e0",
    "aware": "#9ecae1",
    "considering": "#4292c6",
    "customer": "#08306b",
    "churned": "#d6604d",
    "rival": "#8c510a",  # the rival brand's customers (only with a rival)
}

#: Marker of each role on the network page (Vega-Lite shape names).
ROLE_SHAPES: dict[str, str] = {
    "ordinary": "circle",
    "employee": "square",
    "kol": "diamond",
    "seed": "triangle-up",
    "fake": "cross",
}

#: Cohorts, oldest first, from light to dark grey (the order is the legend's order).
_COHORT_GREYS = ("#bdbdbd", "#969696", "#737373", "#525252", "#252525", "#000000")

_UNSAFE = re.compile(r"[.\[\]:\\\"']")


def vega_safe(data: pd.DataFrame, *columns: str) -> tuple[pd.DataFrame, list[str]]:
    """``data`` with plain column names for Vega-Lite, and the new names of ``columns``.

    Vega-Lite reads ``a.b`` as field ``b`` of object ``a``, ``a[0]`` as an index and ``a:Q`` as a
    type, so such names (sweep factors such as ``ads.daily_budget``) draw empty charts. They become
    ``ads_daily_budget`` (made unique); other names are kept.
    """
    renames: dict[str, str] = {}
    taken = {str(c) for c in data.columns}
    for column in data.columns:
        name = str(column)
        if _UNSAFE.search(name):
            safe, k = _UNSAFE.sub("_", name), 2
            while safe in taken:
                safe, k = f"{_UNSAFE.sub('_', name)}_{k}", k + 1
            taken.add(safe)
            renames[name] = safe
    out = data.rename(columns=renames) if renames else data
    return out, [renames.get(c, c) for c in columns]


def _spec(chart: Any, data: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """A chart over named datasets as a Vega-Lite specification, with those datasets as DataFrames.

    Charts here are built on :class:`altair.NamedData` rather than on DataFrames, so converting them
    needs none of Altair's process-wide data transformers (safe in a background thread) and a page
    draws the finished specification with ``st.vega_lite_chart`` without converting it again.
    """
    spec: dict[str, Any] = chart.to_dict()
    spec["datasets"] = data
    return spec


def channel_colour(channel: str) -> str:
    """The colour of ``channel`` (a spare one, stable by channel order, for channels added later)."""
    if channel in CHANNEL_COLOURS:
        return CHANNEL_COLOURS[channel]
    extra = [c for c in CHANNELS if c not in CHANNEL_COLOURS]
    index = extra.index(channel) if channel in extra else len(extra)
    return _SPARE[index % len(_SPARE)]


def _ordered_channels(channels: Sequence[str]) -> list[str]:
    return [c for c in CHANNELS if c in channels] + [c for c in channels if c not in CHANNELS]


def channel_scale(channels: Sequence[str]) -> alt.Scale:
    """An Altair colour scale mapping each channel to its fixed colour (Network page)."""
    domain = _ordered_channels(channels)
    return alt.Scale(domain=domain, range=[channel_colour(c) for c in domain])


def channel_dash_scale(channels: Sequence[str]) -> alt.Scale:
    """An Altair stroke-dash scale mapping each channel to its fixed dash (Compare page)."""
    domain = _ordered_channels(channels)
    extra = iter(_SPARE_DASHES * 4)
    return alt.Scale(domain=domain, range=[CHANNEL_DASHES.get(c) or next(extra) for c in domain])


def strategy_colour(name: str) -> str:
    """The colour of strategy ``name`` on every page: a preset's own, else one fixed by the name."""
    if name in PRESET_STRATEGY_COLOURS:
        return PRESET_STRATEGY_COLOURS[name]
    return STRATEGY_COLOURS[zlib.crc32(name.encode()) % len(STRATEGY_COLOURS)]


def strategy_colours(strategies: Sequence[str]) -> list[str]:
    """A colour per strategy: each its own (:func:`strategy_colour`).

    When two strategies shown together share a colour, the later one takes the first colour no
    strategy of the set wants.
    """
    wanted = [strategy_colour(name) for name in strategies]
    colours: list[str] = []
    for colour in wanted:
        if colour in colours:
            free = [c for c in STRATEGY_COLOURS if c not in colours and c not in wanted]
            free = free or [c for c in STRATEGY_COLOURS if c not in colours] or list(STRATEGY_COLOURS)
            colour = free[0]
        colours.append(colour)
    return colours


def strategy_scale(strategies: Sequence[str]) -> alt.Scale:
    """An Altair colour scale giving each strategy its colour (:func:`strategy_colours`)."""
    strategies = list(strategies)
    return alt.Scale(domain=strategies, range=strategy_colours(strategies))


def _x_axis(field: str, title: str, whole: bool) -> alt.X:
    """A quantitative x axis; whole-number fields (days) get whole ticks, never "0.000000"."""
    axis = alt.Axis(format="d", tickMinStep=1) if whole else alt.Axis()
    return alt.X(f"{field}:Q", title=title, scale=alt.Scale(nice=False, zero=False), axis=axis)


#: Width (px) a chart with one panel per strategy must fit in: the Compare page's column in the app's
#: wide layout on a 1,280-px window, with room to spare (the column was ~950 px on a 1,400-px window).
FACET_FIT_PX = 880
#: What a panel takes beyond its plot: the y axis and its title, the labels at the lines' right ends
#: ("referral programme" is ~100 px at 11 px) and the spacing between panels.
FACET_OVERHEAD_PX = 200
#: The narrowest panel that still reads (a year of days on the x axis).
FACET_MIN_WIDTH_PX = 220
#: The widest panel (one strategy alone).
FACET_MAX_WIDTH_PX = 420


def facet_layout(panels: int) -> tuple[int, int]:
    """How ``panels`` panels (one per strategy) wrap: (panels per row, plot width of each in px).

    As many panels per row as fit :data:`FACET_FIT_PX` at :data:`FACET_MIN_WIDTH_PX` or more, the
    rest wrap onto further rows, so every strategy is shown and the chart never runs off the column
    (a chart of four panels side by side used to be wider than the page, its last panel cut off).
    """
    fit = max(1, FACET_FIT_PX // (FACET_MIN_WIDTH_PX + FACET_OVERHEAD_PX))
    columns = max(1, min(panels, fit))
    width = min(FACET_MAX_WIDTH_PX, FACET_FIT_PX // columns - FACET_OVERHEAD_PX)
    return columns, width


def by_strategy(strategies: Sequence[str]) -> dict[str, Any]:
    """:func:`line_band_chart`'s colour arguments when colour means strategy (one colour each, everywhere)."""
    return {
        "colour": "strategy",
        "scale": strategy_scale(strategies),
        "colour_title": "strategy",
        "colour_order": strategies,
    }


def line_band_chart(
    data: pd.DataFrame,
    *,
    x: str,
    x_title: str,
    y_title: str,
    colour: str,
    scale: alt.Scale,
    colour_title: str,
    title: str,
    facet: str | None = None,
    y_format: str = ",.0f",
    width: int | None = None,
    facet_order: Sequence[str] | None = None,
    y_domain: tuple[float, float] | None = None,
    dash: str | None = None,
    dash_scale: alt.Scale | None = None,
    dash_title: str = "",
    colour_order: Sequence[str] | None = None,
    whole_x: bool = True,
) -> dict[str, Any]:
    """Mean lines with shaded 95% bands (columns ``mean``, ``low``, ``high``), optionally faceted.

    Returns a Vega-Lite specification (a dict) over the dataset ``curves``.

    ``colour`` is the field coloured by ``scale``; ``dash`` an optional field drawn as line dashes
    (channels), each line then labelled at its right end. With one x value (a one-day horizon) the
    lines become points so something is drawn.
    """
    optional = [name for name in (facet, dash) if name]
    data, (x, colour, *rest) = vega_safe(data, x, colour, *optional)
    facet = rest.pop(0) if facet else None
    dash = rest.pop(0) if dash else None
    if dash:  # each dashed line is labelled at its last point
        keys = [c for c in (facet, colour, dash) if c]
        data = data.assign(line_end=data[x] == data.groupby(keys, observed=True)[x].transform("max"))
    for column in data.columns:  # categories travel as plain text
        if isinstance(data[column].dtype, pd.CategoricalDtype):
            data = data.assign(**{column: data[column].astype(str)})
    curves = alt.NamedData(name="curves")
    base = alt.Chart(curves)
    colour_enc = alt.Color(
        f"{colour}:N",
        scale=scale,
        title=colour_title,
        sort=list(colour_order) if colour_order else None,
        legend=alt.Legend(orient="bottom", symbolOpacity=1, symbolStrokeWidth=3, labelFontSize=12),
    )
    if dash:
        colour_enc = alt.Color(f"{colour}:N", scale=scale, title=colour_title, legend=None)
    detail = [alt.Detail(f"{dash}:N")] if dash else []
    y_scale = alt.Scale(domain=list(y_domain), clamp=True) if y_domain else alt.Scale()
    x_enc = _x_axis(x, x_title, whole_x)
    tooltip = [
        alt.Tooltip(f"{colour}:N", title=colour_title),
        *([alt.Tooltip(f"{dash}:N", title=dash_title)] if dash else []),
        alt.Tooltip(f"{x}:Q", title=x_title),
        alt.Tooltip("mean:Q", title="mean", format=y_format),
        alt.Tooltip("low:Q", title="95% low", format=y_format),
        alt.Tooltip("high:Q", title="95% high", format=y_format),
    ]
    area = base.mark_area(opacity=0.15).encode(
        x=x_enc,
        y=alt.Y("low:Q", title=y_title, axis=alt.Axis(format=y_format), scale=y_scale),
        y2="high:Q",
        color=colour_enc,
        detail=detail or alt.Undefined,
    )
    single = data[x].nunique() <= 1
    line_mark = base.mark_point(filled=True, size=60) if single else base.mark_line(strokeWidth=2)
    line = line_mark.encode(
        x=x_enc,
        y=alt.Y("mean:Q", title=y_title, axis=alt.Axis(format=y_format), scale=y_scale),
        color=colour_enc,
        tooltip=tooltip,
        **(
            {
                "strokeDash": alt.StrokeDash(
                    f"{dash}:N",
                    scale=dash_scale,
                    title=dash_title,
                    legend=alt.Legend(orient="bottom", symbolStrokeWidth=2, symbolSize=400, labelFontSize=12),
                )
            }
            if dash
            else {}
        ),
    )
    layers = [area, line]
    if dash:
        labels = (
            base.transform_filter(alt.datum.line_end)
            .mark_text(align="left", dx=4, fontSize=11)
            .encode(x=x_enc, y=alt.Y("mean:Q", scale=y_scale), text=f"{dash}:N", color=colour_enc)
        )
        layers.append(labels)
    if facet is not None:
        columns, panel_width = facet_layout(int(data[facet].nunique()))
        size = {"width": width or panel_width, "height": 220}
        layered = alt.layer(*layers)
        faceted = (
            layered.properties(**size)
            .facet(
                facet=alt.Facet(
                    f"{facet}:N",
                    title=None,
                    sort=list(facet_order) if facet_order else "ascending",
                    header=alt.Header(labelFontSize=14, labelFontWeight="bold"),
                ),
                columns=columns,
            )
            .properties(title=title)
            .resolve_scale(y="shared")
        )
        return _spec(faceted, {"curves": data})
    layered = alt.layer(*layers).properties(title=title, height=320, **({"width": width} if width else {}))
    return _spec(layered, {"curves": data})


def cumulative_chart(data: pd.DataFrame, strategies: Sequence[str]) -> dict[str, Any]:
    """Cumulative new customers by channel over time, one panel per strategy (from report).

    Lines take the strategy's colour; channels are told apart by dash and a label at the line's end.
    """
    data = data.assign(strategy=pd.Categorical(data["strategy"], categories=list(strategies)))
    return line_band_chart(
        data,
        x="day",
        x_title="day",
        y_title="new customers (people, cumulative)",
        **by_strategy(strategies),
        title="Cumulative new customers by channel (mean, 95% band over replications)",
        facet="strategy",
        facet_order=strategies,
        dash="channel",
        dash_scale=channel_dash_scale(sorted(data["channel"].unique())),
        dash_title="channel",
    )


def profit_chart(data: pd.DataFrame, strategies: Sequence[str], currency: str) -> dict[str, Any]:
    """Cumulative profit over time per strategy."""
    return line_band_chart(
        data,
        x="day",
        x_title="day",
        y_title=f"cumulative profit ({currency})",
        **by_strategy(strategies),
        title="Profit over time: gross margin − marketing spend (mean, 95% band)",
    )


def spend_chart(data: pd.DataFrame, strategies: Sequence[str], currency: str) -> dict[str, Any]:
    """Spend per day by budget line, one panel per strategy (``sim.analysis.market.spend_over_time``).

    A budget that is a schedule shows its launch, weekly rhythm and peaks. Lines keep the strategy's
    colour; budget lines are told apart by dashes, labelled at their right end.
    """
    lines = list(dict.fromkeys(data["line"]))
    return line_band_chart(
        data,
        x="day",
        x_title="day",
        y_title=f"spend per day ({currency})",
        **by_strategy(strategies),
        dash="line",
        dash_scale=channel_dash_scale(lines),
        dash_title="budget",
        title="Spend by budget over time (mean, 95% band over replications)",
        facet="strategy",
        facet_order=strategies,
        y_format=",.1f",
    )


def market_share_chart(data: pd.DataFrame, strategies: Sequence[str]) -> dict[str, Any]:
    """Our share of the two brands' active customers over time, per strategy (with a rival)."""
    return line_band_chart(
        data,
        x="day",
        x_title="day",
        y_title="market share (ours ÷ ours + the rival's)",
        **by_strategy(strategies),
        title="Market share against the rival (mean, 95% band)",
        y_format=".0%",
        y_domain=(0.0, 1.0),
    )


def retention_chart(data: pd.DataFrame, strategies: Sequence[str], group_by: str) -> dict[str, Any]:
    """First-spell retention curves, one panel per strategy, by first channel (dash) or cohort.

    By channel the lines keep the strategy's colour and channels are dashed and labelled; by cohort
    (at most six, see :func:`sim.analysis.report.retention_curves`) they go from light grey (the
    first cohort) to black, in the order the cohorts joined.
    """
    data = data.assign(strategy=pd.Categorical(data["strategy"], categories=list(strategies)))
    common: dict[str, Any] = {
        "x": "age_days",
        "x_title": "days since joining",
        "y_title": "still a customer (share)",
        "title": f"Retention by {group_by} (first spell; mean, 95% band)",
        "facet": "strategy",
        "facet_order": strategies,
        "y_format": ".0%",
        "y_domain": (0.0, 1.0),
    }
    if group_by == "channel":
        return line_band_chart(
            data,
            **by_strategy(strategies),
            dash="group",
            dash_scale=channel_dash_scale(sorted(data["group"].unique())),
            dash_title="first channel",
            **common,
        )
    order = data.sort_values("order")["group"].drop_duplicates().tolist() if "order" in data else None
    groups = order or sorted(data["group"].unique())
    greys = list(_COHORT_GREYS[-len(groups) :]) if len(groups) <= len(_COHORT_GREYS) else None
    scale = alt.Scale(domain=groups, range=greys) if greys else alt.Scale(domain=groups, scheme="greys")
    return line_band_chart(
        data,
        colour="group",
        scale=scale,
        colour_title="cohort (days joined)",
        colour_order=groups,
        **common,
    )


def cac_chart(data: pd.DataFrame, strategies: Sequence[str], currency: str) -> dict[str, Any]:
    """CAC by paid channel, one bar per strategy (in the strategy's colour), with 95% error bars."""
    base = alt.Chart(alt.NamedData(name="cac"))
    x = alt.X("channel:N", title="channel", axis=alt.Axis(labelAngle=0))
    offset = alt.XOffset("strategy:N", sort=list(strategies))
    colour = alt.Color(
        "strategy:N",
        scale=strategy_scale(strategies),
        title="strategy",
        sort=list(strategies),
        legend=alt.Legend(orient="bottom", labelFontSize=12),
    )
    y_title = f"CAC ({currency} per customer)"
    bars = base.mark_bar().encode(
        x=x,
        xOffset=offset,
        y=alt.Y("mean:Q", title=y_title),
        color=colour,
        tooltip=[
            alt.Tooltip("strategy:N"),
            alt.Tooltip("channel:N"),
            alt.Tooltip("mean:Q", format=",.2f", title="mean"),
            alt.Tooltip("low:Q", format=",.2f", title="95% low"),
            alt.Tooltip("high:Q", format=",.2f", title="95% high"),
        ],
    )
    errors = base.mark_errorbar(color="black").encode(
        x=x, xOffset=offset, y=alt.Y("low:Q", title=y_title), y2="high:Q"
    )
    chart = alt.layer(bars, errors).properties(
        title="Customer acquisition cost by channel (mean, 95% interval)", height=320
    )
    return _spec(chart, {"cac": data})


def _axis_title(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def sweep_line_chart(
    curve: pd.DataFrame, factor: str, metric: str, unit: str = "", factor_title: str | None = None
) -> dict[str, Any]:
    """A metric against one factor of a sweep: mean line, points and a 95% band.

    ``factor`` is the curve's column (a dotted path); ``factor_title`` the words it is shown as (the
    field's label with its unit; default the path). ``metric`` is shown as given, ``unit`` after it.
    """
    data, (field,) = vega_safe(curve, factor)
    factor = factor_title or factor
    base = alt.Chart(alt.NamedData(name="curve"))
    x = alt.X(f"{field}:Q", title=factor, scale=alt.Scale(zero=False))
    y_title = _axis_title(metric, unit)
    band = base.mark_area(opacity=0.2, color=STRATEGY_COLOURS[0]).encode(
        x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q"
    )
    line = base.mark_line(point=True, color=STRATEGY_COLOURS[0]).encode(
        x=x,
        y=alt.Y("mean:Q", title=y_title),
        tooltip=[alt.Tooltip(f"{field}:Q", title=factor), alt.Tooltip("mean:Q", format=",.3g"), "n:Q"],
    )
    chart = alt.layer(band, line).properties(title=f"{metric} against {factor} (mean, 95% band)", height=360)
    return _spec(chart, {"curve": data})


def sweep_heatmap(
    grid: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    unit: str = "",
    x_title: str | None = None,
    y_title: str | None = None,
) -> dict[str, Any]:
    """Mean of a metric over a grid of two factors (``x``, ``y`` columns; shown as the titles given)."""
    data, (x_field, y_field) = vega_safe(grid, x, y)
    x, y = x_title or x, y_title or y
    chart = (
        alt.Chart(alt.NamedData(name="grid"))
        .mark_rect()
        .encode(
            x=alt.X(f"{x_field}:O", title=x, axis=alt.Axis(format=",.4~g")),
            y=alt.Y(f"{y_field}:O", title=y, axis=alt.Axis(format=",.4~g"), sort="descending"),
            color=alt.Color("mean:Q", title=_axis_title(metric, unit), scale=alt.Scale(scheme="viridis")),
            tooltip=[
                alt.Tooltip(f"{x_field}:Q", title=x),
                alt.Tooltip(f"{y_field}:Q", title=y),
                alt.Tooltip("mean:Q", format=",.3g"),
                "n:Q",
            ],
        )
        .properties(title=f"{metric}: mean over replications", height=360)
    )
    return _spec(chart, {"grid": data})


def sensitivity_chart(indices: pd.DataFrame, metric: str) -> dict[str, Any]:
    """Sensitivity of one metric to each factor: Sobol S1/ST or Morris μ* with confidence bars."""
    mine = indices[indices["metric"] == metric]
    if "ST" in mine.columns and mine["ST"].notna().any():
        long = pd.concat(
            [
                mine.assign(index="first order S1", value=mine["S1"], conf=mine.get("S1_conf", 0.0)),
                mine.assign(index="total ST", value=mine["ST"], conf=mine.get("ST_conf", 0.0)),
            ]
        )
        title, x_title = f"Sobol indices of {metric}", "share of output variance"
    else:
        long = mine.assign(index="μ*", value=mine["mu_star"], conf=mine.get("mu_star_conf", 0.0))
        title, x_title = f"Morris μ* of {metric}", "mean absolute elementary effect"
    long = long.assign(
        low=long["value"] - long["conf"].fillna(0), high=long["value"] + long["conf"].fillna(0)
    )
    long, _ = vega_safe(long)
    base = alt.Chart(alt.NamedData(name="indices"))
    y = alt.Y("factor:N", title=None, sort="-x")
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title=x_title),
        y=y,
        yOffset="index:N",
        color=alt.Color(
            "index:N",
            title="index",
            scale=alt.Scale(range=["#9ecae1", "#2166ac"]),
            legend=alt.Legend(orient="bottom"),
        ),
    )
    errors = base.mark_errorbar(color="black").encode(
        x=alt.X("low:Q", title=x_title), x2="high:Q", y=y, yOffset="index:N"
    )
    return _spec(alt.layer(bars, errors).properties(title=title), {"indices": long})


def network_spec(
    nodes: pd.DataFrame, edges: pd.DataFrame, colour_by: str, height: int = 560
) -> dict[str, Any]:
    """People as points (coloured by stage or channel, shaped by role) over their friendships.

    ``nodes`` has columns person, x, y, stage, channel, role; ``edges`` x, y, x2, y2. Returns a
    Vega-Lite specification whose data are the named datasets ``people`` and ``friendships``: the
    specification itself never changes from day to day, so the browser swaps the people's data and
    redraws without rebuilding the chart (what lets the Network page play every frame).
    """
    blank = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
    nodes = nodes.assign(marker_size=(nodes["role"] != "ordinary") * 102 + 28)
    if colour_by == "stage":
        scale = alt.Scale(domain=list(STAGE_COLOURS), range=list(STAGE_COLOURS.values()))
        colour = alt.Color("stage:N", scale=scale, title="stage", legend=alt.Legend(orient="right"))
    else:
        colour = alt.Color(
            "channel:N", scale=channel_scale(list(CHANNELS)), title="channel (active customers)"
        )
    shape = alt.Shape(
        "role:N",
        scale=alt.Scale(domain=list(ROLE_SHAPES), range=list(ROLE_SHAPES.values())),
        title="role",
    )
    x = alt.X("x:Q", axis=blank, scale=alt.Scale(domain=[-1.05, 1.05]))
    y = alt.Y("y:Q", axis=blank, scale=alt.Scale(domain=[-1.05, 1.05]))
    links = (
        alt.Chart(alt.NamedData(name="friendships"))
        .mark_rule(color="#bbbbbb", opacity=0.35, strokeWidth=0.6)
        .encode(x=x, y=y, x2="x2:Q", y2="y2:Q")
    )
    marks = (
        alt.Chart(alt.NamedData(name="people"))
        .mark_point(filled=True, opacity=0.9)
        .encode(
            x=x,
            y=y,
            color=colour,
            shape=shape,
            size=alt.Size("marker_size:Q", legend=None, scale=None),
            tooltip=["person:Q", "stage:N", "channel:N", "role:N"],
        )
    )
    spec: dict[str, Any] = alt.layer(links, marks).properties(height=height).to_dict()
    spec["datasets"] = {"people": nodes, "friendships": edges}
    return spec


def stage_counts_spec(counts: pd.DataFrame, day: int, height: int = 560) -> dict[str, Any]:
    """Whole-market stage counts over time (a step table's ``n_<stage>`` columns), a rule at ``day``.

    Like :func:`network_spec`, a specification over named datasets (``counts``, ``today``) that does
    not change with the day.
    """
    stage_columns = [f"n_{s}" for s in STAGE_COLOURS]
    long = counts.melt(id_vars="day", value_vars=stage_columns, var_name="stage", value_name="people")
    long["stage"] = long["stage"].str.removeprefix("n_")
    scale = alt.Scale(domain=list(STAGE_COLOURS), range=list(STAGE_COLOURS.values()))
    base = alt.Chart(alt.NamedData(name="counts"))
    single = long["day"].nunique() <= 1
    mark = base.mark_point(filled=True, size=80) if single else base.mark_line(strokeWidth=2)
    x = _x_axis("day", "day", whole=True)
    lines = mark.encode(
        x=x,
        y=alt.Y("people:Q", title="people (whole market)", axis=alt.Axis(format=",.0f", tickMinStep=1)),
        # Below the plot: inside it (top-right) the legend sat on the lines.
        color=alt.Color(
            "stage:N", scale=scale, title="stage", legend=alt.Legend(orient="bottom", columns=3)
        ),  # three to a row: in one row the later stages ran past the chart's edge
    )
    rule = alt.Chart(alt.NamedData(name="today")).mark_rule(color="black", strokeDash=[4, 3]).encode(x=x)
    spec: dict[str, Any] = (
        alt.layer(lines, rule).properties(title="People in each stage, whole market", height=height).to_dict()
    )
    spec["datasets"] = {"counts": long, "today": pd.DataFrame({"day": [day]})}
    return spec


def strategy_colours_by_name(names: Sequence[str]) -> Mapping[str, str]:
    """``{strategy: colour}`` for a set of strategies shown together."""
    return dict(zip(names, strategy_colours(names), strict=True))
