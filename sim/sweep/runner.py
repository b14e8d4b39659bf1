"""Running an experiment: plan the runs, execute them serially or on Dask, stream rows into the store.

Each run is :func:`run_one` (a pure function of the scenario and the seed) identified by
:func:`run_id`, a hash of the canonical parameters and the seed. Replication ``r`` of every design
point uses the same seed (spawned from the experiment's root seed, as in :mod:`sim.analysis.compare`), so
points are compared on common random numbers and, when the factors leave ``network`` and
``population`` alone, on the same world. Each process builds a world once per (world sections,
seed) and keeps the latest few (:data:`WORLD_CACHE_SIZE`); tasks carry only the scenario as plain
data and are ordered so that runs sharing a world are neighbours.

Executors: ``workers=1`` runs in this process; otherwise a Dask ``LocalCluster`` on ``workers``
processes (default: every core; in this process when fewer than :data:`SMALL_SWEEP_RUNS` runs are
left or there is one core), or an existing cluster at ``scheduler`` (or
``DASK_SCHEDULER_ADDRESS``). At most a few tasks per worker are in flight, and finished rows go to
the store as they arrive, so memory does not grow with the sweep.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from sim.analysis.compare import WORLD_SECTIONS, plain_main, replication_seeds
from sim.analysis.results import run
from sim.scenario import Problem, Scenario, ScenarioError, scenario_from_dict
from sim.sweep.design import make_design
from sim.sweep.paths import apply_point, scenario_at
from sim.sweep.spec import Experiment, load_experiment
from sim.sweep.store import (
    PartWriter,
    StoreError,
    SweepStore,
    create_store,
)
from sim.world.build import World, build_world

__all__ = ["RunTask", "execute", "plan", "run_id", "run_one", "sweep", "world_builds"]

#: Worlds each process keeps (latest used first out); a 1M-person world is a few hundred MB.
WORLD_CACHE_SIZE = 4
#: Tasks in flight per worker thread: enough to keep workers busy, few enough to hold little.
IN_FLIGHT_PER_THREAD = 2
#: With no --workers, sweeps with fewer runs to do than this run in this process.
SMALL_SWEEP_RUNS = 8
#: Environment variable naming an existing Dask scheduler (Dask's own convention).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: How long a local worker may take to start and register with the scheduler.
WORKER_START_TIMEOUT = "120s"

_worlds: OrderedDict[str, World] = OrderedDict()
_world_builds = 0


def _canonical(scenario: Scenario) -> dict[str, Any]:
    """The parameters that decide a run's outcome (not its name, description or default seed)."""
    return scenario.model_dump(mode="json", exclude={"name", "description", "seed", "base_dir"})


def run_id(scenario: Scenario, seed: int) -> str:
    """Deterministic id of a run: the first 16 hex digits of SHA-256 over parameters and seed."""
    text = json.dumps({"scenario": _canonical(scenario), "seed": int(seed)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _world_key(scenario: Scenario, seed: int) -> str:
    world = {section: getattr(scenario, section).model_dump(mode="json") for section in WORLD_SECTIONS}
    return json.dumps({"world": world, "base_dir": scenario.base_dir, "seed": int(seed)}, sort_keys=True)


def _world(scenario: Scenario, seed: int) -> World:
    global _world_builds
    key = _world_key(scenario, seed)
    world = _worlds.get(key)
    if world is None:
        world = build_world(scenario, seed)
        _world_builds += 1
        _worlds[key] = world
        while len(_worlds) > WORLD_CACHE_SIZE:
            _worlds.popitem(last=False)
    else:
        _worlds.move_to_end(key)
    return world


def world_builds() -> int:
    """Worlds this process has built for sweeps so far (the cache's misses)."""
    return _world_builds


def run_one(scenario: Scenario, seed: int) -> dict[str, float]:
    """Run ``scenario`` with ``seed`` and return every headline metric.

    Pure: the result depends only on the arguments. The world (graph and people) comes from this
    process's cache when one was already built for the same world sections and seed; runs never
    change it (each copies the population).
    """
    return run(scenario, seed, world=_world(scenario, seed)).summary


@dataclass(frozen=True)
class RunTask:
    """One run to do: what a worker needs, as plain data (the world is never shipped).

    ``base`` is the base scenario as plain data, one object shared by every task of a sweep (so a
    million planned runs hold one copy); ``factors`` are this run's dotted-path overrides of it.
    """

    run_id: str
    seed: int
    replicate: int
    factors: dict[str, Any]
    base: dict[str, Any]
    base_dir: str | None
    metrics: tuple[str, ...]


def execute(task: RunTask) -> dict[str, Any]:
    """Run one task and return its store row; an exception becomes an ``error`` row, never a raise."""
    row: dict[str, Any] = {
        "run_id": task.run_id,
        "seed": task.seed,
        "replicate": task.replicate,
        **task.factors,
    }
    try:
        scenario = scenario_from_dict(apply_point(task.base, task.factors), base_dir=task.base_dir)
        summary = run_one(scenario, task.seed)
        row.update({metric: float(summary[metric]) for metric in task.metrics})
        row.update(status="ok", error=None)
    except Exception as exc:  # a failing run is recorded with its parameters; the sweep goes on
        row.update({metric: math.nan for metric in task.metrics})
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    return row


@dataclass
class Plan:
    """Everything a sweep will do, before anything runs."""

    experiment: Experiment
    design: pd.DataFrame
    tasks: list[RunTask]
    schema: pa.Schema
    meta: dict[str, Any]
    sample: Any


def plan(experiment: Experiment) -> Plan:
    """Design points × replications → run tasks (distinct run ids, runs sharing a world adjacent)."""
    if experiment.design.kind == "optuna":
        raise ScenarioError(
            [
                Problem(
                    "design.kind",
                    "an optuna design has no fixed points: run it with ripple optimise",
                    "optuna",
                )
            ],
            experiment.source,
        )
    design = make_design(experiment)
    seeds = replication_seeds(experiment.seed, experiment.replications)
    base = experiment.base_scenario
    metrics = tuple(experiment.metrics)
    rows, tasks, seen = [], [], set()
    world_order: dict[str, int] = {}
    keyed: list[tuple[int, int, int, RunTask]] = []
    base_data = base.model_dump(mode="json", exclude={"base_dir"})
    scenarios = [scenario_at(base, point) for point in design.points]
    for replicate, seed in enumerate(seeds):
        for index, (point, scenario) in enumerate(zip(design.points, scenarios, strict=True)):
            identifier = run_id(scenario, seed)
            rows.append({"point": index, "replicate": replicate, "seed": seed, "run_id": identifier, **point})
            if identifier in seen:  # the same parameters and seed: one run serves both rows
                continue
            seen.add(identifier)
            world = world_order.setdefault(_world_key(scenario, seed), len(world_order))
            task = RunTask(
                run_id=identifier,
                seed=seed,
                replicate=replicate,
                factors=dict(point),
                base=base_data,
                base_dir=base.base_dir,
                metrics=metrics,
            )
            keyed.append((world, replicate, index, task))
    keyed.sort(key=lambda item: item[:3])
    tasks = [item[3] for item in keyed]
    frame = pd.DataFrame(rows, columns=["point", "replicate", "seed", "run_id", *experiment.factor_paths])
    frame = frame.astype({"point": "int64", "replicate": "int64", "seed": "int64", "run_id": "string"})
    factor_schema = pa.Table.from_pandas(frame[experiment.factor_paths], preserve_index=False).schema
    schema = pa.schema(
        [
            pa.field("run_id", pa.string()),
            pa.field("seed", pa.int64()),
            pa.field("replicate", pa.int64()),
            *[pa.field(name, factor_schema.field(name).type) for name in experiment.factor_paths],
            *[pa.field(metric, pa.float64()) for metric in metrics],
            pa.field("status", pa.string()),
            pa.field("error", pa.string()),
        ]
    )
    sensitivity = experiment.design.kind if design.problem is not None else None
    fingerprint = hashlib.sha256(
        json.dumps([frame["run_id"].tolist(), list(metrics), experiment.factor_paths]).encode()
    ).hexdigest()
    meta = {
        "name": experiment.name,
        "question": experiment.question,
        "factors": experiment.factor_paths,
        "metrics": list(metrics),
        "design": experiment.design.model_dump(mode="json"),
        "replications": experiment.replications,
        "seed": experiment.seed,
        "seeds": seeds,
        "n_points": len(design.points),
        "n_runs": len(tasks),
        "fingerprint": fingerprint,
        "sensitivity": sensitivity,
        "problem": design.problem,
        "plot": experiment.plot.model_dump(mode="json"),
        "experiment": experiment.model_dump(mode="json"),
        "base_scenario": base.model_dump(mode="json", exclude={"base_dir"}),
    }
    return Plan(experiment, frame, tasks, schema, meta, design.sample)


def prepare_store(the_plan: Plan, path: Path, resume: bool) -> SweepStore:
    """Create the store, or reopen it to resume (after moving corrupt parts aside)."""
    from sim.sweep.store import META_FILE

    if (path / META_FILE).is_file():
        store = SweepStore(path)
        if store.meta.get("fingerprint") != the_plan.meta["fingerprint"]:
            raise StoreError(
                [
                    Problem(
                        "--out",
                        f"the store was made by a different experiment ({store.experiment_name!r} with other "
                        "factors, design, seeds or metrics); choose another --out or delete it",
                        str(path),
                    )
                ],
                str(path),
            )
        store.quarantine()
        if not resume and store.parts():
            raise StoreError(
                [
                    Problem(
                        "--out",
                        f"the store already holds {len(store.finished_ids())} finished runs; pass --resume "
                        "to continue it, or choose another --out",
                        str(path),
                    )
                ],
                str(path),
            )
        return store
    return create_store(path, the_plan.meta, the_plan.design, the_plan.schema, the_plan.sample)


def _as_experiment(experiment: Experiment | str | Path) -> Experiment:
    return experiment if isinstance(experiment, Experiment) else load_experiment(experiment)


def sweep(
    experiment: Experiment | str | Path,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    part_seconds: float = 2.0,
) -> SweepStore:
    """Run every design point × replication of an experiment into a store, and return the store.

    Args:
        experiment: an :class:`Experiment` or the path of an experiment file.
        out: store folder (default: the experiment's ``store``, else ``sweeps/<name>``).
        workers: 1 = in this process; N = a local Dask cluster of N processes (default: all cores,
            or this process for a sweep with fewer than ``SMALL_SWEEP_RUNS`` runs to do).
        scheduler: address of an existing Dask scheduler (default: ``$DASK_SCHEDULER_ADDRESS``).
        resume: continue an existing store, skipping finished runs (and re-running those in
            corrupt parts).
        progress: show a progress bar (runs done, failures, ETA) on stderr.
        part_seconds: write a part at least this often while runs finish (seconds).
    """
    experiment = _as_experiment(experiment)
    the_plan = plan(experiment)
    store = prepare_store(the_plan, experiment.store_path(out), resume)
    finished = store.finished_ids()
    pending = [task for task in the_plan.tasks if task.run_id not in finished]
    writer = PartWriter(store, the_plan.schema, seconds=part_seconds)
    bar = tqdm(
        total=len(the_plan.tasks),
        initial=len(the_plan.tasks) - len(pending),
        desc=experiment.name,
        unit="run",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
    )
    failures = 0

    def record(row: dict[str, Any]) -> None:
        nonlocal failures
        writer.add(row)
        if row["status"] != "ok":
            failures += 1
            bar.set_postfix(failed=failures, refresh=False)
        bar.update()

    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    try:
        if not pending:
            pass
        elif scheduler is None and (workers == 1 or (workers is None and _in_process_by_default(pending))):
            for task in pending:
                record(execute(task))
        else:
            for row in _dask_rows(pending, workers, scheduler):
                record(row)
    finally:
        writer.flush()
        bar.close()
    return store


def _in_process_by_default(pending: list[RunTask]) -> bool:
    """Whether the default (no --workers, no scheduler) runs in this process.

    It does with one core, or when so few runs are left that starting workers would take longer.
    """
    return (os.cpu_count() or 1) == 1 or len(pending) < SMALL_SWEEP_RUNS


def _dask_rows(tasks: list[RunTask], workers: int | None, scheduler: str | None) -> Iterator[dict[str, Any]]:
    import dask
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        # On a busy machine a worker process can take longer than Dask's default 30 s to import
        # the simulator and register; give it time rather than failing the whole sweep.
        # Workers start with an empty __main__: under Streamlit (or after an AppTest) the main module
        # is the app script, and each worker would run the app on start.
        with plain_main(), dask.config.set({"distributed.comm.timeouts.connect": WORKER_START_TIMEOUT}):
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout="30s")
    try:
        threads = max(1, sum(client.nthreads().values()))
        window = max(2, IN_FLIGHT_PER_THREAD * threads)
        queue = iter(tasks)
        by_future = {}

        def submit() -> Any:
            task = next(queue, None)
            if task is None:
                return None
            future = client.submit(execute, task, key=f"ripple-run-{task.run_id}", pure=False)
            by_future[future.key] = task
            return future

        initial = [f for f in (submit() for _ in range(window)) if f is not None]
        completed = as_completed(initial)
        for future in completed:
            task = by_future.pop(future.key)
            try:
                row = future.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task could not be sent
                row = execute_failed(task, exc)
            future.release()
            yield row
            nxt = submit()
            if nxt is not None:
                completed.add(nxt)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def execute_failed(task: RunTask, exc: BaseException) -> dict[str, Any]:
    """The error row of a task whose worker failed before returning a row."""
    return {
        "run_id": task.run_id,
        "seed": task.seed,
        "replicate": task.replicate,
        **task.factors,
        **{metric: math.nan for metric in task.metrics},
        "status": "error",
        "error": f"{type(exc).__name__}: {exc}",
    }


def estimate(experiment: Experiment, out: str | Path | None = None, resume: bool = False) -> dict[str, Any]:
    """What ``ripple sweep --dry-run`` prints: runs planned, runs to do and one run's time (seconds).

    The timing runs the first task in this process (world build included), so it is an upper
    bound per run when workers reuse worlds.
    """
    the_plan = plan(experiment)
    pending = the_plan.tasks
    path = experiment.store_path(out)
    from sim.sweep.store import META_FILE

    if resume and (path / META_FILE).is_file():
        finished = SweepStore(path).finished_ids()
        pending = [task for task in pending if task.run_id not in finished]
    seconds = math.nan
    if pending:
        start = time.perf_counter()
        execute(pending[0])
        seconds = time.perf_counter() - start
    return {
        "points": the_plan.meta["n_points"],
        "replications": experiment.replications,
        "runs": len(the_plan.tasks),
        "to_run": len(pending),
        "seconds_per_run": seconds,
        "store": str(path),
    }
