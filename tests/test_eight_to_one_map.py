"""The map of where 8:1 holds (sim/sweep/eight_to_one_map.py): an ordinary sweep over maturity × churn."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim import ScenarioError, load_scenario
from sim.analysis.lesson import ADS_BUDGET, OFFERS_BUDGET, budget_split, measure_eight_to_one
from sim.sweep import open_store, plan
from sim.sweep.eight_to_one_map import (
    CHURN,
    MATURITY,
    EightToOneMap,
    annual_churn,
    eight_to_one_experiment,
    eight_to_one_map,
    rel_churn_for,
)
from tests.conftest import SCENARIOS

FAILS = SCENARIOS / "eight_to_one_fails.yaml"


def test_annual_churn_is_the_shifted_beta_geometric_survival_and_rel_churn_inverts_it():
    population = load_scenario(FAILS).population  # θ ~ Beta(1, 3) per 365 days
    rng = np.random.default_rng(1)
    theta = rng.beta(population.churn_alpha, population.churn_beta, 400_000)
    for k in (0.5, 1.0, 3.0):
        simulated = 1 - np.mean((1 - theta) ** k)  # a year at k times the hazard
        standard_error = np.std((1 - theta) ** k) / math.sqrt(theta.size)
        assert annual_churn(population, k) == pytest.approx(simulated, abs=4 * standard_error)
    assert annual_churn(population, 1.0) == pytest.approx(0.25)  # B(1, 4)/B(1, 3) = 3/4 survive
    for share in (0.05, 0.25, 0.6, 0.95):
        assert annual_churn(population, rel_churn_for(population, share)) == pytest.approx(share)
    with pytest.raises(ScenarioError, match="annual churn"):
        rel_churn_for(population, 1.0)


def test_the_map_is_an_experiment_of_three_paired_runs_per_market():
    scenario = load_scenario(FAILS, {"network.n": 300, "days": 30})
    experiment = eight_to_one_experiment(scenario, 10.0, 0.2, maturities=(0.01, 0.5), churns=(0.2, 0.6))
    the_plan = plan(experiment)
    assert len(the_plan.design) == 2 * 2 * 3
    budgets = set(zip(the_plan.design[ADS_BUDGET], the_plan.design[OFFERS_BUDGET], strict=True))
    assert budgets == {(8.0, 2.0), (0.0, 2.0), (8.0, 0.0)}
    assert sorted(the_plan.design[MATURITY].unique()) == [0.01, 0.5]
    assert len(the_plan.design[CHURN].unique()) == 2
    # Only the market and the budgets move: each cell's three runs share a seed (one world).
    per_cell = the_plan.design.groupby([MATURITY, CHURN])["seed"].nunique()
    assert (per_cell == 1).all()
    with pytest.raises(ScenarioError, match="share_to_retention"):
        eight_to_one_experiment(scenario, 10.0, 0.0)


def test_each_cell_is_the_lesson_measured_in_that_market(tmp_path: Path) -> None:
    scenario = load_scenario(FAILS, {"network.n": 300, "days": 60})
    calls: list[tuple[int, int]] = []
    the_map = eight_to_one_map(
        scenario,
        maturities=(0.05, 0.5),
        churns=(0.3, 0.8),
        replications=2,
        out=tmp_path / "map",
        on_run=lambda done, total: calls.append((done, total)),
    )
    assert isinstance(the_map, EightToOneMap)
    assert calls[-1] == (24, 24) and [done for done, _ in calls] == list(range(1, 25))
    assert len(the_map.cells) == 4 and set(the_map.cells["annual_churn"]) == {0.3, 0.8}
    assert the_map.share_to_retention == pytest.approx(0.2) and the_map.total_daily_budget == pytest.approx(
        10
    )
    assert the_map.scenario_maturity == pytest.approx(0.01)
    assert the_map.scenario_annual_churn == pytest.approx(0.25)
    # A cell equals the lesson measured directly in that market with the sweep's seeds.
    cell = the_map.cells.set_index(["maturity", "annual_churn"]).loc[(0.5, 0.8)]
    market = scenario.with_overrides({MATURITY: 0.5, CHURN: cell["rel_churn"]})
    seed = int(open_store(tmp_path / "map").meta["seed"])
    direct = measure_eight_to_one(budget_split(market, 10.0, 0.2), replications=2, seed=seed)
    assert cell["cost_ratio"] == pytest.approx(direct.cost_ratio)
    assert cell["cheaper"] == ("retention" if direct.cost_ratio > 1 else "acquisition")
    # The store stays where asked; asking again runs nothing more.
    calls.clear()
    again = eight_to_one_map(
        scenario,
        maturities=(0.05, 0.5),
        churns=(0.3, 0.8),
        replications=2,
        out=tmp_path / "map",
        on_run=lambda done, total: calls.append((done, total)),
    )
    assert calls == [] and again.cells.equals(the_map.cells)
    # Equal tiles, one per grid value, in grid order; the scenario's cross sits at its own market.
    cells = the_map.cells.sort_values(["maturity", "annual_churn"])
    assert cells["x"].tolist() == [0, 0, 1, 1] and cells["y"].tolist() == [0, 1, 0, 1]
    assert ((cells["x1"] - cells["x0"]) == 1).all() and ((cells["y1"] - cells["y0"]) == 1).all()
    assert the_map.scenario_x == pytest.approx((0.01 - 0.05) / (0.5 - 0.05))  # just left of the first column
    assert the_map.scenario_y == pytest.approx((0.25 - 0.3) / (0.8 - 0.3))  # just below the first row


def _crossing_maturity(the_map: EightToOneMap, level: float) -> list[float]:
    """Per churn (rising): the maturity at which the ratio reaches ``level``; ∞ when it never does."""
    crossings = the_map.crossings(level).sort_values("annual_churn")
    return [math.inf if math.isnan(x) else x for x in crossings["maturity"]]


@pytest.mark.slow
def test_the_contours_move_towards_fresher_markets_as_churn_rises():
    """Higher churn makes retention relatively cheaper: each maturity's ratio rises with churn, so
    the 1:1 and 8:1 lines reach less mature markets.

    The churn levels of a cell differ only in ``customers.rel_churn`` (not a world section), so
    every column is paired on one world and seed per replication, and the rise is not noise.
    """
    # 2,000 people: at 600 a cell's ratio rests on a handful of customers won, too few to pin down.
    scenario = load_scenario(FAILS, {"network.n": 2000})
    the_map = eight_to_one_map(scenario, maturities=(0.05, 0.4, 0.8), churns=(0.2, 0.5, 0.8), replications=2)
    table = the_map.cells.pivot(index="annual_churn", columns="maturity", values="cost_ratio")
    print("\n" + table.round(2).to_string())
    assert (table.diff().iloc[1:] > 0).all().all(), "the ratio must rise with churn at every maturity"
    for level in (1.0, 8.0):
        crossings = _crossing_maturity(the_map, level)
        assert crossings == sorted(crossings, reverse=True), (level, crossings)
    assert math.isfinite(_crossing_maturity(the_map, 8.0)[-1])  # at the highest churn 8:1 is reached
    lines = the_map.contours
    assert set(lines["level"]) <= {1.0, 8.0} and (lines["level"] == 8.0).any()  # the 8:1 line is drawn
