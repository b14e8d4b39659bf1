"""The 8:1 lesson: move a daily budget between acquisition (ads) and retention offers, measure both."""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from app_pages.common import Files, files_of, scenario_from_library_text, scenario_named, strategy_and_people
from sim.analysis import report
from sim.analysis.lesson import budget_split, measure_eight_to_one
from sim.scenario import scenario_to_yaml

st.title("The 8:1 lesson")
st.markdown(
    """
Marketing folklore says that winning a new customer costs **five to eight times** more than keeping
one (the "8:1 rule"; Reichheld & Sasser 1990, TARP, Gartner, Gallo 2014). Ripple does not assume the
ratio: it **measures** it. Each replication runs the strategy twice on the same market and random
numbers, once with retention offers and once without, and compares:

- **acquisition cost per new customer**: ad spend / customers the ads brought in;
- **retention cost per saved customer**: offer spend / customers still active *because of* the offers
  (with offers − without);
- their ratio: the measured "8:1".

**When 8:1 holds, and when it does not.** An offer pays only if it saves more than one in *ratio* of
the customers it reaches (the *break-even uplift*). Offers sent to customers who would have stayed
anyway, or who leave regardless, save nobody: their cost per saved customer explodes and acquisition
wins. Offers targeted at customers who respond to them (Ascarza 2018), in a market with high churn
and valuable customers (a large CLV multiple r/(1+d−r)), make retention the cheaper lever. When the
market is fresh and few people have heard of the brand, acquisition is cheap and the ratio falls below
8:1. Move the slider and watch which side of the budget earns more profit.
"""
)

cols = st.columns(4)
name, base, people = strategy_and_people(
    cols, "l", ("retention_uplift", "hybrid"), people_default=5000, people_min=100, people_step=1000
)
replications = cols[2].number_input("Replications", min_value=1, max_value=50, value=3, step=1, key="l_reps")
total = cols[3].number_input(
    f"Total daily budget ({base.economics.currency} per day)",
    min_value=0.0,
    value=100.0,
    step=10.0,
    key="l_total",
    help="Split between ads (acquisition) and retention offers by the slider below.",
)
share = st.slider(
    "Share of the budget spent on retention offers",
    min_value=0.0,
    max_value=1.0,
    value=0.2,
    step=0.1,
    format="%.1f",
    key="l_share",
    help="0 = everything on ads; 1 = everything on retention offers.",
)
scenario = budget_split(scenario_named(name, {"network.n": int(people)}), float(total), float(share))


@st.cache_data(show_spinner="Running the paired runs (with and without offers)…", max_entries=32)
def measured(scenario_yaml: str, replications: int, seed: int, files: Files = ()) -> Any:
    """The 8:1 measurement, cached by scenario text, replications, seed and the scenario's files."""
    scenario = scenario_from_library_text(scenario_yaml, files)
    return measure_eight_to_one(scenario, replications=replications, seed=seed)


result = measured(scenario_to_yaml(scenario), int(replications), int(scenario.seed), files_of(name))
currency = scenario.economics.currency


def money(value: float) -> str:
    """Currency amount; ∞ when money bought nobody, a dash when undefined (nothing spent)."""
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞"
    return f"{value:,.2f} {currency}"


saved_some = not result.customers_saved <= 0  # NaN (no offers) is not "none saved"
row1 = st.columns(3)
row1[0].metric(
    "Acquisition cost per new customer",
    money(result.acquisition_cost_per_new_customer),
    help="Ad spend / customers acquired by ads.",
)
row1[1].metric(
    "Retention cost per saved customer",
    money(result.retention_cost_per_saved_customer) if saved_some else "none saved",
    help="Offer spend / customers still active because of the offers (paired).",
)
ratio = result.cost_ratio
row1[2].metric(
    "Measured ratio (acquisition : retention)",
    f"{ratio:.1f} : 1" if math.isfinite(ratio) and saved_some else "—",
)
row2 = st.columns(3)
row2[0].metric(
    "Break-even uplift",
    f"{result.break_even_uplift:.1%}" if math.isfinite(result.break_even_uplift) else "—",
    help="Share of contacted customers an offer must save to pay for itself.",
)
row2[1].metric(
    "CLV multiple r/(1+d−r)",
    f"{result.clv_multiple:.2f}" if math.isfinite(result.clv_multiple) else "—",
    help="From the measured annual retention r and the discount rate d.",
)
row2[2].metric(
    "Profit with offers",
    money(result.profit),
    delta=money(result.profit - result.profit_without_offers) + " vs no offers",
    help="Gross margin − all marketing spend over the horizon, against the paired run without offers.",
)
st.caption(
    f"Spend over the horizon: ads {money(result.acquisition_spend)}, retention offers "
    f"{money(result.retention_spend)}; customers saved by offers: {result.customers_saved:,.1f}. "
    f"Means of {int(replications)} paired replications."
)
if result.retention_spend > 0:
    st.info(
        report.eight_to_one_verdict(
            ratio, result.customers_saved, result.profit, result.profit_without_offers, currency
        )
    )
else:
    st.info("No money goes to retention offers yet: move the slider right to measure what they save.")
with st.expander("Per-replication measurements"):
    st.dataframe(result.runs, hide_index=True)
