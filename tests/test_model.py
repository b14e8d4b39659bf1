"""MarketModel is a real Mesa model; customers are Mesa agents that view population rows."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from sim import MarketModel
from sim.world.build import build_world
from sim.world.population import Population, Stage
from tests.conftest import quiet_scenario


def test_market_model_is_a_mesa_model_whose_steps_are_days(small_hybrid):
    model = MarketModel(small_hybrid)
    assert isinstance(model, mesa.Model)
    for _ in range(3):
        model.step()
    assert model.steps == model.day == 3
    frame = model.steps_frame()
    assert list(frame["day"]) == [0, 1, 2, 3]


def test_customer_views_are_mesa_agents_backed_by_columns(small_hybrid):
    model = MarketModel(small_hybrid)
    view = model.customer(3)
    assert isinstance(view, mesa.Agent) and model.customer(3) is view
    assert view.stage == model.population.stage[3]
    view.stage = Stage.CHURNED
    assert model.population.stage[3] == Stage.CHURNED and view.stage_name == "churned"
    assert view.neighbours == sorted(view.neighbours)
    assert len(model.agents) == 1  # only the views asked for exist
    with pytest.raises(IndexError):
        model.customer(small_hybrid.network.n)


def test_population_columns_cannot_be_rebound():
    population = Population(10)
    with pytest.raises(AttributeError, match=r"population.stage\[:\] = values"):
        population.stage = np.zeros(10)
    population.stage[:] = Stage.AWARE
    assert (population.stage == Stage.AWARE).all()


def test_runs_do_not_change_the_shared_world():
    scenario = quiet_scenario({"organic.rate_per_day": 0.2})
    world = build_world(scenario, scenario.seed)
    before = world.population.snapshot()
    model = MarketModel(scenario, world=world)
    model.run(5)
    after = world.population.snapshot()
    assert all(np.array_equal(before[name], after[name]) for name in before)
    assert model.population.stage_counts()[Stage.CUSTOMER] > 0
    # A second strategy on the same world starts from the world as built, and so runs the same.
    again = MarketModel(scenario, world=world)
    again.run(5)
    assert np.array_equal(again.population.stage, model.population.stage)


def test_a_world_the_model_builds_is_evolved_in_place_and_runs_as_a_shared_one():
    scenario = quiet_scenario({"organic.rate_per_day": 0.2})
    own = MarketModel(scenario)
    assert own.population is own.world.population  # no second copy of every column
    shared = MarketModel(scenario, world=build_world(scenario, scenario.seed))
    own.run(5)
    shared.run(5)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(
            own.population.snapshot().values(), shared.population.snapshot().values(), strict=True
        )
    )


def test_heavy_tailed_spend_puts_most_revenue_in_the_top_fifth(small_hybrid):
    from sim.analysis.metrics import top_share

    model = MarketModel(small_hybrid.with_overrides({"network.n": 20_000}))
    typical_annual_spend = model.population.order_value * model.population.rate_purchase
    assert top_share(typical_annual_spend.astype(float)) > 0.5
