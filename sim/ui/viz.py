"""Charts (Altair) and the one palette every page uses.

Colours are fixed per channel, stage and strategy so a channel is the same colour on every chart and
page: the palette is keyed by name, not by the order things happen to appear in. Every chart has a
title and units on its axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from sim.world.population import CHANNELS

__all__ = [
    "CHANNEL_COLOURS",
    "PRESET_STRATEGY_COLOURS",
    "ROLE_SHAPES",
    "STAGE_COLOURS",
    "STRATEGY_COLOURS",
    "cac_chart",
    "channel_scale",
    "cumulative_chart",
    "line_band_chart",
    "market_share_chart",
    "profit_chart",
    "retention_chart",
    "sensitivity_chart",
    "spend_chart",
    "strategy_colours",
    "strategy_scale",
    "sweep_heatmap",
    "sweep_line_chart",
]

#: Colour of each acquisition channel (Tableau 10, colour-blind friendly enough for 8 hues).
CHANNEL_COLOURS: dict[str, str] = {
    "none": "#bab0ac",
    "initial": "#9c755f",
    "ads": "#4e79a7",
    "sharing": "#f28e2b",
    "organic": "#59a14f",
    "seed": "#b07aa1",
    "field": "#76b7b2",
    "winback": "#e15759",
}
#: Channels added later that are not listed above get these, in order.
_SPARE = ("#edc948", "#ff9da7", "#17becf", "#8c564b")

#: Colour of each funnel stage (network page).
STAGE_COLOURS: dict[str, str] = {
    "unaware": "#d9d9d9",
    "aware": "#9ecae1",
    "considering": "#4292c6",
    "customer": "#f28e2b",
    "churned": "#7f7f7f",
    "rival": "#8c564b",  # the rival brand's customers (only with a rival)
}

#: Marker of each role on the network page (Vega-Lite shape names).
ROLE_SHAPES: dict[str, str] = {
    "ordinary": "circle",
    "employee": "square",
    "kol": "diamond",
    "seed": "triangle-up",
    "fake": "cross",
}

#: Strategy colours (Dark2): presets have fixed ones, other strategies take the rest in order.
STRATEGY_COLOURS: tuple[str, ...] = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#a6761d")


def channel_colour(channel: str) -> str:
    """The colour of ``channel`` (a spare one, stable by channel order, for channels added later)."""
    if channel in CHANNEL_COLOURS:
        return CHANNEL_COLOURS[channel]
    extra = [c for c in CHANNELS if c not in CHANNEL_COLOURS]
    index = extra.index(channel) if channel in extra else len(extra)
    return _SPARE[index % len(_SPARE)]


def channel_scale(channels: Sequence[str]) -> alt.Scale:
    """An Altair colour scale mapping each channel to its fixed colour."""
    domain = [c for c in CHANNELS if c in channels] + [c for c in channels if c not in CHANNELS]
    return alt.Scale(domain=domain, range=[channel_colour(c) for c in domain])


#: The presets keep their colour whatever order they are chosen in.
PRESET_STRATEGY_COLOURS: dict[str, str] = {
    "funnel_heavy": STRATEGY_COLOURS[0],
    "ripple_heavy": STRATEGY_COLOURS[2],
    "hybrid": STRATEGY_COLOURS[1],
}


def strategy_colours(strategies: Sequence[str]) -> list[str]:
    """A colour per strategy: presets keep theirs; others take the unused colours in order."""
    spare = [c for c in STRATEGY_COLOURS if c not in PRESET_STRATEGY_COLOURS.values()]
    spare += [c for c in STRATEGY_COLOURS if c not in spare]  # then reuse, should many be compared
    colours, k = [], 0
    for name in strategies:
        if name in PRESET_STRATEGY_COLOURS:
            colours.append(PRESET_STRATEGY_COLOURS[name])
        else:
            colours.append(spare[k % len(spare)])
            k += 1
    return colours


def strategy_scale(strategies: Sequence[str]) -> alt.Scale:
    """An Altair colour scale giving each strategy its colour (:func:`strategy_colours`)."""
    strategies = list(strategies)
    return alt.Scale(domain=strategies, range=strategy_colours(strategies))


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
) -> Any:
    """Mean lines with shaded 95% bands (columns ``mean``, ``low``, ``high``), optionally faceted."""
    base = alt.Chart(data)
    colour_enc = alt.Color(
        f"{colour}:N",
        scale=scale,
        title=colour_title,
        legend=alt.Legend(orient="bottom", symbolOpacity=1, symbolStrokeWidth=3, labelFontSize=12),
    )
    x_scale = alt.Scale(nice=False, zero=False)
    y_scale = alt.Scale(domain=list(y_domain), clamp=True) if y_domain else alt.Scale()
    tooltip = [
        alt.Tooltip(f"{colour}:N", title=colour_title),
        alt.Tooltip(f"{x}:Q", title=x_title),
        alt.Tooltip("mean:Q", title="mean", format=y_format),
        alt.Tooltip("low:Q", title="95% low", format=y_format),
        alt.Tooltip("high:Q", title="95% high", format=y_format),
    ]
    area = base.mark_area(opacity=0.2).encode(
        x=alt.X(f"{x}:Q", title=x_title, scale=x_scale),
        y=alt.Y("low:Q", title=y_title, axis=alt.Axis(format=y_format), scale=y_scale),
        y2="high:Q",
        color=colour_enc,
    )
    line = base.mark_line(strokeWidth=2).encode(
        x=alt.X(f"{x}:Q", title=x_title, scale=x_scale),
        y=alt.Y("mean:Q", title=y_title, axis=alt.Axis(format=y_format), scale=y_scale),
        color=colour_enc,
        tooltip=tooltip,
    )
    layered = alt.layer(area, line)
    if facet is not None:
        size = {"width": width or 260, "height": 220}
        return (
            layered.properties(**size)
            .facet(
                column=alt.Column(
                    f"{facet}:N",
                    title=None,
                    sort=list(facet_order) if facet_order else "ascending",
                    header=alt.Header(labelFontSize=14, labelFontWeight="bold"),
                )
            )
            .properties(title=title)
            .resolve_scale(y="shared")
        )
    return layered.properties(title=title, height=320, **({"width": width} if width else {}))


def cumulative_chart(data: pd.DataFrame, strategies: Sequence[str]) -> Any:
    """Cumulative new customers by channel over time, one panel per strategy (from report)."""
    data = data.assign(strategy=pd.Categorical(data["strategy"], categories=list(strategies)))
    return line_band_chart(
        data,
        x="day",
        x_title="day",
        y_title="new customers (people, cumulative)",
        colour="channel",
        scale=channel_scale(sorted(data["channel"].unique())),
        colour_title="channel",
        title="Cumulative new customers by channel (mean, 95% band over replications)",
        facet="strategy",
        facet_order=strategies,
    )


def profit_chart(data: pd.DataFrame, strategies: Sequence[str], currency: str) -> Any:
    """Cumulative profit over time per strategy."""
    return line_band_chart(
        data,
        x="day",
        x_title="day",
        y_title=f"cumulative profit ({currency})",
        colour="strategy",
        scale=strategy_scale(strategies),
        colour_title="strategy",
        title="Profit over time: gross margin − marketing spend (mean, 95% band)",
    )


def spend_chart(data: pd.DataFrame, strategies: Sequence[str], currency: str) -> Any:
    """Spend per day by budget line, one panel per strategy (``sim.analysis.market.spend_over_time``).

    A budget that is a schedule shows its launch, weekly rhythm and peaks.
    """
    data = data.assign(strategy=pd.Categorical(data["strategy"], categories=list(strategies)))
    return line_band_chart(
        data,
        x="day",
        x_title="day",
        y_title=f"spend per day ({currency})",
        colour="line",
        scale=alt.Scale(scheme="tableau10"),
        colour_title="budget",
        title="Spend by budget over time (mean, 95% band over replications)",
        facet="strategy",
        facet_order=strategies,
        y_format=",.1f",
    )


def market_share_chart(data: pd.DataFrame, strategies: Sequence[str]) -> Any:
    """Our share of the two brands' active customers over time, per strategy (with a rival)."""
    return line_band_chart(
        data,
        x="day",
        x_title="day",
        y_title="market share (ours ÷ ours + the rival's)",
        colour="strategy",
        scale=strategy_scale(strategies),
        colour_title="strategy",
        title="Market share against the rival (mean, 95% band)",
        y_format=".0%",
        y_domain=(0.0, 1.0),
    )


def retention_chart(data: pd.DataFrame, strategies: Sequence[str], group_by: str) -> Any:
    """First-spell retention curves per strategy, coloured by channel (or cohort)."""
    data = data.assign(strategy=pd.Categorical(data["strategy"], categories=list(strategies)))
    if group_by == "channel":
        scale = channel_scale(sorted(data["group"].unique()))
        colour_title = "first channel"
    else:
        scale = alt.Scale(scheme="viridis")
        colour_title = "cohort (days joined)"
    return line_band_chart(
        data,
        x="age_days",
        x_title="days since joining",
        y_title="still a customer (share)",
        colour="group",
        scale=scale,
        colour_title=colour_title,
        title=f"Retention by {group_by} (first spell; mean, 95% band)",
        facet="strategy",
        facet_order=strategies,
        y_format=".0%",
        y_domain=(0.0, 1.0),
    )


def cac_chart(data: pd.DataFrame, strategies: Sequence[str], currency: str) -> Any:
    """CAC by paid channel, one bar per strategy, with 95% error bars."""
    base = alt.Chart(data)
    x = alt.X("channel:N", title="channel", axis=alt.Axis(labelAngle=0))
    offset = alt.XOffset("strategy:N", sort=list(strategies))
    colour = alt.Color(
        "strategy:N",
        scale=strategy_scale(strategies),
        title="strategy",
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
    return alt.layer(bars, errors).properties(
        title="Customer acquisition cost by channel (mean, 95% interval)", height=320
    )


def _axis_title(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def sweep_line_chart(curve: pd.DataFrame, factor: str, metric: str, unit: str = "") -> Any:
    """A metric against one factor of a sweep: mean line, points and a 95% band."""
    base = alt.Chart(curve)
    x = alt.X(f"{factor}:Q", title=factor, scale=alt.Scale(zero=False))
    y_title = _axis_title(metric, unit)
    band = base.mark_area(opacity=0.2, color=STRATEGY_COLOURS[0]).encode(
        x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q"
    )
    line = base.mark_line(point=True, color=STRATEGY_COLOURS[0]).encode(
        x=x,
        y=alt.Y("mean:Q", title=y_title),
        tooltip=[f"{factor}:Q", alt.Tooltip("mean:Q", format=",.3g"), "n:Q"],
    )
    return alt.layer(band, line).properties(title=f"{metric} against {factor} (mean, 95% band)", height=360)


def sweep_heatmap(grid: pd.DataFrame, x: str, y: str, metric: str, unit: str = "") -> Any:
    """Mean of a metric over a grid of two factors."""
    return (
        alt.Chart(grid)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:O", title=x, axis=alt.Axis(format=",.4~g")),
            y=alt.Y(f"{y}:O", title=y, axis=alt.Axis(format=",.4~g"), sort="descending"),
            color=alt.Color("mean:Q", title=_axis_title(metric, unit), scale=alt.Scale(scheme="viridis")),
            tooltip=[f"{x}:Q", f"{y}:Q", alt.Tooltip("mean:Q", format=",.3g"), "n:Q"],
        )
        .properties(title=f"{metric}: mean over replications", height=360)
    )


def sensitivity_chart(indices: pd.DataFrame, metric: str) -> Any:
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
    base = alt.Chart(long)
    y = alt.Y("factor:N", title=None, sort="-x")
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title=x_title),
        y=y,
        yOffset="index:N",
        color=alt.Color("index:N", title="index", legend=alt.Legend(orient="bottom")),
    )
    errors = base.mark_errorbar(color="black").encode(
        x=alt.X("low:Q", title=x_title), x2="high:Q", y=y, yOffset="index:N"
    )
    return alt.layer(bars, errors).properties(title=title)
