"""The 8:1 lesson: both levers measured on one footing, across the whole slider, and a map of markets.

Everything heavy is computed once per input and shared by every session of the app process
(:class:`SharedResults`, keyed only by the inputs: the scenario's text, its files, the budget and the
replications): the curve over every split (the slider only moves a marker) and the map over market
maturity and churn. The page computes a missing result itself, with a progress bar, outside any
cached function (no cached function creates or updates an element); the run counter counts the runs
this session simulated.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import streamlit as st

from app_pages.common import compare_workers, files_of, scenario_named, strategy_and_people
from app_pages.state import kept
from sim.analysis import report
from sim.analysis.lesson import STEP, EightToOneCurve, eight_to_one_curve
from sim.scenario import scenario_to_yaml
from sim.sweep.eight_to_one_map import EightToOneMap, eight_to_one_map
from sim.ui.lesson import curve_charts, map_chart, money, ratio_text, runs_in_words, unspent_words

#: Session key of the number of simulation runs this page has made (the slider makes none).
RUNS_DONE = "l_runs_done"
#: Finished curves and maps kept for every session (least recently used dropped first).
KEEP = 16
#: People in each cell of the map (fewer than the curve's: the map runs 60 markets).
MAP_PEOPLE = 1500
st.title("The 8:1 lesson")
st.markdown(
    """
Marketing folklore says that winning a new customer costs **five to eight times** more than keeping
one (the "8:1 rule"; Reichheld & Sasser 1990, TARP, Gallo 2014). Ripple does not assume the ratio: it
**measures** both levers the same way. A daily budget is split between ads (acquisition) and
retention offers. At each split, every replication runs the strategy three times on the same market
and random numbers: as it is, without the ads and without the offers. What each lever added is the
difference in gross margin (net of any other cost it caused), and its cost per **customer-year** is
its spend divided by that margin, counted in customer-years of margin.

**When 8:1 holds, and when it does not.** Offers pay in markets with many customers who would leave
and whom an offer keeps (Ascarza 2018): a mature market with high churn and valuable customers,
offers targeted by uplift. Ads pay when many people have never heard of the brand: a fresh market.
An offer pays for itself only if it keeps more than the *break-even uplift* of the customers it
reaches. Move the slider to see the cost of each lever and the profit at every split, and open the
map to see which markets make the folklore true.
"""
)

cols = st.columns(4)
name, base, people = strategy_and_people(
    cols,
    "l",
    ("eight_to_one_holds", "eight_to_one_fails", "retention_uplift", "hybrid"),
    people_default=2000,
    people_step=1000,
)
replications = cols[2].number_input(
    "Replications", min_value=1, max_value=50, step=1, key=kept("l_reps", 4), help="Paired markets per split."
)
own_total = base.ads.daily_budget + base.retention_offers.daily_budget
total = cols[3].number_input(
    f"Total daily budget ({base.economics.currency} per day)",
    min_value=0.0,
    step=1.0,
    key=kept(f"l_total:{name}", float(own_total) if own_total > 0 else 10.0),
    help="Split between ads (acquisition) and retention offers by the slider below.",
)
if base.description:
    st.caption(f"**{name}.** {base.description}")
scenario = scenario_named(name, {"network.n": int(people)})
currency = scenario.economics.currency
st.session_state.setdefault(RUNS_DONE, 0)


class SharedResults:
    """Finished curves and maps of this app process, for every session, keyed only by their inputs.

    A plain store, not a cached function: the page computes a missing result itself, with its
    progress bar (and a change of input stops it at the next finished run, as any Streamlit run), and
    keeps the finished, pure result here, so a new session, a reload or a second tab with the same
    inputs draws it at once.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.results: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        """The result stored under ``key`` (None when missing), now the most recently used."""
        with self.lock:
            if key in self.results:
                self.results.move_to_end(key)
            return self.results.get(key)

    def put(self, key: tuple[Any, ...], result: Any) -> None:
        """Keep ``result`` under ``key``; the least recently used beyond :data:`KEEP` are dropped."""
        with self.lock:
            self.results[key] = result
            while len(self.results) > KEEP:
                self.results.popitem(last=False)


@st.cache_resource(show_spinner=False)
def shared_results() -> SharedResults:
    """The one :class:`SharedResults` of this app process (it only creates the store, never draws)."""
    return SharedResults()


def _computed(key: tuple[Any, ...], label: str, compute: Callable[[Callable[[int, int], None]], Any]) -> Any:
    """The result stored under ``key`` (inputs only: no session, no time), computed now when missing.

    Computing draws a progress bar and adds the runs made to this session's counter; a result
    another session made is drawn without simulating.
    """
    store = shared_results()
    result = store.get(key)
    if result is not None:
        return result
    bar = st.progress(0.0, text=f"{label}…")

    def on_run(done: int, total_runs: int) -> None:
        bar.progress(done / total_runs, text=f"{label}: run {done:,} of {total_runs:,}")

    result = compute(on_run)
    bar.empty()
    store.put(key, result)
    st.session_state[RUNS_DONE] += len(result.runs)
    return result


curve: EightToOneCurve = _computed(
    ("curve", scenario_to_yaml(scenario), files_of(name), float(total), int(replications)),
    "Running the paired runs at every split",
    lambda on_run: eight_to_one_curve(
        scenario, float(total), int(replications), on_run=on_run, workers=compare_workers(int(replications))
    ),
)

share = st.slider(
    "Share of the budget spent on retention offers",
    min_value=0.0,
    max_value=1.0,
    step=STEP,
    format="%.1f",
    key=kept("l_share", 0.2),
    help="0 = everything on ads; 1 = everything on retention offers. Every split is already measured.",
)
result = curve.at(float(share))


def _cost(value: float) -> str:
    if math.isnan(value):
        return "not measured"
    if math.isinf(value):
        return "bought nothing"
    return money(value, currency, 2)


row1 = st.columns(3)
row1[0].metric(
    "Acquisition cost per new customer-year",
    _cost(result.acquisition_cost_per_customer_year),
    help="Ad spend ÷ the margin the ads added, counted in customer-years of margin "
    f"({money(result.margin_per_customer_year, currency)} each in the run without offers).",
)
row1[1].metric(
    "Retention cost per kept customer-year",
    _cost(result.retention_cost_per_customer_year),
    help="Offer spend ÷ the margin the offers added, counted in customer-years of margin.",
)
row1[2].metric(
    "Measured ratio (acquisition : retention)",
    ratio_text(result.cost_ratio),
    help="Acquisition cost ÷ retention cost per customer-year. 8 : 1 is the folklore; above 1 retention "
    "is the cheaper lever, below 1 acquisition is.",
)
if result.status == "measured":
    st.markdown(f"**In words: {report.eight_to_one_headline(result.cost_ratio)}.**")
row2 = st.columns(3)
row2[0].metric(
    "Break-even uplift",
    f"{result.break_even_uplift:.2%}" if math.isfinite(result.break_even_uplift) else "not measured",
    help="Share of the customers offered that an offer must keep to pay for itself: cost per offer ÷ the "
    "lifetime value of a customer in the run without offers.",
)
row2[1].metric(
    "CLV multiple r/(1+d−r)",
    f"{result.clv_multiple:.2f}" if math.isfinite(result.clv_multiple) else "not measured",
    help="Lifetime value per unit of annual margin, from the measured annual retention r and the "
    "discount rate d, in the run without offers.",
)
row2[2].metric(
    "Profit at this split",
    money(result.profit, currency),
    delta=f"{result.profit - result.profit_without_offers:+,.0f} {currency} against no offers",
    help="Gross margin − all marketing and retention spend over the horizon (mean of the replications).",
)
for line in unspent_words(result, currency):
    st.warning(line)
st.info(report.eight_to_one_verdict(result, currency, curve.move(float(share))))
profit_chart, ratio_chart = curve_charts(curve, float(share), currency)
left, right = st.columns(2)
left.altair_chart(profit_chart, width="stretch")
right.altair_chart(ratio_chart, width="stretch")
summary = (
    f"Means of {curve.replications} paired replications at each of {len(curve.points)} splits of "
    f"{money(curve.total_daily_budget, currency, 2)} a day, {people:,} people, {scenario.days} days."
)
counter = st.empty()  # filled at the end of the page, once the map (if asked for) has run too
with st.expander("Per-replication measurements at this split"):
    st.dataframe(runs_in_words(result, currency), hide_index=True, width="stretch")

st.subheader("Which markets make 8:1 true?")
show_map = st.toggle(
    "Show the map of market maturity and churn",
    key=kept("l_map", False),
    help=f"Measures the ratio in 20 markets of {MAP_PEOPLE:,} people (one replication each) through the "
    "sweep machinery; the first draw takes a while, later ones are instant.",
)
if show_map:
    map_scenario = scenario.with_overrides({"network.n": min(int(people), MAP_PEOPLE)})
    the_map: EightToOneMap = _computed(
        ("map", scenario_to_yaml(map_scenario), files_of(name), float(total)),
        "Measuring 20 markets for the map",
        lambda on_run: eight_to_one_map(map_scenario, float(total), on_run=on_run),
    )
    st.altair_chart(map_chart(the_map), width="stretch")
    holds = int(the_map.cells["holds"].sum())
    st.caption(
        f"Each cell is this strategy ({the_map.share_to_retention:.0%} of the budget on offers) in a market "
        f"with that share of customers at the start and that churn, {min(int(people), MAP_PEOPLE):,} people, "
        f"one replication. 8:1 holds in {holds} of {len(the_map.cells)} markets. Higher churn makes "
        "retention relatively cheaper; so does a market already reached."
    )

counter.caption(
    f"{summary} Simulation runs on this page so far: {st.session_state[RUNS_DONE]:,} "
    "(moving the slider runs none)."
)
