"""Several paid channels: the old one-channel form, per-channel books, carryover and saturation.

Carryover is pymc-marketing's geometric adstock (normalised) per person; saturation its Hill curve of
the day's reach (docs/science.md §9). The tests check the closed forms and the directions that follow.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.analysis.compare import mean_interval
from sim.analysis.metrics import AD_CHANNEL_COLUMNS
from sim.rules._media import hill
from sim.scenario import ScenarioError, scenario_from_dict
from tests.conftest import SCENARIOS, quiet_scenario
from tests.test_budgets import overspend

THREE = [
    {"name": "search", "daily_budget": 10.0, "cpm": 20.0, "funnel": "one_stage", "p_purchase": 0.004},
    {
        "name": "social",
        "daily_budget": 12.0,
        "cpm": 8.0,
        "p_aware": 0.02,
        "p_consider": 0.01,
        "p_purchase": 0.01,
    },
    {
        "name": "tv",
        "daily_budget": 9.0,
        "cpm": 4.0,
        "target": "everyone",
        "frequency_cap": None,
        "days_adstock_half_life": 7.0,
        "saturation_half_reach": 0.3,
    },
]


def test_the_old_ads_mapping_and_a_list_of_one_channel_are_the_same_run():
    base = load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 1500, "days": 40})
    one = base.model_dump(mode="json")["ads"]
    one.pop("channels")
    as_list = base.with_overrides({"ads": [one]})
    assert base.ads.is_plain and as_list.ads == base.ads
    assert scenario_from_dict({"ads": [one]}).ads == scenario_from_dict({"ads": one}).ads
    a, b = run(base), run(as_list)
    pd.testing.assert_frame_equal(a.steps, b.steps)
    pd.testing.assert_frame_equal(a.ledger, b.ledger)
    assert a.channels["channel"].tolist() == ["ads"]


def test_a_list_of_channels_reads_as_the_first_plus_channels_and_names_must_differ():
    ads = scenario_from_dict({"ads": THREE}).ads
    assert [c.name for c in ads.all_channels()] == ["search", "social", "tv"]
    assert ads.name == "search" and ads.daily_budget == 10.0 and len(ads.channels) == 2
    problems = _problems({"ads": [{"name": "tv"}, {"name": "tv"}]})
    assert any(p.startswith("ads:") and "channel names must be distinct; got tv" in p for p in problems)
    problems = _problems({"ads": [THREE[0], {**THREE[1], "cpm": 0}]})
    assert any(p.startswith("ads.channels.0.cpm: must be > 0.0; got 0") for p in problems), problems
    assert any("at least one channel" in p for p in _problems({"ads": []}))
    assert any(p.startswith("ads.name:") for p in _problems({"ads": {"name": "TV spots"}}))
    problems = _problems({"ads": {"saturation_slope": 2.0}})
    assert any("saturation_slope is only used with saturation_half_reach" in p for p in problems)


def _problems(data: dict) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    return [str(problem) for problem in caught.value.problems]


def test_every_channel_keeps_its_own_books_and_they_add_up_to_the_ads_totals():
    scenario = load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 3000, "days": 90, "ads": THREE})
    result = run(scenario)
    steps = result.steps
    names = ["search", "social", "tv"]
    for total, part in (("spend_ads", "spend_ads"), ("impressions", "impressions"), ("new_ads", "new_ads")):
        np.testing.assert_allclose(steps[total], sum(steps[f"{part}_{n}"] for n in names))
    np.testing.assert_array_equal(steps["won_back_ads"], sum(steps[f"won_back_ads_{n}"] for n in names))
    ledger = result.ledger.query("channel == 'ads'").groupby("purpose")["amount"].sum()
    assert set(ledger.index) == {f"impressions_{n}" for n in names}
    table = result.channels.set_index("channel")
    assert list(result.channels.columns) == list(AD_CHANNEL_COLUMNS) and list(table.index) == names
    for n in names:
        assert table.loc[n, "spend"] == pytest.approx(ledger[f"impressions_{n}"])
        cac = table.loc[n, "spend"] / (table.loc[n, "new_customers"] + table.loc[n, "won_back"])
        assert table.loc[n, "cac"] == pytest.approx(cac)
    assert table["new_customers"].sum() == result.summary["new_customers_ads"]
    assert table["spend"].sum() == pytest.approx(
        result.summary["cac_ads"] * (result.summary["new_customers_ads"] + steps["won_back_ads"].sum())
    )
    assert overspend(scenario, result.ledger) == []


def test_a_channel_with_no_budget_changes_no_other_channel():
    base = load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 2000, "days": 60})
    alone = run(base.with_overrides({"ads.name": "social"}))
    idle = {**THREE[2], "daily_budget": 0.0}
    with_idle = run(base.with_overrides({"ads.name": "social", "ads.channels": [idle]}))
    shared = [c for c in alone.steps.columns if not c.endswith("_tv")]
    pd.testing.assert_frame_equal(alone.steps[shared], with_idle.steps[shared])


def _adstock_market(overrides: dict | None = None) -> object:
    """Everyone targeted, nothing moves anyone (p = 0): the awareness stock is all there is."""
    return quiet_scenario(
        {
            "network.n": 4000,
            "days": 60,
            "ads.name": "tv",
            "ads.daily_budget": 20.0,
            "ads.cpm": 5.0,
            "ads.target": "everyone",
            "ads.frequency_cap": None,
            "ads.wearout_half_life_exposures": None,
            "ads.p_aware": 0.0,
            "ads.p_consider": 0.0,
            "ads.p_purchase": 0.0,
            "ads.days_adstock_half_life": 5.0,
            **(overrides or {}),
        }
    )


def test_constant_spend_gives_the_geometric_adstock_closed_form_steady_state():
    scenario = _adstock_market()
    steps = run(scenario).steps.set_index("day")
    alpha = 0.5 ** (1 / 5.0)
    stock = steps["adstock_tv"].to_numpy()
    exposure = steps["impressions_tv"].to_numpy().astype(float)  # no wear-out: one impression, one unit
    # The recursion of pymc-marketing's geometric adstock, normalised: A_t = α A_{t−1} + (1 − α) x_t.
    np.testing.assert_allclose(stock[1:], alpha * stock[:-1] + (1 - alpha) * exposure[1:], rtol=1e-9)
    # Closed form under constant spend x: A_t = x (1 − α^t) → x; half-way there after one half-life.
    days = np.arange(1, 61)
    x = exposure[1:].mean()
    se = exposure[1:].std(ddof=1)  # day-to-day noise of the impressions served (Poisson totals)
    closed = x * (1 - alpha**days)
    assert np.all(np.abs(stock[1:] - closed) <= 4 * se)
    assert stock[5] / x == pytest.approx(0.5, abs=4 * se / x)
    assert stock[60] / x == pytest.approx(1 - alpha**60, abs=4 * se / x)


def test_carryover_spreads_an_impression_over_later_days_without_changing_its_weight():
    burst = {"value": 0.0, "periods": [{"start": 1, "end": 3, "value": 20.0}]}
    steps = run(_adstock_market({"ads.daily_budget": burst})).steps.set_index("day")
    stock = steps["adstock_tv"]
    assert stock.loc[4] > 0 and stock.loc[4:].is_monotonic_decreasing  # it keeps working, fading
    alpha = 0.5 ** (1 / 5.0)
    np.testing.assert_allclose(stock.loc[14] / stock.loc[4], alpha**10)
    # Normalised adstock: the stock's total over time equals the impressions (each weighs 1 in all).
    impressions = steps["impressions_tv"].sum()
    total = stock.sum() + stock.iloc[-1] * alpha / (1 - alpha)  # the tail after the horizon
    assert total == pytest.approx(impressions, rel=1e-6)


def test_carryover_moves_people_after_the_ads_stop():
    burst = {"value": 0.0, "periods": [{"start": 1, "end": 5, "value": 30.0}]}
    on = {"ads.daily_budget": burst, "ads.p_aware": 0.05, "days": 30}
    with_carryover = run(_adstock_market(on)).steps.set_index("day")
    without = run(_adstock_market({**on, "ads.days_adstock_half_life": None, "ads.name": "ads"})).steps
    assert with_carryover.loc[6:, "n_aware"].diff().iloc[1:].sum() > 0  # awareness keeps rising
    assert without.set_index("day").loc[6:, "n_aware"].diff().iloc[1:].sum() == 0  # it stops with the ads


def test_hill_is_pymc_marketings_hill_function():
    # pymc-marketing: hill_function(x, slope, kappa) = 1 − κ^s / (κ^s + x^s); f(κ) = 1/2 for any slope.
    for slope in (1.0, 2.0, 3.5):
        assert hill(0.2, 0.2, slope) == pytest.approx(0.5)
        x = 0.37
        assert hill(x, 0.2, slope) == pytest.approx(1 - 0.2**slope / (0.2**slope + x**slope))
    assert hill(0.0, 0.2, 1.0) == 0.0


def _saturation_runs(budget: float, half_reach: float | None, seed: int) -> float:
    scenario = quiet_scenario(
        {
            "network.kind": "erdos_renyi",
            "network.n": 20_000,
            "days": 30,
            "seed": seed,
            "ads.name": "social",
            "ads.daily_budget": budget,
            "ads.cpm": 10.0,
            "ads.funnel": "one_stage",
            "ads.p_purchase": 0.01,
            "ads.frequency_cap": None,
            "ads.wearout_half_life_exposures": None,
            "ads.saturation_half_reach": half_reach,
        }
    )
    return float(run(scenario).steps["new_ads"].sum())


def test_doubling_spend_on_a_saturated_channel_less_than_doubles_its_conversions():
    seeds = range(1, 7)
    saturated = np.array([[_saturation_runs(b, 0.02, s) for b in (10.0, 20.0)] for s in seeds])
    linear = np.array([[_saturation_runs(b, None, s) for b in (10.0, 20.0)] for s in seeds])
    # Paired on common random numbers: conversions at 2× spend minus twice those at 1× spend.
    short_saturated, low, high, _ = mean_interval(saturated[:, 1] - 2 * saturated[:, 0])
    assert high < 0, (short_saturated, low, high)
    ratio = saturated[:, 1].sum() / saturated[:, 0].sum()
    # Impressions double; reach r goes from about 5% to 10% of the people, and each impression counts
    # κ·H(r)/r = κ/(κ + r) (slope 1): conversions rise by 2 (κ + r₁) / (κ + r₂), about 1.2, not 2.
    r1, r2 = 1 - math.exp(-0.05), 1 - math.exp(-0.1)
    expected = 2 * (0.02 + r1) / (0.02 + r2)
    assert ratio == pytest.approx(expected, rel=0.15)
    # Without saturation the same doubling nearly doubles them (only finite reach bends it).
    assert linear[:, 1].sum() / linear[:, 0].sum() > 1.85


def test_channels_and_the_rival_round_trip_through_yaml_and_dotted_overrides():
    from sim.scenario import scenario_from_text, scenario_to_yaml

    scenario = load_scenario(SCENARIOS / "rival_ripple.yaml", ["ads.channels.1.cpm=5", "rival.ads.cpm=9"])
    assert scenario.ads.channels[1].name == "tv" and scenario.ads.channels[1].cpm == 5.0
    assert scenario.rival.ads.cpm == 9.0
    assert scenario_from_text(scenario_to_yaml(scenario)).model_dump() == scenario.model_dump()
    with pytest.raises(ScenarioError, match=r"ads\.channels\.7: must be an item of the list \(0 to 1\)"):
        load_scenario(SCENARIOS / "rival_ripple.yaml", ["ads.channels.7.cpm=5"])
