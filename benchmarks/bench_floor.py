"""The floor a day is measured against: one sparse mat-vec on the model's own graph.

Usage: ``python benchmarks/bench_floor.py N``. Builds the every-rule world at ``N`` people
(Barabási–Albert m=5, fake accounts included, exactly as the model builds it) and times one
``A @ x`` with scipy's CSR adjacency in float32 and in float64 (median of repeats, x a dense vector
of ones and zeros). Prints one JSON line. A Ripple day does tens of full passes over its people and at
least one neighbour sum, so one mat-vec is the least a day can cost.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_one import scenario_for  # noqa: E402
from sim.world.build import build_world  # noqa: E402

REPEATS = 21


def matvec_ms(matrix: object, x: np.ndarray) -> float:
    """Median wall milliseconds of ``matrix @ x`` over :data:`REPEATS` calls (after one warm-up)."""
    matrix @ x  # type: ignore[operator]
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        matrix @ x  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    n = int(sys.argv[1])
    scenario = scenario_for(n, 1, all_rules=True)
    graph = build_world(scenario).graph
    x = (np.random.default_rng(0).random(graph.n) < 0.5).astype(np.float64)
    row = {
        "customers": n,
        "nodes": graph.n,
        "edges": graph.n_edges,
        "matvec_float32_ms": matvec_ms(graph.adjacency, x.astype(np.float32)),
        "matvec_float64_ms": matvec_ms(graph.adjacency.astype(np.float64), x),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
