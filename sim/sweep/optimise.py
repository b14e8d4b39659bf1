"""``ripple optimise``: search the factors with Optuna, then confirm the winner against the noise.

**Search.** Each trial suggests one value per factor (a range → ``suggest_float``, or
``suggest_int`` when the field is a whole number; a list of values → ``suggest_categorical``), runs
the scenario once per replication on the experiment's replication seeds (common random numbers:
trials differ only by their parameters) and reports the mean of ``optimise.metric``. A new study
first evaluates the base scenario's own setting (the status quo), when it lies inside the factors'
ranges. The study lives in SQLite (``STORE/optuna.db``, Optuna's RDB storage), so a second call
resumes: it runs only the trials still missing from ``optimise.trials``.

**Confirmation.** A search that keeps the best of many noisy means is optimistic (the winner's
curse): the best trial is partly the luckiest. So the ``confirm_top`` best trials, and the status
quo, run again on ``confirm_replications`` fresh seeds (spawned after the search's, the same for
every re-run). The winner is the best mean of the re-runs; its 95% interval, the paired difference
to the runner-up and to the status quo (t intervals over replications), and the range of each
factor over the re-run trials not distinguishable from the winner are the :class:`Confirmation`,
stored in ``STORE/optuna_confirmation.csv`` (one row per trial and replication).

**Allocation.** With ``allocate:`` a trial also suggests a weight in [0, 1] per budget field
(``share:<path>``), and the fields share the total in proportion (:mod:`sim.sweep.allocate`); the
confirmation reports each field's share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from tqdm.auto import tqdm

from sim.analysis.compare import mean_interval, replication_seeds
from sim.analysis.memory import check_memory
from sim.scenario import Problem, Scenario, ScenarioError
from sim.sweep.allocate import SHARE_PREFIX, allocation_point, base_weights, shares_of, split_params
from sim.sweep.design import integer_paths
from sim.sweep.paths import leaf_paths, scenario_at
from sim.sweep.runner import WORLD_CACHE_SIZE, run_one
from sim.sweep.spec import Experiment

__all__ = [
    "CONFIRMATION_FILE",
    "STUDY_FILE",
    "Confirmation",
    "confirm",
    "optimise",
    "trial_scenario",
    "trial_shares",
]

STUDY_FILE = "optuna.db"
CONFIRMATION_FILE = "optuna_confirmation.csv"
_FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.PRUNED)
#: User attribute marking the trial that evaluates the base scenario's own setting.
BASE_ATTR = "status_quo"


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
    if experiment.allocate is not None:
        for path in experiment.allocate.budgets:
            params[SHARE_PREFIX + path] = trial.suggest_float(SHARE_PREFIX + path, 0.0, 1.0)
    return params


def trial_scenario(experiment: Experiment, params: dict[str, Any]) -> Scenario:
    """The base scenario at a trial's parameters: factor values, and the allocation's budgets."""
    base = experiment.base_scenario
    allocate = experiment.allocate
    if allocate is None:
        return scenario_at(base, params)
    factors, weights = split_params(params, allocate.budgets)
    return scenario_at(base, {**factors, **allocation_point(base, allocate.budgets, allocate.total, weights)})


def trial_shares(experiment: Experiment, params: dict[str, Any]) -> dict[str, float]:
    """The share of the total each allocated budget gets at a trial's parameters (``share:<path>``)."""
    if experiment.allocate is None:
        return {}
    _, weights = split_params(params, experiment.allocate.budgets)
    return {
        SHARE_PREFIX + path: share
        for path, share in zip(experiment.allocate.budgets, shares_of(weights), strict=True)
    }


def _base_point(experiment: Experiment) -> dict[str, Any] | None:
    """The base scenario's value of every factor, if each lies inside the factor's range or values."""
    leaves = leaf_paths(experiment.base_scenario.model_dump(mode="json", exclude={"base_dir"}))
    point = {}
    for path, factor in experiment.factors.items():
        value = leaves[path]
        if factor.is_range:
            assert factor.low is not None and factor.high is not None
            inside = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not inside or not factor.low <= value <= factor.high:
                return None
        elif value not in (factor.values or []):
            return None
        point[path] = value
    if experiment.allocate is not None:
        weights = base_weights(experiment.base_scenario, experiment.allocate.budgets)
        if weights is None:
            return None
        point.update({SHARE_PREFIX + p: w for p, w in zip(experiment.allocate.budgets, weights, strict=True)})
    return point


def _objective(experiment: Experiment) -> Any:
    objective = experiment.optimise
    if objective is None or not experiment.search_paths:
        problems = []
        if objective is None:
            problems.append(
                Problem("optimise", "is required by ripple optimise (metric:, direction:, trials:)", "")
            )
        if not experiment.search_paths:
            problems.append(Problem("factors", "ripple optimise needs at least one factor to search", "none"))
        raise ScenarioError(problems, experiment.source)
    return objective


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
    objective = _objective(experiment)
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
    base_point = _base_point(experiment)
    if existing == 0 and not study.trials and base_point is not None:
        study.enqueue_trial(base_point, user_attrs={BASE_ATTR: True})
    remaining = max(0, objective.trials - existing)
    seeds = replication_seeds(experiment.seed, experiment.replications)
    integers = integer_paths(experiment)

    def evaluate(trial: optuna.Trial) -> float:
        params = _suggest(trial, experiment, integers)
        scenario = trial_scenario(experiment, params)
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


@dataclass
class Confirmation:
    """The winner of an optimisation, confirmed on fresh replications.

    Attributes:
        metric: the objective's metric; ``direction``: ``maximize`` or ``minimize``.
        replications: fresh replications each re-run trial ran.
        trials: one row per re-run trial, best first: ``trial`` (Optuna's number), ``status_quo``
            (the base setting), one column per factor (and, with an allocation, one ``share:<path>``
            per budget: its share of the total), ``search_mean`` (the search's score), ``mean``,
            ``ci_low``, ``ci_high`` (95% over the fresh replications), ``diff_to_best``,
            ``diff_low``, ``diff_high`` (paired, trial − winner) and ``tied`` (the paired interval
            contains 0: not distinguishable from the winner).
        best: the winner's factor values.
        runner_up: the second trial's factor values (None with one re-run trial).
        beats_runner_up: whether the winner's paired interval against the runner-up excludes 0.
        beats_status_quo: the same against the base setting (None when it was not re-run or won).
        within_noise: per factor, the lowest and highest value among the tied trials (numbers) or
            the tied values (categories): the settings the data cannot tell from the winner.
    """

    metric: str
    direction: str
    replications: int
    trials: pd.DataFrame
    best: dict[str, Any]
    runner_up: dict[str, Any] | None
    beats_runner_up: bool
    beats_status_quo: bool | None
    within_noise: dict[str, Any]

    @property
    def best_row(self) -> pd.Series:
        """The winner's row of :attr:`trials`."""
        return self.trials.iloc[0]

    def lines(self) -> list[str]:
        """The verdict in plain sentences (for the CLI and the report)."""
        row = self.best_row
        setting = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.best.items())
        out = [
            f"best: {setting}",
            f"{self.metric}: {row['mean']:.6g} (95% interval {row['ci_low']:.6g} to {row['ci_high']:.6g}, "
            f"{self.replications} fresh replications)",
        ]
        if self.runner_up is not None:
            runner = self.trials.iloc[1]
            verdict = "beats" if self.beats_runner_up else "does not beat (within noise)"
            runner_setting = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.runner_up.items())
            out.append(
                f"it {verdict} the runner-up ({runner_setting}): "
                f"runner-up − best = {runner['diff_to_best']:.6g} "
                f"({runner['diff_low']:.6g} to {runner['diff_high']:.6g}, paired)"
            )
        if self.beats_status_quo is not None:
            out.append(
                "it beats the status quo (the base setting)"
                if self.beats_status_quo
                else "it does not beat the status quo (the base setting) beyond noise"
            )
        for factor, span in self.within_noise.items():
            out.append(f"within noise of the best: {factor} in {_fmt(span)}")
        return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def confirm(
    experiment: Experiment, study: optuna.Study, *, out: str | Path | None = None
) -> Confirmation | None:
    """Re-run the best trials (and the status quo) on fresh replications and pick the winner.

    Results are kept in ``STORE/optuna_confirmation.csv``; a later call with the same trials and
    replications reads them instead of running again. Returns None when no trial finished or
    ``confirm_top`` is 0.
    """
    objective = _objective(experiment)
    sign = 1.0 if objective.direction == "maximize" else -1.0
    done = [t for t in study.trials if t.value is not None and math.isfinite(t.value)]
    if not done or objective.confirm_top == 0:
        return None
    ranked = sorted(done, key=lambda t: -sign * float(t.value or 0.0))
    chosen = ranked[: objective.confirm_top]
    chosen += [t for t in done if t.user_attrs.get(BASE_ATTR) and t not in chosen]
    n_search = experiment.replications
    seeds = replication_seeds(experiment.seed, n_search + objective.confirm_replications)[n_search:]
    values = _confirmation_runs(experiment, chosen, seeds, out)
    factors = [*experiment.factor_paths, *trial_shares(experiment, chosen[0].params)]
    rows = []
    for trial in chosen:
        mean, low, high, _n = mean_interval(values[trial.number])
        rows.append(
            {
                "trial": trial.number,
                BASE_ATTR: bool(trial.user_attrs.get(BASE_ATTR, False)),
                **{f: trial.params[f] for f in experiment.factor_paths},
                **trial_shares(experiment, trial.params),
                "search_mean": float(trial.value or math.nan),
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
            }
        )
    table = pd.DataFrame(rows)
    table["_score"] = sign * table["mean"]
    table = table.sort_values("_score", ascending=False, kind="stable").drop(columns="_score")
    table = table.reset_index(drop=True)
    best_values = values[int(table["trial"].iloc[0])]
    diffs = [mean_interval(values[int(t)] - best_values) for t in table["trial"]]
    table["diff_to_best"] = [d[0] for d in diffs]
    table["diff_low"] = [d[1] for d in diffs]
    table["diff_high"] = [d[2] for d in diffs]
    # Tied: the paired interval contains 0 (or is degenerate at 0: the winner itself).
    table["tied"] = [bool(d[0] == 0.0 or (not math.isnan(d[1]) and d[1] <= 0.0 <= d[2])) for d in diffs]
    best = {f: table.loc[0, f] for f in factors}
    runner_up = {f: table.loc[1, f] for f in factors} if len(table) > 1 else None
    beats_runner_up = bool(len(table) > 1 and not table.loc[1, "tied"])
    quo = table[table[BASE_ATTR]]
    beats_status_quo = None if quo.empty or quo.index[0] == 0 else bool(not quo["tied"].iloc[0])
    tied = table[table["tied"]]
    within_noise: dict[str, Any] = {}
    for f in factors:
        column = tied[f]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            within_noise[f] = (float(column.min()), float(column.max()))
        else:
            within_noise[f] = tuple(dict.fromkeys(column.tolist()))
    return Confirmation(
        metric=objective.metric,
        direction=objective.direction,
        replications=objective.confirm_replications,
        trials=table,
        best=best,
        runner_up=runner_up,
        beats_runner_up=beats_runner_up,
        beats_status_quo=beats_status_quo,
        within_noise=within_noise,
    )


def _confirmation_runs(
    experiment: Experiment, trials: list[optuna.trial.FrozenTrial], seeds: list[int], out: str | Path | None
) -> dict[int, np.ndarray]:
    """The metric of each trial on each fresh seed: read from the store's file, run what is missing."""
    objective = experiment.optimise
    assert objective is not None
    path = experiment.store_path(out) / CONFIRMATION_FILE
    stored = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=["trial", "seed", "value"])
    known = {
        (int(trial), int(seed)): float(value)
        for trial, seed, value in zip(
            stored["trial"].tolist(), stored["seed"].tolist(), stored["value"].tolist(), strict=True
        )
    }
    rows = []
    values: dict[int, np.ndarray] = {}
    for trial in trials:
        scenario = None
        got = []
        for seed in seeds:
            key = (trial.number, seed)
            if key not in known:
                scenario = scenario if scenario is not None else trial_scenario(experiment, trial.params)
                known[key] = float(run_one(scenario, seed)[objective.metric])
            got.append(known[key])
            rows.append({"trial": trial.number, "seed": seed, "value": known[key]})
        values[trial.number] = np.asarray(got, dtype=float)
    pd.DataFrame(rows, columns=["trial", "seed", "value"]).to_csv(path, index=False)
    return values
