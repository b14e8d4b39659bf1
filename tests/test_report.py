"""sim.analysis.report: curves, tables and the verdict agree with the comparison they summarise."""

from __future__ import annotations

import io
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
from sim.ui import viz
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


def test_retention_curves_are_shares_over_complete_ages(comparison: Comparison) -> None:
    assert not report.retention_curves(comparison, "channel").empty
    for group_by in ("channel", "cohort"):  # cohorts of a small market may all be too small to show
        curves = report.retention_curves(comparison, group_by)
        assert curves["low"].between(0, 1).all() and curves["high"].between(0, 1).all()
        assert (curves.groupby(["strategy", "group"])["n"].nunique() == 1).all()
    day0 = report.retention_curves(comparison, "channel")
    assert (day0[day0["age_days"] == 0]["mean"] == 1.0).all()  # everyone is retained at age 0


def test_metric_table_has_every_metric_and_marks_significant_differences(comparison: Comparison) -> None:
    table = report.metric_table(comparison, "USD")
    assert len(table) == len(comparison.summary["metric"].unique())
    assert list(table.columns[:2]) == ["metric", "unit"]
    assert "Δ ripple_heavy − funnel_heavy" in table.columns
    paired = comparison.paired.set_index(["strategy", "metric"])
    column = table.set_index("metric")["Δ ripple_heavy − funnel_heavy"]
    for metric, cell in column.items():
        assert cell.endswith(" *") == bool(paired.loc[("ripple_heavy", metric), "excludes_zero"])
    assert table.set_index("metric").loc["profit", "unit"] == "USD"
    assert "USD" in table.set_index("metric").loc["profit", "funnel_heavy"]
    bare = report.metric_table(comparison, "USD", in_cells=False)
    assert "USD" not in bare.set_index("metric").loc["profit", "funnel_heavy"]


def test_verdict_reads_the_paired_differences(comparison: Comparison) -> None:
    sentences = report.verdict(comparison, "USD")
    assert len(sentences) == 2
    paired = comparison.paired.set_index(["strategy", "metric"])
    for strategy, sentence in zip(comparison.strategies[1:], sentences, strict=True):
        assert sentence.startswith(f"{strategy} acquires ")
        diff = paired.loc[(strategy, "new_customers"), "mean_diff"]
        assert ("more new customers" in sentence) == (diff > 0)
        assert ("fewer new customers" in sentence) == (diff < 0)
        profit = paired.loc[(strategy, "profit"), "mean_diff"]
        assert ("profit is" in sentence) and (("higher" in sentence) == (profit > 0))
        assert "USD" in sentence


def _synthetic(new: tuple[list[float], list[float]], profit: tuple[list[float], list[float]]) -> Comparison:
    """A two-strategy comparison from given per-replication values (other metrics zero)."""
    from sim.analysis.compare import _paired, _summary
    from sim.analysis.metrics import METRICS

    rows = []
    for strategy, index in (("funnel", 0), ("ripple", 1)):
        for replication, (n, p) in enumerate(zip(new[index], profit[index], strict=True)):
            row = dict.fromkeys(METRICS, 0.0)
            row.update(new_customers=n, profit=p, cac_blended=10.0 if index == 0 else 6.0)
            rows.append({"strategy": strategy, "replication": replication, "seed": replication, **row})
    runs = pd.DataFrame(rows)
    strategies = ["funnel", "ripple"]
    empty = pd.DataFrame()
    return Comparison(strategies, list(range(len(new[0]))), runs, _summary(runs, strategies),
                      _paired(runs, strategies), empty, empty)  # fmt: skip


def test_verdict_states_size_direction_cac_and_significance() -> None:
    clear = _synthetic(([100, 100, 100, 100], [138, 139, 137, 138]), ([0, 0, 0, 0], [500, 510, 490, 500]))
    (sentence,) = report.verdict(clear, "EUR")
    assert sentence == (
        "ripple acquires 38% more new customers than funnel (the 95% interval excludes zero), at 0.6× "
        "funnel's blended CAC; profit is 500.00 EUR higher (the 95% interval excludes zero)."
    )
    noisy = _synthetic(([100, 100, 100], [90, 120, 95]), ([0, 0, 0], [-50, 40, 5]))
    (sentence,) = report.verdict(noisy)
    assert "2% more new customers" in sentence
    assert "includes zero, so this may be noise" in sentence
    assert "profit is 1.67 lower" in sentence


def test_verdict_with_one_replication_or_one_strategy() -> None:
    single = _synthetic(([100], [80]), ([10], [10]))
    (sentence,) = report.verdict(single)
    assert "20% fewer new customers" in sentence
    assert "no interval with one replication" in sentence
    assert "profit is the same" in sentence
    alone = Comparison(
        ["a"], [1], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    )
    assert report.verdict(alone) == ["Only a was run: add a second strategy to compare."]


def test_format_value_by_unit() -> None:
    assert report.format_value("new_customers", 1234.4) == "1,234"
    assert report.format_value("retention_90d", 0.8456) == "84.6%"
    assert report.format_value("profit", 1234.5, "USD") == "1,234.50 USD"
    assert report.format_value("roi", 0.12345) == "0.123"
    assert report.format_value("cac_ads", math.inf) == "∞"
    assert report.format_value("cac_ads", math.nan) == "—"


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


def test_charts_render_to_vega_lite_with_fixed_colours(comparison: Comparison) -> None:
    strategies = comparison.strategies
    charts = [
        viz.cumulative_chart(report.cumulative_by_channel(comparison), strategies),
        viz.cac_chart(report.cac_by_channel(comparison), strategies, "USD"),
        viz.profit_chart(report.profit_over_time(comparison), strategies, "USD"),
        viz.retention_chart(report.retention_curves(comparison, "channel"), strategies, "channel"),
        viz.retention_chart(report.retention_curves(comparison, "cohort"), strategies, "cohort"),
    ]
    for chart in charts:
        spec = chart.to_dict()  # validates against the Vega-Lite schema
        assert spec.get("title")
    text = str(charts[1].to_dict())
    assert "CAC (USD per customer)" in text
    assert "cumulative profit (USD)" in str(charts[2].to_dict())
    # A channel keeps its colour whatever else is on the chart.
    one = viz.channel_scale(["sharing", "ads"]).to_dict()
    two = viz.channel_scale(["ads", "organic", "sharing"]).to_dict()
    assert dict(zip(one["domain"], one["range"], strict=True))["ads"] == viz.CHANNEL_COLOURS["ads"]
    assert dict(zip(two["domain"], two["range"], strict=True))["sharing"] == viz.CHANNEL_COLOURS["sharing"]
    # A strategy keeps its colour whatever order it is chosen in; new strategies get unused colours.
    assert (
        viz.strategy_colours(["hybrid", "ripple_heavy"])
        == viz.strategy_colours(["ripple_heavy", "hybrid"])[::-1]
    )
    mixed = viz.strategy_colours(["mine", "funnel_heavy", "yours"])
    assert mixed[1] == viz.PRESET_STRATEGY_COLOURS["funnel_heavy"]
    assert len(set(mixed)) == 3 and not set(mixed[::2]) & set(viz.PRESET_STRATEGY_COLOURS.values())
    strategy = viz.strategy_scale(strategies).to_dict()
    assert strategy["range"] == viz.strategy_colours(strategies)


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
    viz.sweep_line_chart(curve, "ads.daily_budget", "profit", "currency").to_dict()
    viz.sweep_heatmap(grid, "ads.daily_budget", "sharing.p_convert", "profit").to_dict()
    sobol = pd.DataFrame(
        {"metric": ["profit"] * 2, "factor": ["a", "b"], "method": "sobol", "S1": [0.6, 0.2],
         "S1_conf": [0.05, 0.05], "ST": [0.7, 0.3], "ST_conf": [0.05, 0.04]}
    )  # fmt: skip
    morris = pd.DataFrame(
        {"metric": ["profit"] * 2, "factor": ["a", "b"], "method": "morris", "mu_star": [3.0, 1.0],
         "mu_star_conf": [0.5, 0.2], "sigma": [1.0, 0.5]}
    )  # fmt: skip
    assert "Sobol" in str(viz.sensitivity_chart(sobol, "profit").to_dict())
    assert "Morris" in str(viz.sensitivity_chart(morris, "profit").to_dict())


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
    full = report.metric_table(comparison, "USD").set_index("metric")
    active = report.metric_table(comparison, "USD", only_active=True).set_index("metric")
    summary = comparison.summary
    idle = summary.groupby("metric")["mean"].apply(lambda means: bool(((means == 0) | means.isna()).all()))
    assert set(full.index) - set(active.index) == set(idle[idle].index)
    assert {"loyalty_breakage", "rewards_paid_fraud"} <= set(idle[idle].index)  # levers the presets leave off
    assert {"new_customers", "profit"} <= set(active.index)
