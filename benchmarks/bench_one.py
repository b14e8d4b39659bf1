"""Measure one configuration in a fresh process and print one JSON line.

Usage: ``python benchmarks/bench_one.py ripple N DAYS REPEATS`` (core rules: the hybrid preset),
``... ripple-all N DAYS REPEATS`` (every rule on: ``benchmarks/all_rules.yaml``) or
``... baseline N DAYS 1``.
Timings exclude interpreter start and imports; a single run includes loading the compiled kernels,
as a person's first run does. Peak RSS is this process's maximum resident size.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario, run  # noqa: E402
from sim.analysis.warmup import compile_kernels  # noqa: E402
from sim.engine.model import MarketModel  # noqa: E402
from sim.world.build import build_world  # noqa: E402


def scenario_for(n: int, days: int, all_rules: bool = False):
    """The hybrid preset (core rules) or the all-rules scenario at ``n`` people on Barabási–Albert m=5."""
    path = ROOT / "benchmarks" / "all_rules.yaml" if all_rules else ROOT / "scenarios" / "hybrid.yaml"
    return load_scenario(
        path,
        {"network.kind": "barabasi_albert", "network.n": n, "network.m": 5, "days": days},
    )


def load_kernels(scenario) -> float:
    """Load (or compile) every kernel the scenario uses, as the first run in a process would; seconds.

    A one-off per process, like the imports, so it is timed apart from the runs (``kernels_s``).
    """
    start = time.perf_counter()
    compile_kernels(scenario)
    return time.perf_counter() - start


def measure_ripple(
    n: int, days: int, repeats: int, all_rules: bool = False, load_first: bool = False
) -> dict:
    """Build and run the scenario ``repeats`` times in this process; medians of wall, CPU and world time.

    The first run loads the compiled kernels, as a person's first ``sim.run`` does (the median of
    several repeats leaves that out). With ``load_first`` they are loaded before any timing (for a
    per-day cost set beside another library's step); ``kernels_s`` says how long loading took.
    """
    scenario = scenario_for(n, days, all_rules)
    kernels = load_kernels(scenario) if load_first else float("nan")
    totals, builds, cpus, edges = [], [], [], 0
    for repeat in range(repeats):
        # The world's build is timed on its own first; the run then builds it again, as a person's
        # ``sim.run(scenario)`` does, so the model evolves that world in place (a world passed in is
        # copied, since strategies share it) and peak memory is what a single run needs.
        start = time.perf_counter()
        world = build_world(scenario, scenario.seed + repeat)
        builds.append(time.perf_counter() - start)
        edges = world.graph.n_edges
        del world
        start, cpu_start = time.perf_counter(), time.process_time()
        run(scenario, scenario.seed + repeat)
        totals.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu_start)
    total = statistics.median(totals)
    build = statistics.median(builds)
    return {
        "impl": "ripple-all" if all_rules else "ripple",
        "customers": n,
        "edges": edges,
        "days": days,
        "repeats": repeats,
        "wall_s": total,
        "min_wall_s": min(totals),
        "cpu_s": statistics.median(cpus),
        "build_s": build,
        "ms_per_day": 1000 * (total - build) / days,
        "kernels_s": kernels,
    }


def measure_baseline(n: int, days: int) -> dict:
    from benchmarks.mesa_baseline import BaselineMarket

    scenario = scenario_for(n, days)
    start = time.perf_counter()
    model = BaselineMarket(scenario, scenario.seed)
    built = time.perf_counter()
    for _ in range(days):
        model.step()
    done = time.perf_counter()
    # Ripple's arrays for the same market, stepped the same number of days, for a ratio in one run
    # (its kernels loaded first: a one-off per process, like the imports).
    load_kernels(scenario)
    ripple_model = MarketModel(scenario)
    ripple_start = time.perf_counter()
    for _ in range(days):
        ripple_model.step()
    ripple_done = time.perf_counter()
    return {
        "impl": "mesa-agents",
        "customers": n,
        "edges": ripple_model.graph.n_edges,
        "days": days,
        "repeats": 1,
        "wall_s": done - start,
        "min_wall_s": done - start,
        "cpu_s": float("nan"),
        "build_s": built - start,
        "ms_per_day": 1000 * (done - built) / days,
        "ripple_ms_per_day_same_run": 1000 * (ripple_done - ripple_start) / days,
    }


def main() -> None:
    impl, n, days, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    if impl == "baseline":
        row = measure_baseline(n, days)
    else:
        row = measure_ripple(n, days, repeats, all_rules=impl == "ripple-all")
    row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(row))


if __name__ == "__main__":
    main()
