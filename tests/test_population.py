"""Growing a population (fake accounts appended after the real people) copies state exactly."""

from __future__ import annotations

import numpy as np
import pytest

from sim.world.build import build_real_world, build_world, with_attack
from sim.world.population import Population, Stage
from tests.conftest import make_scenario


def test_grown_keeps_every_column_and_starts_new_rows_at_the_initial_values() -> None:
    small = Population(5)
    small.stage[:] = Stage.CUSTOMER
    small.revenue[:] = np.arange(5.0)
    bigger = small.grown(8)
    assert bigger.n == 8
    np.testing.assert_array_equal(bigger.revenue, [0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(bigger.stage[5:], np.full(3, Stage.UNAWARE))
    fresh = Population(8)
    for name in Population.column_names:
        assert bigger.column(name).dtype == fresh.column(name).dtype, name
        np.testing.assert_array_equal(bigger.column(name)[5:], fresh.column(name)[5:], err_msg=name)
    # Without reuse the smaller population is untouched and independent.
    bigger.revenue[0] = 99.0
    assert small.revenue[0] == 0.0


def test_grown_with_reuse_releases_the_old_columns() -> None:
    small = Population(3)
    bigger = small.grown(4, reuse=True)
    assert bigger.n == 4
    with pytest.raises(AttributeError):
        _ = small.stage
    with pytest.raises(KeyError):
        small.column("stage")


def test_a_population_cannot_shrink() -> None:
    with pytest.raises(ValueError, match="only grow"):
        Population(5).grown(4)


def test_a_world_built_by_reusing_its_real_people_equals_one_extended_from_a_shared_world() -> None:
    scenario = make_scenario(
        {"network.n": 500, "fraud": {"n_attackers": 3, "accounts_per_attacker": 4, "share_rings": 0.5}}
    )
    built = build_world(scenario, 11)  # extends its own real world, consuming it
    shared = build_real_world(scenario, 11)
    extended = with_attack(shared, scenario.fraud)
    assert built.n_fake == extended.n_fake == 12
    np.testing.assert_array_equal(built.graph.indptr, extended.graph.indptr)
    np.testing.assert_array_equal(built.graph.indices, extended.graph.indices)
    for name in Population.column_names:
        np.testing.assert_array_equal(
            built.population.column(name), extended.population.column(name), err_msg=name
        )
    # The shared real world is still whole (strategies extend it again).
    assert shared.population.n == 500
    assert shared.population.stage.shape == (500,)
