"""The experiment file: a base scenario, factors, a design, replications and the metrics to keep.

An experiment file is YAML, validated like a scenario: every bad value is one
:class:`~sim.scenario.Problem` (where, what is allowed, what was given) and unknown keys are errors.
Factor paths are checked against the base scenario, and every design point is validated as a full
scenario before anything runs, so a sweep never fails half-way on a value it could have refused.

>>> experiment = load_experiment("experiments/budget_split.yaml")   # doctest: +SKIP
>>> experiment.factor_paths                                          # doctest: +SKIP
['ads.daily_budget', 'incentives.amount_referrer']
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from sim.analysis.metrics import METRICS
from sim.scenario import (
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_yaml,
    scenario_from_dict,
)
from sim.scenario.errors import RETIRED_KEYS, allowed_from, clip_text, given_text
from sim.scenario.loading import read_text_file
from sim.scenario.section import Section, Switch
from sim.sweep.paths import leaf_paths, scenario_at

__all__ = [
    "DESIGN_KINDS",
    "AllocationSpec",
    "DesignSpec",
    "Experiment",
    "FactorSpec",
    "ObjectiveSpec",
    "PlotSpec",
    "experiment_from_dict",
    "load_experiment",
]

#: Largest experiment file accepted, in bytes.
MAX_EXPERIMENT_BYTES = 1_000_000
#: Design kinds, in the order the docs list them.
DESIGN_KINDS: tuple[str, ...] = ("grid", "random", "latin", "morris", "sobol", "optuna")
#: Designs whose points come from ranges sampled by SALib, and that have a sensitivity analysis.
SENSITIVITY_DESIGNS: tuple[str, ...] = ("morris", "sobol")
#: Most runs one experiment may plan (points × replications): beyond this it is surely a typo.
MAX_RUNS = 2_000_000
#: Folder (in the current folder) that every store goes under unless --out names another.
STORES_DIR = Path("sweeps")
#: A plain name: letters, digits, ``_``, ``-`` and ``.``, not starting with ``.`` or ``-`` (so never
#: ``.`` or ``..``, never a path, never taken for a command-line option).
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"

Scalar = bool | int | float | str


class FactorSpec(Section):
    """One factor: either a list of ``values`` or a numeric range ``low``–``high``."""

    values: list[Scalar] | None = Field(
        None, min_length=1, description="The values to try (grid: every one; random/latin: drawn uniformly)."
    )
    low: float | None = Field(None, description="Lower end of the range (in the field's own unit).")
    high: float | None = Field(None, description="Upper end of the range (in the field's own unit).")
    levels: int | None = Field(
        None, ge=2, le=10_000, description="Grid only: evenly spaced values from low to high (inclusive)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> FactorSpec:
        has_range = self.low is not None or self.high is not None
        if self.values is not None and has_range:
            raise ValueError("give either values or low/high, not both")
        if self.values is None and not has_range:
            raise ValueError("needs values: [...] or low: and high:")
        if has_range:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if not self.low < self.high:
                raise ValueError(
                    f"low must be < high; got low = {given_text(self.low)}, high = {given_text(self.high)}"
                )
        elif self.levels is not None:
            raise ValueError("levels applies to a low/high range, not to values")
        return self

    @property
    def is_range(self) -> bool:
        """Whether the factor is a numeric range (else a list of values)."""
        return self.values is None


class DesignSpec(Section):
    """How design points are chosen from the factors."""

    kind: Literal["grid", "random", "latin", "morris", "sobol", "optuna"] = Field(
        "grid",
        description=(
            "grid: every combination; random: independent uniform draws; latin: Latin hypercube; "
            "morris: elementary-effects trajectories; sobol: Saltelli's scheme for Sobol' indices; "
            "optuna: no fixed points, ripple optimise searches the factors."
        ),
    )
    samples: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description=(
            "random/latin: number of points; morris: number of trajectories (points = samples·(k+1)); "
            "sobol: base sample N, a power of 2 (points = N·(k+2), or N·(2k+2) with second order)."
        ),
    )
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the design's own draws (not the runs').")
    levels: int = Field(4, ge=2, le=100, description="morris: number of grid levels of each factor.")
    second_order: Switch = Field(False, description="sobol: also estimate second-order indices.")
    together: list[list[str]] = Field(
        default_factory=list,
        description=(
            "grid: groups of factors that move together (the i-th value of each), e.g. an identity "
            "check's detection rate with its false-positive rate; each group is one axis of the grid."
        ),
    )


class ObjectiveSpec(Section):
    """What ``ripple optimise`` maximises or minimises, and how the winner is checked against noise.

    Each trial scores the mean over the experiment's replications (common random numbers). After
    the search the ``confirm_top`` best trials, and the base scenario's own setting, run again with
    ``confirm_replications`` fresh replications (common to all of them), so the winner is chosen on
    numbers the search did not see and compared with the runner-up by a paired interval.
    """

    metric: str = Field(..., description="Metric to optimise (a name from docs/metrics.md).")
    direction: Literal["maximize", "minimize"] = Field("maximize", description="maximize or minimize.")
    trials: int = Field(30, ge=1, le=100_000, description="Total trials; a second call runs only the rest.")
    confirm_top: int = Field(
        5,
        ge=0,
        le=1000,
        description="Best trials re-run after the search to confirm the winner (trials; 0 = no re-run).",
    )
    confirm_replications: int = Field(
        20,
        ge=2,
        le=10_000,
        description=(
            "Replications of each confirmation re-run, on fresh seeds shared by every re-run (runs per "
            "trial); the winner's interval and its paired difference to the runner-up come from them."
        ),
    )


class AllocationSpec(Section):
    """A total budget that ``ripple optimise`` shares out among budget fields, searching the shares.

    Each trial gives every field a weight in [0, 1] (``share:<path>``) and the fields share
    ``total`` in proportion: a daily budget gets ``share × total / days`` a day (a schedule is scaled,
    keeping its shape), a horizon budget (``incentives.budget``) ``share × total``.
    """

    total: float = Field(..., gt=0.0, description="Money to share out over the horizon (currency).")
    budgets: list[str] = Field(
        ...,
        min_length=2,
        description=(
            "Budget fields that share it, by dotted path: daily budgets (ads.daily_budget, "
            "ads.channels.0.daily_budget, …) and horizon budgets (incentives.budget)."
        ),
    )


class PlotSpec(Section):
    """The key plot ``ripple report`` draws."""

    x: str | None = Field(None, description="Factor on the x axis (default: the first factor).")
    y: str | None = Field(None, description="Metric on the y axis (default: the first metric).")
    color: str | None = Field(
        None, description="Factor drawn as separate lines (default: the second factor, if any)."
    )
    reference: Literal["bass"] | None = Field(
        None,
        description=(
            "bass: draw the Bass model's adopters n·F(T) next to the means (x = sharing.rate_share_per_day, "
            "colour = organic.rate_per_day, y = new_customers)."
        ),
    )


class Experiment(Section):
    """An experiment: one base scenario varied over factors, each point run ``replications`` times."""

    name: str = Field(
        ...,
        min_length=1,
        max_length=80,
        pattern=NAME_PATTERN,
        description="A plain name: letters, digits, _ - . (not first: . or -); the store is sweeps/<name>.",
    )
    question: str = Field("", max_length=2000, description="The question the experiment answers.")
    base: str | None = Field(
        None, description="Base scenario file, relative to the experiment file (default: the defaults)."
    )
    scenario: dict[str, Any] = Field(
        default_factory=dict,
        description="Overrides of the base scenario by dotted path, e.g. {network.n: 2000, days: 180}.",
    )
    factors: dict[str, FactorSpec] = Field(
        default_factory=dict, description="Factors by dotted scenario path (e.g. ads.daily_budget)."
    )
    design: DesignSpec = Field(default_factory=DesignSpec)
    replications: int = Field(1, ge=1, le=10_000, description="Runs per design point, each its own world.")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Root seed of the replication seeds.")
    metrics: list[str] = Field(
        default_factory=lambda: list(METRICS),
        min_length=1,
        description="Metrics kept per run (names from docs/metrics.md; default: all).",
    )
    store: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description=(
            "Store folder under sweeps/ (a relative path without '..'; default: <name>). Only --out on "
            "the command line puts a store elsewhere."
        ),
    )
    optimise: ObjectiveSpec | None = Field(None, description="Objective of ripple optimise.")
    allocate: AllocationSpec | None = Field(
        None, description="A total budget ripple optimise shares out among budget fields (optuna only)."
    )
    plot: PlotSpec = Field(default_factory=PlotSpec)

    _base_scenario: Scenario | None = PrivateAttr(None)
    _source: str | None = PrivateAttr(None)

    @property
    def factor_paths(self) -> list[str]:
        """Factor dotted paths, in file order."""
        return list(self.factors)

    @property
    def search_paths(self) -> list[str]:
        """What ``ripple optimise`` searches: the factors, then one ``share:<path>`` per allocated budget."""
        shares = [f"share:{path}" for path in self.allocate.budgets] if self.allocate else []
        return [*self.factors, *shares]

    @property
    def base_scenario(self) -> Scenario:
        """The base scenario with the ``scenario`` overrides applied (validated)."""
        if self._base_scenario is None:
            raise RuntimeError("experiment was not loaded with experiment_from_dict/load_experiment")
        return self._base_scenario

    @property
    def source(self) -> str | None:
        """The file the experiment came from, if any."""
        return self._source

    @field_validator("store")
    @classmethod
    def _store_inside(cls, store: str | None) -> str | None:
        if store is not None:
            parts = PurePosixPath(store.replace("\\", "/")).parts
            if (
                store.startswith(("/", "\\", "~"))
                or ":" in store
                or any(part in ("..", ".") for part in parts)
                or "\x00" in store
            ):
                raise ValueError(
                    "must be a relative folder under sweeps/ without '..' (use --out on the command line "
                    f"for another place); got {given_text(store)}"
                )
        return store

    def store_path(self, out: str | Path | None = None) -> Path:
        """Where the store goes.

        ``out`` if given (the command line may choose any folder), else ``sweeps/<store>`` from the
        file, else ``sweeps/<name>``: a file never places a store outside ``sweeps/``.
        """
        if out is not None:
            return Path(out)
        return STORES_DIR / (self.store if self.store else self.name)


def _experiment_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(p) for p in error["loc"])
        allowed = allowed_from(error).replace("docs/scenarios.md", "docs/sweeps.md")
        given = (
            ""
            if error["type"] in ("missing", "extra_forbidden", "value_error")
            else given_text(error["input"])
        )
        problems.append(Problem(path, allowed, given))
    return problems


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def experiment_from_dict(
    data: Any, *, base_dir: str | Path | None = None, source: str | None = None
) -> Experiment:
    """Validate plain data into an :class:`Experiment` and check it against its base scenario.

    Raises:
        ScenarioError: listing every problem: experiment keys and values, the base scenario and its
            overrides, factor paths, metric names, and design points that are not valid scenarios.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [Problem("", "an experiment must be a mapping (name:, factors:, design:, …)", given_text(data))],
            source,
        )
    try:
        experiment = Experiment.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_experiment_problems(exc), source) from None
    experiment._source = source
    folder = Path(base_dir) if base_dir is not None else Path(".")
    try:
        if experiment.base is not None:
            base = load_scenario(folder / experiment.base, experiment.scenario)
        else:
            base = scenario_from_dict(_nested(experiment.scenario), base_dir=folder)
    except ScenarioError as exc:
        where = f"base ({experiment.base})" if experiment.base else "scenario"
        raise ScenarioError(
            [Problem(f"{where}: {p.path}" if p.path else where, p.allowed, p.given) for p in exc.problems],
            source,
        ) from None
    experiment._base_scenario = base
    problems = _check_against_base(experiment, base)
    if problems:
        raise ScenarioError(problems, source)
    from sim.sweep.design import DesignError, plan_points  # the design module imports this one

    try:
        points = plan_points(experiment)
    except DesignError as exc:
        raise ScenarioError(exc.problems, source) from None
    n_runs = len(points) * experiment.replications
    if n_runs > MAX_RUNS:
        raise ScenarioError(
            [
                Problem(
                    "design", f"must plan at most {MAX_RUNS:,} runs (points × replications)", f"{n_runs:,}"
                )
            ],
            source,
        )
    if experiment.allocate is not None:  # an even split must be a valid scenario too
        from sim.sweep.allocate import allocation_point

        allocate = experiment.allocate
        even = allocation_point(base, allocate.budgets, allocate.total, [1.0] * len(allocate.budgets))
        points = [{**point, **even} for point in points] if points else [even]
    problems = _check_points(base, points)
    if problems:
        raise ScenarioError(problems, source)
    return experiment


def _nested(overrides: Mapping[str, Any]) -> dict[str, Any]:
    from sim.scenario import apply_overrides

    return apply_overrides({}, overrides)


def _check_against_base(experiment: Experiment, base: Scenario) -> list[Problem]:
    problems = []
    leaves = leaf_paths(base.model_dump(mode="json", exclude={"base_dir"}))
    options = sorted(leaves)
    for path, factor in experiment.factors.items():
        if path not in leaves:
            hint = (
                f" ({path} was replaced by {RETIRED_KEYS[path]})"
                if path in RETIRED_KEYS
                else _suggest(path, options)
            )
            problems.append(
                Problem(
                    f"factors.{path}",
                    "must be the dotted path of a scenario field (see docs/scenarios.md)" + hint,
                    "",
                )
            )
            continue
        if path in ("name", "description", "seed"):
            problems.append(
                Problem(
                    f"factors.{path}", "must change the simulation (run seeds come from replications)", ""
                )
            )
            continue
        kind = experiment.design.kind
        if not factor.is_range and kind in SENSITIVITY_DESIGNS:
            problems.append(
                Problem(f"factors.{path}", f"a {kind} design needs a numeric range (low:, high:)", "values")
            )
        if factor.is_range:
            base_value = leaves[path]
            if isinstance(base_value, (bool, str)):
                problems.append(
                    Problem(f"factors.{path}", "a low/high range needs a numeric field; use values:", "range")
                )
            if kind == "grid" and factor.levels is None:
                problems.append(Problem(f"factors.{path}", "a grid over a range needs levels:", ""))
        if factor.levels is not None and kind != "grid":
            problems.append(Problem(f"factors.{path}.levels", "applies to grid designs only", kind))
    kind = experiment.design.kind
    grouped: set[str] = set()
    for index, group in enumerate(experiment.design.together):
        where = f"design.together[{index}]"
        if kind != "grid":
            problems.append(Problem(where, "applies to grid designs only", kind))
        unknown = [name for name in group if name not in experiment.factors]
        if unknown:
            problems.append(Problem(where, "must name factors of this experiment", given_text(unknown)))
            continue
        if len(group) < 2:
            problems.append(Problem(where, "must list at least two factors", given_text(group)))
        repeated = grouped.intersection(group)
        if repeated or len(set(group)) != len(group):
            problems.append(Problem(where, "a factor may be in one group only, once", given_text(group)))
        grouped.update(group)
        sizes = {name: _grid_size(experiment.factors[name]) for name in group}
        if len(set(sizes.values())) > 1:
            problems.append(
                Problem(where, "factors that move together need as many values each", given_text(sizes))
            )
    if kind == "optuna" and experiment.optimise is None:
        problems.append(
            Problem("optimise", "is required by an optuna design (metric:, direction:, trials:)", "")
        )
    if kind != "grid" and not experiment.factors and not (kind == "optuna" and experiment.allocate):
        problems.append(Problem("factors", f"a {kind} design needs at least one factor", "none"))
    problems += _check_allocation(experiment, base)
    if kind in ("random", "latin", "morris", "sobol") and experiment.design.samples is None:
        problems.append(Problem("design.samples", f"is required for a {kind} design", ""))
    if kind == "sobol" and experiment.design.samples is not None:
        samples = experiment.design.samples
        if samples & (samples - 1):
            problems.append(Problem("design.samples", "sobol: must be a power of 2", str(samples)))
    metric_names = list(METRICS)
    for index, metric in enumerate(experiment.metrics):
        if metric not in METRICS:
            problems.append(
                Problem(
                    f"metrics[{index}]",
                    "must be a metric name from docs/metrics.md" + _suggest(metric, metric_names),
                    given_text(metric),
                )
            )
    if len(set(experiment.metrics)) != len(experiment.metrics):
        problems.append(Problem("metrics", "must not repeat a metric", ""))
    if experiment.optimise is not None and experiment.optimise.metric not in METRICS:
        problems.append(
            Problem(
                "optimise.metric",
                "must be a metric name from docs/metrics.md"
                + _suggest(experiment.optimise.metric, metric_names),
                given_text(experiment.optimise.metric),
            )
        )
    plot = experiment.plot
    if plot.reference == "bass":
        bass_axes = ("sharing.rate_share_per_day", "organic.rate_per_day", "new_customers")
        if (plot.x, plot.color, plot.y) != bass_axes:
            problems.append(
                Problem("plot", "reference: bass needs x, color, y = " + ", ".join(bass_axes), "")
            )
    for field, value, allowed in (
        ("x", plot.x, experiment.factor_paths),
        ("color", plot.color, experiment.factor_paths),
        ("y", plot.y, experiment.metrics),
    ):
        if value is not None and value not in allowed:
            problems.append(
                Problem(f"plot.{field}", f"must be one of {given_text(allowed)}", given_text(value))
            )
    return problems


def _check_allocation(experiment: Experiment, base: Scenario) -> list[Problem]:
    """The allocated fields are distinct budgets of the base scenario, not factors; optuna only."""
    from sim.sweep.allocate import budget_value

    allocate = experiment.allocate
    if allocate is None:
        return []
    problems = []
    if experiment.design.kind != "optuna":
        problems.append(
            Problem(
                "allocate", "is searched by ripple optimise: needs design kind optuna", experiment.design.kind
            )
        )
    if len(set(allocate.budgets)) != len(allocate.budgets):
        problems.append(Problem("allocate.budgets", "must not repeat a field", given_text(allocate.budgets)))
    for index, path in enumerate(allocate.budgets):
        where = f"allocate.budgets[{index}]"
        if not path.rsplit(".", 1)[-1].endswith("budget"):
            problems.append(
                Problem(where, "must be a budget field (…daily_budget or …budget)", given_text(path))
            )
            continue
        try:
            budget_value(base, path)
        except KeyError:
            problems.append(
                Problem(where, "must be the dotted path of a budget of the base scenario", given_text(path))
            )
            continue
        if path.startswith("rival."):
            problems.append(
                Problem(where, "must be our budget (the rival's is part of the market)", given_text(path))
            )
        if path in experiment.factors:
            problems.append(Problem(where, "is allocated, so it cannot also be a factor", given_text(path)))
    return problems


def _grid_size(factor: FactorSpec) -> int | None:
    return len(factor.values) if factor.values is not None else factor.levels


#: Most invalid design points listed one by one; the rest are counted.
MAX_POINT_PROBLEMS = 10


def _check_points(base: Scenario, points: list[dict[str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
    bad = 0
    for index, point in enumerate(points):
        try:
            scenario_at(base, point)
        except ScenarioError as exc:
            bad += 1
            if bad <= MAX_POINT_PROBLEMS:
                where = clip_text(", ".join(f"{path}={given_text(value)}" for path, value in point.items()))
                for problem in exc.problems:
                    problems.append(
                        Problem(
                            f"design point {index} ({where}): {problem.path}", problem.allowed, problem.given
                        )
                    )
    if bad > MAX_POINT_PROBLEMS:
        problems.append(Problem("design", f"{bad - MAX_POINT_PROBLEMS} more design points are invalid", ""))
    return problems


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment file (YAML); raises :class:`ScenarioError` listing every problem."""
    file = Path(path)
    source = str(path)
    data = parse_yaml(read_text_file(file, MAX_EXPERIMENT_BYTES, "experiment"), source)
    return experiment_from_dict(data or {}, base_dir=file.parent, source=source)
