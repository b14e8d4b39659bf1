"""Random social graphs: Erdős–Rényi, communities (stochastic block model), Watts–Strogatz, Barabási–Albert.

The generators are vectorised with NumPy (no Python loop over nodes or edges, except a short
sequential warm-up in :func:`barabasi_albert_graph`): networkx's own generators take minutes at the
million-node scale the simulator targets, while these take seconds. They reproduce networkx's
*models* (the same distribution over graphs), not its random streams; the tests compare the two.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.world.graph import SocialGraph, check_n, from_pairs, unique_sorted

__all__ = ["barabasi_albert_graph", "community_graph", "erdos_renyi_graph", "watts_strogatz_graph"]

Int64Array = NDArray[np.int64]
Int32Array = NDArray[np.int32]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


# ----------------------------------------------------------------- random pairs (ER and SBM)


def _member(values: Int64Array, sorted_set: Int64Array) -> BoolArray:
    """Whether each value occurs in ``sorted_set`` (binary search, O(len(values) log |set|))."""
    if sorted_set.shape[0] == 0:
        return np.zeros(values.shape[0], dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), sorted_set.shape[0] - 1)
    return np.asarray(sorted_set[pos] == values)


def _distinct_pairs(
    n: int,
    quotas: Int64Array,
    capacity: NDArray[np.float64],
    acceptance: NDArray[np.float64],
    draw: Any,
    group_of: Any,
    rng: np.random.Generator,
) -> Int64Array:
    """Exactly ``quotas[g]`` distinct pair keys (``lo * n + hi``) per group, uniformly at random.

    ``draw(groups, counts)`` returns keys of ``counts[i]`` raw candidate draws in each of
    ``groups`` (uniform over the group's pairs, rejected ones already removed; ``acceptance`` is
    the share that survives); ``group_of(keys)`` maps keys back to group numbers. ``capacity`` is
    each group's number of possible pairs; callers route groups wanting more than half of it to
    enumeration instead, so the rejection below needs at most ~1.4 draws per pair.

    Why this is uniform: the distinct keys of i.i.d. draws, minus those already accepted, are a
    uniform random subset of the not-yet-accepted pairs given their number, so adding a uniform
    random subset of them of the needed size keeps the accepted set uniform.

    The first round aims two standard deviations short of each quota so that it rarely
    overshoots (trimming an overshoot needs a sort of the overshooting group's draws); later
    rounds top up the small remainder.
    """
    groups = quotas.shape[0]
    have = np.zeros(groups, dtype=np.int64)
    accepted = np.empty(0, dtype=np.int64)
    first = True
    while True:
        need = quotas - have
        active = np.flatnonzero(need > 0)
        if active.shape[0] == 0:
            return accepted
        cap = capacity[active]
        goal = quotas[active].astype(np.float64)
        if first:
            goal = np.maximum(goal - 2.0 * np.sqrt(goal), goal * 0.5)
        # Expected i.i.d. draws for the distinct count to grow from `have` to `goal` among
        # `cap` pairs: cap * ln((cap - have) / (cap - goal)).
        draws = cap * (np.log1p(-have[active] / cap) - np.log1p(-goal / cap))
        factor = 1.0 if first else 1.2
        counts = np.ceil(draws * factor / acceptance[active]).astype(np.int64) + (0 if first else 4)
        first = False
        keys = unique_sorted(draw(active, counts))
        keys = keys[~_member(keys, accepted)]
        owner = group_of(keys)
        got = np.bincount(owner, minlength=groups)
        over = got > need
        if over.any():
            # Keep a uniform random `need` of the new keys in each overshooting group: rank them
            # by a random number within their group and drop the ranks beyond `need`.
            sel = np.flatnonzero(over[owner])
            order = np.lexsort((rng.random(int(sel.shape[0])), owner[sel]))
            sel = sel[order]
            sel_owner = owner[sel]
            starts = np.searchsorted(sel_owner, sel_owner, side="left")
            rank = np.arange(sel.shape[0]) - starts
            drop = sel[rank >= need[sel_owner]]
            keep = np.ones(keys.shape[0], dtype=bool)
            keep[drop] = False
            keys, owner = keys[keep], owner[keep]
            got = np.bincount(owner, minlength=groups)
        have += got
        accepted = np.insert(accepted, np.searchsorted(accepted, keys), keys)


def _decode_pair_index(p: Int64Array) -> tuple[Int64Array, Int64Array]:
    """Map ``p`` in ``[0, s(s-1)/2)`` to the pair ``(j, i)``, ``j < i``, with ``p = i(i-1)/2 + j``."""
    i = ((1.0 + np.sqrt(1.0 + 8.0 * p.astype(np.float64))) // 2.0).astype(np.int64)
    # Float rounding can be one off either way for large p.
    i -= (i * (i - 1) // 2 > p).astype(np.int64)
    i += ((i + 1) * i // 2 <= p).astype(np.int64)
    j = p - i * (i - 1) // 2
    return j, i


def _choose_enumerated(
    n: int, universe: Int64Array, owner: Int64Array, quotas: Int64Array, rng: np.random.Generator
) -> Int64Array:
    """Choose ``quotas[g]`` keys uniformly from each group's enumerated ``universe`` (dense case)."""
    order = np.lexsort((rng.random(int(universe.shape[0])), owner))
    owner_sorted = owner[order]
    rank = np.arange(order.shape[0]) - np.searchsorted(owner_sorted, owner_sorted, side="left")
    return np.sort(universe[order[rank < quotas[owner_sorted]]])


def _block_pairs(
    n: int,
    starts: Int64Array,
    sizes: Int64Array,
    quotas: Int64Array,
    rng: np.random.Generator,
) -> Int64Array:
    """Exactly ``quotas[b]`` distinct pairs inside each node block ``[starts[b], starts[b]+sizes[b])``.

    Blocks must be contiguous and in ascending order. Returns sorted keys ``lo * n + hi``. Sparse
    blocks (quota at most half the pairs) use vectorised rejection; dense ones enumerate their
    pairs, which then costs at most twice the memory of the chosen edges.
    """
    capacity = sizes * (sizes - 1) // 2
    if np.any(quotas > capacity):
        raise ValueError("a block cannot hold that many edges")
    dense = 2 * quotas > capacity
    parts: list[Int64Array] = []

    if np.any(dense & (quotas > 0)):
        d = np.flatnonzero(dense & (quotas > 0))
        counts = capacity[d]
        offsets = np.cumsum(counts) - counts
        owner = np.repeat(np.arange(d.shape[0]), counts)
        local = np.arange(int(counts.sum()), dtype=np.int64) - offsets[owner]
        j, i = _decode_pair_index(local)
        base = starts[d][owner]
        universe = (base + j) * n + (base + i)
        parts.append(_choose_enumerated(n, universe, owner, quotas[d], rng))

    sparse = np.flatnonzero(~dense & (quotas > 0))
    if sparse.shape[0]:
        s_start, s_size = starts[sparse], sizes[sparse]

        def draw(groups: Int64Array, counts: Int64Array) -> Int64Array:
            which = np.repeat(groups, counts)
            size, first = s_size[which], s_start[which]
            a = rng.integers(0, size)
            b = rng.integers(0, size)
            ok = a != b
            lo = first[ok] + np.minimum(a[ok], b[ok])
            hi = first[ok] + np.maximum(a[ok], b[ok])
            return lo * n + hi

        def group_of(keys: Int64Array) -> Int64Array:
            return np.searchsorted(s_start, keys // n, side="right") - 1

        acceptance = 1.0 - 1.0 / s_size.astype(np.float64)
        parts.append(
            _distinct_pairs(
                n,
                quotas[sparse],
                capacity[sparse].astype(np.float64),
                acceptance,
                draw,
                group_of,
                rng,
            )
        )
    if not parts:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.concatenate(parts))


def _keys_to_pairs(keys: Int64Array, n: int) -> tuple[Int64Array, Int64Array]:
    lo = keys // n
    return lo, keys - lo * n


def erdos_renyi_graph(n: int, mean_degree: float, rng: np.random.Generator) -> SocialGraph:
    """Uniform random graph G(n, M) with exactly ``M = round(n · mean_degree / 2)`` edges.

    Every set of M distinct pairs is equally likely, so degrees are nearly Poisson with mean
    ``2M / n``. Candidate pairs are drawn in vectorised batches, self loops and duplicates are
    dropped and the remainder is topped up; above half of all possible pairs the pairs are
    enumerated and a random M chosen instead.

    Args:
        n: Number of nodes.
        mean_degree: Target mean degree (edges per node × 2), at most ``n - 1``.
        rng: Source of randomness.

    Complexity: O(n + M log M) time, about 40 bytes per edge of peak memory.
    """
    n = check_n(n)
    if not math.isfinite(mean_degree) or not 0.0 <= mean_degree <= n - 1:
        raise ValueError(f"mean_degree must be in [0, n - 1 = {n - 1}]; got {mean_degree}")
    m_edges = min(round(n * mean_degree / 2.0), n * (n - 1) // 2)
    keys = _block_pairs(n, np.zeros(1, np.int64), np.array([n], np.int64), np.array([m_edges], np.int64), rng)
    lo, hi = _keys_to_pairs(keys, n)
    return from_pairs(n, lo, hi)


def _block_layout(n: int, n_blocks: int) -> tuple[Int64Array, Int64Array]:
    """Starts and sizes of ``n_blocks`` contiguous blocks whose sizes differ by at most one."""
    sizes = np.full(n_blocks, n // n_blocks, dtype=np.int64)
    sizes[: n % n_blocks] += 1
    starts = np.cumsum(sizes) - sizes
    return starts, sizes


def community_graph(
    n: int,
    n_communities: int,
    mean_degree_within: float,
    mean_degree_between: float,
    rng: np.random.Generator,
) -> SocialGraph:
    """Stochastic block model with equal-sized communities.

    Community ``b`` is the contiguous node range of its block; sizes differ by at most one (the
    first ``n % n_communities`` blocks are one larger). Each block is a G(n_b, M_b) random graph
    with ``M_b = round(n_b · mean_degree_within / 2)``; on top, exactly
    ``round(n · mean_degree_between / 2)`` distinct pairs whose ends lie in different blocks are
    linked uniformly at random. No self loops or duplicates.

    Args:
        n: Number of nodes.
        n_communities: Number of communities (blocks), at most n.
        mean_degree_within: Mean neighbours inside one's own community.
        mean_degree_between: Mean neighbours in other communities.
        rng: Source of randomness.

    Returns:
        The graph with ``community`` set to each node's block number (int32).

    Complexity: O(n + E log E) time, vectorised across blocks (no loop over blocks).
    """
    n = check_n(n)
    if not 1 <= n_communities <= n:
        raise ValueError(f"n_communities must be in [1, n = {n}]; got {n_communities}")
    starts, sizes = _block_layout(n, n_communities)
    small = int(sizes.min())
    if not math.isfinite(mean_degree_within) or not 0.0 <= mean_degree_within <= small - 1:
        raise ValueError(
            f"mean_degree_within must be in [0, smallest community size - 1 = {small - 1}]; "
            f"got {mean_degree_within}"
        )
    quotas = np.minimum(
        np.rint(sizes * (mean_degree_within / 2.0)).astype(np.int64), sizes * (sizes - 1) // 2
    )
    within = _block_pairs(n, starts, sizes, quotas, rng)

    between_capacity = n * (n - 1) // 2 - int((sizes * (sizes - 1) // 2).sum())
    m_between = round(n * mean_degree_between / 2.0)
    if not math.isfinite(mean_degree_between) or mean_degree_between < 0.0 or (m_between > between_capacity):
        raise ValueError(
            f"mean_degree_between must be in [0, {2 * between_capacity / n:.6g}] for these "
            f"communities; got {mean_degree_between}"
        )
    between = _between_pairs(n, starts, sizes, m_between, between_capacity, rng)
    keys = np.concatenate([within, between])
    lo, hi = _keys_to_pairs(keys, n)
    labels = np.repeat(np.arange(n_communities, dtype=np.int32), sizes)
    labels.setflags(write=False)
    return from_pairs(n, lo, hi, labels)


def _between_pairs(
    n: int,
    starts: Int64Array,
    sizes: Int64Array,
    m_between: int,
    capacity: int,
    rng: np.random.Generator,
) -> Int64Array:
    """Exactly ``m_between`` distinct uniform pairs whose ends lie in different blocks."""
    if m_between == 0:
        return np.empty(0, dtype=np.int64)
    ends = starts + sizes
    block_of_node = np.repeat(np.arange(sizes.shape[0]), sizes)
    if 2 * m_between > capacity:
        # Dense: enumerate every (u, v) with v beyond the end of u's block, choose m_between.
        counts = n - ends[block_of_node]
        owner = np.repeat(np.arange(n, dtype=np.int64), counts)
        offsets = np.cumsum(counts) - counts
        v = ends[block_of_node][owner] + (np.arange(owner.shape[0]) - offsets[owner])
        universe = owner * n + v
        return _choose_enumerated(n, universe, np.zeros_like(universe), np.array([m_between]), rng)

    share_same = float(((sizes / n) ** 2).sum())

    def draw(groups: Int64Array, counts: Int64Array) -> Int64Array:
        # asarray: numpy < 2.5's stubs type integers(size=int) as a scalar
        a = np.asarray(rng.integers(0, n, size=int(counts.sum())), dtype=np.int64)
        b = np.asarray(rng.integers(0, n, size=a.shape[0]), dtype=np.int64)
        ok = block_of_node[a] != block_of_node[b]
        lo, hi = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
        return lo * n + hi

    def group_of(keys: Int64Array) -> Int64Array:
        return np.zeros(keys.shape[0], dtype=np.int64)

    return _distinct_pairs(
        n,
        np.array([m_between], dtype=np.int64),
        np.array([float(capacity)]),
        np.array([1.0 - share_same]),
        draw,
        group_of,
        rng,
    )


# ----------------------------------------------------------------------- Watts–Strogatz


def watts_strogatz_graph(n: int, k: int, p_rewire: float, rng: np.random.Generator) -> SocialGraph:
    """Small-world graph: a ring lattice with each edge's far end rewired with probability p.

    Same model as ``networkx.watts_strogatz_graph``: node ``u`` is linked to ``u + 1 .. u + k/2``
    (mod n); each such lattice edge ``(u, v)`` is, with probability ``p_rewire``, replaced by
    ``(u, w)`` with ``w`` uniform among nodes that are neither ``u`` nor already linked to it.
    Rewiring is done in vectorised rounds: conflicting candidates (self loops, existing edges,
    two rewirings onto the same pair) are redrawn; an edge still unplaced after 64 rounds keeps
    its lattice end, like networkx when a node is linked to everyone. Candidates are checked
    against all lattice edges, including ones already rewired away, a negligible O(k/n)
    difference from networkx's sequential order. The edge count stays exactly ``n · k / 2``.

    Args:
        n: Number of nodes.
        k: Lattice degree, even, less than n.
        p_rewire: Probability that each lattice edge is rewired, in [0, 1].
        rng: Source of randomness.

    Complexity: O(n k log(n k)) time, about 50 bytes per edge of peak memory.
    """
    n = check_n(n)
    if k < 0 or k % 2 or k >= n:
        raise ValueError(f"k must be even, at least 0 and less than n = {n}; got {k}")
    if not 0.0 <= p_rewire <= 1.0:
        raise ValueError(f"p_rewire must be in [0, 1]; got {p_rewire}")
    half = k // 2
    nodes = np.arange(n, dtype=np.int64)
    # Edge order as in networkx: all (u, u+1), then all (u, u+2), ...
    u = np.tile(nodes, half)
    v = (u + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n
    lattice = np.sort(np.minimum(u, v) * n + np.maximum(u, v))
    placed = np.empty(0, dtype=np.int64)  # sorted keys of accepted rewired edges
    pending = np.flatnonzero(rng.random(u.shape[0]) < p_rewire)
    for _ in range(64):
        if pending.shape[0] == 0:
            break
        w = rng.integers(0, n, size=pending.shape[0])
        uu = u[pending]
        key = np.minimum(uu, w) * n + np.maximum(uu, w)
        bad = (w == uu) | _member(key, lattice) | _member(key, placed)
        # Two candidates landing on the same new pair: the first (in edge order) wins.
        order = np.argsort(key, kind="stable")
        repeat = np.zeros(key.shape[0], dtype=bool)
        repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
        take = ~bad & ~repeat
        v[pending[take]] = w[take]
        new_keys = np.sort(key[take])
        placed = np.insert(placed, np.searchsorted(placed, new_keys), new_keys)
        pending = pending[~take]
    return from_pairs(n, np.minimum(u, v), np.maximum(u, v))


# ------------------------------------------------------------------------- Barabási–Albert


def barabasi_albert_graph(n: int, m: int, rng: np.random.Generator) -> SocialGraph:
    """Preferential-attachment graph, the same model as ``networkx.barabasi_albert_graph``.

    Start from a star on nodes ``0 .. m`` (node 0 the centre, m edges); each later node
    ``v = m+1 .. n-1`` links to m *distinct* earlier nodes, each drawn with probability
    proportional to its current degree and redrawn while it repeats one already chosen.
    The result has exactly ``m + (n - m - 1) · m`` edges, no self loops, no multi-edges.

    Method (Batagelj & Brandes 2005, vectorised): with edges listed in creation order, the
    endpoint list ``ends[2e] = src[e], ends[2e+1] = dst[e]`` holds every node once per unit of
    degree, so a uniform position ``r < 2 · first_edge(v)`` picks a node proportionally to its
    degree before ``v`` arrived. All positions are drawn at once; a position pointing at a still
    unknown ``dst`` is resolved by pointer jumping (O(log depth) vectorised rounds). Repeated
    targets are then redrawn in rounds. A redraw changes an edge's target and therefore every
    later target resolved through it, so a node's repeat is acted on only when none of its
    positions resolve through an edge being redrawn (found by a search of the reverse pointer
    index); others wait a round. This keeps the result exactly the sequential model's. The
    first few thousand edges, where repeats are frequent, are drawn sequentially.

    Args:
        n: Number of nodes.
        m: Edges per new node, ``1 <= m < n``.
        rng: Source of randomness.

    Complexity: O(n m log(n m)) time; peak memory about 60 bytes per edge, about 18 kept
    (1M nodes, m=5: ~1.5 s on 2 cores, ~300 MB transient, ~90 MB kept).
    """
    n = check_n(n)
    if not 1 <= m < n:
        raise ValueError(f"m must satisfy 1 <= m < n = {n}; got {m}")
    # Sequential warm-up: early nodes repeat targets often (node m+1 must pick m of m+1 nodes),
    # which would cost many vectorised rounds. ~m² nodes make repeats rare afterwards.
    n_sequential = max(1000, min(2 * m * m, 200_000 // m))
    return _barabasi_albert(n, m, rng, n_sequential)


def _barabasi_albert(n: int, m: int, rng: np.random.Generator, n_sequential: int) -> SocialGraph:
    """:func:`barabasi_albert_graph` with the first ``n_sequential`` new nodes drawn sequentially."""
    n_edges = m + (n - m - 1) * m
    src = np.empty(n_edges, dtype=np.int32)
    dst = np.empty(n_edges, dtype=np.int32)
    src[:m] = 0
    dst[:m] = np.arange(1, m + 1, dtype=np.int32)
    src[m:] = np.repeat(np.arange(m + 1, n, dtype=np.int32), m)
    n_seq = min(n - m - 1, n_sequential)
    e0 = m + n_seq * m
    _ba_sequential(dst, m, e0, rng)
    if e0 < n_edges:
        _BAResolver(src, dst, m, e0, rng).run()
    return from_pairs(n, dst, src)


def _ba_sequential(dst: Int32Array, m: int, e0: int, rng: np.random.Generator) -> None:
    """Fill ``dst[m:e0]`` exactly like networkx's loop (star already in ``dst[:m]``)."""
    ends: list[int] = [0] * (2 * e0)
    for e in range(m):
        ends[2 * e + 1] = e + 1
    uniforms: list[float] = []
    next_u = 0
    e = m
    v = m + 1
    while e < e0:
        limit = 2 * e
        chosen: list[int] = []
        seen: set[int] = set()
        while len(chosen) < m:
            if next_u == len(uniforms):
                uniforms = rng.random(4096).tolist()
                next_u = 0
            target = ends[min(int(uniforms[next_u] * limit), limit - 1)]
            next_u += 1
            if target not in seen:
                seen.add(target)
                chosen.append(target)
        for target in chosen:
            ends[2 * e] = v
            ends[2 * e + 1] = target
            dst[e] = target
            e += 1
        v += 1


def _jump(ptr: Int64Array) -> None:
    """Pointer jumping in place: afterwards every ``ptr[i]`` is the root (``ptr[r] == r``).

    Pointers must lead to roots without cycles. O(len · log(depth)); only unresolved entries are
    touched in later rounds.
    """
    active = np.flatnonzero(ptr != np.arange(ptr.shape[0]))
    while active.shape[0]:
        p = ptr[active]
        pp = ptr[p]
        ptr[active] = pp
        active = active[ptr[pp] != pp]


def _ranges(starts: Int64Array, stops: Int64Array) -> Int64Array:
    """Concatenation of ``arange(starts[i], stops[i])`` for all i, vectorised."""
    lens = stops - starts
    offsets = np.cumsum(lens) - lens
    return np.arange(int(lens.sum()), dtype=np.int64) + np.repeat(starts - offsets, lens)


class _BAResolver:
    """The vectorised part of :func:`barabasi_albert_graph`: edges ``e0 ..`` of the list."""

    def __init__(self, src: Int32Array, dst: Int32Array, m: int, e0: int, rng: np.random.Generator) -> None:
        self.src, self.dst, self.m, self.e0, self.rng = src, dst, m, e0, rng
        self.size = src.shape[0] - e0
        edge = np.arange(e0, src.shape[0], dtype=np.int64)
        # Position in the endpoint list, uniform below 2 * (first edge of the edge's node).
        self.r = rng.integers(0, 2 * self._first_edge(edge))
        # Reverse pointers (who resolves through whose dst), built only if a repeat occurs.
        self.child_parent: Int64Array | None = None
        self.child: Int64Array = np.empty(0, dtype=np.int64)
        self.redrawn = np.empty(0, dtype=np.int64)  # local ids whose r changed since

    def _first_edge(self, edge: Int64Array) -> Int64Array:
        m = self.m
        return m + ((edge - m) // m) * m

    def run(self) -> None:
        e0 = self.e0
        self._resolve(None)
        rows: Int64Array | None = None  # rows (new nodes, local) to check; None = all
        for _ in range(100_000):
            slots = self._repeated_slots(rows)
            if slots.shape[0] == 0:
                return
            below = self._descendants(slots)
            slot_rows = slots // self.m
            waiting = _member(slot_rows, unique_sorted(below // self.m))
            redraw = slots[~waiting]
            self.r[redraw] = self.rng.integers(0, 2 * self._first_edge(redraw + e0))
            self.redrawn = unique_sorted(np.concatenate([self.redrawn, redraw]))
            changed = unique_sorted(np.concatenate([redraw, below]))
            self._resolve(changed)
            rows = unique_sorted(changed // self.m)
        raise RuntimeError("barabasi_albert_graph: repeated targets did not settle")

    def _resolve(self, local: Int64Array | None) -> None:
        """Recompute ``dst`` for the given local edge ids (sorted), or for all of them."""
        e0, src, dst = self.e0, self.src, self.dst
        r = self.r if local is None else self.r[local]
        j = r >> 1
        odd = (r & 1).astype(bool)
        val = src[j]
        val[odd] = dst[j[odd]]  # stale where j itself is being resolved; fixed by the pointers
        count = r.shape[0]
        ptr = np.arange(count, dtype=np.int64)
        if local is None:
            chained = odd & (j >= e0)
            ptr[chained] = j[chained] - e0
            if self.m > 1:
                self._index(j, chained)
        else:
            pos = np.minimum(np.searchsorted(local, j - e0), count - 1)
            chained = odd & (j >= e0) & (local[pos] == j - e0)
            ptr[chained] = pos[chained]
        _jump(ptr)
        if local is None:
            dst[e0:] = val[ptr]
        else:
            dst[local + e0] = val[ptr]

    def _index(self, j: Int64Array, chained: BoolArray) -> None:
        """Sorted (parent, child) pairs: child's position points at parent's dst."""
        child = np.flatnonzero(chained)
        parent = j[chained] - self.e0
        # One int64 sort of parent * size + child is much cheaper than an argsort.
        key = np.sort(parent * self.size + child)
        self.child_parent = key // self.size
        self.child = key - self.child_parent * self.size

    def _repeated_slots(self, rows: Int64Array | None) -> Int64Array:
        """Local edge ids repeating an earlier target of the same node (first one kept)."""
        m = self.m
        table = self.dst[self.e0 :].reshape(-1, m)
        if rows is not None:
            table = table[rows]
        if m <= 8:
            repeated = np.zeros(table.shape, dtype=bool)
            for b in range(1, m):
                for a in range(b):
                    repeated[:, b] |= table[:, b] == table[:, a]
        else:
            order = np.argsort(table, axis=1, kind="stable")
            ordered = np.take_along_axis(table, order, axis=1)
            same = ordered[:, 1:] == ordered[:, :-1]
            repeated = np.zeros(table.shape, dtype=bool)
            np.put_along_axis(repeated, order[:, 1:], same, axis=1)
        row, col = np.nonzero(repeated)
        base = row if rows is None else rows[row]
        return np.sort(base.astype(np.int64) * m + col)

    def _descendants(self, roots: Int64Array) -> Int64Array:
        """Local edges whose position resolves through the dst of any root (roots excluded)."""
        if self.child_parent is None:
            return np.empty(0, dtype=np.int64)
        e0, r = self.e0, self.r
        # Edges redrawn earlier point somewhere new: index their current pointers separately.
        pr = r[self.redrawn]
        moved = ((pr & 1) == 1) & ((pr >> 1) >= e0)
        patch_order = np.argsort((pr >> 1)[moved])
        patch_parent = ((pr >> 1)[moved] - e0)[patch_order]
        patch_child = self.redrawn[moved][patch_order]
        found: list[Int64Array] = []
        frontier = roots
        while frontier.shape[0]:
            lo = np.searchsorted(self.child_parent, frontier, side="left")
            hi = np.searchsorted(self.child_parent, frontier, side="right")
            kids = self.child[_ranges(lo, hi)]
            parents = np.repeat(frontier, hi - lo)
            kids = kids[r[kids] == 2 * (parents + e0) + 1]  # drop pointers since redrawn
            plo = np.searchsorted(patch_parent, frontier, side="left")
            phi = np.searchsorted(patch_parent, frontier, side="right")
            kids = unique_sorted(np.concatenate([kids, patch_child[_ranges(plo, phi)]]))
            found.append(kids)
            frontier = kids
        return unique_sorted(np.concatenate(found))
