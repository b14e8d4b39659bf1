"""NDlib's Independent Cascade and SI model steps beside one Ripple every-rule day, on one graph.

Usage: ``python benchmarks/bench_ndlib.py N``. Builds the every-rule world at ``N`` people
(Barabási–Albert m=5, as the model builds it), runs Ripple's every-rule scenario for 365 days on it
(ms per day, world excluded), then converts the same graph to networkx and times NDlib's
``IndependentCascadesModel`` and ``SIModel`` iterations (1% infected at the start, NDlib's defaults
otherwise; median of the first :data:`STEPS` steps after the initial one). Prints one JSON line;
``ndlib_error`` says why NDlib could not be measured (it is installed by ``make bench`` only, from the
``bench`` extra, never as a runtime dependency).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_one import measure_ripple, scenario_for  # noqa: E402
from sim.world.build import build_world  # noqa: E402

STEPS = 5


def step_ms(model: Any) -> float:
    """Median wall milliseconds of one ``model.iteration()`` over :data:`STEPS` steps."""
    model.iteration(node_status=False)  # iteration 0 only reports the initial state
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        model.iteration(node_status=False)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def ndlib_steps(n: int) -> dict[str, Any]:
    """NDlib's IC and SI step times on the every-rule world's graph at ``n`` people."""
    try:
        import ndlib.models.epidemics as epidemics
        from ndlib.models import ModelConfig
    except Exception as error:  # ImportError, or a dependency NDlib forgot to declare
        return {"ndlib_error": f"{type(error).__name__}: {error}"}
    graph = build_world(scenario_for(n, 1, all_rules=True)).graph
    nx_graph = graph.to_networkx(max_nodes=graph.n)
    out: dict[str, Any] = {}
    for key, make, parameters in (
        ("ndlib_ic_step_ms", epidemics.IndependentCascadesModel, {}),
        ("ndlib_si_step_ms", epidemics.SIModel, {"beta": 0.01}),
    ):
        model = make(nx_graph, seed=1)
        config = ModelConfig.Configuration()
        config.add_model_parameter("fraction_infected", 0.01)
        for name, value in parameters.items():
            config.add_model_parameter(name, value)
        model.set_initial_status(config)
        out[key] = step_ms(model)
    return out


def main() -> None:
    n = int(sys.argv[1])
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 365
    # Kernels loaded first: a day's cost beside NDlib's step, not numba's one-off start-up.
    ripple = measure_ripple(n, days, 1, all_rules=True, load_first=True)
    row: dict[str, Any] = {
        "customers": n,
        "edges": ripple["edges"],
        "ripple_ms_per_day": ripple["ms_per_day"],
    }
    row |= ndlib_steps(n)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
