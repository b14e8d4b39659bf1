"""Ripple: an agent-based simulator of funnel vs ripple marketing.

The public API is small: load a scenario, run it, compare strategies on one market, sweep an
experiment (``sim.sweep``; the store API is in :mod:`sim.sweep`), and calibrate a scenario from
your own data (:mod:`sim.fit`, a module of fits).

>>> import sim
>>> scenario = sim.load_scenario("scenarios/hybrid.yaml")      # doctest: +SKIP
>>> result = sim.run(scenario)                                  # doctest: +SKIP
>>> result.summary["cac_blended"]                               # doctest: +SKIP
>>> store = sim.sweep("experiments/budget_split.yaml")            # doctest: +SKIP
>>> bass = sim.fit.fit_series_file("my_sales.csv")              # doctest: +SKIP
"""

from typing import Any

from sim.analysis.compare import Comparison, compare
from sim.analysis.results import RunResult, run
from sim.engine.model import MarketModel
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.sweep import sweep

__all__ = [
    "Comparison",
    "MarketModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "compare",
    "fit",
    "load_scenario",
    "run",
    "sweep",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``sim.fit`` is imported on first use: it loads scipy's optimisers, which most runs never need."""
    if name == "fit":
        import importlib

        return importlib.import_module("sim.fit")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
