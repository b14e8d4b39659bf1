"""Building the world a scenario describes: its social graph and its population on day 0."""

from __future__ import annotations

import hashlib
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from sim.engine.random import stream
from sim.scenario import (
    BarabasiAlbertSpec,
    CommunitySpec,
    CompleteGraphSpec,
    EdgeListSpec,
    ErdosRenyiSpec,
    FraudSpec,
    Scenario,
    WattsStrogatzSpec,
)
from sim.world.edge_list import (
    EdgeListError,
    ParsedGraph,
    check_people_count,
    parse_graph_file,
    read_graph_bytes,
)
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

__all__ = [
    "World",
    "build_graph",
    "build_real_world",
    "build_world",
    "graph_source",
    "people_in",
    "read_graph_file",
    "with_attack",
]


#: Graph files read lately, by content (path, size and modification time, or an upload's digest):
#: the replications of a comparison and the app's pages build many worlds on one file.
_READ_CACHE: OrderedDict[tuple[Any, ...], ParsedGraph] = OrderedDict()
_READ_CACHE_SIZE = 4
_READ_LOCK = threading.Lock()


def _cached(key: tuple[Any, ...], read: Callable[[], ParsedGraph]) -> ParsedGraph:
    with _READ_LOCK:
        parsed = _READ_CACHE.get(key)
        if parsed is not None:
            _READ_CACHE.move_to_end(key)
            return parsed
    parsed = read()  # outside the lock: a slow read must not block other threads' hits
    with _READ_LOCK:
        _READ_CACHE[key] = parsed
        while len(_READ_CACHE) > _READ_CACHE_SIZE:
            _READ_CACHE.popitem(last=False)
    return parsed


def read_graph_file(
    spec: EdgeListSpec,
    base_dir: str | Path | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> ParsedGraph:
    """Read the file a ``network: {kind: edge_list}`` section names (cached by content).

    With ``attachments`` (an upload's files) the graph comes from them and nothing is read from disk;
    ``spec.path`` must be one of their names. Otherwise a relative path is resolved against
    ``base_dir``. The people count is not checked here (see :func:`build_graph`).

    Raises:
        EdgeListError: For a file that is missing, unsafe to read, or not a usable graph.
    """
    if attachments is not None:
        data = attachments.get(spec.path)
        if data is None:
            names = ", ".join(sorted(attachments)) or "none"
            raise EdgeListError(
                [(0, f"was not uploaded with the scenario (uploaded: {names})")],
                spec.path,
                hint="upload the graph file together with the scenario",
            )
        digest = hashlib.sha256(data).hexdigest()
        return _cached(
            ("upload", digest, spec.path, spec.format),
            lambda: parse_graph_file(data, spec.path, spec.format),
        )
    path = Path(spec.path)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    try:
        info = path.stat()
        key: tuple[Any, ...] = ("file", str(path.resolve()), info.st_size, info.st_mtime_ns, spec.format)
    except OSError:
        key = ()  # missing or unreadable: read_graph_bytes says why
    if key and stat.S_ISREG(info.st_mode):
        return _cached(key, lambda: parse_graph_file(read_graph_bytes(path), str(path), spec.format))
    return parse_graph_file(read_graph_bytes(path), str(path), spec.format)


def people_in(scenario: Scenario) -> int:
    """The real people in ``scenario``'s market: ``network.n``, or the count its graph file holds.

    A graph file is read once (cached by content), so asking again costs nothing.

    Raises:
        EdgeListError: For a graph file that cannot be used.
    """
    network = scenario.network
    if network.n is not None:
        return int(network.n)
    assert isinstance(network, EdgeListSpec)  # only a graph file may leave network.n out
    return read_graph_file(network, scenario.base_dir, scenario.attachments).graph.n


def graph_source(scenario: Scenario) -> str:
    """What a scenario's graph file holds, as a short key (empty for a generated graph).

    Two scenarios with the same ``network`` section may name different files (an upload and a file
    on disk of one name, or a file edited in between): caches of built worlds add this to their key.
    """
    spec = scenario.network
    if not isinstance(spec, EdgeListSpec):
        return ""
    attachments = scenario.attachments
    if attachments is not None:
        data = attachments.get(spec.path, b"")
        return "upload:" + hashlib.sha256(data).hexdigest()
    path = Path(spec.path)
    if not path.is_absolute() and scenario.base_dir is not None:
        path = Path(scenario.base_dir) / path
    try:
        info = path.stat()
    except OSError:
        return f"file:{path}"
    return f"file:{path.resolve()}:{info.st_size}:{info.st_mtime_ns}"


def build_graph(
    spec: NetworkSpec,
    rng: np.random.Generator,
    base_dir: str | Path | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> SocialGraph:
    """Build the graph a scenario's ``network`` section describes.

    Args:
        spec: One of the network specs from :mod:`sim.scenario` (dispatch on ``spec.kind``).
        rng: Source of randomness (unused for complete graphs and graph files).
        base_dir: Folder that a relative graph-file path is resolved against (the scenario
            file's folder); the current directory when None.
        attachments: The files uploaded with the scenario; when given, a graph file is read from
            them and never from disk (see :func:`read_graph_file`).

    Raises:
        EdgeListError: For a graph file that is missing or malformed, or whose people count differs
            from ``spec.n``.
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
        parsed = read_graph_file(spec, base_dir, attachments)
        if spec.n is not None:
            check_people_count(parsed, spec.n)
        return parsed.graph
    raise ValueError(f"unknown network kind: {getattr(spec, 'kind', spec)!r}")


@dataclass(frozen=True, eq=False)
class World:
    """The market as built: the graph and the population on day 0.

    Strategies compared side by side run on one world; each run copies the population so the world
    itself is never changed.

    Attributes:
        graph: The social graph (fake accounts, if any, are its last ``n_fake`` nodes).
        population: The people on day 0 (same rows as the graph).
        seed: The seed the world was built from.
        n_fake: Fake accounts appended after the real people (the fraud attack).
        node_ids: For a graph read from a file, the file's id of each real person (row ``i`` is
            ``node_ids[i]``); None for a generated graph.
        notes: What reading the graph file changed or assumed (see :attr:`SocialGraph.notes`).
    """

    graph: SocialGraph
    population: Population
    seed: int
    n_fake: int = 0
    node_ids: NDArray[Any] | None = None
    notes: tuple[str, ...] = ()

    @property
    def n_real(self) -> int:
        """Real people: rows ``0 .. n_real - 1`` of the graph and the population."""
        return self.graph.n - self.n_fake


def build_world(scenario: Scenario, seed: int | None = None) -> World:
    """Build the graph and draw the population from the ``network`` and ``population`` streams.

    The real people come first (:func:`build_real_world`); the attack's dormant fake accounts, if
    any, are appended after them (:func:`with_attack`).

    For a graph file without ``network.n``, the settings that depend on the number of people
    (attackers, KOLs, employees) are checked against the file's people here (a
    :class:`~sim.scenario.ScenarioError` if they do not fit).
    """
    # The real world is built only to be extended here, so extending it may consume it.
    return with_attack(build_real_world(scenario, seed), scenario.fraud, reuse=True)


def build_real_world(scenario: Scenario, seed: int | None = None) -> World:
    """The world of ``scenario`` without the attack's fake accounts: the real people and their ties.

    The fake accounts come from streams of their own, so strategies that differ only in ``fraud``
    share this world exactly; :func:`with_attack` then adds each strategy's attackers.
    """
    seed = scenario.seed if seed is None else seed
    graph = build_graph(
        scenario.network,
        stream(seed, "network"),
        base_dir=scenario.base_dir,
        attachments=scenario.attachments,
    )
    if isinstance(scenario.network, EdgeListSpec) and scenario.network.n is None:
        scenario.check_people(graph.n, Path(scenario.network.path).name)
    population = build_population(
        scenario.population, graph.n, stream(seed, "population"), community=graph.community
    )
    return World(graph=graph, population=population, seed=seed, node_ids=graph.node_ids, notes=graph.notes)


def with_attack(real: World, fraud: FraudSpec, *, reuse: bool = False) -> World:
    """``real`` (a world without fake accounts) with ``fraud``'s dormant fake accounts appended.

    The accounts and their ties are drawn from their own streams (``fraud_world``, ``fraud_links``)
    of the world's seed, so the real people and their ties are unchanged. With ``reuse`` the real
    world's population is consumed (it must not be used again): the peak then holds one population
    instead of two. Worlds shared between strategies are extended without it.
    """
    if real.n_fake:
        raise ValueError("with_attack needs a world without fake accounts (from build_real_world)")
    if not fraud.n_fake_accounts:
        return real
    graph, population = add_fake_accounts(real.graph, real.population, fraud, real.seed, reuse=reuse)
    return World(
        graph=graph,
        population=population,
        seed=real.seed,
        n_fake=graph.n - real.graph.n,
        node_ids=real.node_ids,
        notes=real.notes,
    )
