"""sim.ui.spread: the network page's sample, layout and day-by-day states."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, run
from sim.ui.spread import NetworkSample, frame_at, layout, network_sample, record_spread, sample_network
from sim.world.build import build_world
from sim.world.population import Role, Stage
from tests.conftest import SCENARIOS, make_scenario


def _adjacent(graph, a: np.ndarray, b: np.ndarray) -> bool:
    return all(int(y) in set(graph.neighbours(int(x)).tolist()) for x, y in zip(a, b, strict=True))


def test_small_graphs_are_drawn_whole() -> None:
    scenario = make_scenario({"network.kind": "barabasi_albert", "network.n": 300})
    sample = network_sample(scenario, seed=1, max_nodes=500)
    world = build_world(scenario, 1)
    assert sample.nodes.tolist() == list(range(300))
    assert len(sample.edges) == min(world.graph.n_edges, 6000)
    assert _adjacent(world.graph, sample.nodes[sample.edges[:, 0]], sample.nodes[sample.edges[:, 1]])


def test_large_graphs_are_sampled_by_snowball_with_real_friendships() -> None:
    scenario = make_scenario({"network.kind": "barabasi_albert", "network.n": 5000})
    world = build_world(scenario, 2)
    sample = sample_network(world.graph, max_nodes=400, max_edges=500, seed=2)
    assert sample.nodes.size == 400 and sample.n_people == 5000
    assert np.all(np.diff(sample.nodes) > 0)
    assert 0 < len(sample.edges) <= 500
    assert _adjacent(world.graph, sample.nodes[sample.edges[:, 0]], sample.nodes[sample.edges[:, 1]])
    # Snowball keeps neighbours together: far more links than a uniform sample of 400 of 5,000 would.
    rng = np.random.default_rng(0)
    uniform = np.sort(rng.choice(5000, 400, replace=False))
    inside = np.isin(np.concatenate([world.graph.neighbours(int(i)) for i in uniform]), uniform).sum() // 2
    assert len(sample_network(world.graph, 400, max_edges=10**6, seed=2).edges) > 5 * inside
    with pytest.raises(ValueError, match="max_nodes"):
        sample_network(world.graph, max_nodes=0)


def test_complete_graph_sample() -> None:
    scenario = make_scenario({"network.kind": "complete", "network.n": 1000})
    sample = network_sample(scenario, seed=3, max_nodes=100)
    assert sample.nodes.size == 100 and 0 < len(sample.edges) <= 4950
    assert (sample.edges[:, 0] < sample.edges[:, 1]).all()


def test_layout_is_seeded_and_finite() -> None:
    sample = network_sample(make_scenario({"network.kind": "barabasi_albert", "network.n": 200}), seed=4)
    first, second = layout(sample, seed=5), layout(sample, seed=5)
    assert first.shape == (200, 2) and np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)
    assert np.abs(first).max() == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["barabasi_albert", "watts_strogatz", "communities"])
def test_layout_puts_friends_close_together(kind: str) -> None:
    sample = network_sample(make_scenario({"network.kind": kind, "network.n": 3000}), seed=2)
    positions = layout(sample, seed=1)
    friends = np.linalg.norm(positions[sample.edges[:, 0]] - positions[sample.edges[:, 1]], axis=1)
    pairs = np.random.default_rng(0).integers(0, 3000, size=(20_000, 2))
    strangers = np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1)
    assert friends.mean() < 0.7 * strangers.mean()
    # People are spread out, not piled on a few points.
    assert np.unique(np.round(positions, 2), axis=0).shape[0] > 1000


def test_layout_of_tiny_samples() -> None:
    one = NetworkSample(nodes=np.array([0]), edges=np.empty((0, 2), dtype=np.int64), n_people=1)
    assert layout(one).shape == (1, 2)
    apart = NetworkSample(nodes=np.arange(4), edges=np.empty((0, 2), dtype=np.int64), n_people=4)
    assert np.isfinite(layout(apart)).all()


def test_recorded_states_are_the_run_itself() -> None:
    """Stepping the model by hand gives the same run as sim.run, and the snapshots its states."""
    scenario = load_scenario(SCENARIOS / "ripple_heavy.yaml", {"network.n": 600, "days": 60})
    nodes = np.arange(600)
    history = record_spread(scenario, nodes, seed=9)
    reference = run(scenario, seed=9, keep_population=True)
    assert history.days == 60 and history.stage.shape == (61, 600)
    for day in (0, 30, 60):
        counts = np.bincount(history.stage[day], minlength=len(Stage))
        row = reference.steps[reference.steps["day"] == day].iloc[0]
        assert counts.tolist() == [int(row[f"n_{s.name.lower()}"]) for s in Stage]
    assert reference.population is not None
    np.testing.assert_array_equal(history.channel[-1], reference.population.acquired_via)
    np.testing.assert_array_equal(history.role[-1], reference.population.role)
    assert history.counts["day"].tolist() == list(range(61))


def test_frame_at_names_states_and_shows_channels_of_active_customers_only() -> None:
    scenario = load_scenario(SCENARIOS / "ripple_heavy.yaml", {"network.n": 400, "days": 40})
    sample = network_sample(scenario, seed=1)
    history = record_spread(scenario, sample.nodes, seed=1)
    history.role[:, 0] = Role.KOL  # roles come from later rules; the frame must name them
    positions = np.zeros((sample.nodes.size, 2))
    frame = frame_at(history, 40, positions)
    assert list(frame.columns) == ["person", "x", "y", "stage", "channel", "role"]
    assert frame.loc[0, "role"] == "kol"
    customers = frame["stage"] == "customer"
    assert (frame.loc[~customers, "channel"] == "none").all()
    assert (frame.loc[customers, "channel"] != "none").all()
    assert frame_at(history, 999, positions).equals(frame)  # days past the end show the last day
