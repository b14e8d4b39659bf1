"""The memory check: an estimate from the scenario alone, and a refusal before anything is built.

How close the estimate is to real peak memory is measured by ``benchmarks/memory_estimate.py``
(memory, like speed, is measured there, not in tests).
"""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from sim import compare, load_scenario, run
from sim.analysis.memory import (
    BYTES_PER_DAY,
    BYTES_PER_EDGE,
    BYTES_PER_PERSON,
    BYTES_PER_PROCESS,
    available_memory,
    check_memory,
    estimate_memory,
)
from sim.scenario import ScenarioError
from tests.conftest import SCENARIOS, make_scenario

DATA = Path(__file__).parent / "data"
GIB = 2**30


def test_the_estimate_counts_people_edges_and_days():
    ba = make_scenario({"network.n": 10_000, "network.m": 5, "days": 100})
    estimate = estimate_memory(ba)
    assert (estimate.people, estimate.edges, estimate.days) == (10_000, 50_000, 100)
    assert estimate.bytes == 10_000 * BYTES_PER_PERSON + 50_000 * BYTES_PER_EDGE + 100 * BYTES_PER_DAY
    er = make_scenario({"network": {"kind": "erdos_renyi", "n": 1000, "mean_degree": 20}})
    assert estimate_memory(er).edges == 10_000
    complete = make_scenario({"network": {"kind": "complete", "n": 1000}})
    assert estimate_memory(complete).edges == 0  # the complete graph is never stored
    # Fake accounts are people too, and a ring of k of them holds k(k-1)/2 edges.
    attacked = make_scenario(
        {
            "network.n": 10_000,
            "fraud.n_attackers": 10,
            "fraud.accounts_per_attacker": 100,
            "fraud.share_rings": 1.0,
            "fraud.ring_links_to_real": 1,
        }
    )
    estimate = estimate_memory(attacked)
    assert estimate.people == 11_000
    assert estimate.edges == 50_000 + 10 * 100 * 99 // 2 + 1000 * 2


def test_an_edge_list_is_estimated_from_its_file_size(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("".join(f"{i} {i + 1}\n" for i in range(10_000)))
    scenario = make_scenario({"network": {"kind": "edge_list", "n": 10_001, "path": str(edges)}})
    estimate = estimate_memory(scenario)
    assert 10_000 <= estimate.edges <= 3 * 10_000  # never far below the real count


def test_the_huge_graph_case_is_refused_with_the_estimate_and_what_is_available():
    scenario = load_scenario(DATA / "25-huge-graph-accepted.yaml")
    assert estimate_memory(scenario).bytes > 300 * GIB  # 5 billion edges
    with pytest.raises(ScenarioError) as exc:
        check_memory(scenario, available=64 * GIB)
    (problem,) = exc.value.problems
    assert problem.path == "network"
    assert "needs about 372.6 GiB" in problem.allowed and "has 64.0 GiB available" in problem.allowed
    assert "--no-memory-check" in problem.allowed
    with pytest.raises(ScenarioError, match="must fit in memory"):
        run(scenario)  # the library checks too, before building anything


def test_what_fits_passes_and_more_processes_need_more():
    scenario = load_scenario(SCENARIOS / "hybrid.yaml")
    one = estimate_memory(scenario).bytes
    assert check_memory(scenario, available=one + 1).bytes == one
    with pytest.raises(ScenarioError, match="on 4 processes at once"):
        check_memory(scenario, processes=4, available=2 * one)
    needed = 4 * one + 3 * BYTES_PER_PROCESS
    check_memory(scenario, processes=4, available=needed)
    bigger = scenario.with_overrides({"network.n": 100_000})
    with pytest.raises(ScenarioError, match="100,000 people"):  # the largest scenario counts
        check_memory([scenario, bigger], available=estimate_memory(bigger).bytes - 1)


def test_compare_checks_its_workers_together(monkeypatch):
    seen = {}

    def record(scenarios, **kwargs):
        seen.update(kwargs, n=len(scenarios))
        raise ScenarioError([])

    monkeypatch.setattr("sim.analysis.compare.check_memory", record)
    hybrid = load_scenario(SCENARIOS / "hybrid.yaml")
    funnel = load_scenario(SCENARIOS / "funnel_heavy.yaml")
    with pytest.raises(ScenarioError):
        compare([hybrid, funnel], replications=3, workers=8)
    assert seen["n"] == 2 and seen["processes"] == 6  # 3 replications × 2 strategies, 8 workers


def test_available_memory_is_what_this_machine_can_give():
    available = available_memory()
    assert 0 < available <= psutil.virtual_memory().total


def test_sweep_dry_run_and_optimise_refuse_a_base_that_cannot_fit(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sim.cli import app
    from tests.sweep_helpers import write_experiment

    monkeypatch.chdir(tmp_path)
    huge = str(DATA / "25-huge-graph-accepted.yaml")
    sweep_file = write_experiment(tmp_path, base=huge, scenario={"days": 5}, replications=1)
    result = CliRunner().invoke(app, ["sweep", str(sweep_file), "--dry-run"])
    assert result.exit_code == 2 and "must fit in memory" in result.output, result.output
    assert not (tmp_path / "sweeps").exists()  # refused before a store or a world was made
    best = write_experiment(
        tmp_path,
        name="best",
        base=huge,
        scenario={"days": 5},
        factors={"ads.daily_budget": {"low": 0.0, "high": 20.0}},
        replications=1,
        design={"kind": "optuna"},
        optimise={"metric": "profit", "trials": 2},
    )
    result = CliRunner().invoke(app, ["optimise", str(best)])
    assert result.exit_code == 0 and "no trial finished with a value" in result.output, result.output
