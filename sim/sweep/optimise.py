"""``ripple optimise``: search the experiment's factors with Optuna for the best mean metric.

Each trial suggests one value per factor (a range → ``suggest_float``, or ``suggest_int`` when the
field is a whole number; a list of values → ``suggest_categorical``), runs the scenario once per
replication on the experiment's replication seeds (common random numbers: trials differ only by
their parameters) and reports the mean of ``optimise.metric``. The study lives in SQLite
(``STORE/optuna.db``, Optuna's RDB storage), so a second call resumes: it runs only the trials still
missing from ``optimise.trials``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from tqdm.auto import tqdm

from sim.analysis.compare import replication_seeds
from sim.analysis.memory import check_memory
from sim.scenario import Problem, ScenarioError
from sim.sweep.design import integer_paths
from sim.sweep.paths import scenario_at
from sim.sweep.runner import WORLD_CACHE_SIZE, run_one
from sim.sweep.spec import Experiment

__all__ = ["STUDY_FILE", "optimise"]

STUDY_FILE = "optuna.db"
_FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.PRUNED)


def _suggest(trial: optuna.Trial, experiment: Experiment, integers: set[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for path, factor in experiment.factors.items():
        if not factor.is_range:
            params[path] = trial.suggest_categorical(path, list(factor.values or []))
        elif path in integers:
            assert factor.low is not None and factor.high is not None
            params[path] = trial.suggest_int(path, math.ceil(factor.low), math.floor(factor.high))
        else:
            assert factor.low is not None and factor.high is not None
            params[path] = trial.suggest_float(path, factor.low, factor.high)
    return params


def optimise(
    experiment: Experiment,
    *,
    out: str | Path | None = None,
    progress: bool = True,
    memory_check: bool = True,
) -> optuna.Study:
    """Run the trials still missing from ``experiment.optimise.trials`` and return the study.

    With ``memory_check``, a trial whose scenario will not fit in memory fails (Optuna records it
    and goes on) before anything of it is built.

    Raises:
        ScenarioError: if the experiment has no ``optimise:`` section or no factors.
    """
    objective = experiment.optimise
    problems = []
    if objective is None:
        problems.append(
            Problem("optimise", "is required by ripple optimise (metric:, direction:, trials:)", "")
        )
    if not experiment.factors:
        problems.append(Problem("factors", "ripple optimise needs at least one factor to search", "none"))
    if problems or objective is None:
        raise ScenarioError(problems, experiment.source)
    folder = experiment.store_path(out)
    folder.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(folder / STUDY_FILE).resolve()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Seeded by the trials so far: a resumed study draws new points rather than repeating the first ones.
    existing = _finished_count(storage, experiment.name)
    study = optuna.create_study(
        study_name=experiment.name,
        storage=storage,
        direction=objective.direction,
        sampler=optuna.samplers.TPESampler(seed=experiment.design.seed + existing),
        load_if_exists=True,
    )
    remaining = max(0, objective.trials - existing)
    seeds = replication_seeds(experiment.seed, experiment.replications)
    base = experiment.base_scenario
    integers = integer_paths(experiment)

    def evaluate(trial: optuna.Trial) -> float:
        params = _suggest(trial, experiment, integers)
        scenario = scenario_at(base, params)
        if memory_check:  # a trial that will not fit fails cleanly (Optuna records it) instead of swapping
            check_memory(scenario, worlds_per_process=WORLD_CACHE_SIZE, source=experiment.source)
        values = [run_one(scenario, seed)[objective.metric] for seed in seeds]
        trial.set_user_attr("replications", values)
        finite = [v for v in values if np.isfinite(v)]
        return float(np.mean(finite)) if finite else math.nan

    bar = tqdm(
        total=objective.trials, initial=existing, desc=experiment.name, unit="trial", disable=not progress
    )

    def advance(_study: optuna.Study, _trial: optuna.trial.FrozenTrial) -> None:
        bar.update()

    try:
        study.optimize(evaluate, n_trials=remaining, catch=(ScenarioError,), callbacks=[advance])
    finally:
        bar.close()
    frame = study.trials_dataframe()
    frame.to_csv(folder / "optuna_trials.csv", index=False)
    return study


def _finished_count(storage: str, name: str) -> int:
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:  # no such study yet
        return 0
    return sum(trial.state in _FINISHED for trial in study.trials)
