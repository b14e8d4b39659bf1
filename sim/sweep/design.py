"""Design points of an experiment (grid, random, Latin hypercube, Morris, Sobol) and their analysis.

A design is a list of *points*: ``{dotted path: value}`` overrides of the base scenario. Morris and
Sobol points come from SALib's samplers; :func:`analyse` turns one metric per point (the mean over
replications) back into SALib's sensitivity indices. Factors whose base value is a whole number
(``network.n``, ``days``) get whole-number values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.scenario import Problem

if TYPE_CHECKING:
    from sim.sweep.spec import Experiment

__all__ = ["Design", "DesignError", "analyse", "integer_paths", "make_design", "plan_points"]


class DesignError(ValueError):
    """The design cannot be built (e.g. SALib refuses the sample size); ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Design:
    """The design points and, for Morris and Sobol, SALib's problem and raw sample matrix.

    Attributes:
        points: one ``{dotted path: value}`` mapping per point, in design order.
        problem: SALib problem definition (names, bounds), or None for grid/random/latin.
        sample: the raw sample matrix (points × factors) the analysis needs, or None.
    """

    points: list[dict[str, Any]]
    problem: dict[str, Any] | None = None
    sample: np.ndarray | None = None


def integer_paths(experiment: Experiment) -> set[str]:
    """Factor paths whose base value is a whole number: their sampled values are rounded."""
    from sim.sweep.paths import leaf_paths

    leaves = leaf_paths(experiment.base_scenario.model_dump(mode="json", exclude={"base_dir"}))
    return {
        path
        for path in experiment.factors
        if isinstance(leaves.get(path), int) and not isinstance(leaves.get(path), bool)
    }


def _cast(path: str, value: float, integers: set[str]) -> Any:
    return round(float(value)) if path in integers else float(value)


def make_design(experiment: Experiment) -> Design:
    """Build the experiment's design points (deterministic: depends only on the file)."""
    spec = experiment.design
    factors = experiment.factors
    paths = list(factors)
    integers = integer_paths(experiment)
    if spec.kind == "grid":
        values: dict[str, list[Any]] = {}
        for path, factor in factors.items():
            if factor.is_range:
                assert factor.low is not None and factor.high is not None and factor.levels is not None
                grid = np.linspace(factor.low, factor.high, factor.levels)
                values[path] = [_cast(path, v, integers) for v in grid]
            else:
                values[path] = list(factor.values or [])
        # Each axis is one factor, or a group that moves together (the i-th value of each).
        group_of = {name: tuple(group) for group in spec.together for name in group}
        axes: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
        for path in paths:
            group = group_of.get(path, (path,))
            if group[0] == path:
                axes.append((group, list(zip(*(values[name] for name in group), strict=True))))
        points = []
        for combo in itertools.product(*(axis_values for _names, axis_values in axes)):
            point: dict[str, Any] = {}
            for (names, _values), chosen in zip(axes, combo, strict=True):
                point.update(zip(names, chosen, strict=True))
            points.append({path: point[path] for path in paths})
        return Design(points)
    if spec.kind == "optuna":  # ripple optimise chooses the points as it goes
        return Design([])
    samples = spec.samples
    assert samples is not None
    if spec.kind == "random":
        rng = np.random.default_rng(spec.seed)
        columns = []
        for factor in factors.values():
            if factor.is_range:
                columns.append(list(rng.uniform(float(factor.low or 0), float(factor.high or 0), samples)))
            else:
                options = factor.values or []
                columns.append([options[i] for i in rng.integers(0, len(options), samples)])
        return Design(_rows(paths, columns, factors, integers))
    ranged = {p: f for p, f in factors.items() if f.is_range}
    problem = {
        "num_vars": len(paths),
        "names": paths,
        # A list of values is sampled as an index in [0, len): each value gets an equal share.
        "bounds": [
            [f.low, f.high] if f.is_range else [0.0, float(len(f.values or []))] for f in factors.values()
        ],
    }
    # SALib is imported here, not with the module: its analysers load scipy.stats (about 27 MB),
    # which a plain run (``import sim``) never needs.
    from SALib.sample import latin as latin_sample
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    try:
        if spec.kind == "latin":
            matrix = latin_sample.sample(problem, samples, seed=spec.seed)
        elif spec.kind == "morris":
            matrix = morris_sample.sample(problem, samples, num_levels=spec.levels, seed=spec.seed)
        else:
            matrix = sobol_sample.sample(
                problem, samples, calc_second_order=spec.second_order, scramble=True, seed=spec.seed
            )
    except (ValueError, RuntimeError) as exc:
        raise DesignError(
            [Problem("design", f"SALib cannot build this {spec.kind} design: {exc}", "")]
        ) from exc
    columns = [list(matrix[:, j]) for j in range(len(paths))]
    points = _rows(paths, columns, factors, integers)
    if spec.kind == "latin" or not ranged:
        return Design(points)
    return Design(points, problem=problem, sample=np.asarray(matrix, dtype=float))


def _rows(
    paths: list[str], columns: list[list[Any]], factors: dict[str, Any], integers: set[str]
) -> list[dict[str, Any]]:
    rows = []
    for values in zip(*columns, strict=True):
        row: dict[str, Any] = {}
        for path, value in zip(paths, values, strict=True):
            factor = factors[path]
            if factor.is_range:
                row[path] = _cast(path, value, integers)
            elif isinstance(value, (float, np.floating)):  # an index drawn by a SALib sampler
                options = factor.values
                row[path] = options[min(int(value), len(options) - 1)]
            else:
                row[path] = value
        rows.append(row)
    return rows


def plan_points(experiment: Experiment) -> list[dict[str, Any]]:
    """The design points alone (see :func:`make_design`)."""
    return make_design(experiment).points


def analyse(
    kind: str,
    problem: dict[str, Any],
    sample: np.ndarray,
    outputs: dict[str, np.ndarray],
    seed: int,
    levels: int,
    second_order: bool = False,
) -> pd.DataFrame:
    """Sensitivity indices per metric and factor from one output per design point.

    Args:
        kind: ``"sobol"`` or ``"morris"``.
        problem: SALib problem definition.
        sample: the raw sample matrix (points × factors).
        outputs: metric name → one value per point (mean over replications), in design order.
        seed: seed of SALib's bootstrap, so the intervals are reproducible.
        levels: Morris grid levels.
        second_order: whether the Sobol sample has second-order rows.

    Returns:
        Columns ``metric``, ``factor``, ``method`` and ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (Sobol) or ``mu_star``, ``mu_star_conf``, ``sigma`` (Morris); NaN where a metric is
        undefined at some point (e.g. a CAC with no acquisitions) or constant.
    """
    from SALib.analyze import morris as morris_analyze  # imported on use (see make_design)
    from SALib.analyze import sobol as sobol_analyze

    rows = []
    for metric, values in outputs.items():
        y = np.asarray(values, dtype=float)
        usable = bool(np.all(np.isfinite(y))) and float(np.ptp(y)) > 0
        if kind == "sobol":
            keys: tuple[str, ...] = ("S1", "S1_conf", "ST", "ST_conf")
            result = (
                sobol_analyze.analyze(problem, y, calc_second_order=second_order, seed=seed)
                if usable
                else None
            )
        else:
            keys = ("mu_star", "mu_star_conf", "sigma")
            result = (
                morris_analyze.analyze(problem, sample, y, num_levels=levels, seed=seed) if usable else None
            )
        for j, factor in enumerate(problem["names"]):
            row: dict[str, Any] = {"metric": metric, "factor": factor, "method": kind}
            for key in keys:
                row[key] = float(result[key][j]) if result is not None else float("nan")
            rows.append(row)
    return pd.DataFrame(rows)
