"""Compare strategies on one market with common random numbers.

Replication ``r`` builds one world from its seed and runs every strategy on it with the same seed, so
each rule draws the same numbers in every strategy. Differences between strategies are therefore
*paired*: the interval of the mean paired difference is far narrower than the two separate intervals
suggest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from sim.metrics import METRICS
from sim.model import build_world
from sim.results import RunResult, run
from sim.scenario import Problem, Scenario, ScenarioError

__all__ = ["Comparison", "compare", "replication_seeds"]

#: Sections that define the world strategies are compared on.
WORLD_SECTIONS: tuple[str, ...] = ("network", "population", "fraud")
#: Confidence level of every interval reported.
CONFIDENCE = 0.95


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Independent run seeds for ``replications`` replications, spawned from one root seed."""
    children = np.random.SeedSequence(seed).spawn(replications)
    # 63 bits: fits the scenario's seed field and every integer column we store it in.
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in children]


def mean_interval(values: np.ndarray) -> tuple[float, float, float, int]:
    """Mean and t-based 95% interval of the finite values: (mean, low, high, n)."""
    finite = values[np.isfinite(values)]
    n = finite.size
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(finite.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * finite.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


@dataclass
class Comparison:
    """Results of :func:`compare`.

    Attributes:
        strategies: strategy names, baseline first.
        seeds: the run seed of each replication.
        runs: one row per (strategy, replication) with every headline metric.
        summary: per strategy and metric: mean, ci_low, ci_high, n.
        paired: per non-baseline strategy and metric: the mean paired difference against the
            baseline, its interval, and whether the interval excludes zero.
        steps: the step tables of every run, with strategy and replication columns.
        retention: retention tables of every run, with strategy and replication columns.
    """

    strategies: list[str]
    seeds: list[int]
    runs: pd.DataFrame
    summary: pd.DataFrame
    paired: pd.DataFrame
    steps: pd.DataFrame
    retention: pd.DataFrame
    results: list[RunResult] = field(default_factory=list, repr=False)

    @property
    def baseline(self) -> str:
        """The strategy every other one is compared against (the first given)."""
        return self.strategies[0]

    def table(self) -> pd.DataFrame:
        """Headline metrics: one row per metric, one ``mean [low, high]`` column per strategy."""
        wide = self.summary.pivot(index="metric", columns="strategy", values="mean")
        return wide.loc[list(METRICS), self.strategies]


def _named(scenarios: Mapping[str, Scenario] | Sequence[Scenario]) -> dict[str, Scenario]:
    if isinstance(scenarios, Mapping):
        return dict(scenarios)
    named: dict[str, Scenario] = {}
    for scenario in scenarios:
        name, k = scenario.name, 2
        while name in named:  # two copies of one preset compare fine under distinct names
            name, k = f"{scenario.name} ({k})", k + 1
        named[name] = scenario
    return named


def check_same_world(named: Mapping[str, Scenario]) -> None:
    """Raise :class:`ScenarioError` unless every strategy shares the world and the horizon.

    The world (``network``, ``population`` and the attackers of ``fraud``) is built once per
    replication and shared, so it must be identical. Other market sections (churn behaviour,
    economics, organic discovery) may differ: a what-if such as "churn twice as fast" is still
    paired on the same people and random numbers.
    """
    items = list(named.items())
    base_name, base = items[0]
    base_market = base.market()
    problems = []
    for name, scenario in items[1:]:
        market = scenario.market()
        for section in WORLD_SECTIONS:
            if market[section] != base_market[section]:
                problems.append(
                    Problem(
                        section,
                        f"strategies compared must share one world; {name!r} differs from {base_name!r}",
                        "",
                    )
                )
        if scenario.days != base.days:
            problems.append(
                Problem(
                    "days", f"strategies compared must share one horizon ({base.days})", str(scenario.days)
                )
            )
    if problems:
        raise ScenarioError(problems, "compare")


def compare(
    scenarios: Mapping[str, Scenario] | Sequence[Scenario],
    replications: int = 5,
    seed: int | None = None,
    *,
    progress: bool = False,
    keep_results: bool = False,
) -> Comparison:
    """Run each strategy ``replications`` times on shared worlds and random streams.

    Args:
        scenarios: strategies, as ``{name: scenario}`` or a sequence (named by ``scenario.name``);
            the first is the baseline of the paired differences.
        replications: number of replications R (each a fresh world and seed).
        seed: root seed of the replication seeds; defaults to the baseline scenario's seed.
        progress: show a progress bar over runs.
        keep_results: keep every :class:`RunResult` on the comparison.
    """
    named = _named(scenarios)
    if not named:
        raise ValueError("compare needs at least one scenario")
    if replications < 1:
        raise ValueError(f"replications must be ≥ 1; got {replications}")
    check_same_world(named)
    baseline = next(iter(named.values()))
    seeds = replication_seeds(baseline.seed if seed is None else seed, replications)
    rows, steps, retention, results = [], [], [], []
    bar = tqdm(total=len(seeds) * len(named), desc="runs", unit="run", disable=not progress)
    for replication, run_seed in enumerate(seeds):
        world = build_world(baseline, run_seed)
        for name, scenario in named.items():
            result = run(scenario, run_seed, world=world)
            rows.append({"strategy": name, "replication": replication, "seed": run_seed, **result.summary})
            steps.append(result.steps.assign(strategy=name, replication=replication))
            retention.append(result.retention.assign(strategy=name, replication=replication))
            if keep_results:
                results.append(result)
            bar.update()
    bar.close()
    runs = pd.DataFrame(rows)
    return Comparison(
        strategies=list(named),
        seeds=seeds,
        runs=runs,
        summary=_summary(runs, list(named)),
        paired=_paired(runs, list(named)),
        steps=pd.concat(steps, ignore_index=True),
        retention=pd.concat(retention, ignore_index=True),
        results=results,
    )


def _summary(runs: pd.DataFrame, strategies: list[str]) -> pd.DataFrame:
    rows = []
    for strategy in strategies:
        mine = runs[runs["strategy"] == strategy]
        for metric in METRICS:
            mean, low, high, n = mean_interval(mine[metric].to_numpy(dtype=float))
            rows.append(
                {"strategy": strategy, "metric": metric, "mean": mean, "ci_low": low, "ci_high": high, "n": n}
            )
    return pd.DataFrame(rows)


def _paired(runs: pd.DataFrame, strategies: list[str]) -> pd.DataFrame:
    base = runs[runs["strategy"] == strategies[0]].set_index("replication")
    rows = []
    for strategy in strategies[1:]:
        other = runs[runs["strategy"] == strategy].set_index("replication")
        for metric in METRICS:
            diff = (other[metric] - base[metric]).to_numpy(dtype=float)
            mean, low, high, n = mean_interval(diff)
            rows.append(
                {
                    "strategy": strategy,
                    "baseline": strategies[0],
                    "metric": metric,
                    "mean_diff": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                    "excludes_zero": bool(n > 1 and (low > 0 or high < 0)),
                }
            )
    return pd.DataFrame(
        rows,
        columns=["strategy", "baseline", "metric", "mean_diff", "ci_low", "ci_high", "n", "excludes_zero"],
    )
