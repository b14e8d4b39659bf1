"""``ripple optimise``: Optuna over the factors, stored in SQLite so a second call resumes."""

from __future__ import annotations

import optuna
import pandas as pd
from typer.testing import CliRunner

from sim.analysis.compare import replication_seeds
from sim.cli import app
from sim.sweep import load_experiment, sweep
from sim.sweep.optimise import CONFIRMATION_FILE, STUDY_FILE, confirm, optimise
from sim.sweep.report import write_report
from tests.sweep_helpers import write_experiment


def _experiment(folder, trials: int, store=None):
    return write_experiment(
        folder,
        name="best",
        factors={
            "ads.daily_budget": {"low": 0.0, "high": 20.0},
            "ads.target": {"values": ["everyone", "prospects"]},
        },
        replications=1,
        design={"kind": "optuna"},
        optimise={"metric": "profit", "direction": "maximize", "trials": trials},
        store=None if store is None else str(store),
    )


def _flat(output: str) -> str:
    return " ".join(output.split())


def test_optuna_resumes_from_its_storage(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `store: study` in the file is sweeps/study under the current folder
    out = tmp_path / "sweeps" / "study"
    first = optimise(load_experiment(_experiment(tmp_path, 3, "study")), progress=False)
    assert (out / STUDY_FILE).is_file()
    before = [(t.params, t.value) for t in first.trials]
    assert len(before) == 3 and all(v is not None for _p, v in before)
    # Same budget: nothing more to do. A bigger budget runs only the missing trials.
    assert len(optimise(load_experiment(_experiment(tmp_path, 3, "study")), progress=False).trials) == 3
    resumed = optimise(load_experiment(_experiment(tmp_path, 5, "study")), progress=False)
    assert len(resumed.trials) == 5
    assert [(t.params, t.value) for t in resumed.trials[:3]] == before
    stored = optuna.load_study(study_name="best", storage=f"sqlite:///{out / STUDY_FILE}")
    assert len(stored.trials) == 5
    assert (out / "optuna_trials.csv").is_file()
    for trial in stored.trials:
        assert 0.0 <= trial.params["ads.daily_budget"] <= 20.0
        assert trial.params["ads.target"] in ("everyone", "prospects")
    result = CliRunner().invoke(app, ["report", str(_experiment(tmp_path, 5, "study"))])
    assert result.exit_code == 0, result.output
    for name in ("trials.csv", "key_plot.png", "report.html"):
        assert (out / "report" / name).stat().st_size > 0


def test_optimise_cli_prints_the_best_trial_and_needs_an_objective(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["optimise", str(_experiment(tmp_path, 2)), "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.output
    assert "best of 2 trials" in _flat(result.output) and "ads.daily_budget" in result.output
    assert "confirmed on fresh replications" in _flat(result.output) and "95% interval" in result.output
    plain = write_experiment(tmp_path, name="plain")
    result = CliRunner().invoke(app, ["optimise", str(plain), "--out", str(tmp_path / "p")])
    assert result.exit_code == 2 and "optimise: is required by ripple optimise" in _flat(result.output)
    result = CliRunner().invoke(app, ["sweep", str(_experiment(tmp_path, 2)), "--out", str(tmp_path / "q")])
    assert result.exit_code == 2 and "run it with ripple optimise" in _flat(result.output)
    missing = _experiment(tmp_path, 2, "nowhere")
    result = CliRunner().invoke(app, ["report", str(missing)])
    assert result.exit_code == 2 and "run ripple optimise first" in _flat(result.output)


#: A small hybrid market where the referral reward is the only lever and the status quo pays nothing.
REWARD_MARKET = {
    "network.n": 1500,
    "days": 120,
    "ads.daily_budget": 0.0,
    "population.share_initial_customers": 0.03,
    "incentives.amount_referrer": 0.0,
    "incentives.kind": "points",
    "incentives.points_cost_share": 0.1,
    "incentives.low_value_pull": 0.0,
    "incentives.weak_tie_emphasis": 0.0,
    "incentives.reward_scale": 5.0,
}


def _reward_search(folder, name: str, response: float):
    path = write_experiment(
        folder,
        name=name,
        scenario={**REWARD_MARKET, "incentives.share_uplift_max": response},
        factors={"incentives.amount_referrer": {"low": 0.0, "high": 30.0}},
        replications=2,
        design={"kind": "optuna", "seed": 3},
        optimise={
            "metric": "profit",
            "direction": "maximize",
            "trials": 10,
            "confirm_top": 3,
            "confirm_replications": 6,
        },
    )
    experiment = load_experiment(path)
    out = folder / name  # a store outside sweeps/ is given on the command line (--out), as here
    study = optimise(experiment, out=out, progress=False)
    # The status quo (the base scenario's reward, 0) is always the first trial of a new study.
    assert study.trials[0].params["incentives.amount_referrer"] == 0.0
    return experiment, study, confirm(experiment, study, out=out)


def test_the_optimiser_finds_a_reward_that_pays_for_itself_above_zero(tmp_path):
    experiment, study, confirmation = _reward_search(tmp_path, "pays", response=3.0)
    assert confirmation is not None
    best = confirmation.best["incentives.amount_referrer"]
    assert best > 0.0
    assert confirmation.beats_status_quo is True
    low, high = confirmation.within_noise["incentives.amount_referrer"]
    assert 0.0 < low <= best <= high
    row = confirmation.best_row
    assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    # The winner is judged on fresh replications, stored beside the study; a second call reads them.
    stored = pd.read_csv(tmp_path / "pays" / CONFIRMATION_FILE)
    assert len(stored) == len(confirmation.trials) * 6
    assert set(stored["seed"]).isdisjoint(replication_seeds(experiment.seed, experiment.replications))
    again = confirm(experiment, study, out=tmp_path / "pays")
    assert again is not None and again.best == confirmation.best


def test_with_a_reward_that_only_costs_the_best_reward_is_zero_within_its_interval(tmp_path):
    _experiment, _study, confirmation = _reward_search(tmp_path, "costs", response=0.0)
    assert confirmation is not None
    low, high = confirmation.within_noise["incentives.amount_referrer"]
    assert low == 0.0 <= confirmation.best["incentives.amount_referrer"] <= high
    assert confirmation.best["incentives.amount_referrer"] == 0.0
    assert confirmation.beats_status_quo is None  # the status quo is the winner
    # Any reward only adds cost on the same numbers: the runner-up is worse beyond noise.
    assert confirmation.beats_runner_up
    assert any("beats the runner-up" in line for line in confirmation.lines())


def test_sweep_reports_flag_factors_whose_effect_is_within_noise(tmp_path):
    path = write_experiment(
        tmp_path,
        name="noise",
        factors={
            "ads.daily_budget": {"values": [0.0, 60.0]},
            "loyalty.endowed_points": {"values": [0.0, 50.0]},  # loyalty is off: no effect at all
        },
        replications=3,
        metrics=["new_customers", "profit"],
    )
    store = sweep(path, out=tmp_path / "noise", workers=1, progress=False)
    report = write_report(store)
    effects = report.effects.set_index(["metric", "factor"])
    assert not effects.loc[("profit", "ads.daily_budget"), "within_noise"]  # ads cost money
    assert effects.loc[("profit", "ads.daily_budget"), "effect"] > 0
    assert effects.loc[("new_customers", "loyalty.endowed_points"), "within_noise"]
    assert effects.loc[("profit", "loyalty.endowed_points"), "within_noise"]
    assert (tmp_path / "noise" / "report" / "effects.csv").is_file()
    page = (tmp_path / "noise" / "report" / "report.html").read_text()
    assert "Factors whose effect is within noise" in page and "loyalty.endowed_points on profit" in page
