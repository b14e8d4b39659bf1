"""Sweep throughput: 200 runs of 10k customers × 365 days, serial vs 2 workers, and runner overhead.

Usage: ``python benchmarks/bench_sweep.py`` (``BENCH_QUICK=1``: 40 runs). Prints one JSON line.

The experiment is the hybrid preset with 20 ad budgets × 10 replications. The bare baseline does
the same work with nothing but ``sim.run``: one world per replication, shared by its 20 runs, exactly
as the runner's world cache shares it. The runner's overhead is measured inside the serial sweep
itself: its CPU time minus the CPU time spent in ``run_one`` (world + ``sim.run``), i.e. planning,
validating each task's scenario, building rows, writing Parquet parts and the progress bar. Comparing
two separate loops instead (bare vs sweep) mostly measures how busy a shared machine was.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis.compare import replication_seeds  # noqa: E402
from sim.analysis.results import run  # noqa: E402
from sim.sweep import experiment_from_dict, make_design, runner, sweep  # noqa: E402
from sim.world.build import build_world  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
POINTS, REPLICATIONS = (10, 4) if QUICK else (20, 10)


def experiment():
    return experiment_from_dict(
        {
            "name": "bench_sweep",
            "base": str(ROOT / "scenarios" / "hybrid.yaml"),
            "scenario": {"network.n": 10_000, "days": 365},
            "factors": {"ads.daily_budget": {"low": 0.0, "high": 40.0, "levels": POINTS}},
            "replications": REPLICATIONS,
            "seed": 1,
            "metrics": ["profit", "new_customers", "cac_blended"],
        }
    )


def bare(the_experiment) -> tuple[float, float]:
    base = the_experiment.base_scenario
    scenarios = [base.with_overrides(point) for point in make_design(the_experiment).points]
    start, cpu = time.perf_counter(), time.process_time()
    for seed in replication_seeds(the_experiment.seed, the_experiment.replications):
        world = build_world(base, seed)
        for scenario in scenarios:
            run(scenario, seed, world=world)
    return time.perf_counter() - start, time.process_time() - cpu


class RunOneTimer:
    """Wraps ``sim.sweep.runner.run_one`` to add up the CPU time spent inside it."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.inner = runner.run_one

    def __call__(self, scenario, seed):
        start = time.process_time()
        try:
            return self.inner(scenario, seed)
        finally:
            self.cpu += time.process_time() - start


def swept(the_experiment, workers: int) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds (all of the work when workers = 1)."""
    with tempfile.TemporaryDirectory() as folder:
        start, cpu = time.perf_counter(), time.process_time()
        store = sweep(the_experiment, out=Path(folder) / "store", workers=workers, progress=False)
        elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        assert len(store.runs()) == POINTS * REPLICATIONS
    return elapsed, cpu_s


def main() -> None:
    the_experiment = experiment()
    runs = POINTS * REPLICATIONS
    bare_s, bare_cpu = bare(the_experiment)
    timer = RunOneTimer()
    runner.run_one = timer
    try:
        serial_s, serial_cpu = swept(the_experiment, 1)
    finally:
        runner.run_one = timer.inner
    parallel_s, _ = swept(the_experiment, 2)
    overhead = (serial_cpu - timer.cpu) / runs
    print(
        json.dumps(
            {
                "runs": runs,
                "customers": 10_000,
                "days": 365,
                "bare_s": bare_s,
                "serial_s": serial_s,
                "workers2_s": parallel_s,
                "bare_runs_per_min": 60 * runs / bare_s,
                "serial_runs_per_min": 60 * runs / serial_s,
                "workers2_runs_per_min": 60 * runs / parallel_s,
                "overhead_ms_per_run": 1000 * overhead,
                "bare_cpu_s": bare_cpu,
                "serial_cpu_s": serial_cpu,
                "run_one_cpu_s": timer.cpu,
                "overhead_share": overhead / (timer.cpu / runs),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
