"""Shared fixtures and scenario builders for the test suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.scenario import Scenario, apply_overrides, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

#: Switches that turn every mechanism off: tests switch on what they study.
QUIET: dict[str, Any] = {
    "ads.daily_budget": 0.0,
    "sharing.rate_share_per_day": 0.0,
    "organic.rate_per_day": 0.0,
    "customers.rel_churn": 0.0,
    "population.share_initial_customers": 0.0,
}


def make_scenario(overrides: dict[str, Any] | None = None, **sections: Any) -> Scenario:
    """A scenario from defaults plus dotted overrides (``{"network.n": 500}``)."""
    data = apply_overrides(dict(sections), overrides or {})
    return scenario_from_dict(data)


def quiet_scenario(overrides: dict[str, Any] | None = None) -> Scenario:
    """Everything off, small graph; ``overrides`` switch mechanisms back on."""
    base = {"network.kind": "erdos_renyi", "network.n": 400, "network.mean_degree": 6, "days": 30, **QUIET}
    return make_scenario({**base, **(overrides or {})})


@pytest.fixture
def small_hybrid() -> Scenario:
    """The hybrid preset on 2,000 people for 60 days."""
    from sim import load_scenario

    return load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 2000, "days": 60})


@pytest.fixture(autouse=True)
def _restore_main_module() -> Iterator[None]:
    """Put ``__main__`` back after each test.

    Streamlit's AppTest runs ``app.py`` as ``__main__`` and leaves it there; a process spawned later in
    the same test worker (a Dask cluster's workers) would then re-run the app while starting up and
    fail ("an attempt has been made to start a new process before … bootstrapping").
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
