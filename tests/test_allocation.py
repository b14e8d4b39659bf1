"""``ripple optimise`` shares a total budget out among channels and the referral programme."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario import ScenarioError, horizon_total
from sim.sweep import load_experiment
from sim.sweep.allocate import allocation_point, base_weights, shares_of
from sim.sweep.optimise import confirm, optimise, trial_scenario
from tests.conftest import SCENARIOS
from tests.sweep_helpers import write_experiment

#: Two channels alike but for saturation: "wide" never saturates, "narrow" is saturated at 1% reach.
TWO_CHANNELS = [
    {
        "name": name,
        "daily_budget": 20.0,
        "cpm": 5.0,
        "funnel": "one_stage",
        "p_purchase": 0.02,
        "frequency_cap": None,
        "wearout_half_life_exposures": None,
        "saturation_half_reach": half_reach,
    }
    for name, half_reach in (("wide", None), ("narrow", 0.01))
]


def _experiment(folder, trials: int = 12, **fields):
    scenario = {"network.n": 4000, "days": 45, "organic.rate_per_day": 0.0, "ads": TWO_CHANNELS}
    settings = {
        "scenario": scenario,
        "factors": {},
        "allocate": {"total": 1800.0, "budgets": ["ads.daily_budget", "ads.channels.0.daily_budget"]},
        "design": {"kind": "optuna", "seed": 3},
        "replications": 2,
        "metrics": ["new_customers_ads"],
        "optimise": {
            "metric": "new_customers_ads",
            "direction": "maximize",
            "trials": trials,
            "confirm_top": 3,
            "confirm_replications": 4,
        },
    }
    return write_experiment(folder, name="share", **{**settings, **fields})


def test_shares_turn_into_budgets_that_spend_the_total(tmp_path):
    experiment = load_experiment(_experiment(tmp_path))
    base = experiment.base_scenario
    assert experiment.search_paths == ["share:ads.daily_budget", "share:ads.channels.0.daily_budget"]
    assert base_weights(base, experiment.allocate.budgets) == [1.0, 1.0]  # the status quo: half each
    assert shares_of([0.0, 0.0]) == [0.5, 0.5] and shares_of([1.0, 3.0]) == [0.25, 0.75]
    scenario = trial_scenario(
        experiment, {"share:ads.daily_budget": 0.3, "share:ads.channels.0.daily_budget": 0.9}
    )
    assert scenario.ads.daily_budget == pytest.approx(0.25 * 1800.0 / 45)
    assert scenario.ads.channels[0].daily_budget == pytest.approx(0.75 * 1800.0 / 45)
    # A schedule keeps its shape and a horizon budget takes its share whole.
    launch = {"value": 10.0, "periods": [{"start": 1, "end": 5, "value": 50.0}]}
    shaped = base.with_overrides({"ads.daily_budget": launch, "incentives.budget": 100.0})
    point = allocation_point(shaped, ["ads.daily_budget", "incentives.budget"], 1000.0, [1.0, 1.0])
    scenario = shaped.with_overrides(point)
    assert horizon_total(scenario.ads.daily_budget, 45) == pytest.approx(500.0)
    assert scenario.ads.daily_budget.periods[0].value / scenario.ads.daily_budget.value == pytest.approx(5.0)
    assert scenario.incentives.budget == 500.0


def test_allocation_is_checked_before_anything_runs(tmp_path):
    bad = {"total": 100.0, "budgets": ["ads.daily_budget", "ads.cpm", "ads.channels.5.daily_budget"]}
    with pytest.raises(ScenarioError) as caught:
        load_experiment(_experiment(tmp_path, allocate=bad))
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith("allocate.budgets[1]: must be a budget field") for p in problems)
    assert any(p.startswith("allocate.budgets[2]: must be the dotted path of a budget") for p in problems)
    with pytest.raises(ScenarioError, match="needs design kind optuna"):
        load_experiment(_experiment(tmp_path, design={"kind": "grid"}))
    with pytest.raises(ScenarioError, match="cannot also be a factor"):
        load_experiment(_experiment(tmp_path, factors={"ads.daily_budget": {"low": 0.0, "high": 5.0}}))


def test_the_allocator_moves_budget_away_from_a_saturated_channel(tmp_path):
    experiment = load_experiment(_experiment(tmp_path))
    out = tmp_path / "study"
    study = optimise(experiment, out=out, progress=False)
    confirmation = confirm(experiment, study, out=out)
    assert confirmation is not None
    narrow = "share:ads.channels.0.daily_budget"
    best = confirmation.best_row
    # The status quo splits the money evenly; the winner gives the saturated channel far less…
    quo = confirmation.trials[confirmation.trials["status_quo"]]
    assert not quo.empty and quo[narrow].iloc[0] == pytest.approx(0.5)
    assert best[narrow] < 0.3
    # …and wins beyond noise: the narrow channel's money is better spent on the wide one.
    assert confirmation.beats_status_quo
    np.testing.assert_allclose(best[narrow] + best["share:ads.daily_budget"], 1.0)


def test_the_channel_allocation_experiment_validates_and_names_its_budgets():
    experiment = load_experiment(SCENARIOS.parent / "experiments" / "channel_allocation.yaml")
    assert experiment.allocate is not None and len(experiment.allocate.budgets) == 4
    assert "incentives.budget" in experiment.allocate.budgets
    weights = base_weights(experiment.base_scenario, experiment.allocate.budgets)
    assert weights is not None and all(w > 0 for w in weights)


def test_optimise_cli_runs_an_allocation(tmp_path):
    result = CliRunner().invoke(
        app, ["optimise", str(_experiment(tmp_path, trials=2)), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "share:ads.channels.0.daily_budget" in result.output
