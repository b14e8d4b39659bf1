"""The 8:1 measured on one footing (sim/analysis/lesson.py): paired counterfactuals, the curve, the flip.

Both levers are measured the same way: what each added to gross margin (net of other costs) per unit it
spent, against the same market without it, on common random numbers (docs/metrics.md).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sim import ScenarioError, load_scenario
from sim.analysis.lesson import (
    ADS_BUDGET,
    EIGHT,
    OFFERS_BUDGET,
    EightToOne,
    budget_split,
    eight_to_one_curve,
    measure_eight_to_one,
    ratio_interval,
    split_budgets,
)
from sim.analysis.results import run
from sim.sweep import experiment_from_dict, sweep
from sim.world.build import build_world
from tests.conftest import QUIET, SCENARIOS, make_scenario, quiet_scenario

MARKET = {
    "network.n": 1500,
    "days": 90,
    "population.share_initial_customers": 0.3,
    "population.rate_purchase_per_day": 0.1,
    "population.churn_alpha": 1.0,
    "population.churn_beta": 1.0,
    "population.days_churn_period": 90,
    "customers.rel_churn": 1.0,
    "ads.funnel": "one_stage",
    "ads.p_purchase": 0.01,
    "ads.cpm": 5.0,
    "retention_offers.targeting": "uplift",
    "retention_offers.share_persuadable": 0.4,
    "retention_offers.cost_per_offer": 2.0,
}


def test_budget_split_moves_money_between_ads_and_offers():
    scenario = budget_split(quiet_scenario(MARKET), 100.0, 0.25)
    assert scenario.ads.daily_budget == pytest.approx(75.0)
    assert scenario.retention_offers.daily_budget == pytest.approx(25.0)
    with pytest.raises(ScenarioError, match="share_to_retention"):
        budget_split(scenario, 100.0, 1.5)
    with pytest.raises(ScenarioError, match="total_daily_budget"):
        budget_split(scenario, -1.0, 0.5)
    assert split_budgets(40.0, 0.5) == {
        "split": (20.0, 20.0),
        "no_ads": (0.0, 20.0),
        "no_offers": (20.0, 0.0),
    }


def _summary(scenario: Any, seed: int, ads: float, offers: float) -> dict[str, float]:
    overrides = {ADS_BUDGET: ads, OFFERS_BUDGET: offers}
    return run(scenario.with_overrides(overrides), seed, world=build_world(scenario, seed)).summary


def test_both_levers_are_measured_against_paired_runs_without_them():
    scenario = budget_split(quiet_scenario(MARKET), 40.0, 0.5)
    lesson = measure_eight_to_one(scenario, replications=3, seed=11)
    assert isinstance(lesson, EightToOne) and lesson.status == "measured"
    assert len(lesson.runs) == 3 and lesson.replications == 3
    # Replication 1 by hand: the split, the split without ads and without offers, on one world and seed.
    seed = int(lesson.runs["seed"].iloc[0])
    split, no_ads, no_offers = (_summary(scenario, seed, *pair) for pair in ((20, 20), (0, 20), (20, 0)))
    first = lesson.runs.iloc[0]
    assert first["ads_spend"] == pytest.approx(split["ads_spend"])
    assert first["ads_value"] == pytest.approx(
        split["profit"] + split["ads_spend"] - no_ads["profit"] - no_ads["ads_spend"]
    )
    assert first["offers_value"] == pytest.approx(
        split["profit"] + split["retention_spend"] - no_offers["profit"] - no_offers["retention_spend"]
    )
    # Profit with both levers = without a lever + what that lever added − what it spent.
    assert split["profit"] == pytest.approx(no_ads["profit"] + first["ads_value"] - first["ads_spend"])
    assert split["profit"] == pytest.approx(
        no_offers["profit"] + first["offers_value"] - first["offers_spend"]
    )
    # One footing: both costs are spend ÷ value in customer-years of the same margin, and their ratio.
    runs = lesson.runs
    margin = lesson.margin_per_customer_year
    assert lesson.acquisition_cost_per_customer_year == pytest.approx(
        runs["ads_spend"].mean() / runs["ads_value"].mean() * margin
    )
    assert lesson.retention_cost_per_customer_year == pytest.approx(
        runs["offers_spend"].mean() / runs["offers_value"].mean() * margin
    )
    assert lesson.cost_ratio == pytest.approx(
        lesson.acquisition_cost_per_customer_year / lesson.retention_cost_per_customer_year
    )
    assert lesson.cost_ratio_low < lesson.cost_ratio < lesson.cost_ratio_high
    # Break-even uplift from the run without offers: cost per offer ÷ its CLV.
    assert lesson.break_even_uplift == pytest.approx(
        2.0 / np.mean([_summary(scenario, int(s), 20, 0)["clv"] for s in runs["seed"]])
    )
    # Common random numbers: the same seeds give the same measurement.
    again = measure_eight_to_one(scenario, replications=3, seed=11)
    assert again.runs.equals(lesson.runs)


def test_break_even_uplift_does_not_fall_as_the_offers_work_better():
    """It divides by the CLV of the run *without* offers, so how well offers work cannot move it."""
    values = []
    for persuadable in (0.0, 0.45, 0.9):
        market = {**MARKET, "retention_offers.share_persuadable": persuadable}
        scenario = budget_split(quiet_scenario(market), 40.0, 0.5)
        values.append(measure_eight_to_one(scenario, replications=2, seed=3).break_even_uplift)
    assert 0 < values[0] < 1
    assert values == pytest.approx([values[0]] * 3, rel=1e-12)


def test_a_split_without_offers_or_without_ads_has_no_ratio():
    no_offers = measure_eight_to_one(budget_split(quiet_scenario(MARKET), 40.0, 0.0), replications=2, seed=1)
    assert no_offers.status == "no_offers" and math.isnan(no_offers.cost_ratio)
    assert no_offers.offers_value == 0 and math.isnan(no_offers.retention_cost_per_customer_year)
    assert no_offers.profit == pytest.approx(no_offers.profit_without_offers)
    no_ads = measure_eight_to_one(budget_split(quiet_scenario(MARKET), 40.0, 1.0), replications=2, seed=1)
    assert no_ads.status == "no_ads" and math.isnan(no_ads.cost_ratio) and no_ads.holds is None


def test_the_curve_measures_every_split_on_common_random_numbers():
    scenario = quiet_scenario({**MARKET, "network.n": 600, "days": 60})
    curve = eight_to_one_curve(scenario, 20.0, replications=2, seed=5)
    assert curve.shares == pytest.approx([k / 10 for k in range(11)])
    # Every split and each split without either lever, once: 11 + 9 + 9 + the run with neither = 30.
    assert len(curve.runs) == 30 * 2
    assert curve.points[0].status == "no_offers" and curve.points[-1].status == "no_ads"
    # A split measured alone equals the same split of the curve (the same seeds, the same runs).
    alone = measure_eight_to_one(budget_split(scenario, 20.0, 0.3), replications=2, seed=5)
    at = curve.at(0.3)
    for name in ("cost_ratio", "ads_value", "offers_value", "profit", "break_even_uplift"):
        assert getattr(at, name) == pytest.approx(getattr(alone, name)), name
    pd.testing.assert_frame_equal(at.runs, alone.runs)
    # The budget experiment: moving a step is the paired profit difference of the neighbouring splits.
    target, change, low, high = curve.move(0.3)
    assert target == pytest.approx(0.4)
    assert change == pytest.approx((curve.at(0.4).runs["profit"] - at.runs["profit"]).mean())
    assert low <= change <= high
    assert curve.move(1.0)[0] == pytest.approx(0.9)  # at the top, the last step read back
    assert curve.best_share in curve.shares
    assert list(curve.table()["share_to_retention"]) == curve.shares


# The flip: a small market in which both levers have constant returns (a complete graph, homogeneous
# churn of about 20% a month, ads far from saturating, offers to random customers), so moving money
# between them pays in one direction only and the profit-maximising split flips from all-ads to
# all-offers at one offer uplift.
FLIP_MARKET = {
    **QUIET,
    "network.kind": "complete",
    "network.n": 2000,
    "days": 180,
    "population.share_initial_customers": 0.3,
    "population.rate_purchase_per_day": 0.1,
    "population.order_value_sigma": 0.2,
    "population.churn_alpha": 20.0,
    "population.churn_beta": 80.0,
    "population.days_churn_period": 30,
    "customers.rel_churn": 1.0,
    "customers.rel_churn_per_bad_experience": 1.0,
    "ads.funnel": "one_stage",
    "ads.p_purchase": 0.001,
    "ads.cpm": 10.0,
    "ads.frequency_cap": None,
    "ads.wearout_half_life_exposures": None,
    "retention_offers.targeting": "random",
    "retention_offers.cost_per_offer": 0.5,
    "retention_offers.days_effect": 30,
    "retention_offers.share_sleeping_dog": 0.0,
    "retention_offers.rel_churn_persuaded": 0.0,
}
UPLIFTS = (0.1, 0.2, 0.3, 0.4)  # retention_offers.share_persuadable: the offer uplift
FLIP_TOTAL = 6.0  # currency per day
FLIP_REPLICATIONS = 10


def _root(u: tuple[float, float], y: tuple[float, float], level: float) -> tuple[float, np.ndarray]:
    """Where the line through (u₀, y₀), (u₁, y₁) reaches ``level``, and its gradient in (y₀, y₁)."""
    (u0, u1), (y0, y1) = u, y
    h, d = u1 - u0, y1 - y0
    root = u0 + h * (level - y0) / d
    return root, np.array([h * (level - y1) / d**2, -h * (level - y0) / d**2])


def _bracket(values: list[float], level: float) -> int:
    """Index i with values[i] < level ≤ values[i + 1] (the only sign change, else the test fails)."""
    changes = [i for i in range(len(values) - 1) if values[i] < level <= values[i + 1]]
    assert len(changes) == 1, f"expected one crossing of {level} in {values}"
    return changes[0]


@pytest.mark.slow
def test_the_ratio_crosses_one_where_the_budget_experiments_profit_flips(tmp_path: Path) -> None:
    """The uplift at which the measured ratio crosses 1 is the one at which all-offers starts to beat all-ads.

    Ratio: :func:`measure_eight_to_one` at the half-and-half split of 6 a day, R = 10 replications
    (seed 7), at each uplift. Budget experiment: a sweep of all-ads (6, 0) against all-offers (0, 6)
    at each uplift, R = 10 (seed 8, independent of the first). Each crossing is linear interpolation
    between the two grid uplifts that bracket it.

    Monte-Carlo error, derived: a crossing u* = u₀ + h(ℓ − y₀)/(y₁ − y₀) is a function of the two
    estimates y₀, y₁ next to it, so Var(u*) ≈ gᵀ Cov(y₀, y₁) g with g its gradient (delta method).
    For the profit flip y is the mean paired difference profit(all offers) − profit(all ads), and
    Cov is the covariance of the replications' differences ÷ R (the uplifts share seeds, so y₀ and
    y₁ are correlated). For the ratio, y = (S̄ₐ/V̄ₐ)/(S̄ₒ/V̄ₒ) is a ratio of four means; its gradient
    r·(1/S̄ₐ, −1/V̄ₐ, −1/S̄ₒ, 1/V̄ₒ) against the 8 × 8 covariance of both uplifts' replications ÷ R
    gives Cov(y₀, y₁). The two experiments use independent seeds, so the difference of the crossings
    has variance Var₁ + Var₂; the test allows three standard errors. At these seeds: the ratio crosses
    1 at an uplift of 0.256, the profit flips at 0.227, and the standard error of their difference
    is 0.033.
    """
    ratio_points = []
    for uplift in UPLIFTS:
        scenario = make_scenario({**FLIP_MARKET, "retention_offers.share_persuadable": uplift})
        ratio_points.append(
            measure_eight_to_one(budget_split(scenario, FLIP_TOTAL, 0.5), FLIP_REPLICATIONS, seed=7)
        )
    experiment = experiment_from_dict(
        {
            "name": "flip",
            "scenario": FLIP_MARKET,
            "factors": {
                "retention_offers.share_persuadable": {"values": list(UPLIFTS)},
                ADS_BUDGET: {"values": [FLIP_TOTAL, 0.0]},
                OFFERS_BUDGET: {"values": [0.0, FLIP_TOTAL]},
            },
            "design": {"kind": "grid", "together": [[ADS_BUDGET, OFFERS_BUDGET]]},
            "replications": FLIP_REPLICATIONS,
            "seed": 8,
            "metrics": ["profit"],
        }
    )
    runs = sweep(experiment, out=tmp_path / "flip", workers=1, progress=False).runs()
    wide = runs.pivot_table(
        index=["retention_offers.share_persuadable", "replicate"], columns=ADS_BUDGET, values="profit"
    )
    difference = (wide[0.0] - wide[FLIP_TOTAL]).unstack("replicate")  # all offers − all ads
    profit_means = difference.mean(axis=1).tolist()
    i = _bracket(profit_means, 0.0)
    pair = difference.iloc[[i, i + 1]].to_numpy().T  # R × 2
    profit_flip, g = _root((UPLIFTS[i], UPLIFTS[i + 1]), (profit_means[i], profit_means[i + 1]), 0.0)
    var_profit = float(g @ np.cov(pair, rowvar=False) @ g) / FLIP_REPLICATIONS

    ratios = [p.cost_ratio for p in ratio_points]
    j = _bracket(ratios, 1.0)
    ratio_flip, g_root = _root((UPLIFTS[j], UPLIFTS[j + 1]), (ratios[j], ratios[j + 1]), 1.0)
    columns = ["ads_spend", "ads_value", "offers_spend", "offers_value"]
    both = np.hstack([ratio_points[k].runs[columns].to_numpy() for k in (j, j + 1)])  # R × 8
    means = both.mean(axis=0)
    gradient = np.zeros((2, 8))
    for k in range(2):
        m = means[4 * k : 4 * k + 4]
        gradient[k, 4 * k : 4 * k + 4] = ratios[j + k] * np.array([1 / m[0], -1 / m[1], -1 / m[2], 1 / m[3]])
    cov_ratios = gradient @ np.cov(both, rowvar=False) @ gradient.T / FLIP_REPLICATIONS
    var_ratio = float(g_root @ cov_ratios @ g_root)

    error = math.sqrt(var_profit + var_ratio)
    print(f"\nratio crosses 1 at uplift {ratio_flip:.3f}; profit flips at {profit_flip:.3f}; SE {error:.3f}")
    assert abs(ratio_flip - profit_flip) <= 3 * error
    assert error < 0.1  # the replications pin both crossings down to a tenth of the uplift range


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "holds"), [("eight_to_one_holds", True), ("eight_to_one_fails", False)])
def test_the_presets_land_on_their_side_of_eight_to_one(preset: str, holds: bool) -> None:
    """Each preset's 95% interval lies wholly on its side of 8:1 (at 3,000 people, 6 replications)."""
    scenario = load_scenario(SCENARIOS / f"{preset}.yaml", {"network.n": 3000})
    lesson = measure_eight_to_one(scenario, replications=6)
    print(
        f"\n{preset}: ratio {lesson.cost_ratio:.2f} "
        f"[{lesson.cost_ratio_low:.2f}, {lesson.cost_ratio_high:.2f}]"
    )
    assert lesson.status == "measured"
    assert lesson.holds is holds
    if holds:
        assert lesson.cost_ratio_low >= EIGHT
    else:
        assert lesson.cost_ratio_high < EIGHT
    assert (
        scenario.description and len(scenario.description.split(". ")) == 1
    )  # one sentence, shown on the page


@given(
    total=st.floats(allow_nan=True, allow_infinity=True), share=st.floats(allow_nan=True, allow_infinity=True)
)
def test_any_total_and_share_either_split_cleanly_or_name_the_bad_value(total: float, share: float) -> None:
    try:
        budgets = split_budgets(total, share)
    except ScenarioError as exc:
        assert exc.problems[0].path in ("total_daily_budget", "share_to_retention")
        return
    ads, offers = budgets["split"]
    assert ads >= 0 and offers >= 0
    assert ads + offers == pytest.approx(total, rel=1e-9, abs=1e-8)
    assert budgets["no_ads"] == (0.0, offers) and budgets["no_offers"] == (ads, 0.0)


@given(
    values=st.lists(
        st.tuples(*[st.floats(min_value=1e-300, max_value=1e12, allow_nan=False) for _ in range(4)]),
        min_size=2,
        max_size=6,
    )
)
@example(values=[(5.953446663156782e-235, 1.0, 1.0, 2.2085551582875014e-155)] * 2)  # (ratio underflows to 0)
@example(values=[(1e-300, 20322983366.0, 259056333.0, 1.0)] * 2)  # (subnormal bounds)
@example(values=[(1e-300, 1708834843.0, 259056382.0, 1.0), (1e-300, 1708834855.0, 259056381.0, 1.0)])
def test_the_ratio_interval_never_overflows_and_brackets_the_ratio(values: list[tuple[float, ...]]) -> None:
    """Any positive spends and values give an interval (its top ∞ when a mean value is nearly 0, its
    bottom 0 when the ratio is below the smallest float), never an overflow; the bounds bracket the
    ratio of means."""
    per_run = pd.DataFrame(values, columns=["ads_spend", "ads_value", "offers_spend", "offers_value"])
    low, high = ratio_interval(per_run)
    m = per_run.mean()
    log_ratio = math.log(m["ads_spend"]) - math.log(m["ads_value"])
    log_ratio -= math.log(m["offers_spend"]) - math.log(m["offers_value"])
    assert 0.0 <= low <= high
    # A bound under the smallest normal float is subnormal: it has fewer digits, so it is compared
    # with the ratio to within a few of the subnormals' spacing, not by its logarithm.
    ratio, spacing = math.exp(min(log_ratio, 0.0)), 4 * 5e-324  # (used for subnormal bounds only)
    if sys.float_info.min <= low < math.inf:  # (a ratio past the largest float is reported as ∞)
        assert math.log(low) <= log_ratio + 1e-6
    elif 0.0 < low < sys.float_info.min:
        assert low <= ratio * (1 + 1e-9) + spacing
    if sys.float_info.min <= high < math.inf:
        assert log_ratio <= math.log(high) + 1e-6
    elif 0.0 < high < sys.float_info.min:
        assert ratio <= high * (1 + 1e-9) + spacing
    elif high == 0.0:  # (a ratio under the smallest float is reported as 0)
        assert log_ratio < math.log(sys.float_info.min)


def test_a_value_near_zero_gives_a_wide_interval_not_an_error() -> None:
    per_run = pd.DataFrame(
        {
            "ads_spend": [5.0, 6.0],
            "ads_value": [1e-300, 3.0],
            "offers_spend": [1.0, 1.0],
            "offers_value": [2.0, 2.5],
        }
    )
    low, high = ratio_interval(per_run)
    assert low > 0.0 and high > 1000 * low  # one replication's value is ~0: the ratio is barely known
