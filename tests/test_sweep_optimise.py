"""``ripple optimise``: Optuna over the factors, stored in SQLite so a second call resumes."""

from __future__ import annotations

import optuna
from typer.testing import CliRunner

from sim.cli import app
from sim.sweep import load_experiment
from sim.sweep.optimise import STUDY_FILE, optimise
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
    plain = write_experiment(tmp_path, name="plain")
    result = CliRunner().invoke(app, ["optimise", str(plain), "--out", str(tmp_path / "p")])
    assert result.exit_code == 2 and "optimise: is required by ripple optimise" in _flat(result.output)
    result = CliRunner().invoke(app, ["sweep", str(_experiment(tmp_path, 2)), "--out", str(tmp_path / "q")])
    assert result.exit_code == 2 and "run it with ripple optimise" in _flat(result.output)
    missing = _experiment(tmp_path, 2, "nowhere")
    result = CliRunner().invoke(app, ["report", str(missing)])
    assert result.exit_code == 2 and "run ripple optimise first" in _flat(result.output)
