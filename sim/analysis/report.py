"""Shaping a :class:`~sim.analysis.compare.Comparison` for people: curves with bands, tables, a verdict.

The app's pages and any notebook use these; nothing here draws. Every curve is summarised over
replications as a mean with a t-based 95% interval (the same interval as :mod:`sim.analysis.compare`), so
bands on charts and numbers in tables agree.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.compare import CONFIDENCE, Comparison
from sim.analysis.metrics import ACQUISITION_CHANNELS, METRICS, is_idle

__all__ = [
    "band",
    "cac_by_channel",
    "comparison_downloads",
    "cumulative_by_channel",
    "eight_to_one_headline",
    "eight_to_one_verdict",
    "format_value",
    "metric_table",
    "profit_over_time",
    "retention_curves",
    "sweep_curve",
    "sweep_grid",
    "verdict",
]


def band(frame: pd.DataFrame, by: Sequence[str], value: str = "value") -> pd.DataFrame:
    """Mean and 95% interval of ``value`` over replications, per group ``by``.

    Returns the ``by`` columns plus ``mean``, ``low``, ``high`` and ``n``. Non-finite values are
    left out; with one finite value the interval collapses to the mean (there is no spread to show).
    """
    clean = frame[np.isfinite(frame[value].to_numpy(dtype=float))]
    grouped = clean.groupby(list(by), sort=False, observed=True)[value]
    out = grouped.agg(mean="mean", std="std", n="count").reset_index()
    dof = np.maximum(out["n"].to_numpy() - 1, 1)
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, dof) * out["std"].fillna(0.0) / np.sqrt(out["n"])
    half = np.where(out["n"] > 1, half, 0.0)
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out.drop(columns="std")


def _acquisition_channels(steps: pd.DataFrame) -> list[str]:
    """Acquisition channels that have a column in ``steps`` (later issues add channels)."""
    return [c for c in ACQUISITION_CHANNELS if f"new_{c}" in steps.columns]


def cumulative_by_channel(comparison: Comparison) -> pd.DataFrame:
    """Cumulative first-time customers by channel and day, per strategy (mean and 95% band).

    Columns: strategy, channel, day, mean, low, high, n. Channels that acquired nobody in any
    strategy are left out so legends list only what happened.
    """
    steps = comparison.steps.sort_values(["strategy", "replication", "day"])
    channels = _acquisition_channels(steps)
    counts = steps[["strategy", "replication", "day", *(f"new_{c}" for c in channels)]].copy()
    cumulative = counts.groupby(["strategy", "replication"], sort=False)[
        [f"new_{c}" for c in channels]
    ].cumsum()
    counts[[f"new_{c}" for c in channels]] = cumulative
    long = counts.melt(
        id_vars=["strategy", "replication", "day"],
        value_vars=[f"new_{c}" for c in channels],
        var_name="channel",
        value_name="value",
    )
    long["channel"] = long["channel"].str.removeprefix("new_")
    totals = long.groupby("channel")["value"].max()
    long = long[long["channel"].isin(totals[totals > 0].index)]
    return band(long, ["strategy", "channel", "day"])


def profit_over_time(comparison: Comparison) -> pd.DataFrame:
    """Cumulative profit (gross margin − marketing spend, currency) by day, per strategy."""
    steps = comparison.steps.sort_values(["strategy", "replication", "day"]).copy()
    steps["value"] = steps["revenue"] - steps["cost_of_goods"] - steps["marketing_spend"]
    steps["value"] = steps.groupby(["strategy", "replication"], sort=False)["value"].cumsum()
    return band(steps, ["strategy", "day"])


def cac_by_channel(comparison: Comparison) -> pd.DataFrame:
    """CAC (currency per customer) per strategy and paid channel: mean and 95% interval.

    Channels without spend in any strategy (organic, day-0 customers) have no CAC and are left out;
    runs where a channel spent money but bought nobody (infinite CAC) are left out of its mean.
    Columns: strategy, channel, mean, low, high, n.
    """
    runs = comparison.runs
    channels = [c for c in ACQUISITION_CHANNELS if f"cac_{c}" in runs.columns]
    long = runs.melt(
        id_vars=["strategy", "replication"],
        value_vars=[f"cac_{c}" for c in channels],
        var_name="channel",
        value_name="value",
    )
    long["channel"] = long["channel"].str.removeprefix("cac_")
    positive = long[np.isfinite(long["value"]) & (long["value"] > 0)]
    keep = positive["channel"].unique()
    return band(long[long["channel"].isin(keep)], ["strategy", "channel"])


def retention_curves(comparison: Comparison, group_by: str = "channel") -> pd.DataFrame:
    """First-spell retention (share) by age in days, per strategy and group (channel or cohort).

    Columns: strategy, group, age_days, mean, low, high, n. Ages where fewer than 20 people were
    at risk in a run are dropped from that run, and ages not seen in every replication of a group are
    dropped: a share of a handful of people is noise.
    """
    table = comparison.retention
    mine = table[(table["group_by"] == group_by) & (table["at_risk"] >= 20)]
    mine = mine.rename(columns={"retention": "value"})
    curves = band(mine, ["strategy", "group", "age_days"])
    # Keep ages seen in every replication of a group: a band over fewer runs is mostly noise.
    complete = curves["n"] == curves.groupby(["strategy", "group"])["n"].transform("max")
    curves = curves[complete].reset_index(drop=True)
    # A share lies in [0, 1]; a t interval on a few replications can stray outside it.
    curves[["low", "high"]] = curves[["low", "high"]].clip(0.0, 1.0)
    return curves


def format_value(metric: str, value: float, currency: str = "") -> str:
    """A metric value as a person reads it: people as whole numbers, shares as %, money to cents."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    unit = METRICS[metric].unit if metric in METRICS else ""
    if unit == "people":
        return f"{value:,.0f}"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "ratio" or unit.startswith("customers per"):
        return f"{value:.3f}"
    text = f"{value:,.2f}"
    return f"{text} {currency}".strip() if unit.startswith("currency") else text


def _interval(metric: str, low: float, high: float, currency: str) -> str:
    if any(math.isnan(x) for x in (low, high)):
        return ""
    return f" [{format_value(metric, low, currency)}, {format_value(metric, high, currency)}]"


def metric_table(
    comparison: Comparison, currency: str = "", *, in_cells: bool = True, only_active: bool = False
) -> pd.DataFrame:
    """Headline metrics: one row per metric, ``mean [95% interval]`` per strategy, paired differences.

    Columns: metric, unit, one per strategy, and one ``Δ <strategy> − <baseline>`` per other strategy
    whose cell ends in ``*`` when the paired interval excludes zero. ``in_cells=False`` writes money
    without the currency in each cell (the unit column names it once). ``only_active=True`` leaves out
    metrics that are zero or undefined for every strategy (mechanisms none of them switches on).
    """
    unit_currency = currency
    currency = currency if in_cells else ""
    summary = _by_strategy_metric(comparison.summary)
    paired = _by_strategy_metric(comparison.paired)
    rows = []
    for metric, info in METRICS.items():
        if only_active and is_idle(summary[(strategy, metric)]["mean"] for strategy in comparison.strategies):
            continue
        row: dict[str, str] = {
            "metric": metric,
            "unit": info.unit.replace("currency", unit_currency or "currency"),
        }
        for strategy in comparison.strategies:
            cell = summary[(strategy, metric)]
            row[strategy] = format_value(metric, cell["mean"], currency) + _interval(
                metric, cell["ci_low"], cell["ci_high"], currency
            )
        for strategy in comparison.strategies[1:]:
            diff = paired[(strategy, metric)]
            text = format_value(metric, diff["mean_diff"], currency) + _interval(
                metric, diff["ci_low"], diff["ci_high"], currency
            )
            row[f"Δ {strategy} − {comparison.baseline}"] = text + (" *" if diff["excludes_zero"] else "")
        rows.append(row)
    return pd.DataFrame(rows)


def _by_strategy_metric(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows of a strategy × metric table, keyed by (strategy, metric)."""
    return {
        (str(row["strategy"]), str(row["metric"])): {str(k): v for k, v in row.items()}
        for row in frame.to_dict("records")
    }


def _mean(comparison: Comparison, strategy: str, metric: str) -> float:
    summary = comparison.summary
    hit = summary[(summary["strategy"] == strategy) & (summary["metric"] == metric)]
    return float(hit["mean"].iloc[0]) if len(hit) else math.nan


def _significance(row: dict[str, Any]) -> str:
    if row["n"] < 2 or math.isnan(row["ci_low"]):
        return "no interval with one replication"
    if row["excludes_zero"]:
        return "the 95% interval excludes zero"
    return "the 95% interval includes zero, so this may be noise"


def verdict(comparison: Comparison, currency: str = "") -> list[str]:
    """One plain-language sentence per non-baseline strategy, from the paired differences.

    Example: "ripple_heavy acquires 38% more new customers than funnel_heavy (the 95% interval
    excludes zero), at 0.6× funnel_heavy's blended CAC; profit is 1,234.00 USD higher (…)."
    """
    if len(comparison.strategies) < 2:
        return [f"Only {comparison.baseline} was run: add a second strategy to compare."]
    paired = _by_strategy_metric(comparison.paired)
    base = comparison.baseline
    sentences = []
    for strategy in comparison.strategies[1:]:
        sentence = _customers_clause(comparison, paired, strategy, base)
        cac_other, cac_base = (
            _mean(comparison, strategy, "cac_blended"),
            _mean(comparison, base, "cac_blended"),
        )
        if math.isfinite(cac_other) and math.isfinite(cac_base) and cac_base > 0:
            sentence += f", at {cac_other / cac_base:.2g}× {base}'s blended CAC"
        profit = paired[(strategy, "profit")]
        diff = float(profit["mean_diff"])
        if math.isfinite(diff):
            if diff:
                amount = format_value("profit", abs(diff), currency)
                sentence += f"; profit is {amount} {'higher' if diff > 0 else 'lower'}"
            else:
                sentence += "; profit is the same"
            sentence += f" ({_significance(profit)})"
        sentences.append(sentence + ".")
    return sentences


def _customers_clause(
    comparison: Comparison, paired: dict[tuple[str, str], dict[str, Any]], strategy: str, base: str
) -> str:
    row = paired[(strategy, "new_customers")]
    diff = float(row["mean_diff"])
    base_mean = _mean(comparison, base, "new_customers")
    if diff == 0:
        amount = "the same number of new customers as"
    elif base_mean > 0:
        share = abs(diff) / base_mean
        amount = f"{share:.0%} {'more' if diff > 0 else 'fewer'} new customers than"
    else:
        amount = f"{abs(diff):,.0f} {'more' if diff > 0 else 'fewer'} new customers than"
    return f"{strategy} acquires {amount} {base} ({_significance(row)})"


def comparison_downloads(comparison: Comparison) -> dict[str, bytes]:
    """Files to download: every table as CSV, and all of them as Parquet in one zip archive."""
    tables = {name: getattr(comparison, name) for name in ("runs", "summary", "paired", "steps", "retention")}
    files = {f"{name}.csv": frame.to_csv(index=False).encode() for name, frame in tables.items()}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, frame in tables.items():
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            zipped.writestr(f"{name}.parquet", buffer.getvalue())
    files["comparison_parquet.zip"] = archive.getvalue()
    return files


def sweep_curve(runs: pd.DataFrame, metric: str, factor: str) -> pd.DataFrame:
    """Mean and 95% interval of ``metric`` at each value of one factor, over the other factors and seeds.

    ``runs`` is a sweep store's run table; failed runs (``status`` not "ok") are left out.
    Columns: the factor, mean, low, high, n.
    """
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    return band(ok.rename(columns={metric: "value"}), [factor]).sort_values(factor, ignore_index=True)


def sweep_grid(runs: pd.DataFrame, metric: str, x: str, y: str) -> pd.DataFrame:
    """Mean of ``metric`` at each pair of values of two factors (for a heatmap). Columns: x, y, mean, n."""
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    out = band(ok.rename(columns={metric: "value"}), [x, y])
    return out[[x, y, "mean", "low", "high", "n"]]


def _times(value: float) -> str:
    """A multiple as a person reads it: one decimal below 100, whole numbers above."""
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def eight_to_one_headline(cost_ratio: float) -> str:
    """The measured ratio in words that cannot read as zero: which lever costs how many times the other.

    ``cost_ratio`` is acquisition cost ÷ retention cost per customer-year (:mod:`sim.analysis.lesson`):
    8.2 reads "acquisition costs 8.2× retention", 0.11 reads "retention costs 9.1× acquisition".
    """
    if math.isnan(cost_ratio):
        return "no ratio: a lever spent nothing or neither added anything"
    if math.isinf(cost_ratio):
        return "acquisition added nothing: retention is the only lever that paid"
    if cost_ratio <= 0 or math.isinf(1 / cost_ratio):
        return "retention added nothing: acquisition is the only lever that paid"
    if round(cost_ratio, 1) == 1.0 and round(1 / cost_ratio, 1) == 1.0:
        return "acquisition and retention cost the same"
    if cost_ratio > 1:
        return f"acquisition costs {_times(cost_ratio)}× retention"
    return f"retention costs {_times(1 / cost_ratio)}× acquisition"


_NO_RATIO = {
    "no_ads": "No money goes to ads at this split, so there is no acquisition cost to compare: move the "
    "slider left.",
    "no_offers": "No money goes to retention offers at this split, so there is no retention cost to compare: "
    "move the slider right to measure what they keep.",
    "ads_unspent": "The ads could not spend any of their budget (no one left to show them to), so there is "
    "no acquisition cost to compare.",
    "offers_unspent": "The offers could not spend any of their budget (no customer worth an offer), so there "
    "is no retention cost to compare.",
    "no_value": "Neither the ads nor the offers added anything measurable, so there is no ratio to compare.",
}


def eight_to_one_verdict(
    result: Any, currency: str = "", move: tuple[float, float, float, float] | None = None
) -> str:
    """The 8:1 lesson's measurement at one split in two or three sentences.

    Args:
        result: a :class:`sim.analysis.lesson.EightToOne` (costs per customer-year of both levers,
            their ratio with its 95% interval, and the status).
        currency: the scenario's currency.
        move: from :meth:`sim.analysis.lesson.EightToOneCurve.move`: (the neighbouring split, the
            mean paired profit change of moving there, its 95% interval). The budget experiment's
            own answer to "does moving money between the levers pay here?".
    """
    sentences = []
    ratio, low, high = result.cost_ratio, result.cost_ratio_low, result.cost_ratio_high
    if result.status != "measured":
        sentences.append(_NO_RATIO.get(result.status, "There is no ratio at this split."))
    else:
        interval = (
            f" (95% interval {_times(low)}–{_times(high)}×)"
            if math.isfinite(low) and math.isfinite(high) and ratio >= 1
            else f" (95% interval {_times(1 / high)}–{_times(1 / low)}×)"
            if math.isfinite(low) and math.isfinite(high) and low > 0
            else ""
        )
        sentences.append(f"Here {eight_to_one_headline(ratio)} per customer-year{interval}.")
        holds = result.holds
        if holds is True:
            sentences.append("The folklore's 8:1 holds in this market.")
        elif holds is False:
            cheaper = (
                "retention is still the cheaper lever" if ratio > 1 else "acquisition is the cheaper lever"
            )
            sentences.append(f"8:1 fails in this market: {cheaper}.")
        else:
            sentences.append(
                f"With {result.replications} replications the interval reaches both sides of 8:1; "
                "more replications can tell."
            )
    if move is not None and math.isfinite(move[1]):
        target, change, low_change, high_change = move
        daily = abs(target - result.share_to_retention) * result.total_daily_budget
        towards = "offers" if target > result.share_to_retention else "ads"
        source = "ads" if towards == "offers" else "offers"
        amount = format_value("profit", daily, currency)
        if math.isfinite(low_change) and math.isfinite(high_change) and (low_change > 0 or high_change < 0):
            verb = "raises" if change > 0 else "lowers"
            low_text = format_value("profit", low_change, currency)
            span = f"{low_text} to {format_value('profit', high_change, currency)}"
            sentences.append(
                f"Moving the next {amount} a day from {source} to {towards} {verb} profit by "
                f"{format_value('profit', abs(change), currency)} (95%: {span})."
            )
            pays = change > 0
            cheaper_there = (ratio > 1) == (towards == "offers")
            if result.status == "measured" and math.isfinite(ratio) and ratio != 1 and pays != cheaper_there:
                sentences.append(
                    "The averages and the next step disagree: the next unit buys less than the average "
                    "one, because returns fall as a lever grows (fewer customers worth an offer, or the "
                    "same people seeing the ads again)."
                )
        else:
            sentences.append(
                f"Moving the next {amount} a day from {source} to {towards} changes profit by less than "
                "these replications can tell apart from nothing."
            )
    return " ".join(sentences)
