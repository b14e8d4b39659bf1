"""Worker processes never run the parent's main script (the app under Streamlit, or after an AppTest).

A new worker process re-imports the parent's ``__main__`` from its file; under Streamlit that is the
app, which must not start again in every worker. Local Dask clusters and comparison pools both start
their workers with an empty main module.
"""

from __future__ import annotations

import sys
import types

from sim import compare, load_scenario
from sim.sweep import sweep
from tests.conftest import SCENARIOS
from tests.sweep_helpers import write_experiment


def _script_that_must_not_run(tmp_path, monkeypatch) -> None:
    script = tmp_path / "app_like.py"
    script.write_text("raise SystemExit('a worker ran the main script')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)


def test_a_local_dask_sweep_does_not_run_the_main_script(tmp_path, monkeypatch):
    experiment = write_experiment(tmp_path)  # 6 points × 2 replications: enough for a cluster
    _script_that_must_not_run(tmp_path, monkeypatch)
    store = sweep(experiment, out=tmp_path / "store", workers=2, progress=False)
    runs = store.runs()
    assert len(runs) == 12 and (runs["status"] == "ok").all()


def test_a_comparison_pool_does_not_run_the_main_script(tmp_path, monkeypatch):
    _script_that_must_not_run(tmp_path, monkeypatch)
    scenario = load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 300, "days": 10})
    comparison = compare([scenario, scenario.with_overrides({"name": "b"})], replications=2, workers=2)
    assert len(comparison.runs) == 4
