"""Headline metrics of one run, and retention curves. Definitions and units: docs/metrics.md."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.engine.ledger import RETENTION_CHANNELS
from sim.rules import REGISTRY
from sim.rules.base import MetricInfo
from sim.scenario import Scenario
from sim.world.population import CHANNELS, NEVER, Channel, Population, Stage

__all__ = [
    "AD_CHANNEL_COLUMNS",
    "CORE_METRICS",
    "METRICS",
    "MetricInfo",
    "ad_channel_table",
    "clv",
    "is_idle",
    "ratio",
    "retention_table",
    "summarise",
    "top_share",
]

#: Channels that acquire customers during a run (``initial`` customers were there on day 0).
ACQUISITION_CHANNELS: tuple[str, ...] = tuple(c for c in CHANNELS if c not in ("none", "initial"))
#: Cohorts of the retention table group first acquisitions by this many days.
COHORT_DAYS = 30
#: Ages (days) at which retention is reported.
RETENTION_AGE_STEP = 7


#: What the CAC of sharing counts, beside the referral programme's own CAC (they differ under attack).
SHARING_CAC_NOTE = (
    " Spend on sharing is every reward paid, fraud included, before anything is clawed back; coupon "
    "farmers who placed an order count as (short-lived) customers acquired via sharing, fake accounts "
    "never do. Referral CAC instead divides net referral spend by honest first-time customers only."
)


def _metric_catalogue() -> dict[str, MetricInfo]:
    info = {
        "new_customers": MetricInfo(
            "people", "First-time customers: people whose first order fell in the horizon."
        ),
        "new_signups": MetricInfo(
            "people", "First-time sign-ups over the horizon (some never order), all channels."
        ),
        "won_back": MetricInfo("people", "Former customers who came back."),
        "active_customers": MetricInfo(
            "people", "Active customers on the last day who have placed a first order."
        ),
        "customer_years": MetricInfo(
            "customer-years",
            "Customers (sign-ups included) summed over the days of the horizon, ÷ 365.",
        ),
        "cac_blended": MetricInfo(
            "currency per customer",
            "Marketing spend / customers acquired (new + won back), all channels.",
            higher_is_better=False,
        ),
        "retention_90d": MetricInfo(
            "share", "Share of customers still in their first spell 90 days after joining."
        ),
        "revenue": MetricInfo("currency", "Sales over the horizon."),
        "gross_margin": MetricInfo("currency", "Revenue − cost of goods."),
        "marketing_spend": MetricInfo(
            "currency", "Money spent acquiring customers (ads, referral rewards).", False
        ),
        "ads_spend": MetricInfo("currency", "Spend on ad impressions (part of marketing spend).", False),
        "profit": MetricInfo(
            "currency", "Gross margin − marketing spend − retention spend (offers, win-back, loyalty)."
        ),
        "roi": MetricInfo("ratio", "Profit / marketing spend (undefined with no spend)."),
        "clv": MetricInfo(
            "currency per customer",
            "m·r/(1+d−r): annual margin per customer m, measured annual retention r, discount d.",
        ),
        "viral_k": MetricInfo("customers per customer", "Referred sign-ups / people who ever signed up."),
        "top20_revenue_share": MetricInfo(
            "share", "Share of revenue from the top 20% of customers by revenue."
        ),
    }
    for channel in ACQUISITION_CHANNELS:
        info[f"new_customers_{channel}"] = MetricInfo(
            "people", f"First-time customers (first order in the horizon) who signed up via {channel}."
        )
        info[f"cac_{channel}"] = MetricInfo(
            "currency per customer",
            f"Spend on {channel} / customers acquired via {channel} (new + won back)."
            + (SHARING_CAC_NOTE if channel == "sharing" else ""),
            higher_is_better=False,
        )
    return info


#: Headline metrics every run reports, computed by :func:`summarise`.
CORE_METRICS: dict[str, MetricInfo] = _metric_catalogue()
#: Every headline metric, in report order: the core ones, then each registered rule's own
#: (:attr:`sim.rules.Rule.metrics`, computed by the rule's ``summarise``).
METRICS: dict[str, MetricInfo] = {
    **CORE_METRICS,
    **{name: info for rule in REGISTRY for name, info in rule.metrics.items()},
}


def ratio(numerator: float, denominator: float) -> float:
    """Numerator / denominator, NaN when undefined (0/0); +inf when spend bought nobody."""
    if denominator == 0:
        return math.nan if numerator == 0 else math.inf
    return numerator / denominator


def is_idle(values: Iterable[float]) -> bool:
    """True when every value is zero or undefined: the metric of a mechanism no run switched on.

    Reports hide such metrics by default (the CLI's ``--all-metrics`` and the app's toggle show them).
    """
    return all(not value or math.isnan(value) for value in values)


def clv(annual_margin: float, annual_retention: float, annual_discount_rate: float) -> float:
    """Customer lifetime value m·r/(1+d−r) (currency per customer).

    With no discount and no churn (d = 0, r = 1) a customer is worth an unbounded amount: ±inf by the
    sign of the margin (NaN with no margin), never a division error.
    """
    denominator = 1.0 + annual_discount_rate - annual_retention
    value = annual_margin * annual_retention
    if denominator <= 0.0:
        return math.nan if value == 0 else math.copysign(math.inf, value)
    return value / denominator


def top_share(values: np.ndarray, top: float = 0.2) -> float:
    """Share of the total carried by the largest ``top`` fraction of ``values`` (NaN if empty)."""
    total = float(values.sum())
    if values.size == 0 or total <= 0:
        return math.nan
    k = max(1, math.ceil(top * values.size))
    largest = np.partition(values, values.size - k)[values.size - k :]
    return float(largest.sum()) / total


def summarise(
    scenario: Scenario,
    population: Population,
    steps: pd.DataFrame,
    spend_by_channel: dict[str, float],
    retention: pd.DataFrame,
) -> dict[str, float]:
    """The core headline metrics of a finished run (names and units in :data:`CORE_METRICS`).

    ``retention`` is :func:`retention_table` of the same run.
    """
    run_steps = steps[steps["day"] > 0]
    summary: dict[str, float] = {}
    acquisitions_total = 0
    # A customer is someone who has ordered: sign-ups who never order are in new_signups only.
    # First-time customers are counted by the channel of their first sign-up (rule purchases).
    for channel in ACQUISITION_CHANNELS:
        new = int(run_steps[f"first_orders_{channel}"].sum())
        back = int(run_steps[f"won_back_{channel}"].sum())
        summary[f"new_customers_{channel}"] = new
        summary[f"cac_{channel}"] = ratio(spend_by_channel.get(channel, 0.0), new + back)
        acquisitions_total += new + back
    summary["new_customers"] = sum(summary[f"new_customers_{c}"] for c in ACQUISITION_CHANNELS)
    summary["new_signups"] = int(sum(run_steps[f"new_{c}"].sum() for c in ACQUISITION_CHANNELS))
    summary["won_back"] = int(sum(run_steps[f"won_back_{c}"].sum() for c in ACQUISITION_CHANNELS))
    active = population.stage == Stage.CUSTOMER
    summary["active_customers"] = int(np.count_nonzero(active & (population.day_first_order >= 0)))

    marketing = float(run_steps["marketing_spend"].sum())
    revenue = float(run_steps["revenue"].sum())
    gross_margin = revenue - float(run_steps["cost_of_goods"].sum())
    summary["cac_blended"] = ratio(marketing, acquisitions_total)
    summary["revenue"] = revenue
    summary["gross_margin"] = gross_margin
    summary["marketing_spend"] = marketing
    summary["ads_spend"] = float(spend_by_channel.get("ads", 0.0))
    retention_spend = sum(v for c, v in spend_by_channel.items() if c in RETENTION_CHANNELS)
    summary["profit"] = gross_margin - marketing - retention_spend
    summary["roi"] = summary["profit"] / marketing if marketing > 0 else math.nan

    overall = retention[(retention["group_by"] == "all") & (retention["age_days"] == 90)]
    summary["retention_90d"] = (
        float(overall["retention"].iloc[0]) if len(overall) and overall["at_risk"].iloc[0] else math.nan
    )

    # CLV from measured rates: customer-years of activity, churn events and margin per customer-year.
    customer_years = float(run_steps["n_customer"].sum()) / 365.0
    summary["customer_years"] = customer_years
    churn_events = float(run_steps["churned"].sum())
    if customer_years > 0:
        annual_margin = gross_margin / customer_years
        annual_retention = math.exp(-churn_events / customer_years)
        summary["clv"] = clv(annual_margin, annual_retention, scenario.economics.annual_discount_rate)
    else:
        summary["clv"] = math.nan

    ever_customers = int((population.n_acquisitions > 0).sum())
    referred = int(run_steps["new_sharing"].sum() + run_steps["won_back_sharing"].sum())
    summary["viral_k"] = ratio(referred, ever_customers) if ever_customers else math.nan
    summary["top20_revenue_share"] = top_share(population.revenue[population.n_acquisitions > 0])
    return {name: summary[name] for name in CORE_METRICS}


#: Columns of :func:`ad_channel_table` (docs/metrics.md, "Paid channels").
AD_CHANNEL_COLUMNS: tuple[str, ...] = (
    "channel",
    "spend",
    "impressions",
    "reach",
    "new_signups",
    "new_customers",
    "won_back",
    "cac",
)


def ad_channel_table(scenario: Scenario, population: Population, steps: pd.DataFrame) -> pd.DataFrame:
    """Spend, impressions, customers and CAC of each of our paid channels over the run.

    One row per channel of ``scenario.ads`` in order (columns :data:`AD_CHANNEL_COLUMNS`): ``spend``
    (currency), ``impressions``, ``reach`` (people shown an ad, summed over days), ``new_signups``
    (first-time sign-ups), ``new_customers`` (people whose first sign-up came through the channel and
    whose first order fell in the horizon), ``won_back`` (churned people it signed up again) and
    ``cac`` = spend ÷ (new customers + won back), the definition of ``cac_ads``. With the one plain
    channel of old the row is read from the ads totals (``spend_ads``, ``impressions``, ``new_ads``).
    ``population`` holds the real people.
    """
    run = steps[steps["day"] > 0]
    rows = []
    if scenario.ads.is_plain:
        won_back = int(run["won_back_ads"].sum())
        new_customers = int(run["first_orders_ads"].sum())
        spend = float(run["spend_ads"].sum())
        rows.append(
            {
                "channel": scenario.ads.name,
                "spend": spend,
                "impressions": int(run["impressions"].sum()),
                "reach": math.nan,
                "new_signups": int(run["new_ads"].sum()),
                "new_customers": new_customers,
                "won_back": won_back,
                "cac": ratio(spend, new_customers + won_back),
            }
        )
        return pd.DataFrame(rows, columns=list(AD_CHANNEL_COLUMNS))
    first_order_in_run = (population.first_channel == Channel.ADS) & (population.day_first_order > 0)
    by_channel = np.bincount(
        population.first_ad_channel[first_order_in_run & (population.first_ad_channel >= 0)].astype(np.int64),
        minlength=len(scenario.ads.all_channels()),
    )
    for index, channel in enumerate(scenario.ads.all_channels()):
        name = channel.name
        spend = float(run[f"spend_ads_{name}"].sum())
        won_back = int(run[f"won_back_ads_{name}"].sum())
        new_customers = int(by_channel[index])
        rows.append(
            {
                "channel": name,
                "spend": spend,
                "impressions": int(run[f"impressions_{name}"].sum()),
                "reach": int(run[f"reach_{name}"].sum()),
                "new_signups": int(run[f"new_ads_{name}"].sum()),
                "new_customers": new_customers,
                "won_back": won_back,
                "cac": ratio(spend, new_customers + won_back),
            }
        )
    return pd.DataFrame(rows, columns=list(AD_CHANNEL_COLUMNS))


def retention_table(population: Population, days: int) -> pd.DataFrame:
    """First-spell retention by age, overall, by acquisition cohort and by first channel.

    ``retention`` at age a is the share of people who joined at least a days before the horizon and
    had not churned by day ``joined + a``. Columns: group_by (all / cohort / channel), group,
    age_days, at_risk, retained, retention. Ages are every :data:`RETENTION_AGE_STEP` days.
    """
    joined = population.day_first_acquired
    ever = joined != NEVER
    start = joined[ever].astype(np.int64)
    first_churn = population.day_first_churned[ever].astype(np.int64)
    observed_until = days - start  # the oldest age at which we saw this person
    # Last age at which the person was still a customer in their first spell.
    last_retained = np.where(first_churn == NEVER, observed_until, first_churn - start - 1)
    ages = np.arange(0, days + 1, RETENTION_AGE_STEP)
    if days >= 90:
        ages = np.union1d(ages, [90])  # the headline retention_90d reads age 90

    groups: list[tuple[str, str, np.ndarray]] = [("all", "all", np.ones(start.size, dtype=bool))]
    cohort = start // COHORT_DAYS
    for c in np.unique(cohort):
        lo = int(c) * COHORT_DAYS
        groups.append(("cohort", f"days {lo}-{lo + COHORT_DAYS - 1}", cohort == c))
    first_channel = population.first_channel[ever]
    for channel in Channel:
        members = first_channel == channel
        if members.any():
            groups.append(("channel", CHANNELS[channel], members))

    # One table built once from the groups' columns (a frame per group and a concat cost more than
    # the counting).
    labels: list[tuple[str, str, int]] = []
    columns: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for group_by, name, members in groups:
        observed = np.sort(observed_until[members])
        retained_sorted = np.sort(last_retained[members])
        at_risk = observed.size - np.searchsorted(observed, ages, side="left")
        retained = retained_sorted.size - np.searchsorted(retained_sorted, ages, side="left")
        keep = at_risk > 0
        labels.append((group_by, name, int(keep.sum())))
        columns.append((ages[keep], at_risk[keep], retained[keep]))
    counts = [count for _, _, count in labels]
    text = pd.Series(["group"]).dtype  # the dtype pandas gives text (its string dtype, or object)
    at_risk_all = np.concatenate([at_risk for _, at_risk, _ in columns])
    retained_all = np.concatenate([retained for _, _, retained in columns])
    return pd.DataFrame(
        {
            "group_by": pd.Series(np.repeat([group_by for group_by, _, _ in labels], counts), dtype=text),
            "group": pd.Series(np.repeat([name for _, name, _ in labels], counts), dtype=text),
            "age_days": np.concatenate([age for age, _, _ in columns]),
            "at_risk": at_risk_all,
            "retained": retained_all,
            "retention": retained_all / at_risk_all,
        }
    )
