"""The ripple on the graph, day by day: a drawable sample of the network and its states over time.

Drawing needs three things the simulation does not keep: a sample of people small enough to draw
(:func:`sample_network`), positions for them (:func:`layout`, a force layout on a grid, run once on
the sample only), and everyone's stage, channel and role on every day (:func:`record_spread`, which
steps a :class:`~sim.engine.model.MarketModel` itself and copies those columns of the sample each day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.fft import irfft2, rfft2

from sim.analysis.memory import check_memory
from sim.engine.model import MarketModel
from sim.scenario import Scenario
from sim.world.build import build_world
from sim.world.graph import SocialGraph
from sim.world.population import CHANNELS, Role, Stage

__all__ = [
    "MAX_SHOWN_EDGES",
    "MAX_SHOWN_NODES",
    "NetworkSample",
    "SpreadHistory",
    "frame_at",
    "layout",
    "record_spread",
    "sample_network",
]

#: Most people drawn: beyond a few thousand points a picture shows nothing more, and layout is slow.
MAX_SHOWN_NODES = 3000
#: Most friendships drawn (a random subset of those inside the sample).
MAX_SHOWN_EDGES = 6000

_STAGES = [stage.name.lower() for stage in Stage]
_ROLES = [role.name.lower() for role in Role]


@dataclass(frozen=True)
class NetworkSample:
    """People to draw and the friendships among them.

    Attributes:
        nodes: person ids (sorted), at most the requested number.
        edges: pairs of *positions in* ``nodes`` (shape (e, 2)), at most the requested number.
        n_people: people in the whole market.
    """

    nodes: np.ndarray
    edges: np.ndarray
    n_people: int


def _snowball(graph: SocialGraph, max_nodes: int, rng: np.random.Generator) -> np.ndarray:
    """Breadth-first balls around random people until ``max_nodes``: neighbours stay together."""
    assert graph.indptr is not None and graph.indices is not None
    taken = np.zeros(graph.n, dtype=bool)
    count = 0
    order = rng.permutation(graph.n)
    start = 0
    while count < max_nodes:
        while taken[order[start]]:
            start += 1
        frontier = np.array([order[start]])
        while frontier.size and count < max_nodes:
            frontier = frontier[~taken[frontier]][: max_nodes - count]
            taken[frontier] = True
            count += frontier.size
            starts, stops = graph.indptr[frontier], graph.indptr[frontier + 1]
            neighbours = np.concatenate([graph.indices[a:b] for a, b in zip(starts, stops, strict=True)])
            frontier = np.unique(neighbours[~taken[neighbours]]) if neighbours.size else neighbours
            rng.shuffle(frontier)
    return np.flatnonzero(taken)


def sample_network(
    graph: SocialGraph, max_nodes: int = MAX_SHOWN_NODES, max_edges: int = MAX_SHOWN_EDGES, seed: int = 0
) -> NetworkSample:
    """Choose at most ``max_nodes`` people (all of them if the market is that small) and their links.

    Larger graphs are sampled by snowball (breadth-first from random people), so the sample keeps
    friendships instead of scattering isolated points. At most ``max_edges`` links are kept, at random.
    """
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be ≥ 1; got {max_nodes}")
    rng = np.random.default_rng(seed)
    if graph.n <= max_nodes:
        nodes = np.arange(graph.n)
    elif graph.complete:
        nodes = np.sort(rng.choice(graph.n, max_nodes, replace=False))
    else:
        nodes = _snowball(graph, max_nodes, rng)
    if graph.complete:
        k = nodes.size
        wanted = min(max_edges, k * (k - 1) // 2)
        a = rng.integers(0, k, size=wanted * 2)
        b = rng.integers(0, k, size=wanted * 2)
        pairs = np.unique(np.sort(np.column_stack([a, b])[a != b], axis=1), axis=0)[:wanted]
        return NetworkSample(nodes=nodes, edges=pairs, n_people=graph.n)
    assert graph.indptr is not None and graph.indices is not None
    position = np.full(graph.n, -1, dtype=np.int64)
    position[nodes] = np.arange(nodes.size)
    degree = graph.indptr[nodes + 1] - graph.indptr[nodes]
    rows = np.repeat(nodes, degree)
    cols = np.concatenate([graph.indices[graph.indptr[i] : graph.indptr[i + 1]] for i in nodes])
    keep = (position[cols] >= 0) & (rows < cols)
    edges = np.column_stack([position[rows[keep]], position[cols[keep]]])
    if len(edges) > max_edges:
        edges = edges[np.sort(rng.choice(len(edges), max_edges, replace=False))]
    return NetworkSample(nodes=nodes, edges=edges, n_people=graph.n)


def network_sample(
    scenario: Scenario, seed: int | None = None, max_nodes: int = MAX_SHOWN_NODES
) -> NetworkSample:
    """Build the scenario's world for ``seed`` and sample it (depends on ``network`` and the seed only).

    Raises:
        ScenarioError: before building anything, when the world will not fit in memory.
    """
    check_memory(scenario)
    world = build_world(scenario, seed)
    return sample_network(world.graph, max_nodes=max_nodes, seed=world.seed)


def layout(sample: NetworkSample, seed: int = 0, iterations: int = 120, grid: int = 64) -> np.ndarray:
    """Positions (shape (k, 2), in [-1, 1]) of the sampled people: a force layout on a grid.

    Fruchterman & Reingold's forces (1991): friends attract with d²/k, everyone repels everyone with
    k²/d, k = √(area/k people), with a temperature that cools so moves shrink. The all-pairs
    repulsion, which makes networkx's spring layout take a minute for 3,000 people, is computed the
    particle-mesh way (Hockney & Eastwood 1988): people are binned on a ``grid`` × ``grid`` mesh and
    the mesh is convolved with the k²/d kernel by FFT, so each iteration costs O(k + e + g² log g)
    instead of O(k²). A weak pull to the centre keeps separate groups in view. Deterministic for a
    ``seed``; 3,000 people take well under a second (``make bench`` measures it).
    """
    n = int(sample.nodes.size)
    if n <= 1:
        return np.zeros((n, 2))
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1.0, 1.0, (n, 2))
    k = float(np.sqrt(4.0 / n))
    u = sample.edges[:, 0].astype(np.int64) if len(sample.edges) else np.empty(0, np.int64)
    v = sample.edges[:, 1].astype(np.int64) if len(sample.edges) else np.empty(0, np.int64)
    # Repulsion kernel: offset / |offset|² in cell units, on a zero-padded (2g)² mesh.
    offsets = np.arange(-grid, grid)
    ox, oy = np.meshgrid(offsets, offsets, indexing="ij")
    r2 = (ox**2 + oy**2).astype(float)
    r2[grid, grid] = np.inf
    kernel_x = rfft2(np.fft.ifftshift(ox / r2))
    kernel_y = rfft2(np.fft.ifftshift(oy / r2))
    density = np.zeros((2 * grid, 2 * grid))
    for step in range(iterations):
        temperature = 0.25 * (1 - step / iterations) ** 1.5 + 2e-3
        low = pos.min(axis=0)
        cell = max(float((pos.max(axis=0) - low).max()), 1e-9) * (1 + 1e-9) / grid
        index = np.minimum(((pos - low) / cell).astype(np.int64), grid - 1)
        density[:] = 0.0
        np.add.at(density, (index[:, 0], index[:, 1]), 1.0)
        spectrum = rfft2(density)
        field_x = irfft2(spectrum * kernel_x, s=density.shape)[:grid, :grid]
        field_y = irfft2(spectrum * kernel_y, s=density.shape)[:grid, :grid]
        move = np.column_stack([field_x[index[:, 0], index[:, 1]], field_y[index[:, 0], index[:, 1]]])
        move *= k * k / cell
        if u.size:
            delta = pos[u] - pos[v]
            pull = (np.sqrt((delta * delta).sum(axis=1)) / k)[:, None] * delta
            for axis in (0, 1):
                move[:, axis] -= np.bincount(u, pull[:, axis], n) - np.bincount(v, pull[:, axis], n)
        move -= pos * (0.5 * k * np.sqrt(n))
        length = np.sqrt((move * move).sum(axis=1)) + 1e-12
        pos = pos + move / length[:, None] * np.minimum(length, temperature)[:, None]
    pos -= pos.mean(axis=0)
    return pos / (float(np.abs(pos).max()) or 1.0)


@dataclass(frozen=True)
class SpreadHistory:
    """Stage, channel and role of the sampled people on every day (row ``d`` = day ``d``).

    ``stage``, ``channel`` (latest acquisition channel) and ``role`` have shape (days + 1, k); ``counts``
    is the whole market's step table (stage counts and acquisitions per day).
    """

    nodes: np.ndarray
    stage: np.ndarray
    channel: np.ndarray
    role: np.ndarray
    counts: pd.DataFrame

    @property
    def days(self) -> int:
        """Days simulated (the last row's day)."""
        return self.stage.shape[0] - 1


def record_spread(scenario: Scenario, nodes: np.ndarray, seed: int | None = None) -> SpreadHistory:
    """Run ``scenario`` day by day and copy the stage, channel and role of ``nodes`` after each day.

    Memory: 3 bytes per shown person per day (3,000 people × 365 days ≈ 3.3 MB), plus the run's own
    (checked first: a ScenarioError when it will not fit).
    """
    check_memory(scenario)
    model = MarketModel(scenario, seed=seed)
    days = scenario.days
    shape = (days + 1, nodes.size)
    stage = np.empty(shape, dtype=np.int8)
    channel = np.empty(shape, dtype=np.int8)
    role = np.empty(shape, dtype=np.int8)
    pop = model.population
    for day in range(days + 1):
        if day:
            model.step()
        stage[day] = pop.stage[nodes]
        channel[day] = pop.acquired_via[nodes]
        role[day] = pop.role[nodes]
    return SpreadHistory(nodes=nodes, stage=stage, channel=channel, role=role, counts=model.steps_frame())


def frame_at(history: SpreadHistory, day: int, positions: np.ndarray) -> pd.DataFrame:
    """One row per shown person on ``day``: id, x, y, stage, channel, role (names), for drawing.

    ``channel`` is ``none`` for people who are not active customers, so colours show the live ripple.
    """
    day = int(np.clip(day, 0, history.days))
    stage = history.stage[day]
    channel = np.where(stage == Stage.CUSTOMER, history.channel[day], 0)
    return pd.DataFrame(
        {
            "person": history.nodes,
            "x": positions[:, 0],
            "y": positions[:, 1],
            "stage": np.asarray(_STAGES, dtype=object)[stage],
            "channel": np.asarray(CHANNELS, dtype=object)[channel],
            "role": np.asarray(_ROLES, dtype=object)[history.role[day]],
        }
    )
