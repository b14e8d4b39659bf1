"""Shaping a :class:`~sim.analysis.compare.Comparison` for people: curves with bands, tables, a verdict.

The app's pages and any notebook use these; nothing here draws. Every curve is summarised over
replications as a mean with a t-based 95% interval (the same interval as :mod:`sim.analysis.compare`), so
bands on charts and numbers in tables agree.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from sim.analysis.compare import CONFIDENCE, SHARED_WORLD_SECTIONS, Comparison, mean_interval
from sim.analysis.metrics import ACQUISITION_CHANNELS, COHORT_DAYS, METRICS, is_idle
from sim.scenario import Scenario

__all__ = [
    "MAX_COHORTS",
    "NOT_NEGATIVE",
    "SECTION_FOCUS",
    "SHARE",
    "SHARING_CAC_CAPTION",
    "UNSPENT_NOTE_SHARE",
    "UNSPENT_REASONS",
    "Card",
    "band",
    "cac_by_channel",
    "comparison_downloads",
    "cumulative_by_channel",
    "days_to_half_market",
    "differing_sections",
    "eight_to_one_headline",
    "eight_to_one_verdict",
    "focus_metrics",
    "format_number",
    "format_value",
    "headline_cards",
    "headline_metrics",
    "metric_heading",
    "metric_label",
    "metric_table",
    "metric_unit",
    "money",
    "no_cac_words",
    "profit_over_time",
    "retention_curves",
    "sweep_curve",
    "sweep_grid",
    "unspent_budget_notes",
    "unspent_sentence",
    "verdict",
]


#: The range of a count, an amount spent or a cost per customer (for :func:`band`'s ``within``).
NOT_NEGATIVE = (0.0, math.inf)
#: The range of a share (retention, market share).
SHARE = (0.0, 1.0)


def band(
    frame: pd.DataFrame,
    by: Sequence[str],
    value: str = "value",
    within: tuple[float, float] = (-math.inf, math.inf),
) -> pd.DataFrame:
    """Mean and 95% interval of ``value`` over replications, per group ``by``.

    Returns the ``by`` columns plus ``mean``, ``low``, ``high`` and ``n``. Non-finite values are
    left out; with one finite value the interval collapses to the mean (there is no spread to show).
    ``within`` is the range the quantity can take (spend, counts and costs ≥ 0; shares in [0, 1]): a
    t interval over a few replications can stray outside it, and is cut there.
    """
    clean = frame[np.isfinite(frame[value].to_numpy(dtype=float))]
    grouped = clean.groupby(list(by), sort=False, observed=True)[value]
    out = grouped.agg(mean="mean", std="std", n="count").reset_index()
    dof = np.maximum(out["n"].to_numpy() - 1, 1)
    half = special.stdtrit(dof, 0.5 + CONFIDENCE / 2) * out["std"].fillna(0.0) / np.sqrt(out["n"])
    half = np.where(out["n"] > 1, half, 0.0)
    out["low"] = (out["mean"] - half).clip(*within)
    out["high"] = (out["mean"] + half).clip(*within)
    return out.drop(columns="std")


def _acquisition_channels(steps: pd.DataFrame) -> list[str]:
    """Acquisition channels that have a column in ``steps`` (later issues add channels)."""
    return [c for c in ACQUISITION_CHANNELS if f"new_{c}" in steps.columns]


def cumulative_by_channel(comparison: Comparison) -> pd.DataFrame:
    """Cumulative first-time customers (first orders) by channel and day, per strategy (mean, 95% band).

    A customer counts on the day of their first order, under the channel they first signed up
    through. Columns: strategy, channel, day, mean, low, high, n. Channels that acquired nobody in
    any strategy are left out so legends list only what happened.
    """
    steps = comparison.steps.sort_values(["strategy", "replication", "day"])
    channels = _acquisition_channels(steps)
    columns = [f"first_orders_{c}" for c in channels]
    counts = steps[["strategy", "replication", "day", *columns]].copy()
    counts[columns] = counts.groupby(["strategy", "replication"], sort=False)[columns].cumsum()
    long = counts.melt(
        id_vars=["strategy", "replication", "day"],
        value_vars=columns,
        var_name="channel",
        value_name="value",
    )
    long["channel"] = long["channel"].str.removeprefix("first_orders_")
    totals = long.groupby("channel")["value"].max()
    long = long[long["channel"].isin(totals[totals > 0].index)]
    return band(long, ["strategy", "channel", "day"], within=NOT_NEGATIVE)


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
    return band(long[long["channel"].isin(keep)], ["strategy", "channel"], within=NOT_NEGATIVE)


#: The cohort retention chart shows at most this many cohorts (30-day cohorts are merged to fit).
MAX_COHORTS = 6


def retention_curves(comparison: Comparison, group_by: str = "channel") -> pd.DataFrame:
    """First-spell retention (share) by age in days, per strategy and group (channel or cohort).

    Columns: strategy, group, age_days, mean, low, high, n, and ``order`` (the groups' display order:
    channels in channel order, cohorts by when they joined). Cohorts are the 30-day cohorts of the
    retention table merged into at most :data:`MAX_COHORTS` consecutive groups ("days 0-89", …),
    pooling their people. Ages where fewer than 20 people were at risk in a run are dropped from that
    run, and ages not seen in every replication of a group are dropped: a share of a handful of people
    is noise.
    """
    table = comparison.retention
    mine = table[table["group_by"] == group_by]
    if group_by == "cohort" and not mine.empty:
        mine = _merged_cohorts(mine)
    mine = mine[mine["at_risk"] >= 20].rename(columns={"retention": "value"})
    curves = band(mine, ["strategy", "group", "age_days"], within=SHARE)
    # Keep ages seen in every replication of a group: a band over fewer runs is mostly noise.
    complete = curves["n"] == curves.groupby(["strategy", "group"])["n"].transform("max")
    curves = curves[complete].reset_index(drop=True)
    curves["order"] = [_group_order(group_by, str(g)) for g in curves["group"]]
    return curves


def _cohort_start(name: str) -> int:
    """First day of a cohort named "days 30-59"."""
    return int(name.removeprefix("days ").split("-")[0])


def _group_order(group_by: str, group: str) -> int:
    if group_by == "cohort":
        return _cohort_start(group)
    return ACQUISITION_CHANNELS.index(group) if group in ACQUISITION_CHANNELS else len(ACQUISITION_CHANNELS)


def _merged_cohorts(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Cohort rows merged into at most :data:`MAX_COHORTS` consecutive groups of equal length."""
    starts = cohorts["group"].map(_cohort_start)
    width = int(np.diff(np.unique(starts)).min()) if starts.nunique() > 1 else COHORT_DAYS
    span = int(starts.max()) + width
    per_group = math.ceil(span / width / MAX_COHORTS) * width
    first = starts // per_group * per_group
    merged = cohorts.assign(group=[f"days {a}-{a + per_group - 1}" for a in first])
    sums = merged.groupby(["strategy", "replication", "group", "age_days"], sort=False, observed=True)[
        ["at_risk", "retained"]
    ].sum()
    sums = sums.reset_index()
    sums["retention"] = sums["retained"] / sums["at_risk"]
    return sums


#: Metric names in words, where spacing the identifier out is not plain enough (docs/metrics.md
#: defines each one). Others read as their identifier in words: ``won_back`` → "Won back".
_LABELS: dict[str, str] = {
    "new_customers": "New customers",
    "active_customers": "Active customers at the end",
    "cac_blended": "Blended CAC",
    "retention_90d": "90-day retention",
    "roi": "ROI",
    "clv": "CLV",
    "viral_k": "Viral K",
    "top20_revenue_share": "Revenue from the top 20% of customers",
    "rewards_paid": "Referral rewards paid",
    "rewards_paid_honest": "Rewards paid for honest referrals",
    "rewards_paid_fraud": "Fraud paid (rewards for fake referrals)",
    "rewards_denied_honest": "Honest referrals denied a reward",
    "referral_cac": "Referral CAC per honest customer",
    "referral_cac_without_fraud": "Referral CAC per honest customer without fraud",
    "programme_roi": "Referral programme ROI",
    "budget_used": "Programme budget used",
    "loyalty_spend": "Loyalty cost",
    "loyalty_breakage": "Loyalty points breakage",
    "loyalty_top_tier_share": "Members in the top tier",
    "offers_to_persuadables_share": "Offers that reached persuadables",
    "field_pushed_share": "Pushed field sign-ups",
    "days_to_half_market": "Days to half the market",
}
_ROLE_WORDS = {
    "ordinary": "ordinary customers",
    "employee": "employees",
    "kol": "KOLs",
    "seed": "seed users",
    "fake": "fake accounts",
}
_ACRONYMS = {"cac": "CAC", "clv": "CLV", "roi": "ROI", "kol": "KOL", "kols": "KOLs"}
#: Units that count things: shown as whole numbers.
_COUNT_UNITS = frozenset({"people", "accounts", "referrals", "contacts", "offers", "orders", "days"})
_MINUS = "−"


def metric_label(metric: str) -> str:
    """A metric's name in words, as docs/metrics.md explains it: ``cac_blended`` → "Blended CAC"."""
    if metric in _LABELS:
        return _LABELS[metric]
    for prefix, words in (("new_customers_", "New customers via {}"), ("cac_", "CAC of {}")):
        if metric.startswith(prefix):
            return words.format(metric.removeprefix(prefix))
    if metric.startswith("referred_by_"):
        role = metric.removeprefix("referred_by_")
        return f"Referred by {_ROLE_WORDS.get(role, role)}"
    text = " ".join(_ACRONYMS.get(word, word) for word in metric.split("_"))
    return text[:1].upper() + text[1:]


def metric_unit(metric: str, currency: str = "") -> str:
    """The unit a metric is shown in: "USD", "USD per customer", "people", "%", "ratio", …."""
    unit = _unit(metric)
    if unit == "share":
        return "%"
    return unit.replace("currency", currency or "money")


def _unit(metric: str) -> str:
    if metric == "days_to_half_market":
        return "days"
    return METRICS[metric].unit if metric in METRICS else ""


def _higher_is_better(metric: str) -> bool:
    if metric == "days_to_half_market":
        return False
    return METRICS[metric].higher_is_better if metric in METRICS else True


def metric_heading(metric: str, currency: str = "") -> str:
    """Label and unit for a table row or a card: "Blended CAC (USD per customer)"."""
    unit = metric_unit(metric, currency)
    return f"{metric_label(metric)} ({unit})" if unit else metric_label(metric)


def _plain_number(value: float, decimals: int) -> str:
    """``value`` with thousands separators, a real minus sign, and never "-0"."""
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":
        return text.lstrip("-")
    return text.replace("-", _MINUS)


def format_number(metric: str, value: float) -> str:
    """A metric value as a table shows it, without its unit (the header has it).

    Counts (people, accounts, …) are whole numbers, except a mean below 10 that is not whole, which
    keeps one decimal (half a customer per replication on average is "0.5", not "0", which would
    contradict a chart of the same mean); shares are percentages with one decimal, money has cents
    below 1,000 and none above, ratios three significant figures; never "-0".
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else f"{_MINUS}∞"
    unit = _unit(metric)
    if unit in _COUNT_UNITS:
        fraction = abs(value) < 10 and round(value, 1) != round(value)
        return _plain_number(value, 1 if fraction else 0)
    if unit == "share":
        return _plain_number(100 * value, 1)
    if unit.startswith("currency"):
        return _plain_number(value, 0 if abs(value) >= 1000 or value == 0 else 2)
    return _significant(value, 3)


def _significant(value: float, digits: int, max_decimals: int | None = None) -> str:
    """``value`` to ``digits`` significant figures, without an exponent (1,234.5 → "1,230"); never "-0"."""
    if not math.isfinite(value):
        return "∞" if value > 0 else f"{_MINUS}∞" if value < 0 else "—"
    if max_decimals is not None:
        value = round(value, max_decimals)
    if value == 0:
        return "0"
    rounded = round(value, digits - 1 - math.floor(math.log10(abs(value))))
    if rounded == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    if max_decimals is not None:
        decimals = min(decimals, max_decimals)
    return _plain_number(rounded, decimals)


def format_value(metric: str, value: float, currency: str = "") -> str:
    """A metric value as a sentence or a card shows it: "1,234 USD", "84.6%", "1,230".

    A count is the number alone: its label names what is counted. Money above 1,000 has no cents;
    counts are whole; shares are percentages; never "-0".
    """
    return _with_unit(metric, format_number(metric, value), currency, share="%")


def _with_unit(metric: str, text: str, currency: str, share: str) -> str:
    """``text`` (a number as shown) followed by its unit: ``share`` for a share, the currency for money."""
    if text == "—" or "∞" in text:
        return text
    unit = _unit(metric)
    if unit == "share":
        return f"{text}{share}"
    if unit.startswith("currency"):
        return f"{text} {currency}".rstrip()
    return text


def money(value: float, currency: str = "") -> str:
    """Money in a sentence: three significant figures, at most to the cent ("34,500 USD", "12.3 USD")."""
    if not math.isfinite(value):
        return format_number("profit", value)
    return f"{_significant(value, 3, max_decimals=2)} {currency}".strip()


def _interval(metric: str, low: float, high: float, currency: str) -> str:
    if any(math.isnan(x) for x in (low, high)):
        return ""
    return f" [{format_number(metric, low)}, {format_number(metric, high)}]"


def _signed(metric: str, value: float) -> str:
    """A difference with its sign: "+1,234", "−12.5", "0"."""
    text = format_number(metric, value)
    if text in ("—", "0", "0.0", "0.00") or text.startswith(_MINUS) or "∞" in text:
        return text
    return f"+{text}"


def metric_table(comparison: Comparison, currency: str = "", *, only_active: bool = False) -> pd.DataFrame:
    """Headline metrics as people read them: one row per metric, ``mean [95% interval]`` per strategy.

    Columns: ``Metric`` (the metric in words with its unit, e.g. "Blended CAC (USD per customer)"),
    one per strategy, and one ``<strategy> − <baseline>`` per other strategy holding the mean paired
    difference and its interval, ending in ``*`` when the interval excludes zero. Cells carry no unit
    (the row says it): counts are whole, shares in %, money without cents above 1,000, never "-0".
    ``only_active=True`` leaves out metrics that are zero or undefined for every strategy (mechanisms
    none of them switches on). The metric identifiers are the frame's index (``metric``).
    """
    summary = _by_strategy_metric(comparison.summary)
    paired = _by_strategy_metric(comparison.paired)
    rows, names = [], []
    for metric in METRICS:
        if only_active and is_idle(summary[(strategy, metric)]["mean"] for strategy in comparison.strategies):
            continue
        row: dict[str, str] = {"Metric": metric_heading(metric, currency)}
        for strategy in comparison.strategies:
            cell = summary[(strategy, metric)]
            row[strategy] = format_number(metric, cell["mean"]) + _interval(
                metric, cell["ci_low"], cell["ci_high"], currency
            )
        for strategy in comparison.strategies[1:]:
            diff = paired[(strategy, metric)]
            text = _signed(metric, diff["mean_diff"]) + _interval(
                metric, diff["ci_low"], diff["ci_high"], currency
            )
            row[f"{strategy} − {comparison.baseline}"] = text + (" *" if diff["excludes_zero"] else "")
        rows.append(row)
        names.append(metric)
    return pd.DataFrame(rows, index=pd.Index(names, name="metric"))


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


#: Scenario sections that are not part of a strategy (names, the horizon, the shared market).
_NOT_STRATEGY = frozenset({"name", "description", "seed", "base_dir", "days", *SHARED_WORLD_SECTIONS})

#: The outcomes each section acts on, most telling first: the verdict leads with those of the
#: sections in which the strategies differ. A section not listed falls back to its rules' own metrics
#: (:attr:`sim.rules.Rule.metrics`), so a new rule gets a verdict without editing this table.
SECTION_FOCUS: dict[str, tuple[str, ...]] = {
    "fraud": ("rewards_paid_fraud", "rewards_denied_honest", "referral_cac"),
    "defences": ("rewards_paid_fraud", "rewards_denied_honest", "referral_cac"),
    "loyalty": ("retention_90d", "clv", "loyalty_spend"),
    "retention_offers": ("retention_90d", "active_customers", "retention_spend"),
    "winback": ("won_back", "winback_spend"),
    "seeding": ("new_customers", "days_to_half_market", "seeding_spend"),
    "field_team": ("new_customers_field", "cac_field", "field_spend"),
    "incentives": ("rewards_paid", "referral_cac", "new_customers_sharing"),
    "sharing": ("new_customers_sharing", "viral_k", "cac_sharing"),
    "ads": ("new_customers_ads", "cac_ads", "marketing_spend"),
    "organic": ("new_customers_organic",),
    "habit": ("retention_90d", "clv", "active_customers"),
    "customers": ("retention_90d", "clv", "active_customers"),
    "economics": ("clv", "gross_margin"),
}


def differing_sections(scenarios: Mapping[str, Scenario]) -> list[str]:
    """Strategy sections whose settings are not the same in every scenario, most specific first.

    The order is that of :data:`SECTION_FOCUS` (the attack and its defences before the referral
    programme, a loyalty programme before churn behaviour, …); sections it does not list follow in
    schema order.
    """
    dumps = [scenario.model_dump(mode="json") for scenario in scenarios.values()]
    if not dumps:
        return []
    differ = [
        section
        for section in dumps[0]
        if section not in _NOT_STRATEGY and any(d.get(section) != dumps[0].get(section) for d in dumps[1:])
    ]
    order = list(SECTION_FOCUS)
    return sorted(differ, key=lambda section: order.index(section) if section in order else len(order))


def focus_metrics(sections: Sequence[str]) -> list[str]:
    """The metrics that answer for ``sections``, most telling first, without repeats."""
    from sim.rules import REGISTRY  # the rules' own metrics are the fallback for unlisted sections

    out: list[str] = []
    for section in sections:
        metrics = SECTION_FOCUS.get(section) or tuple(
            name for rule in REGISTRY if rule.section == section for name in rule.metrics
        )
        out += [m for m in metrics if m not in out]
    return out


def days_to_half_market(comparison: Comparison) -> pd.DataFrame:
    """First day on which half the market had been a customer, per strategy and replication.

    Half the market: people who are or were customers (stages customer and churned) reach half of all
    people. NaN when that did not happen within the horizon. Columns: strategy, replication, value.
    """
    steps = comparison.steps
    if steps.empty:
        return pd.DataFrame(columns=["strategy", "replication", "value"])
    stages = [c for c in steps.columns if c.startswith("n_") and c[2:] in _STAGE_NAMES]
    reached = steps["n_customer"] + steps["n_churned"] >= steps[stages].sum(axis=1) / 2
    first = steps[reached].groupby(["strategy", "replication"], sort=False)["day"].min()
    runs = comparison.runs[["strategy", "replication"]]
    out = runs.merge(first.rename("value").reset_index(), on=["strategy", "replication"], how="left")
    return out.astype({"value": float})


_STAGE_NAMES = frozenset({"unaware", "aware", "considering", "customer", "churned"})


def _values(comparison: Comparison, metric: str) -> pd.DataFrame:
    """Per-run values of ``metric`` (a headline metric or a derived one): strategy × replication."""
    if metric == "days_to_half_market":
        frame = days_to_half_market(comparison)
    else:
        frame = comparison.runs[["strategy", "replication", metric]].rename(columns={metric: "value"})
    return frame.pivot(index="replication", columns="strategy", values="value")


def _paired_stats(comparison: Comparison, metric: str, strategy: str, against: str) -> dict[str, float]:
    """Mean of ``strategy`` − ``against`` over replications, with its 95% interval (paired)."""
    wide = _values(comparison, metric)
    mean, low, high, n = mean_interval((wide[strategy] - wide[against]).to_numpy(dtype=float))
    return {"mean_diff": mean, "ci_low": low, "ci_high": high, "n": n}


def _strategy_mean(comparison: Comparison, metric: str, strategy: str) -> float:
    values = _values(comparison, metric)[strategy].to_numpy(dtype=float)
    return mean_interval(values)[0]


def _directions(metric: str) -> tuple[str, str]:
    """The words for a positive and a negative difference of ``metric``."""
    unit = _unit(metric)
    if unit == "days":
        return "later", "sooner"
    if unit in _COUNT_UNITS:
        return "more", "fewer"
    if unit == "share" or unit.startswith("currency per") or unit in ("ratio", "customers per customer"):
        return "higher", "lower"
    return "more", "less"


def _unit_words(metric: str, currency: str) -> str:
    """The unit after a number in a sentence (" USD", " percentage points"), or "" for counts and ratios."""
    unit = _unit(metric)
    if unit == "share":
        return " percentage points"
    if unit.startswith("currency"):
        return f" {unit.replace('currency', currency).strip()}".rstrip()
    return ""


def _magnitude(metric: str, value: float, currency: str, *, with_unit: bool = True) -> str:
    """The size of a difference in words: money to 3 significant figures, shares in percentage points."""
    unit = _unit(metric)
    if unit == "share":
        text = _significant(100 * value, 3)
    elif unit in _COUNT_UNITS:
        text = _plain_number(value, 0) if value >= 10 or value == round(value) else _significant(value, 2)
    else:
        text = _significant(value, 3, max_decimals=2 if unit.startswith("currency") else None)
    return text + (_unit_words(metric, currency) if with_unit else "")


def _difference_words(metric: str, row: Mapping[str, float], currency: str) -> str:
    """A paired difference in words: "23,500 USD less (95% interval 22,800 to 24,200 USD less)".

    "about the same" when it rounds to nothing; the interval is said as a range of amounts in one
    direction, or "from … less to … more" when it includes zero (then it may be noise).
    """
    diff = float(row["mean_diff"])
    if math.isnan(diff):
        return "not comparable (undefined)"
    if math.isinf(diff):
        return "without a finite difference"
    more, less = _directions(metric)
    if _magnitude(metric, abs(diff), currency, with_unit=False).strip("0.,") == "":
        return "about the same" + _interval_words(metric, row, currency, parenthesis=True)
    words = f"{_magnitude(metric, abs(diff), currency)} {more if diff > 0 else less}"
    return words + _interval_words(metric, row, currency, parenthesis=True)


def _interval_words(metric: str, row: Mapping[str, float], currency: str, *, parenthesis: bool) -> str:
    low, high = float(row["ci_low"]), float(row["ci_high"])
    if row["n"] < 2 or math.isnan(low):
        text = "one replication: no interval"
    else:
        more, less = _directions(metric)
        unit = _unit_words(metric, currency)

        def size(value: float) -> str:
            return _magnitude(metric, abs(value), currency, with_unit=False)

        if low >= 0:
            text = f"95% interval {size(low)} to {size(high)}{unit} {more}"
        elif high <= 0:
            text = f"95% interval {size(high)} to {size(low)}{unit} {less}"
        else:
            text = f"95% interval from {size(low)}{unit} {less} to {size(high)} {more}: this may be noise"
    return f" ({text})" if parenthesis else text


def no_cac_words(comparison: Comparison, currency: str = "") -> str:
    """Why the CAC-by-channel chart has nothing to draw, agreeing with the marketing spend cards.

    Either nothing was spent, or money was spent but bought nobody through a paid channel (a short
    horizon): each paid channel's CAC is then unbounded, which a bar cannot show.
    """
    runs = comparison.runs
    spend = runs.groupby("strategy", observed=True)["marketing_spend"].mean() if not runs.empty else None
    spenders = [s for s in comparison.strategies if spend is not None and spend.get(s, 0.0) > 0]
    if not spenders:
        return "No channel spent money, so there is no acquisition cost to chart."
    assert spend is not None
    spent = "; ".join(  # as the Marketing spend cards write it
        f"{format_value('marketing_spend', float(spend[s]), currency)} with {s}" for s in spenders
    )
    return (
        f"Marketing money was spent ({spent}; mean over replications) but bought no customer through a "
        "paid channel in this horizon: each paid channel's CAC is unbounded (∞), so there is no bar to draw."
    )


#: Said under the CAC-by-channel chart when it has a sharing bar: it is not the Referral CAC card.
SHARING_CAC_CAPTION = (
    "The **sharing** bar is gross sharing spend (every reward paid, fraud included) ÷ everyone acquired "
    "via sharing: won-back customers and coupon farmers who placed an order count, as (short-lived) "
    "customers. **Referral CAC per honest customer** (cards, tables) divides net referral spend by "
    "honest first-time customers only, so under a fraud attack it is higher."
)

#: Why a lever leaves budget unspent, in words (the Compare page and the 8:1 lesson say the same).
UNSPENT_REASONS = {
    "ads": "too few people were left to show them to within the frequency cap (the audience is the people "
    "who are not customers)",
    "offers": "too few customers were worth an offer and not already under one",
}
#: Share of a strategy's ad budget left unspent over the horizon from which the Compare page says so.
UNSPENT_NOTE_SHARE = 0.10


def unspent_sentence(lever: str, spent: str, budget: str, subject: str | None = None, share: str = "") -> str:
    """The sentence for a lever that could not spend its budget: amounts already in words.

    ``lever`` is ``ads`` or ``offers`` (:data:`UNSPENT_REASONS`); ``subject`` a strategy's name
    ("hybrid's ads could spend only …"), else "The ads …"; ``share`` an optional aside after the
    amounts ("75% left unspent").
    """
    who = f"{subject}'s {lever}" if subject else f"The {lever}"
    aside = f" ({share})" if share else ""
    return f"{who} could spend only {spent} of {budget}{aside}: {UNSPENT_REASONS[lever]}."


def unspent_budget_notes(
    comparison: Comparison, currency: str = "", at_least: float = UNSPENT_NOTE_SHARE
) -> list[str]:
    """A sentence for each strategy that left ``at_least`` of its ad budget unspent over the horizon.

    Budget and spend are each replication's sums over days of the step table's ``spend_ads`` and
    ``ads_unspent`` (the day's ad budgets − ``spend_ads``; see docs/metrics.md), averaged over
    replications. Profit counts only what was spent, so a strategy whose budget could not be spent is
    compared on less money than its settings suggest, and a bigger budget would change nothing.
    """
    steps = comparison.steps
    if steps.empty or not {"spend_ads", "ads_unspent"} <= set(steps.columns):
        return []
    totals = steps.groupby(["strategy", "replication"], observed=True)[["spend_ads", "ads_unspent"]].sum()
    means = totals.groupby(level="strategy", observed=True).mean()
    notes = []
    for strategy in comparison.strategies:
        if strategy not in means.index:
            continue
        spent, unspent = (float(v) for v in means.loc[strategy, ["spend_ads", "ads_unspent"]].to_numpy())
        budget = spent + unspent
        if budget <= 0 or unspent < at_least * budget:
            continue
        days = int(steps["day"].max())
        notes.append(
            unspent_sentence(
                "ads",
                money(spent, currency),
                f"{money(budget, currency)} over {days} day{'s' if days != 1 else ''}",
                subject=strategy,
                share=f"{unspent / budget:.0%} left unspent, mean over replications",
            )
            + " Its profit counts only what was spent; a bigger ad budget would buy nothing more."
        )
    return notes


def verdict(
    comparison: Comparison, currency: str = "", scenarios: Mapping[str, Scenario] | None = None
) -> list[str]:
    """The answer in plain sentences: the most profitable strategy first, then what the strategies change.

    Sentence 1 names the most profitable strategy, its profit (money to 3 significant figures) and how
    much more it makes than the next best, with the paired 95% interval. The following sentences (at
    most four) take the metrics of the sections in which ``scenarios`` differ (:data:`SECTION_FOCUS`;
    fraud and defences → fraud paid, honest rewards denied, referral CAC; loyalty → retention, CLV,
    loyalty cost; …), each giving the baseline's value and every other strategy's value with its paired
    difference. Metrics that are zero, undefined or identical for every strategy are left out. Without
    ``scenarios`` (or when only the market differs) the core outcomes are used: new customers, blended
    CAC and 90-day retention.
    """
    if len(comparison.strategies) < 2:
        return [f"Only {comparison.baseline} was run: add a second strategy to compare."]
    sentences = [_most_profitable(comparison, currency)]
    sections = differing_sections(scenarios) if scenarios else []
    focus = [m for m in focus_metrics(sections) if m != "profit"] or [
        "new_customers",
        "cac_blended",
        "retention_90d",
    ]
    for metric in [m for m in focus if _moves(comparison, m, same_counts=True)][:4]:
        if _moves(comparison, metric):
            sentences.append(_metric_sentence(comparison, metric, currency))
        else:
            value = _value_words(comparison, metric, comparison.baseline, currency)
            sentences.append(f"{metric_label(metric)}: the same with every strategy ({value}).")
    return sentences


def _moves(comparison: Comparison, metric: str, *, same_counts: bool = False) -> bool:
    """Whether ``metric`` is worth a sentence or a card: defined, not idle, not the same everywhere.

    ``same_counts=True`` keeps a metric that is the same for every strategy (the verdict says so: it
    answers the question too).
    """
    if metric != "days_to_half_market" and metric not in METRICS:
        return False
    wide = _values(comparison, metric)
    if metric == "days_to_half_market":
        return bool(wide.notna().to_numpy().any())
    if is_idle(_strategy_mean(comparison, metric, s) for s in comparison.strategies):
        return False
    first = wide[comparison.baseline]
    return same_counts or any(not wide[s].equals(first) for s in comparison.strategies[1:])


def _most_profitable(comparison: Comparison, currency: str) -> str:
    profits = {s: _strategy_mean(comparison, "profit", s) for s in comparison.strategies}

    def rank(strategy: str) -> float:
        return -profits[strategy] if math.isfinite(profits[strategy]) else math.inf

    best, runner_up = sorted(comparison.strategies, key=rank)[:2]
    days = int(comparison.steps["day"].max()) if not comparison.steps.empty else None
    over = f" over {days} day{'s' if days != 1 else ''}" if days else ""
    row = _paired_stats(comparison, "profit", best, runner_up)
    words = _difference_words("profit", row, currency)
    lead = f"{best} is the most profitable: {money(profits[best], currency)}{over}"
    if words.startswith("about the same"):
        interval = _interval_words("profit", row, currency, parenthesis=True)
        return f"{lead}, about the same as {runner_up}{interval}."
    amount, _, interval = words.partition(" (")
    return f"{lead}, {amount} than {runner_up} ({interval}."


def _metric_sentence(comparison: Comparison, metric: str, currency: str) -> str:
    base = comparison.baseline
    label = metric_label(metric)
    if metric == "days_to_half_market":
        label = "Half the market had been customers by"
    parts = [f"{_value_words(comparison, metric, base, currency)} with {base}"]
    for strategy in comparison.strategies[1:]:
        row = _paired_stats(comparison, metric, strategy, base)
        value = _value_words(comparison, metric, strategy, currency)
        if metric == "days_to_half_market" and (math.isnan(row["mean_diff"]) or row["n"] == 0):
            parts.append(f"{value} with {strategy}")
            continue
        parts.append(f"{value} with {strategy}, {_difference_words(metric, row, currency)}")
    return f"{label}: " + "; ".join(parts) + "."


def _value_words(comparison: Comparison, metric: str, strategy: str, currency: str) -> str:
    value = _strategy_mean(comparison, metric, strategy)
    if metric == "days_to_half_market":
        reached = _values(comparison, metric)[strategy].notna()
        if not reached.any():
            return "not within the horizon"
        day = f"day {_plain_number(value, 0)}"
        return day if reached.all() else f"{day} (in {int(reached.sum())} of {reached.size} replications)"
    if _unit(metric).startswith("currency") and math.isfinite(value):
        return money(value, currency) + _unit(metric).removeprefix("currency")
    return format_value(metric, value, currency)


def _delta_text(metric: str, value: float, currency: str) -> str:
    """A card's difference: "+1,230 USD", "-2.1 pp", "0 people" (an ASCII minus: Streamlit reads it)."""
    return _with_unit(metric, _signed(metric, value).replace(_MINUS, "-"), currency, share=" pp")


@dataclass(frozen=True)
class Card:
    """One headline number of one strategy: its value and the paired difference against the baseline.

    ``delta`` is None for the baseline; ``delta_colour`` is "normal" when higher is better, "inverse"
    when lower is better (Streamlit's ``st.metric`` convention); ``help`` gives the 95% intervals.
    """

    metric: str
    label: str
    value: str
    delta: str | None
    delta_colour: str
    help: str


def headline_metrics(comparison: Comparison, scenarios: Mapping[str, Scenario] | None = None) -> list[str]:
    """Up to five metrics for the headline cards, profit first.

    Then what the differing sections change (:func:`focus_metrics`), then the core outcomes (new
    customers, blended CAC, 90-day retention, active customers, CLV); metrics that are idle or the
    same for every strategy are skipped.
    """
    sections = differing_sections(scenarios) if scenarios else []
    wanted = ["profit", *focus_metrics(sections), "new_customers", "cac_blended", "retention_90d"]
    wanted += ["active_customers", "clv"]
    out: list[str] = []
    for metric in wanted:
        if metric in out or metric == "days_to_half_market":
            continue
        if metric in METRICS and _moves(comparison, metric):
            out.append(metric)
        if len(out) == 5:
            break
    return out


def headline_cards(
    comparison: Comparison, currency: str = "", scenarios: Mapping[str, Scenario] | None = None
) -> dict[str, list[Card]]:
    """The headline cards of each strategy (:func:`headline_metrics`), with paired differences."""
    summary = _by_strategy_metric(comparison.summary)
    paired = _by_strategy_metric(comparison.paired)
    cards: dict[str, list[Card]] = {}
    for strategy in comparison.strategies:
        mine = []
        for metric in headline_metrics(comparison, scenarios):
            cell = summary[(strategy, metric)]
            value = format_value(metric, cell["mean"], currency)
            help_text = f"{METRICS[metric].description} Mean over replications" + (
                f", 95% interval {format_value(metric, cell['ci_low'], currency)} to "
                f"{format_value(metric, cell['ci_high'], currency)}."
                if not math.isnan(cell["ci_low"])
                else "."
            )
            delta = None
            if strategy != comparison.baseline:
                row = paired[(strategy, metric)]
                delta = f"{_delta_text(metric, row['mean_diff'], currency)} vs {comparison.baseline}"
                help_text += f" Paired difference against {comparison.baseline}: " + _difference_words(
                    metric, row, currency
                )
            colour = "normal" if METRICS[metric].higher_is_better else "inverse"
            mine.append(Card(metric, metric_label(metric), value, delta, colour, help_text))
        cards[strategy] = mine
    return cards


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
