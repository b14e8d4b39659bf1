"""Where a day's time goes: seconds per rule (and the day's close) over a run, and optionally cProfile.

Usage: ``python benchmarks/profile_day.py N DAYS [all|core] [--cprofile]``. Prints one line per rule,
slowest first, then the mean ms per day; with ``--cprofile`` the top functions by own time too.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_one import scenario_for  # noqa: E402
from sim.analysis.warmup import compile_kernels  # noqa: E402
from sim.engine.model import MarketModel  # noqa: E402
from sim.world.build import build_world  # noqa: E402


def per_rule(model: MarketModel, days: int) -> dict[str, float]:
    """Seconds spent in each rule's step (and in closing the day) over ``days`` days."""
    spent: defaultdict[str, float] = defaultdict(float)
    for _ in range(days):
        model.day += 1
        model._tallies.clear()
        model.ledger.start_day(model.day)
        for rule in model.rules:
            start = time.process_time()
            rule.step(model)
            spent[rule.name] += time.process_time() - start
        start = time.process_time()
        model._close_day()
        spent["(close day)"] += time.process_time() - start
    return dict(spent)


def main() -> None:
    n, days = int(sys.argv[1]), int(sys.argv[2])
    all_rules = len(sys.argv) < 4 or sys.argv[3] != "core"
    scenario = scenario_for(n, days, all_rules)
    # Load (or compile) every kernel first: the first call in a process pays numba's start-up,
    # which would otherwise land on whichever rule runs first.
    compile_kernels(scenario)
    world = build_world(scenario, scenario.seed)
    model = MarketModel(scenario, world=world)
    if "--cprofile" in sys.argv:
        profiler = cProfile.Profile()
        profiler.enable()
        model.run(days)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    spent = per_rule(model, days)
    total = sum(spent.values())
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"{name:18s} {1000 * seconds / days:8.3f} ms/day  {100 * seconds / total:5.1f}%")
    print(f"{'total':18s} {1000 * total / days:8.3f} ms/day")


if __name__ == "__main__":
    main()
