"""Compare strategies on one market with common random numbers.

Replication ``r`` builds one world from its seed and runs every strategy on it with the same seed, so
each rule draws the same numbers in every strategy. Differences between strategies are therefore
*paired*: the interval of the mean paired difference is far narrower than the two separate intervals
suggest.

Strategies may differ in the attack (the ``fraud`` section): the real people and the ties among them
come from the ``network`` and ``population`` streams only, and fake accounts are appended after them
from streams of their own (:mod:`sim.world.fake_accounts`). Each replication therefore builds its real
world once and adds each strategy's attackers to a copy, so the comparison is paired on the same real
people. What the attack changes for those people: its attackers are real accounts that operate fake
ones, and every fake account has ties to real people (its operator, and ``fraud.ring_links_to_real``
random real people), so real people gain friends who are fake accounts.
"""

from __future__ import annotations

import atexit
import json
import math
import multiprocessing
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as _as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special
from tqdm.auto import tqdm

from sim.analysis.memory import check_memory
from sim.analysis.metrics import METRICS
from sim.analysis.results import RunResult, run
from sim.scenario import Problem, Scenario, ScenarioError
from sim.world.build import World, build_real_world, build_world, graph_source, with_attack

__all__ = [
    "SHARED_WORLD_SECTIONS",
    "WORLD_SECTIONS",
    "Comparison",
    "check_same_world",
    "compare",
    "plain_main",
    "replication_seeds",
    "start_workers",
]

#: Sections that define the world a run happens in (graph, people, and the attackers' fake accounts).
WORLD_SECTIONS: tuple[str, ...] = ("network", "population", "fraud")
#: World sections every strategy of a comparison must share: the real people and their ties. The
#: attack (``fraud``) may differ; it adds fake accounts after the real people.
SHARED_WORLD_SECTIONS: tuple[str, ...] = ("network", "population")
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
    half = float(special.stdtrit(n - 1, 0.5 + CONFIDENCE / 2) * finite.std(ddof=1) / math.sqrt(n))
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
        channels: every run's paid-channel table (spend, customers, CAC by channel), with strategy
            and replication columns.
    """

    strategies: list[str]
    seeds: list[int]
    runs: pd.DataFrame
    summary: pd.DataFrame
    paired: pd.DataFrame
    steps: pd.DataFrame
    retention: pd.DataFrame
    results: list[RunResult] = field(default_factory=list, repr=False)
    channels: pd.DataFrame = field(default_factory=pd.DataFrame)

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
    """Raise :class:`ScenarioError` unless every strategy shares the real world and the horizon.

    The real people and their ties (``network``, ``population``) are built once per replication and
    shared, so they must be identical. The attack (``fraud``) may differ: it appends fake accounts
    after the real people. Other market sections (churn behaviour, economics, organic discovery) may
    differ too: a what-if such as "churn twice as fast" is still paired on the same people and random
    numbers. Each problem names which strategy has which value.
    """
    items = list(named.items())
    base_name, base = items[0]
    base_market = base.market()
    problems = []
    for name, scenario in items[1:]:
        market = scenario.market()
        for section in SHARED_WORLD_SECTIONS:
            if market[section] != base_market[section]:
                problems.append(
                    Problem(
                        section,
                        f"strategies compared must share one market; {name!r} has "
                        f"{_differences(market[section], base_market[section])}, {base_name!r} has "
                        f"{_differences(base_market[section], market[section])}",
                        "",
                    )
                )
        if scenario.days != base.days:
            problems.append(
                Problem(
                    "days",
                    f"strategies compared must share one horizon; {base_name!r} has {base.days}",
                    f"{name!r} has {scenario.days}",
                )
            )
    if problems:
        raise ScenarioError(problems, "compare")


def _differences(mine: Mapping[str, object], other: Mapping[str, object]) -> str:
    """``key=value`` for each setting of ``mine`` that ``other`` does not share (one section's dump)."""
    keys = [key for key in {**mine, **other} if mine.get(key) != other.get(key)]
    return ", ".join(f"{key}={mine.get(key)}" for key in keys) or "the same values"


def world_of(scenario: Scenario, seed: int, real: World | None = None) -> World:
    """The world ``scenario`` runs in for ``seed``; ``real`` (a world without attackers) is reused.

    ``real`` must come from a scenario with the same ``network`` and ``population`` and the same seed
    (:func:`~sim.world.build.build_real_world`): the attackers are then appended to it, as
    :func:`~sim.world.build.build_world` would.
    """
    return build_world(scenario, seed) if real is None else with_attack(real, scenario.fraud)


def compare(
    scenarios: Mapping[str, Scenario] | Sequence[Scenario],
    replications: int = 5,
    seed: int | None = None,
    *,
    progress: bool = False,
    keep_results: bool = False,
    on_run: Callable[[int, int], None] | None = None,
    workers: int = 1,
    memory_check: bool = True,
) -> Comparison:
    """Run each strategy ``replications`` times on shared worlds and random streams.

    Args:
        scenarios: strategies, as ``{name: scenario}`` or a sequence (named by ``scenario.name``);
            the first is the baseline of the paired differences.
        replications: number of replications R (each a fresh world and seed).
        seed: root seed of the replication seeds; defaults to the baseline scenario's seed.
        progress: show a progress bar over runs.
        keep_results: keep every :class:`RunResult` on the comparison.
        on_run: called as ``on_run(done, total)`` as runs finish (the app's progress bar). An exception
            it raises stops the comparison (queued runs are dropped) and propagates: the app's Cancel.
        workers: processes to spread replications over (1 = in this process). Results are identical
            either way: each replication's world and streams come from its own seed.
        memory_check: first refuse, with a :class:`~sim.scenario.ScenarioError`, a comparison whose
            runs (``workers`` at once, each with its world) will not fit in the memory available
            (:func:`sim.analysis.memory.check_memory`).
    """
    named = _named(scenarios)
    if not named:
        raise ValueError("compare needs at least one scenario")
    if replications < 1:
        raise ValueError(f"replications must be ≥ 1; got {replications}")
    if workers < 1:
        raise ValueError(f"workers must be ≥ 1; got {workers}")
    check_same_world(named)
    if memory_check:
        processes = 1 if workers == 1 else min(workers, replications * len(named))
        check_memory(list(named.values()), processes=processes, worlds_per_process=_WORKER_WORLDS_KEPT)
    baseline = next(iter(named.values()))
    seeds = replication_seeds(baseline.seed if seed is None else seed, replications)
    total = len(seeds) * len(named)
    names = list(named)
    # Outcomes by (replication, strategy), so the tables come out in the same order however the
    # runs were scheduled.
    outcomes: dict[tuple[int, int], _Outcome] = {}
    bar = tqdm(total=total, desc="runs", unit="run", disable=not progress)

    def finished(key: tuple[int, int], outcome: _Outcome) -> None:
        outcomes[key] = outcome
        bar.update()
        if on_run is not None:
            on_run(len(outcomes), total)

    if workers == 1 or total == 1:
        for replication, run_seed in enumerate(seeds):
            real = build_real_world(baseline, run_seed)
            for k, name in enumerate(names):
                world = world_of(named[name], run_seed, real)
                outcome = _run_strategy(name, named[name], replication, run_seed, keep_results, world)
                finished((replication, k), outcome)
    else:
        # One task per run (finer than per replication, so the workers stay busy to the end); each
        # worker builds a replication's world once and reuses it for the other strategies.
        pool = _pool(workers)
        with plain_main():
            futures: dict[Future[_Outcome], tuple[int, int]] = {
                pool.submit(
                    _run_strategy_in_worker, name, named[name], replication, run_seed, keep_results
                ): (replication, k)
                for replication, run_seed in enumerate(seeds)
                for k, name in enumerate(names)
            }
        try:
            for future in _as_completed(futures):
                finished(futures[future], future.result())
        except BaseException:
            # Stopped early (``on_run`` raised to cancel, or a run failed): drop the queued runs.
            for future in futures:
                future.cancel()
            raise
    bar.close()
    ordered = [outcomes[key] for key in sorted(outcomes)]
    rows = [outcome.row for outcome in ordered]
    steps = [outcome.steps for outcome in ordered]
    retention = [outcome.retention for outcome in ordered]
    channels = [outcome.channels for outcome in ordered]
    results = [outcome.result for outcome in ordered if outcome.result is not None]
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
        channels=pd.concat(channels, ignore_index=True),
    )


@dataclass
class _Outcome:
    """What one strategy's run in one replication produced."""

    row: dict[str, object]
    steps: pd.DataFrame
    retention: pd.DataFrame
    result: RunResult | None
    channels: pd.DataFrame


def _run_strategy(
    name: str, scenario: Scenario, replication: int, run_seed: int, keep_result: bool, world: World
) -> _Outcome:
    """Run one strategy of one replication on that replication's world."""
    result = run(scenario, run_seed, world=world)
    labels = {"strategy": name, "replication": replication, "seed": run_seed}
    return _Outcome(
        row={**labels, **result.summary},
        steps=result.steps.assign(strategy=name, replication=replication),
        retention=result.retention.assign(strategy=name, replication=replication),
        result=result if keep_result else None,
        channels=result.channels.assign(strategy=name, replication=replication),
    )


#: Real worlds a pool worker built, by (world definition, seed); a few, since tasks come replication
#: by replication.
_WORKER_WORLDS: dict[tuple[str, int], World] = {}
_WORKER_WORLDS_KEPT = 2


def _run_strategy_in_worker(
    name: str, scenario: Scenario, replication: int, run_seed: int, keep_result: bool
) -> _Outcome:
    """:func:`_run_strategy` in a pool worker, on the replication's real world plus the strategy's attack."""
    market = scenario.market()
    world_text = json.dumps({s: market[s] for s in SHARED_WORLD_SECTIONS}, sort_keys=True)
    key = (world_text + graph_source(scenario), run_seed)  # a graph file's content, not just its name
    real = _WORKER_WORLDS.get(key)
    if real is None:
        real = build_real_world(scenario, run_seed)
        _WORKER_WORLDS[key] = real
        while len(_WORKER_WORLDS) > _WORKER_WORLDS_KEPT:
            del _WORKER_WORLDS[next(iter(_WORKER_WORLDS))]
    world = world_of(scenario, run_seed, real)
    return _run_strategy(name, scenario, replication, run_seed, keep_result, world)


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool kept for the life of the process (the app compares again and again).

    Workers fork from a server that has already imported :mod:`sim`, so starting one is cheap and
    safe in a threaded host such as Streamlit (no fork of the host itself).
    """
    pool = _POOLS.get(workers)
    if pool is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim"])
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        _POOLS[workers] = pool
    return pool


def start_workers(workers: int) -> None:
    """Start the pool :func:`compare` uses for ``workers`` processes now, without waiting for it.

    Starting worker processes takes a second or two; an app calls this when it opens so the first
    comparison does not pay for it.
    """
    if workers > 1:
        with plain_main():
            _pool(workers).submit(int)


_MAIN_LOCK = threading.Lock()


@contextmanager
def plain_main() -> Iterator[None]:
    """Hide the ``__main__`` module while pool workers may start.

    A new worker re-imports the parent's ``__main__`` from its file. Under Streamlit that module is
    the app script itself (Streamlit installs each page run as ``__main__``), so every worker would
    run the app. Workers only need :mod:`sim`, so they are started with an empty main module. The
    sweep runner's local Dask cluster starts its workers inside it too.
    """
    with _MAIN_LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


@atexit.register
def _close_pools() -> None:
    for pool in _POOLS.values():
        pool.shutdown(cancel_futures=True)
    _POOLS.clear()


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
