"""Spend over time by budget line, and market share against a rival, from a comparison's step tables.

The app's charts (:func:`sim.ui.viz.spend_chart`, :func:`sim.ui.viz.market_share_chart`) draw these;
each is a mean with a 95% band over replications (:func:`sim.analysis.report.band`).
"""

from __future__ import annotations

import pandas as pd

from sim.analysis.compare import Comparison
from sim.analysis.report import NOT_NEGATIVE, SHARE, band

__all__ = ["SPEND_LINES", "market_share_over_time", "spend_lines", "spend_over_time"]

#: Spend columns of the step table by the budget they come from (docs/metrics.md).
SPEND_LINES: dict[str, str] = {
    "spend_ads": "ads",
    "spend_sharing": "referral programme",
    "spend_retention": "retention offers",
    "spend_winback": "win-back",
    "spend_field": "field team",
    "spend_loyalty": "loyalty",
    "spend_seed": "seeding",
    "spend_rival_ads": "rival's ads",
}


def spend_lines(steps: pd.DataFrame) -> dict[str, str]:
    """The spend columns of ``steps`` by label; columns that are all zero are left out.

    Each named ad channel (``ads: <name>``) stands in for the ads total, then the other budgets.
    """
    named = [c for c in steps.columns if c.startswith("spend_ads_")]
    lines = {column: f"ads: {column.removeprefix('spend_ads_')}" for column in named}
    for column, label in SPEND_LINES.items():
        if column in steps.columns and not (column == "spend_ads" and named):
            lines[column] = label
    return {column: label for column, label in lines.items() if steps[column].fillna(0).abs().sum() > 0}


def spend_over_time(comparison: Comparison) -> pd.DataFrame:
    """Spend per day (currency) by budget line and strategy: mean and 95% band over replications.

    Columns ``strategy``, ``line``, ``day``, ``mean``, ``low``, ``high``, ``n``. A budget that is a
    schedule shows its launch bursts, weekly rhythm and seasonal peaks here.
    """
    steps = comparison.steps[comparison.steps["day"] > 0]
    lines = spend_lines(steps)
    if not lines:
        return pd.DataFrame(columns=["strategy", "line", "day", "mean", "low", "high", "n"])
    long = steps.melt(
        id_vars=["strategy", "replication", "day"],
        value_vars=list(lines),
        var_name="line",
        value_name="value",
    )
    long["line"] = long["line"].map(lines)
    long = long.dropna(subset=["value"])
    return band(long, ["strategy", "line", "day"], within=NOT_NEGATIVE)


def market_share_over_time(comparison: Comparison) -> pd.DataFrame:
    """Our share of the two brands' active customers by day and strategy (mean, 95% band).

    Empty without a rival (the step tables have no ``share_of_market``).
    """
    steps = comparison.steps
    if "share_of_market" not in steps.columns:
        return pd.DataFrame(columns=["strategy", "day", "mean", "low", "high", "n"])
    frame = steps.dropna(subset=["share_of_market"]).rename(columns={"share_of_market": "value"})
    return band(frame, ["strategy", "day"], within=SHARE)
