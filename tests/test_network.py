"""The social graph: generator models against networkx and exact laws, CSR invariants, queries.

Statistical checks use fixed seeds, and their tolerances come from standard errors (a few of them)
or chi-square p-values, never from recorded outputs.
"""

from __future__ import annotations

import collections
import itertools
import math
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim import load_scenario
from sim.scenario import (
    BarabasiAlbertSpec,
    CommunitySpec,
    CompleteGraphSpec,
    ErdosRenyiSpec,
    WattsStrogatzSpec,
)
from sim.world.build import build_graph, build_real_world, build_world
from sim.world.generators import (
    _barabasi_albert,
    barabasi_albert_graph,
    community_graph,
    erdos_renyi_graph,
    watts_strogatz_graph,
)
from sim.world.graph import SocialGraph, complete_graph, from_pairs, graph_from_edges, with_new_nodes

ROOT = Path(__file__).resolve().parents[1]

#: Two-sided tolerance for comparing means, in standard errors.
N_SE = 4.0
#: Smallest chi-square p-value accepted (the seeds are fixed, so this is about honesty, not flakes).
P_MIN = 1e-3


# ------------------------------------------------------------------------------------ helpers


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def edge_array(g: SocialGraph) -> np.ndarray:
    """Undirected edges as an (E, 2) array with u < v, in CSR order."""
    assert g.indptr is not None and g.indices is not None
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    upper = rows < g.indices
    return np.column_stack([rows[upper], g.indices[upper]])


def assert_simple(g: SocialGraph) -> None:
    """CSR invariants: dtypes, sorted rows, no self loops, no duplicates, symmetric, degree sum."""
    indptr, indices = g.indptr, g.indices
    assert indptr is not None and indices is not None
    assert indptr.dtype == np.int64 and indices.dtype == np.int32
    assert indptr.shape == (g.n + 1,) and indptr[0] == 0 and indptr[-1] == indices.shape[0]
    assert np.all(np.diff(indptr) >= 0)
    rows = np.repeat(np.arange(g.n, dtype=np.int64), np.diff(indptr))
    assert indices.size == 0 or (indices.min() >= 0 and indices.max() < g.n)
    assert not np.any(rows == indices), "self loop"
    same_row = rows[1:] == rows[:-1]
    assert np.all(indices[1:][same_row] > indices[:-1][same_row]), "rows unsorted or duplicated"
    forward = np.sort(rows * g.n + indices)
    backward = np.sort(indices.astype(np.int64) * g.n + rows)
    np.testing.assert_array_equal(forward, backward)  # (i, j) stored iff (j, i) stored
    assert int(g.degree.sum()) == 2 * g.n_edges
    assert g.mean_degree == pytest.approx(2 * g.n_edges / g.n)


def assert_same_mean(ours: list[float], theirs: list[float], what: str) -> None:
    """Means of two independent samples agree within N_SE standard errors of their difference."""
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    diff = abs(a.mean() - b.mean())
    assert diff <= N_SE * se + 1e-12, f"{what}: ours {a.mean():.5g} vs networkx {b.mean():.5g} (se {se:.3g})"


def chisquare_against(observed: collections.Counter, expected: Mapping[Any, float], draws: int) -> float:
    """p-value of observed category counts against exact probabilities (sparse cells pooled)."""
    assert set(observed) <= set(expected), "a category the model cannot produce"
    obs, exp, pool_obs, pool_exp = [], [], 0, 0.0
    for key, p in expected.items():
        if p * draws < 5:
            pool_obs += observed.get(key, 0)
            pool_exp += p * draws
        else:
            obs.append(observed.get(key, 0))
            exp.append(p * draws)
    if pool_exp > 0:
        obs.append(pool_obs)
        exp.append(pool_exp)
    exp_arr = np.asarray(exp) * (sum(obs) / sum(exp))  # remove float drift in the total
    return float(stats.chisquare(obs, exp_arr).pvalue)


# --------------------------------------------------------------------- structural invariants

GENERATORS: dict[str, Callable[[np.random.Generator], tuple[SocialGraph, int | None]]] = {
    # name: rng -> (graph, exact edge count the model fixes)
    "ba": lambda r: (barabasi_albert_graph(3000, 4, r), 4 + (3000 - 5) * 4),
    "ba_m1": lambda r: (barabasi_albert_graph(500, 1, r), 499),
    "ba_tiny": lambda r: (barabasi_albert_graph(4, 3, r), 3),
    "ba_large_m": lambda r: (_barabasi_albert(400, 30, r, 0), 30 + (400 - 31) * 30),
    "ws": lambda r: (watts_strogatz_graph(3000, 8, 0.2, r), 3000 * 4),
    "ws_p1": lambda r: (watts_strogatz_graph(500, 6, 1.0, r), 500 * 3),
    "ws_dense": lambda r: (watts_strogatz_graph(12, 10, 0.5, r), 12 * 5),
    "er": lambda r: (erdos_renyi_graph(3000, 7.3, r), round(3000 * 7.3 / 2)),
    "er_dense": lambda r: (erdos_renyi_graph(30, 25.0, r), round(30 * 25 / 2)),
    "er_full": lambda r: (erdos_renyi_graph(20, 19.0, r), 190),
    "er_empty": lambda r: (erdos_renyi_graph(50, 0.0, r), 0),
    "sbm": lambda r: (community_graph(3000, 7, 6.0, 2.0, r), None),
    "sbm_dense": lambda r: (community_graph(40, 4, 8.0, 15.0, r), None),
    "sbm_one": lambda r: (community_graph(300, 1, 5.0, 0.0, r), 750),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_give_simple_graphs_with_the_models_edge_count(name):
    graph, n_edges = GENERATORS[name](rng(1))
    assert_simple(graph)
    if n_edges is not None:
        assert graph.n_edges == n_edges


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_reproducible_from_the_seed(name):
    first, _ = GENERATORS[name](rng(5))
    again, _ = GENERATORS[name](rng(5))
    other, _ = GENERATORS[name](rng(6))
    np.testing.assert_array_equal(edge_array(first), edge_array(again))
    if first.n_edges not in (0, first.n * (first.n - 1) // 2) and first.n > 5:
        assert not np.array_equal(edge_array(first), edge_array(other))


def test_graph_arrays_are_read_only():
    graph = erdos_renyi_graph(100, 4.0, rng())
    assert graph.indptr is not None and graph.indices is not None
    for array in (graph.indptr, graph.indices, graph.degree):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1


# -------------------------------------------------------------------------- Barabási–Albert


def exact_ba_law(n: int, m: int, key: Callable[[list[tuple[int, int]], int], Hashable]) -> dict:
    """Exact distribution of key(graph) under networkx's sequential BA model, by enumeration."""
    law: dict[Hashable, float] = collections.defaultdict(float)

    def grow(v: int, edges: list[tuple[int, int]], deg: list[int], prob: float) -> None:
        if v == n:
            law[key(edges, n)] += prob
            return
        total = sum(deg)

        def choose(chosen: list[int], p: float) -> None:
            if len(chosen) == m:
                new_deg = [*deg, m]
                for x in chosen:
                    new_deg[x] += 1
                grow(v + 1, edges + [(x, v) for x in chosen], new_deg, prob * p)
                return
            # Drawing ∝ degree and rejecting repeats = drawing among the rest ∝ degree.
            rest = total - sum(deg[x] for x in chosen)
            for x in range(v):
                if x not in chosen:
                    choose([*chosen, x], p * deg[x] / rest)

        choose([], 1.0)

    grow(m + 1, [(0, i) for i in range(1, m + 1)], [m] + [1] * m, 1.0)
    return dict(law)


def degree_sequence(edges: list[tuple[int, int]], n: int) -> tuple[int, ...]:
    deg = [0] * n
    for a, b in edges:
        deg[a] += 1
        deg[b] += 1
    return tuple(deg)


def test_vectorised_ba_follows_the_sequential_law_exactly():
    # No sequential warm-up: every target, repeat and redraw goes through the vectorised
    # resolver, where repeats are frequent and redraws chain through each other. Redrawing
    # repeats without deferring the nodes that resolve through them fails this test
    # (p ≈ 1e-8 .. 1e-11 at these sizes), so it has the power to catch that bias.
    n, m, key, draws = 7, 3, degree_sequence, 6000
    law = exact_ba_law(n, m, key)
    generator = rng(11)
    observed = collections.Counter(
        key([tuple(e) for e in edge_array(_barabasi_albert(n, m, generator, 0)).tolist()], n)
        for _ in range(draws)
    )
    assert chisquare_against(observed, law, draws) > P_MIN


def ba_summary(degrees: np.ndarray) -> dict[str, float]:
    return {
        "share_deg_ge_20": float(np.mean(degrees >= 20)),
        "share_deg_ge_50": float(np.mean(degrees >= 50)),
        "log_max_degree": float(np.log(degrees.max())),
        "mean_degree_oldest_100": float(degrees[:100].mean()),
        "mean_degree_ids_1000_2000": float(degrees[1000:2000].mean()),
    }


def test_ba_degree_distribution_matches_networkx():
    n, m, seeds = 20_000, 3, range(5)
    ours = [barabasi_albert_graph(n, m, rng(s)) for s in seeds]
    theirs = [nx.barabasi_albert_graph(n, m, seed=100 + s) for s in seeds]
    for graph, reference in zip(ours, theirs, strict=True):
        assert graph.n_edges == reference.number_of_edges() == m + (n - m - 1) * m
        assert graph.mean_degree == pytest.approx(2 * reference.number_of_edges() / n)
    ours_stats = [ba_summary(g.degree) for g in ours]
    their_stats = [ba_summary(np.array([d for _, d in sorted(r.degree())])) for r in theirs]
    for name in ours_stats[0]:
        assert_same_mean([s[name] for s in ours_stats], [s[name] for s in their_stats], name)
    # Order of magnitude of the largest hub: m √n ≈ 400.
    for graph in ours:
        assert 100 < graph.max_degree < 2000


def test_ba_attaches_preferentially_to_older_nodes():
    graph = barabasi_albert_graph(50_000, 4, rng(3))
    deg = graph.degree.astype(float)
    # Expected degree of node i grows like m √(n / i): means over log-spaced id ranges fall.
    bands = [
        deg[lo:hi].mean() for lo, hi in [(0, 10), (10, 100), (100, 1000), (1000, 10_000), (10_000, 50_000)]
    ]
    assert all(a > b for a, b in itertools.pairwise(bands)), bands
    assert deg[:100].mean() > 5 * deg[25_000:].mean()
    assert deg.min() >= 4


def test_ba_at_200k_nodes_builds_a_simple_graph():
    graph = barabasi_albert_graph(200_000, 5, rng(2))
    assert graph.n_edges == 5 + (200_000 - 6) * 5
    assert_simple(graph)


# ---------------------------------------------------------------------------- Watts–Strogatz


def test_ws_without_rewiring_is_networkx_ring_lattice():
    ours = watts_strogatz_graph(300, 6, 0.0, rng())
    theirs = nx.watts_strogatz_graph(300, 6, 0.0, seed=0)
    assert set(map(tuple, edge_array(ours).tolist())) == {(min(e), max(e)) for e in theirs.edges()}
    assert nx.average_clustering(ours.to_networkx()) == nx.average_clustering(theirs)


def test_ws_rewired_clustering_and_rewired_share_match_networkx():
    n, k, p, seeds = 1000, 10, 0.1, range(6)
    ours = [watts_strogatz_graph(n, k, p, rng(s)) for s in seeds]
    theirs = [nx.watts_strogatz_graph(n, k, p, seed=50 + s) for s in seeds]
    assert_same_mean(
        [nx.average_clustering(g.to_networkx()) for g in ours],
        [nx.average_clustering(g) for g in theirs],
        "average clustering",
    )
    # Each lattice edge is rewired with probability p: the share off the lattice is Binomial.
    lattice = {(i, (i + j) % n) for i in range(n) for j in range(1, k // 2 + 1)}
    lattice = {(min(e), max(e)) for e in lattice}
    n_edges = n * k // 2
    for graph in ours:
        off = sum((u, v) not in lattice for u, v in edge_array(graph).tolist())
        assert abs(off / n_edges - p) <= N_SE * math.sqrt(p * (1 - p) / n_edges)


# ------------------------------------------------------------------------ Erdős–Rényi, SBM


@pytest.mark.parametrize("n_edges", [3, 7])  # 3 of 10 pairs: rejection path; 7 of 10: enumeration
def test_er_draws_every_edge_set_equally_often(n_edges):
    n, draws = 5, 3000
    pairs = list(itertools.combinations(range(n), 2))
    law = {frozenset(c): 1 / math.comb(len(pairs), n_edges) for c in itertools.combinations(pairs, n_edges)}
    generator = rng(4)
    observed = collections.Counter(
        frozenset(map(tuple, edge_array(erdos_renyi_graph(n, 2 * n_edges / n, generator)).tolist()))
        for _ in range(draws)
    )
    assert chisquare_against(observed, law, draws) > P_MIN


def test_er_degrees_are_binomial_like_networkx_gnm():
    n, d = 20_000, 8.0
    ours = [erdos_renyi_graph(n, d, rng(s)).degree for s in range(3)]
    theirs = [
        np.array([x for _, x in nx.gnm_random_graph(n, int(n * d / 2), seed=s).degree()]) for s in range(3)
    ]
    for deg in ours:
        assert deg.mean() == d
    assert_same_mean([x.var() for x in ours], [x.var() for x in theirs], "degree variance")
    assert_same_mean(
        [np.mean(x == 0) for x in ours], [np.mean(x == 0) for x in theirs], "share of isolated nodes"
    )


def test_sbm_communities_and_within_share():
    n, c, within, between = 3000, 7, 6.0, 2.0
    graph = community_graph(n, c, within, between, rng(8))
    labels = graph.community
    assert labels is not None and labels.dtype == np.int32
    sizes = np.bincount(labels)
    assert sizes.size == c and sizes.max() - sizes.min() <= 1
    assert np.all(np.diff(labels) >= 0)  # contiguous blocks
    edges = edge_array(graph)
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    assert same.sum() == sum(round(s * within / 2) for s in sizes)
    assert (~same).sum() == round(n * between / 2)
    assert same.mean() == pytest.approx(within / (within + between), abs=1e-3)
    # Between-community edges land on block pairs in proportion to s_a * s_b.
    a, b = labels[edges[~same, 0]], labels[edges[~same, 1]]
    pair_counts = np.zeros((c, c))
    np.add.at(pair_counts, (np.minimum(a, b), np.maximum(a, b)), 1)
    iu = np.triu_indices(c, 1)
    expected = np.outer(sizes, sizes)[iu]
    assert stats.chisquare(pair_counts[iu], expected / expected.sum() * (~same).sum()).pvalue > P_MIN


def test_sbm_pairs_are_uniform_within_and_between():
    n, draws = 8, 3000  # blocks {0..3}, {4..7}; 3 of 6 pairs inside each, 4 of 16 between
    counts: collections.Counter = collections.Counter()
    generator = rng(9)
    for _ in range(draws):
        counts.update(map(tuple, edge_array(community_graph(n, 2, 1.5, 1.0, generator)).tolist()))
    inside = [p for p in itertools.combinations(range(n), 2) if p[0] // 4 == p[1] // 4]
    across = [p for p in itertools.combinations(range(n), 2) if p[0] // 4 != p[1] // 4]
    for group, per_draw in ((inside, 6), (across, 4)):
        observed = [counts[p] for p in group]
        assert sum(observed) == per_draw * draws
        assert stats.chisquare(observed).pvalue > P_MIN


def test_generators_reject_impossible_parameters():
    with pytest.raises(ValueError, match="m must"):
        barabasi_albert_graph(5, 5, rng())
    with pytest.raises(ValueError, match="k must be even"):
        watts_strogatz_graph(10, 3, 0.1, rng())
    with pytest.raises(ValueError, match="mean_degree"):
        erdos_renyi_graph(10, 10.0, rng())
    with pytest.raises(ValueError, match="mean_degree_within"):
        community_graph(20, 4, 5.0, 1.0, rng())
    with pytest.raises(ValueError, match="n must"):
        complete_graph(0)


# ------------------------------------------------------------------- neighbour aggregates


def dense_adjacency(graph: SocialGraph) -> np.ndarray:
    return nx.to_numpy_array(graph.to_networkx(), nodelist=range(graph.n))


@pytest.mark.parametrize("share", [0.002, 0.05, 0.5, 1.0])  # scatter path and mat-vec path
def test_neighbour_counts_and_sums_match_dense_algebra(share):
    generator = rng(12)
    for graph in (erdos_renyi_graph(800, 6.0, generator), barabasi_albert_graph(800, 3, generator)):
        dense = dense_adjacency(graph)
        mask = generator.random(graph.n) < share
        values = np.where(generator.random(graph.n) < share, generator.normal(size=graph.n), 0.0)
        counts = graph.count_neighbours_in(mask)
        assert counts.dtype == np.float64
        np.testing.assert_array_equal(counts, dense @ mask)
        np.testing.assert_allclose(graph.sum_over_neighbours(values), dense @ values, atol=1e-12)
        np.testing.assert_allclose(graph.adjacency @ values, dense @ values, atol=1e-5)


def test_complete_graph_is_implicit_and_agrees_with_dense_algebra():
    n = 40
    graph = complete_graph(n)
    assert graph.indptr is None and graph.indices is None and graph.complete
    assert graph.n_edges == n * (n - 1) // 2 and graph.mean_degree == n - 1
    np.testing.assert_array_equal(graph.degree, np.full(n, n - 1))
    np.testing.assert_array_equal(graph.neighbours(3), np.delete(np.arange(n), 3))
    dense = np.ones((n, n)) - np.eye(n)
    np.testing.assert_array_equal(graph.adjacency.toarray(), dense)
    generator = rng(13)
    mask = generator.random(n) < 0.3
    values = generator.normal(size=n)
    np.testing.assert_array_equal(graph.count_neighbours_in(mask), dense @ mask)
    np.testing.assert_allclose(graph.sum_over_neighbours(values), dense @ values, atol=1e-12)
    assert nx.utils.graphs_equal(graph.to_networkx(), nx.complete_graph(n))


def test_large_complete_graph_refuses_to_materialise():
    graph = complete_graph(1_000_000)
    assert graph.count_neighbours_in(np.arange(graph.n) < 10)[0] == 9
    with pytest.raises(ValueError, match="stored"):
        _ = graph.adjacency
    with pytest.raises(ValueError, match="max_nodes"):
        graph.to_networkx()


def test_to_networkx_keeps_edges_and_communities():
    graph = community_graph(200, 4, 5.0, 1.0, rng(14))
    converted = graph.to_networkx()
    assert converted.number_of_nodes() == 200 and converted.number_of_edges() == graph.n_edges
    assert {(min(e), max(e)) for e in converted.edges()} == set(map(tuple, edge_array(graph).tolist()))
    assert graph.community is not None
    assert all(converted.nodes[i]["community"] == graph.community[i] for i in range(200))
    with pytest.raises(ValueError):
        graph.to_networkx(max_nodes=100)


# --------------------------------------------------------------------------- pick_neighbour


def test_pick_neighbour_returns_only_eligible_neighbours():
    generator = rng(15)
    graph = erdos_renyi_graph(500, 3.0, generator)  # some nodes are isolated
    eligible = generator.random(graph.n) < 0.4
    nodes = np.repeat(np.arange(graph.n), 3)
    chosen = graph.pick_neighbour(nodes, eligible, None, generator.random(nodes.size))
    assert chosen.dtype == np.int64
    for node, pick in zip(nodes.tolist(), chosen.tolist(), strict=True):
        options = [j for j in graph.neighbours(node).tolist() if eligible[j]]
        if options:
            assert pick in options
        else:
            assert pick == -1


def test_pick_neighbour_frequencies_follow_weights():
    # Node 0 linked to 1..6; node 3 is ineligible and node 5 has weight 0.
    graph = graph_from_edges(10, np.zeros(6, dtype=int), np.arange(1, 7), None)
    eligible = np.ones(10, dtype=bool)
    eligible[3] = False
    weights = np.array([9.0, 1.0, 2.0, 50.0, 3.0, 0.0, 4.0, 7.0, 7.0, 7.0])
    p = np.where(eligible, weights, 0.0)[1:7]
    p = p / p.sum()
    # Stratified uniforms: each neighbour's count is within one of draws * probability.
    draws = 10_000
    strata = (np.arange(draws) + 0.5) / draws
    picks = graph.pick_neighbour(np.zeros(draws, dtype=int), eligible, weights, strata)
    counts = np.bincount(picks, minlength=7)[1:7]
    assert np.all(np.abs(counts - draws * p) <= 1)
    # Random uniforms: chi-square over the eligible, positive-weight neighbours.
    picks = graph.pick_neighbour(np.zeros(draws, dtype=int), eligible, weights, rng(16).random(draws))
    counts = np.bincount(picks, minlength=7)[1:7]
    assert counts[2] == 0 and counts[4] == 0  # node 3 ineligible, node 5 weightless
    live = p > 0
    assert stats.chisquare(counts[live], draws * p[live]).pvalue > P_MIN


def test_pick_neighbour_on_complete_graph_never_picks_self():
    n, draws = 8, 8000
    graph = complete_graph(n)
    eligible = np.array([True, True, False, True, True, True, True, True])
    weights = np.arange(1.0, n + 1.0)
    strata = (np.arange(draws) + 0.5) / draws
    for node in (0, 3, 7):
        picks = graph.pick_neighbour(np.full(draws, node), eligible, weights, strata)
        w = np.where(eligible, weights, 0.0)
        w[node] = 0.0
        counts = np.bincount(picks, minlength=n)
        assert counts[node] == 0 and counts[2] == 0
        assert np.all(np.abs(counts - draws * w / w.sum()) <= 1)
    only_self = np.zeros(n, dtype=bool)
    only_self[4] = True
    assert graph.pick_neighbour(np.array([4, 5]), only_self, None, np.array([0.3, 0.9])).tolist() == [-1, 4]


def test_pick_neighbour_agrees_between_complete_and_explicit_complete_graph():
    n = 30
    implicit = complete_graph(n)
    explicit = graph_from_edges(n, *np.triu_indices(n, 1))
    generator = rng(17)
    eligible = generator.random(n) < 0.6
    weights = generator.random(n)
    nodes = generator.integers(0, n, 500)
    u = generator.random(500)
    # Both orders candidates by id and search the same cumulative weights.
    np.testing.assert_array_equal(
        implicit.pick_neighbour(nodes, eligible, weights, u),
        explicit.pick_neighbour(nodes, eligible, weights, u),
    )


# --------------------------------------------------------------------- build from edges


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 25).flatmap(
        lambda n: st.tuples(
            st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80)
        )
    )
)
def test_graph_from_edges_is_simple_symmetric_and_deduplicated(case):
    n, edges = case
    src = np.array([a for a, _ in edges], dtype=np.int64)
    dst = np.array([b for _, b in edges], dtype=np.int64)
    graph = graph_from_edges(n, src, dst)
    assert_simple(graph)
    expected: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in edges:
        if a != b:
            expected[a].add(b)
            expected[b].add(a)
    for i in range(n):
        assert graph.neighbours(i).tolist() == sorted(expected[i])
    assert graph.degree.tolist() == [len(expected[i]) for i in range(n)]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 40), st.floats(0.0, 1.0))
def test_pick_neighbour_property(seed, n, share):
    generator = rng(seed)
    graph = erdos_renyi_graph(n, min(3.0, n - 1), generator)
    eligible = generator.random(n) < share
    weights = np.where(generator.random(n) < 0.2, 0.0, generator.random(n))
    nodes = generator.integers(0, n, 50)
    picks = graph.pick_neighbour(nodes, eligible, weights, generator.random(50))
    for node, pick in zip(nodes.tolist(), picks.tolist(), strict=True):
        options = {j for j in graph.neighbours(node).tolist() if eligible[j] and weights[j] > 0}
        assert pick in options if options else pick == -1


def test_graph_from_edges_rejects_bad_input():
    with pytest.raises(ValueError, match="outside"):
        graph_from_edges(3, np.array([0]), np.array([3]))
    with pytest.raises(ValueError, match="same length"):
        graph_from_edges(3, np.array([0, 1]), np.array([1]))
    with pytest.raises(ValueError, match="integer"):
        graph_from_edges(3, np.array([0.0]), np.array([1.0]))


# ------------------------------------------------------------------- appending new nodes


def assert_same_graph(got: SocialGraph, want: SocialGraph) -> None:
    """The same graph array for array (bit for bit), not merely the same edge set."""
    assert got.n == want.n
    assert got.indptr is not None and want.indptr is not None
    np.testing.assert_array_equal(got.indptr, want.indptr)
    assert got.indptr.dtype == want.indptr.dtype
    np.testing.assert_array_equal(got.indices, want.indices)
    assert got.indices is not None and want.indices is not None
    assert got.indices.dtype == want.indices.dtype
    if want.tie_strength is None:
        assert got.tie_strength is None
    else:
        assert got.tie_strength is not None
        assert got.tie_strength.tobytes() == want.tie_strength.tobytes()
    if want.community is None:
        assert got.community is None
    else:
        np.testing.assert_array_equal(got.community, want.community)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 30),
    st.integers(1, 12),
    st.integers(0, 60),
    st.booleans(),
    st.booleans(),
)
def test_appending_nodes_equals_building_from_all_ties(seed, n_old, n_new, n_ties, weighted, labelled):
    """Inserting new nodes' ties (duplicates included) gives from_pairs' graph of every tie, bit for bit."""
    generator = rng(seed)
    old_src = generator.integers(0, n_old, 3 * n_old)
    old_dst = generator.integers(0, n_old, 3 * n_old)
    keep = old_src != old_dst
    old_src, old_dst = old_src[keep], old_dst[keep]
    old_weight = generator.random(old_src.shape[0]) if weighted else None
    merged = from_pairs(n_old, old_src, old_dst, weight=old_weight)
    once = edge_array(merged)
    once_weight = None
    if weighted:
        # Duplicates listed both ways may sum in a different order per direction; start symmetric.
        assert merged.tie_strength is not None and merged.indices is not None
        rows = np.repeat(np.arange(n_old), np.diff(merged.indptr))
        once_weight = merged.tie_strength[rows < merged.indices]
    base = from_pairs(n_old, once[:, 0], once[:, 1], weight=once_weight)
    n = n_old + n_new
    # Each new tie touches a new node; the other end is anyone else (a repeat merges, weights add).
    new_end = generator.integers(n_old, n, n_ties)
    other = generator.integers(0, n - 1, n_ties)
    other = np.where(other >= new_end, other + 1, other)
    # One strength for every new tie, as fake accounts get: merged repeats then add up the same in any
    # order (scipy's duplicate sum has no fixed order, so unequal repeats may differ in the last bit).
    new_weight = np.full(n_ties, generator.random()) if weighted else None
    community = generator.integers(0, 4, n).astype(np.int32) if labelled else None
    got = with_new_nodes(base, n_new, new_end, other, community, weight=new_weight)
    # What building every tie at once gives: the old ties each once, then the new ones.
    want = from_pairs(
        n,
        np.concatenate([once[:, 0], new_end]),
        np.concatenate([once[:, 1], other]),
        community,
        weight=None if new_weight is None else np.concatenate([once_weight, new_weight]),
    )
    assert_same_graph(got, want)
    assert_simple(got)


def test_appending_nodes_refuses_the_complete_graph_and_a_weight_mismatch():
    with pytest.raises(ValueError, match="CSR graph"):
        with_new_nodes(complete_graph(4), 1, np.array([4]), np.array([0]))
    unweighted = graph_from_edges(3, np.array([0, 1]), np.array([1, 2]))
    with pytest.raises(ValueError, match="weighted"):
        with_new_nodes(unweighted, 1, np.array([3]), np.array([0]), weight=np.array([1.0]))
    weighted = graph_from_edges(3, np.array([0, 1]), np.array([1, 2]), weight=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="weighted"):
        with_new_nodes(weighted, 1, np.array([3]), np.array([0]))


@pytest.mark.parametrize("network", ["barabasi_albert", "communities"])
def test_fake_accounts_are_appended_to_the_real_graph_unchanged(network):
    """With an attack the real ties are the same arrays, and the whole graph is from_pairs' of its ties."""
    overrides: dict[str, Any] = {"network.n": 1500, "fraud.ring_links_to_real": 3}
    if network == "communities":
        overrides = {
            "fraud.ring_links_to_real": 3,
            "network": {
                "kind": "communities",
                "n": 1500,
                "n_communities": 4,
                "mean_degree_within": 6.0,
                "mean_degree_between": 1.0,
            },
        }
    scenario = load_scenario(ROOT / "benchmarks" / "all_rules.yaml", overrides)
    real = build_real_world(scenario, 5).graph
    world = build_world(scenario, 5)
    graph = world.graph
    assert world.n_fake == scenario.fraud.n_fake_accounts > 0
    assert graph.indptr is not None and graph.indices is not None
    assert real.indptr is not None and real.indices is not None
    rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    among_real = (rows < real.n) & (graph.indices < real.n)
    np.testing.assert_array_equal(graph.indices[among_real], real.indices)
    ties = edge_array(graph)
    rebuilt = from_pairs(graph.n, ties[:, 0], ties[:, 1], graph.community)
    assert_same_graph(graph, rebuilt)
    if real.community is not None:
        assert graph.community is not None
        np.testing.assert_array_equal(graph.community[: real.n], real.community)


# --------------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize(
    "spec",
    [
        CompleteGraphSpec(n=50),
        ErdosRenyiSpec(n=300, mean_degree=4.0),
        BarabasiAlbertSpec(n=300, m=2),
        WattsStrogatzSpec(n=300, k=4, p_rewire=0.2),
        CommunitySpec(n=300, n_communities=3, mean_degree_within=4.0, mean_degree_between=1.0),
    ],
    ids=lambda spec: spec.kind,
)
def test_build_graph_dispatches_on_kind(spec):
    graph = build_graph(spec, rng(19))
    assert graph.n == spec.n
    assert graph.complete == (spec.kind == "complete")
    assert (graph.community is not None) == (spec.kind == "communities")
    if not graph.complete:
        assert_simple(graph)


def test_pick_neighbour_checks_the_weights_it_reads():
    """A bad weight at a friend of a picking node is an error; the pick reads no one else's."""
    graph = graph_from_edges(4, np.array([0, 2]), np.array([1, 3]))
    eligible = np.ones(4, dtype=bool)
    for bad in (-1.0, float("nan"), float("inf")):
        weights = np.array([1.0, bad, 1.0, 1.0])
        with pytest.raises(ValueError, match="finite and non-negative"):
            graph.pick_neighbour(np.array([0]), eligible, weights, np.array([0.5]))
        assert graph.pick_neighbour(np.array([2]), eligible, weights, np.array([0.5])).tolist() == [3]


@pytest.mark.parametrize("share", [0.001, 0.05, 0.5])
def test_summing_at_some_nodes_is_the_full_sum_there_bit_for_bit(share: float) -> None:
    """Sparse supports (the scatter) and dense ones (the mat-vec) alike, weights and masks alike."""
    generator = rng(31)
    graph = barabasi_albert_graph(20_000, 5, generator)
    nodes = np.flatnonzero(generator.random(graph.n) < 0.1)
    mask = generator.random(graph.n) < share
    values = np.where(mask, generator.random(graph.n) * 3.0, 0.0)
    full_sum, full_count = graph.sum_over_neighbours(values), graph.count_neighbours_in(mask)
    assert np.array_equal(graph.sum_over_neighbours_at(nodes, values), full_sum[nodes])
    assert np.array_equal(graph.sum_over_neighbours_at(nodes, mask), full_count[nodes])
    complete = complete_graph(50)
    few = np.array([0, 7, 49])
    assert np.array_equal(
        complete.sum_over_neighbours_at(few, values[:50]), complete.sum_over_neighbours(values[:50])[few]
    )
