"""Building the world a scenario describes: its social graph and its population on day 0."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.random import stream
from sim.scenario import (
    BarabasiAlbertSpec,
    CommunitySpec,
    CompleteGraphSpec,
    EdgeListSpec,
    ErdosRenyiSpec,
    Scenario,
    WattsStrogatzSpec,
)
from sim.world.edge_list import read_edge_list
from sim.world.fake_accounts import add_fake_accounts
from sim.world.generators import (
    barabasi_albert_graph,
    community_graph,
    erdos_renyi_graph,
    watts_strogatz_graph,
)
from sim.world.graph import SocialGraph, complete_graph
from sim.world.population import Population, build_population

if TYPE_CHECKING:
    from sim.scenario import NetworkSpec

__all__ = ["World", "build_graph", "build_world"]


def build_graph(
    spec: NetworkSpec, rng: np.random.Generator, base_dir: str | Path | None = None
) -> SocialGraph:
    """Build the graph a scenario's ``network`` section describes.

    Args:
        spec: One of the network specs from :mod:`sim.scenario` (dispatch on ``spec.kind``).
        rng: Source of randomness (unused for complete graphs and edge lists).
        base_dir: Folder that a relative edge-list path is resolved against (the scenario
            file's folder); the current directory when None.

    Raises:
        EdgeListError: For an edge-list file that is missing or malformed.
        ValueError: For parameters a generator cannot honour.
    """
    if isinstance(spec, CompleteGraphSpec):
        return complete_graph(spec.n)
    if isinstance(spec, ErdosRenyiSpec):
        return erdos_renyi_graph(spec.n, spec.mean_degree, rng)
    if isinstance(spec, BarabasiAlbertSpec):
        return barabasi_albert_graph(spec.n, spec.m, rng)
    if isinstance(spec, WattsStrogatzSpec):
        return watts_strogatz_graph(spec.n, spec.k, spec.p_rewire, rng)
    if isinstance(spec, CommunitySpec):
        return community_graph(
            spec.n, spec.n_communities, spec.mean_degree_within, spec.mean_degree_between, rng
        )
    if isinstance(spec, EdgeListSpec):
        path = Path(spec.path)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return read_edge_list(path, spec.n)
    raise ValueError(f"unknown network kind: {getattr(spec, 'kind', spec)!r}")


@dataclass(frozen=True, eq=False)
class World:
    """The market as built: the graph and the population on day 0.

    Strategies compared side by side run on one world; each run copies the population so the world
    itself is never changed.
    """

    graph: SocialGraph
    population: Population
    seed: int


def build_world(scenario: Scenario, seed: int | None = None) -> World:
    """Build the graph and draw the population from the ``network`` and ``population`` streams."""
    seed = scenario.seed if seed is None else seed
    graph = build_graph(scenario.network, stream(seed, "network"), base_dir=scenario.base_dir)
    population = build_population(
        scenario.population, graph.n, stream(seed, "population"), community=graph.community
    )
    if scenario.fraud.n_fake_accounts:
        # Dormant fake accounts (and their ring edges) go after the real people, from their own stream.
        graph, population = add_fake_accounts(graph, population, scenario.fraud, seed)
    return World(graph=graph, population=population, seed=seed)
