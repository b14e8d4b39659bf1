"""Compile every rule's kernels ahead of a person's first run.

The rules' per-person passes are numba kernels (:mod:`sim.engine.compiled`), compiled on first use
and cached on disk. Compiling all of them takes tens of seconds; without a warm-up the first
*Run* a person clicks would pay that silently. ``make`` calls this once after installing (and the
browser tests before they start the app), so every later run, in any process (the app, its worker
pool, Dask workers), loads the kernels from the cache in a fraction of a second.

Usage: ``python -m sim.analysis.warmup SCENARIO.yaml`` (a scenario with every rule on, e.g.
``benchmarks/all_rules.yaml``): runs it shrunk to a few hundred people for a few days and prints how
long that took.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sim.analysis.results import run
from sim.scenario import Scenario, load_scenario

__all__ = ["compile_kernels"]

#: Enough people for every rule to act (attackers, employees, KOLs and reps are drawn from them).
WARM_PEOPLE = 400
#: Enough days for every mechanism to fire once (the first order, a churn, a weekly ring check).
WARM_DAYS = 8


def compile_kernels(scenario: Scenario) -> float:
    """Run ``scenario`` shrunk to :data:`WARM_PEOPLE` people and :data:`WARM_DAYS` days; seconds taken.

    Every kernel the scenario's rules use is compiled (or loaded from the disk cache) on the way.
    """
    small = scenario.with_overrides({"network.n": WARM_PEOPLE, "days": WARM_DAYS})
    start = time.perf_counter()
    run(small)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m sim.analysis.warmup SCENARIO.yaml", file=sys.stderr)
        return 2
    print("Compiling Ripple's kernels (the first time on a machine takes a minute)…", flush=True)
    seconds = compile_kernels(load_scenario(Path(argv[0])))
    print(f"Kernels ready ({seconds:.1f} s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
