"""sim.analysis.report: curves, tables and the verdict agree with the comparison they summarise."""

from __future__ import annotations

import io
import json
import math
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from sim import compare, load_scenario
from sim.analysis import report
from sim.analysis.compare import Comparison, mean_interval
from sim.analysis.lesson import EightToOne
from sim.analysis.metrics import METRICS
from sim.ui import viz
from tests.chart_checks import altair_problems
from tests.conftest import SCENARIOS

SMALL = {"network.n": 3000, "days": 120}


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    names = ("funnel_heavy", "ripple_heavy", "hybrid")
    scenarios = [load_scenario(SCENARIOS / f"{name}.yaml", SMALL) for name in names]
    return compare(scenarios, replications=4, seed=11)


def test_band_matches_compare_interval() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"g": np.repeat(["a", "b"], 6), "value": rng.normal(size=12)})
    frame.loc[0, "value"] = math.inf  # non-finite values are left out, as in compare
    out = band(frame)
    for group in ("a", "b"):
        values = frame.loc[frame["g"] == group, "value"].to_numpy()
        mean, low, high, n = mean_interval(values)
        row = out[out["g"] == group].iloc[0]
        assert row["mean"] == pytest.approx(mean)
        assert row["low"] == pytest.approx(low)
        assert row["high"] == pytest.approx(high)
        assert row["n"] == n


def band(frame: pd.DataFrame) -> pd.DataFrame:
    return report.band(frame, ["g"])


def test_band_with_one_value_has_no_width() -> None:
    out = report.band(pd.DataFrame({"g": ["a"], "value": [2.0]}), ["g"])
    assert out[["mean", "low", "high"]].iloc[0].tolist() == [2.0, 2.0, 2.0]


def test_a_band_is_cut_to_the_range_its_quantity_can_take() -> None:
    spread = pd.DataFrame({"g": ["a", "a"], "value": [0.0, 100.0]})  # two replications: t is wide
    free = report.band(spread, ["g"])
    assert free["low"].iloc[0] < 0.0  # what the t interval says, unclipped
    spend = report.band(spread, ["g"], within=report.NOT_NEGATIVE)
    assert spend["low"].iloc[0] == 0.0 and spend["high"].iloc[0] == free["high"].iloc[0]
    share = report.band(spread.assign(value=[0.2, 0.99]), ["g"], within=report.SHARE)
    assert share["low"].iloc[0] == 0.0 and share["high"].iloc[0] == 1.0
    assert spend["mean"].iloc[0] == 50.0  # the mean is never moved


def test_cumulative_by_channel_ends_at_the_run_totals(comparison: Comparison) -> None:
    curves = report.cumulative_by_channel(comparison)
    last = curves[curves["day"] == curves["day"].max()]
    for row in last.itertuples():
        runs = comparison.runs[comparison.runs["strategy"] == row.strategy]
        assert row.mean == pytest.approx(runs[f"new_customers_{row.channel}"].mean())
    assert set(curves["strategy"]) == set(comparison.strategies)
    assert "none" not in set(curves["channel"])
    assert (curves["low"] <= curves["mean"] + 1e-9).all() and (curves["mean"] <= curves["high"] + 1e-9).all()


def test_profit_over_time_ends_at_summary_profit(comparison: Comparison) -> None:
    curves = report.profit_over_time(comparison)
    last = curves[curves["day"] == curves["day"].max()].set_index("strategy")
    summary = comparison.summary[comparison.summary["metric"] == "profit"].set_index("strategy")
    for strategy in comparison.strategies:
        assert last.loc[strategy, "mean"] == pytest.approx(summary.loc[strategy, "mean"])
        assert last.loc[strategy, "low"] == pytest.approx(summary.loc[strategy, "ci_low"])


def test_cac_by_channel_matches_summary_and_skips_free_channels(comparison: Comparison) -> None:
    cac = report.cac_by_channel(comparison)
    assert "organic" not in set(cac["channel"])  # no spend, no CAC
    assert "ads" in set(cac["channel"])
    summary = comparison.summary.set_index(["strategy", "metric"])
    for row in cac.itertuples():
        assert row.mean == pytest.approx(summary.loc[(row.strategy, f"cac_{row.channel}"), "mean"])
    assert (cac["low"] >= 0).all()  # a cost per customer is never negative, however wide the interval


def test_retention_curves_are_shares_over_complete_ages(comparison: Comparison) -> None:
    assert not report.retention_curves(comparison, "channel").empty
    for group_by in ("channel", "cohort"):  # cohorts of a small market may all be too small to show
        curves = report.retention_curves(comparison, group_by)
        assert curves["low"].between(0, 1).all() and curves["high"].between(0, 1).all()
        assert (curves.groupby(["strategy", "group"])["n"].nunique() == 1).all()
    day0 = report.retention_curves(comparison, "channel")
    # At age 0 only people who churned on the day they joined are lost: a few, never most.
    assert (day0[day0["age_days"] == 0]["mean"] > 0.9).all()


def test_metric_table_has_every_metric_in_words_and_marks_significant_differences(
    comparison: Comparison,
) -> None:
    table = report.metric_table(comparison, "USD")
    assert list(table.index) == list(METRICS)
    assert list(table.columns) == [
        "Metric",
        *comparison.strategies,
        "ripple_heavy − funnel_heavy",
        "hybrid − funnel_heavy",
    ]
    paired = comparison.paired.set_index(["strategy", "metric"])
    for metric, cell in table["ripple_heavy − funnel_heavy"].items():
        assert cell.endswith(" *") == bool(paired.loc[("ripple_heavy", metric), "excludes_zero"])
    # Words and units in the row, never identifiers; no unit column to cut off.
    assert table.loc["cac_blended", "Metric"] == "Blended CAC (USD per customer)"
    assert table.loc["profit", "Metric"] == "Profit (USD)"
    assert table.loc["retention_90d", "Metric"] == "90-day retention (%)"
    assert not any("_" in label for label in table["Metric"])
    cells = table.drop(columns="Metric").to_numpy().ravel()
    assert not any("USD" in cell for cell in cells)
    assert not any(re.search(r"(^|[\s\[])[-−]0(\.0+)?([\s,\]]|$)", cell) for cell in cells)  # never -0
    # Counts are whole numbers, money above 1,000 has no cents.
    summary = comparison.summary.set_index(["strategy", "metric"])
    people = table.loc["new_customers", "funnel_heavy"].split(" [")[0]
    assert people == f"{summary.loc[('funnel_heavy', 'new_customers'), 'mean']:,.0f}"
    revenue = table.loc["revenue", "funnel_heavy"].split(" [")[0]
    assert summary.loc[("funnel_heavy", "revenue"), "mean"] >= 1000 and "." not in revenue


def test_verdict_leads_with_the_most_profitable_strategy(comparison: Comparison) -> None:
    sentences = report.verdict(comparison, "USD")
    profit = comparison.summary[comparison.summary["metric"] == "profit"].set_index("strategy")["mean"]
    best = str(profit.idxmax())
    assert sentences[0].startswith(f"{best} is the most profitable: {report.money(profit.max(), 'USD')}")
    assert " over 120 days, " in sentences[0] and "95% interval" in sentences[0]
    runner_up = str(profit.drop(best).idxmax())
    assert f"than {runner_up}" in sentences[0] or f"as {runner_up}" in sentences[0]
    # Without scenarios: the core outcomes follow, one sentence each, naming every strategy.
    assert [s.split(":")[0] for s in sentences[1:]] == ["New customers", "Blended CAC", "90-day retention"]
    for sentence in sentences:
        assert " 0% " not in sentence and "1×" not in sentence
        assert all(name in sentence for name in comparison.strategies) or sentence is sentences[0]


def _synthetic(
    new: tuple[list[float], list[float]], profit: tuple[list[float], list[float]], **other: tuple[list, list]
) -> Comparison:
    """A two-strategy comparison from given per-replication values (other metrics zero)."""
    from sim.analysis.compare import _paired, _summary

    rows = []
    for strategy, index in (("funnel", 0), ("ripple", 1)):
        for replication, (n, p) in enumerate(zip(new[index], profit[index], strict=True)):
            row = dict.fromkeys(METRICS, 0.0)
            row.update(new_customers=n, profit=p, cac_blended=10.0 if index == 0 else 6.0)
            row.update({name: values[index][replication] for name, values in other.items()})
            rows.append({"strategy": strategy, "replication": replication, "seed": replication, **row})
    runs = pd.DataFrame(rows)
    strategies = ["funnel", "ripple"]
    empty = pd.DataFrame(columns=["strategy", "replication", "day"])
    return Comparison(strategies, list(range(len(new[0]))), runs, _summary(runs, strategies),
                      _paired(runs, strategies), empty, empty)  # fmt: skip


def test_verdict_states_size_direction_and_interval_in_plain_words() -> None:
    clear = _synthetic(
        ([100, 100, 100, 100], [138, 139, 137, 138]), ([0, 0, 0, 0], [50500, 50510, 50490, 50500])
    )
    first, customers, cac = report.verdict(clear, "EUR")[:3]
    assert first.startswith("ripple is the most profitable: 50,500 EUR, 50,500 EUR more than funnel (95% ")
    assert (
        customers == "New customers: 100 with funnel; 138 with ripple, 38 more (95% interval 37 to 39 more)."
    )
    assert cac.startswith(
        "Blended CAC: 10.0 EUR per customer with funnel; 6.00 EUR per customer with ripple, "
    )
    assert "4.00 EUR per customer lower" in cac
    noisy = _synthetic(([100, 100, 100], [90, 120, 95]), ([0, 0, 0], [-50, 40, 5]))
    first, customers = report.verdict(noisy)[:2]
    assert first == (
        "funnel is the most profitable: 0, 1.67 more than ripple "
        "(95% interval from 111 less to 114 more: this may be noise)."
    )
    assert customers.startswith(
        "New customers: 100 with funnel; 102 with ripple, 1.7 more (95% interval from"
    )


def test_verdict_says_about_the_same_and_one_replication() -> None:
    same = _synthetic(([100, 100], [100, 100]), ([10, 20], [10, 20]))
    first = report.verdict(same)[0]
    assert "about the same as" in first and "0%" not in first
    single = _synthetic(([100], [80]), ([10], [12]))
    first, customers = report.verdict(single)[:2]
    assert first.endswith("2.00 more than funnel (one replication: no interval).")
    assert customers.endswith("80 with ripple, 20 fewer (one replication: no interval).")
    alone = Comparison(
        ["a"], [1], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    )
    assert report.verdict(alone) == ["Only a was run: add a second strategy to compare."]


def test_the_verdict_answers_the_question_the_differing_sections_ask() -> None:
    honest = load_scenario(SCENARIOS / "two_sided_credit.yaml")
    attack = load_scenario(SCENARIOS / "coupon_farming_attack.yaml")
    defended = load_scenario(SCENARIOS / "coupon_farming_defended.yaml")
    hybrid = load_scenario(SCENARIOS / "hybrid.yaml")
    tiers = load_scenario(SCENARIOS / "loyalty_tiers.yaml")
    assert report.differing_sections({"a": attack, "d": defended})[0] == "defences"
    assert report.differing_sections({"h": honest, "a": attack})[0] == "fraud"
    assert report.differing_sections({"h": hybrid, "t": tiers})[0] == "loyalty"
    assert report.focus_metrics(["fraud"])[:3] == [
        "rewards_paid_fraud",
        "rewards_denied_honest",
        "referral_cac",
    ]
    assert report.focus_metrics(["loyalty"])[:3] == ["retention_90d", "clv", "loyalty_spend"]
    # A section without its own entry falls back to the metrics of its rules.
    assert report.focus_metrics(["roles"])[0].startswith("referred_by_")
    fraud = _synthetic(
        ([100, 100, 100], [100, 100, 100]),
        ([0, 0, 0], [34000, 35000, 34500]),
        rewards_paid_fraud=([34518, 34000, 35000], [0, 0, 0]),
        referral_cac=([80, 82, 81], [12, 12.5, 12.2]),
    )
    sentences = report.verdict(fraud, "USD", {"funnel": attack, "ripple": defended})
    assert sentences[1].startswith(
        "Fraud paid (rewards for fake referrals): 34,500 USD with funnel; 0 USD with ripple, 34,500 USD less"
    )
    assert sentences[2].startswith("Referral CAC per honest customer: 81.0 USD per customer with funnel;")
    assert len(sentences) == 3  # metrics that are idle everywhere are left out
    same = _synthetic(
        ([100, 100], [100, 100]),
        ([0, 0], [10, 10]),
        retention_90d=([0.8, 0.7], [0.8, 0.7]),
        clv=([5, 6], [7, 8]),
    )
    loyalty = report.verdict(same, "USD", {"funnel": hybrid, "ripple": tiers})
    assert loyalty[1] == "90-day retention: the same with every strategy (75.0%)."
    assert loyalty[2].startswith(
        "CLV: 5.50 USD per customer with funnel; 7.50 USD per customer with ripple, "
    )
    cards = report.headline_cards(fraud, "USD", {"funnel": attack, "ripple": defended})
    assert [card.metric for card in cards["ripple"]][:3] == ["profit", "rewards_paid_fraud", "referral_cac"]
    fraud_card = cards["ripple"][1]
    assert fraud_card.value == "0 USD" and fraud_card.delta == "-34,506 USD vs funnel"
    assert fraud_card.delta_colour == "inverse" and "95% interval" in fraud_card.help
    assert cards["funnel"][1].delta is None


def test_numbers_read_as_people_write_them() -> None:
    assert report.format_value("new_customers", 1234.4) == "1,234"
    assert report.format_value("retention_90d", 0.8456) == "84.6%"
    assert report.format_value("profit", 1234.5, "USD") == "1,234 USD"  # no cents above 1,000
    assert report.format_value("profit", 234.5, "USD") == "234.50 USD"
    assert report.format_value("profit", 0.0, "USD") == "0 USD"
    assert report.format_value("profit", -0.001, "USD") == "0.00 USD"
    assert report.format_value("profit", -1234.5, "USD") == "−1,234 USD"
    assert report.format_value("new_customers", -0.04) == "0"  # never "-0"
    assert report.format_value("new_customers", -0.3) == "−0.3"  # a small mean is not rounded away
    assert report.format_value("roi", 0.12345) == "0.123"
    assert report.format_value("cac_ads", math.inf) == "∞"
    assert report.format_value("cac_ads", math.nan) == "—"
    assert report.money(34518.2, "USD") == "34,500 USD"
    assert report.money(9.998, "USD") == "10.0 USD"
    assert report.money(-0.0004, "USD") == "0 USD"
    assert report.metric_label("cac_blended") == "Blended CAC"
    assert report.metric_label("new_customers_sharing") == "New customers via sharing"
    assert report.metric_label("referred_by_kol") == "Referred by KOLs"
    assert all("_" not in report.metric_label(metric) for metric in METRICS)


def test_cohort_retention_has_few_cohorts_in_order() -> None:
    scenarios = [
        load_scenario(SCENARIOS / f"{n}.yaml", {"network.n": 3000}) for n in ("funnel_heavy", "hybrid")
    ]
    curves = report.retention_curves(compare(scenarios, replications=2, seed=5), "cohort")
    groups = curves.drop_duplicates("group").sort_values("order")
    assert 1 < len(groups) <= report.MAX_COHORTS
    starts = [int(g.removeprefix("days ").split("-")[0]) for g in groups["group"]]
    assert starts == sorted(starts) == groups["order"].tolist()


def test_downloads_round_trip(comparison: Comparison) -> None:
    files = report.comparison_downloads(comparison)
    runs = pd.read_csv(io.BytesIO(files["runs.csv"]))
    assert len(runs) == len(comparison.runs) and list(runs.columns) == list(comparison.runs.columns)
    with zipfile.ZipFile(io.BytesIO(files["comparison_parquet.zip"])) as archive:
        steps = pd.read_parquet(io.BytesIO(archive.read("steps.parquet")))
        assert sorted(archive.namelist()) == sorted(
            f"{n}.parquet" for n in ("runs", "summary", "paired", "steps", "retention")
        )
    pd.testing.assert_frame_equal(steps, comparison.steps.reset_index(drop=True))


def _json(spec: dict) -> str:
    return json.dumps({key: value for key, value in spec.items() if key != "datasets"})


def test_charts_draw_their_data_with_one_colour_per_strategy(comparison: Comparison) -> None:
    strategies = comparison.strategies
    charts = {
        "cumulative": viz.cumulative_chart(report.cumulative_by_channel(comparison), strategies),
        "cac": viz.cac_chart(report.cac_by_channel(comparison), strategies, "USD"),
        "profit": viz.profit_chart(report.profit_over_time(comparison), strategies, "USD"),
        "channel": viz.retention_chart(report.retention_curves(comparison, "channel"), strategies, "channel"),
        "cohort": viz.retention_chart(report.retention_curves(comparison, "cohort"), strategies, "cohort"),
    }
    for name, spec in charts.items():
        assert spec.get("title"), name  # a Vega-Lite spec Altair validated, over named datasets
        assert altair_problems(spec) == [], name
    text = _json(charts["cac"])
    assert "CAC (USD per customer)" in text
    assert "cumulative profit (USD)" in _json(charts["profit"])
    # Colour means strategy; channels are dashes.
    for name in ("cumulative", "channel"):
        spec = _json(charts[name])
        assert '"strokeDash": {"field": "' in spec and '"color": {"field": "strategy"' in spec
    palette = viz.strategy_scale(strategies).to_dict()
    assert palette["range"] == [viz.strategy_colour(s) for s in strategies]
    assert not set(viz.CHANNEL_COLOURS.values()) & set(viz.STRATEGY_COLOURS)
    assert not set(viz.STAGE_COLOURS.values()) & set(viz.STRATEGY_COLOURS)


def test_a_strategy_keeps_its_colour_whatever_it_is_shown_with() -> None:
    assert (
        viz.strategy_colours(["hybrid", "ripple_heavy"])
        == viz.strategy_colours(["ripple_heavy", "hybrid"])[::-1]
    )
    for name in ("funnel_heavy", "mine", "coupon_farming_attack"):
        alone = viz.strategy_colour(name)
        assert viz.strategy_colours([name])[0] == alone
        assert viz.strategy_colours(["funnel_heavy", name])[-1] == alone or name == "funnel_heavy"
    # Presets usually compared together have different colours.
    for group in (
        ["funnel_heavy", "ripple_heavy", "hybrid"],
        ["two_sided_credit", "coupon_farming_attack", "coupon_farming_defended"],
        ["hybrid", "loyalty_tiers"],
        ["seeding_random", "seeding_hubs"],
    ):
        assert len({viz.strategy_colour(name) for name in group}) == len(group)
    # Four strategies shown together always get four colours.
    assert len(set(viz.strategy_colours(["seeding_hubs", "loyalty_tiers", "a", "b"]))) == 4


def test_dotted_and_bracketed_column_names_are_drawn() -> None:
    frame = pd.DataFrame({"ads.daily_budget": [0.0, 10.0], "tiers[0]:x": [1, 2], "mean": [1.0, 2.0]})
    safe, names = viz.vega_safe(frame, "ads.daily_budget", "tiers[0]:x", "mean")
    assert names == ["ads_daily_budget", "tiers_0__x", "mean"]
    assert list(safe.columns) == names


def test_sweep_summaries() -> None:
    runs = pd.DataFrame(
        {
            "ads.daily_budget": [0, 0, 100, 100, 100],
            "sharing.p_convert": [0.1, 0.2, 0.1, 0.2, 0.2],
            "profit": [1.0, 3.0, 5.0, 7.0, 99.0],
            "status": ["ok", "ok", "ok", "ok", "error"],
        }
    )
    curve = report.sweep_curve(runs, "profit", "ads.daily_budget")
    assert curve["ads.daily_budget"].tolist() == [0, 100]
    assert curve["mean"].tolist() == [2.0, 6.0]  # the failed run is left out
    grid = report.sweep_grid(runs, "profit", "ads.daily_budget", "sharing.p_convert")
    assert len(grid) == 4 and grid["n"].tolist() == [1, 1, 1, 1]
    line = viz.sweep_line_chart(curve, "ads.daily_budget", "profit", "currency")
    heat = viz.sweep_heatmap(grid, "ads.daily_budget", "sharing.p_convert", "profit")
    assert altair_problems(line) == [] and altair_problems(heat) == []
    assert "ads.daily_budget" in _json(line)  # the title keeps the factor's name
    sobol = pd.DataFrame(
        {"metric": ["profit"] * 2, "factor": ["a", "b"], "method": "sobol", "S1": [0.6, 0.2],
         "S1_conf": [0.05, 0.05], "ST": [0.7, 0.3], "ST_conf": [0.05, 0.04]}
    )  # fmt: skip
    morris = pd.DataFrame(
        {"metric": ["profit"] * 2, "factor": ["a", "b"], "method": "morris", "mu_star": [3.0, 1.0],
         "mu_star_conf": [0.5, 0.2], "sigma": [1.0, 0.5]}
    )  # fmt: skip
    assert "Sobol" in _json(viz.sensitivity_chart(sobol, "profit"))
    assert "Morris" in _json(viz.sensitivity_chart(morris, "profit"))
    for chart in (viz.sensitivity_chart(sobol, "profit"), viz.sensitivity_chart(morris, "profit")):
        assert altair_problems(chart) == []


def _lesson(**changes: object) -> EightToOne:
    """A measured 8:1 at a 20% split of 10 a day (values as :func:`measure_runs` would give them)."""
    values: dict[str, object] = {
        "share_to_retention": 0.2, "total_daily_budget": 10.0, "days": 365, "replications": 5,
        "ads_budget": 2920.0, "ads_spend": 2920.0, "offers_budget": 730.0, "offers_spend": 730.0,
        "ads_value": 3000.0, "offers_value": 6000.0, "margin_per_customer_year": 500.0,
        "acquisition_cost_per_customer_year": 486.7, "retention_cost_per_customer_year": 60.8,
        "cost_ratio": 8.2, "cost_ratio_low": 6.0, "cost_ratio_high": 11.0, "status": "measured",
        "profit": 1000.0, "profit_low": 900.0, "profit_high": 1100.0, "profit_without_ads": 950.0,
        "profit_without_offers": 800.0, "active_customers": 100.0, "break_even_uplift": 0.01,
        "clv_multiple": 0.5, "runs": pd.DataFrame(),
    }  # fmt: skip
    values.update(changes)
    return EightToOne(**values)  # type: ignore[arg-type]


def test_eight_to_one_headline_never_reads_as_zero() -> None:
    assert report.eight_to_one_headline(9.2) == "acquisition costs 9.2× retention"
    assert report.eight_to_one_headline(1 / 9.2) == "retention costs 9.2× acquisition"
    assert report.eight_to_one_headline(0.004) == "retention costs 250× acquisition"
    assert report.eight_to_one_headline(1.02) == "acquisition and retention cost the same"
    assert "acquisition added nothing" in report.eight_to_one_headline(math.inf)
    assert "retention added nothing" in report.eight_to_one_headline(0.0)
    assert report.eight_to_one_headline(math.nan).startswith("no ratio")
    for ratio in (0.001, 0.03, 0.11, 0.5, 2.0, 40.0):  # the multiple shown is never below 1
        (multiple,) = re.findall(r"([\d,.]+)×", report.eight_to_one_headline(ratio))
        assert float(multiple.replace(",", "")) >= 1


def test_eight_to_one_verdict() -> None:
    folklore = report.eight_to_one_verdict(_lesson(cost_ratio_low=8.1), "USD", (0.3, 200.0, 120.0, 280.0))
    assert folklore == (
        "Here acquisition costs 8.2× retention per customer-year (95% interval 8.1–11.0×). "
        "The folklore's 8:1 holds in this market. "
        "Moving the next 1.00 USD a day from ads to offers raises profit by 200.00 USD "
        "(95%: 120.00 USD to 280.00 USD)."
    )
    straddles = report.eight_to_one_verdict(_lesson(), "USD")
    assert "With 5 replications the interval reaches both sides of 8:1" in straddles
    cheap_ads = report.eight_to_one_verdict(
        _lesson(cost_ratio=0.25, cost_ratio_low=0.2, cost_ratio_high=0.5), "USD", (0.3, -100.0, -150.0, -50.0)
    )
    assert cheap_ads.startswith(
        "Here retention costs 4.0× acquisition per customer-year (95% interval 2.0–5.0×)."
    )
    assert "8:1 fails in this market: acquisition is the cheaper lever." in cheap_ads
    assert "lowers profit by 100.00 USD" in cheap_ads and "disagree" not in cheap_ads
    # The averages say offers, the next step says ads: the verdict explains falling returns.
    falling = report.eight_to_one_verdict(_lesson(cost_ratio_low=8.1), "USD", (0.3, -300.0, -400.0, -200.0))
    assert "The averages and the next step disagree" in falling
    unclear = report.eight_to_one_verdict(_lesson(), "USD", (0.3, 10.0, -50.0, 70.0))
    assert unclear.endswith("changes profit by less than these replications can tell apart from nothing.")
    top = report.eight_to_one_verdict(
        _lesson(share_to_retention=1.0, status="no_ads"), "USD", (0.9, 5.0, 1.0, 9.0)
    )
    assert top.startswith("No money goes to ads at this split") and "from offers to ads raises profit" in top
    for status in ("no_offers", "ads_unspent", "offers_unspent", "no_value"):
        text = report.eight_to_one_verdict(_lesson(status=status, cost_ratio=math.nan), "USD")
        assert ("Here" not in text and "ratio" in text) or "cost to compare" in text


def test_the_active_metric_table_hides_only_metrics_no_strategy_moves(comparison: Comparison) -> None:
    full = report.metric_table(comparison, "USD")
    active = report.metric_table(comparison, "USD", only_active=True)
    summary = comparison.summary
    idle = summary.groupby("metric")["mean"].apply(lambda means: bool(((means == 0) | means.isna()).all()))
    assert set(full.index) - set(active.index) == set(idle[idle].index)
    assert {"loyalty_breakage", "rewards_paid_fraud"} <= set(idle[idle].index)  # levers the presets leave off
    assert {"new_customers", "profit"} <= set(active.index)


def test_unspent_ad_budgets_are_said_with_their_numbers_and_why() -> None:
    """A strategy that could not spend its ad budget was compared on profit without a word about it."""
    base = {"network.n": 400, "days": 60}
    named = [
        load_scenario(SCENARIOS / "funnel_heavy.yaml", base),
        load_scenario(SCENARIOS / "ripple_heavy.yaml", {**base, "ads.daily_budget": 0.0}),
    ]
    comparison = compare(named, replications=2, seed=3)
    runs = comparison.steps.groupby(["strategy", "replication"])[["spend_ads", "ads_unspent"]].sum()
    spent, unspent = runs.loc["funnel_heavy"].mean()
    assert unspent >= 0.1 * (spent + unspent)  # a small market: the frequency cap leaves money
    (note,) = report.unspent_budget_notes(comparison, "USD")  # no budget, nothing to say for the other
    assert note.startswith(
        f"funnel_heavy's ads could spend only {report.money(spent, 'USD')} of "
        f"{report.money(spent + unspent, 'USD')} over 60 days ({unspent / (spent + unspent):.0%} left unspent"
    )
    assert "frequency cap" in note and "too few people were left" in note
    assert report.unspent_budget_notes(comparison, "USD", at_least=1.0) == []


def test_a_one_day_comparison_says_what_its_charts_and_cards_show() -> None:
    """One day: "no channel spent money" beside 7.12 USD of marketing spend, and "the same with every
    strategy (0)" beside a chart at 0.5: each statement must agree with the numbers it summarises."""
    # Every sign-up orders the day they join, so a day-1 sign-up shows on the first-orders chart, and
    # a tenth of the market are customers on day 0, so a few friends sign up through them on day 1.
    day_one = {"network.n": 3000, "days": 1, "seed": 20261123, "population.share_initial_customers": 0.1}
    day_one |= {"customers.p_first_order": 1.0, "customers.days_to_first_order": 0}
    named = {n: load_scenario(SCENARIOS / f"{n}.yaml", day_one) for n in ("funnel_heavy", "hybrid")}
    comparison = compare(list(named.values()), replications=2, seed=20261123)
    spend = comparison.runs.groupby("strategy")["marketing_spend"].mean()
    assert (spend > 0).all()
    if report.cac_by_channel(comparison).empty:  # nothing to chart: say why, with the spend
        words = report.no_cac_words(comparison, "USD")
        assert "No channel spent money" not in words
        for strategy, value in spend.items():
            assert f"{report.format_value('marketing_spend', value, 'USD')} with {strategy}" in words
    curves = report.cumulative_by_channel(comparison)
    final = curves[curves["day"] == curves["day"].max()]
    sentences = report.verdict(comparison, "USD", named)
    checked = 0
    for channel, rows in final.groupby("channel"):
        label = report.metric_label(f"new_customers_{channel}")
        said = [s for s in sentences if s.startswith(f"{label}:")]
        for sentence in said:
            for value in rows["mean"]:
                assert report.format_value(f"new_customers_{channel}", value) in sentence, sentence
            checked += 1
    assert checked  # the sharing sentence of this comparison was checked
    assert report.format_number("new_customers", 0.5) == "0.5"
    assert report.format_number("new_customers", 1234.4) == "1,234"
    assert report.format_number("new_customers", -0.04) == "0"
