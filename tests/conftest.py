"""Shared fixtures and scenario builders for the test suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.scenario import Scenario, apply_overrides, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

#: Switches that turn every mechanism off: tests switch on what they study.
QUIET: dict[str, Any] = {
    "ads.daily_budget": 0.0,
    "sharing.rate_share_per_day": 0.0,
    "organic.rate_per_day": 0.0,
    "customers.rel_churn": 0.0,
    "population.share_initial_customers": 0.0,
    # every sign-up orders at once, and sharing does not fade: the immediate, Bass-like model
    "customers.p_first_order": 1.0,
    "customers.days_to_first_order": 0.0,
    "sharing.days_share_half_life": None,
}


def make_scenario(overrides: dict[str, Any] | None = None, **sections: Any) -> Scenario:
    """A scenario from defaults plus dotted overrides (``{"network.n": 500}``)."""
    data = apply_overrides(dict(sections), overrides or {})
    return scenario_from_dict(data)


def quiet_scenario(overrides: dict[str, Any] | None = None) -> Scenario:
    """Everything off, small graph; ``overrides`` switch mechanisms back on."""
    base = {"network.kind": "erdos_renyi", "network.n": 400, "network.mean_degree": 6, "days": 30, **QUIET}
    return make_scenario({**base, **(overrides or {})})


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Put ``sys.modules["__main__"]`` back after each test.

    Streamlit's AppTest runs ``app.py`` as ``__main__`` and leaves it there; a process spawned later
    in the same pytest worker (a Dask cluster, the comparison's pool) would then re-run ``app.py``
    while starting, and ``app.py`` starts worker processes itself, which multiprocessing forbids.
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture
def small_hybrid() -> Scenario:
    """The hybrid preset on 2,000 people for 60 days."""
    from sim import load_scenario

    return load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 2000, "days": 60})


@pytest.fixture(autouse=True)
def _main_module_restored() -> Iterator[None]:
    """Put back ``__main__`` after each test.

    Streamlit's AppTest installs the app script as ``__main__`` and leaves it there; a later test in
    the same process that spawns workers (a Dask cluster) would have each worker re-import the app.
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session", autouse=True)
def _kernels_compiled() -> None:
    """Compile (or load from numba's disk cache) every rule's kernels before the first test.

    Otherwise the first test to run a rule compiles its kernels inside its own time limits (a fuzz
    test's hang limit, a browser test's wait), and the app started by a browser test compiles them
    again while the browser waits. ``make`` warms the cache after installing; this covers a cache
    made stale by an edit.
    """
    from sim.analysis.warmup import compile_kernels

    compile_kernels(load_scenario(ROOT / "benchmarks" / "all_rules.yaml"))


# Browser suites (tests/test_browser_*.py): one Streamlit server and one Chromium per module.


@pytest.fixture(scope="module")
def app_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of the app served for this test module (the rules' kernels are compiled by then)."""
    from tests.browser_support import streamlit_server

    with streamlit_server(request.module.__name__.rsplit(".", 1)[-1]) as url:
        yield url


@pytest.fixture(scope="module")
def chromium_browser(app_url: str) -> Iterator[Any]:
    """Debian's Chromium (skips, with the reason, where it is missing)."""
    from tests.browser_support import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def browser_page(chromium_browser: Any) -> Iterator[Any]:
    """One page (one session) for the module's flow."""
    from tests.browser_support import new_page

    page = new_page(chromium_browser)
    yield page
    page.context.close()
