"""The social graph: who can pass the brand to whom.

A :class:`SocialGraph` stores an undirected simple graph on nodes ``0 .. n-1`` in CSR form
(``indptr`` int64 of length ``n + 1``, ``indices`` int32 holding *both* directions of every edge,
sorted within each row). The complete graph is implicit: no arrays at all, so the Bass-style
"everyone knows everyone" market costs O(n) memory instead of O(n²).

The generators are vectorised with NumPy (no Python loop over nodes or edges, except a short
sequential warm-up in :func:`barabasi_albert_graph`): networkx's own generators take minutes at the
million-node scale the simulator targets, while these take seconds. They reproduce networkx's
*models* (the same distribution over graphs), not its random streams.

Memory: about ``8 n + 8 E`` bytes for the CSR arrays of a graph with ``E`` edges, plus the cached
float32 adjacency matrix behind the neighbour counts (another ``8 E`` bytes of ones; it shares the
``indices`` array). A float64 copy of the ones (``16 E`` bytes) is added on the first
:meth:`SocialGraph.sum_over_neighbours` over a dense vector.
"""

from __future__ import annotations

import csv
import io
import math
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from sim.scenario import (
    BarabasiAlbertSpec,
    CommunitySpec,
    CompleteGraphSpec,
    EdgeListSpec,
    ErdosRenyiSpec,
    WattsStrogatzSpec,
)

if TYPE_CHECKING:
    import networkx as nx

    from sim.scenario import NetworkSpec

__all__ = [
    "MAX_DRAWABLE_NODES",
    "EdgeListError",
    "SocialGraph",
    "barabasi_albert_graph",
    "build_graph",
    "community_graph",
    "complete_graph",
    "erdos_renyi_graph",
    "graph_from_edges",
    "read_edge_list",
    "watts_strogatz_graph",
]

#: Largest graph :meth:`SocialGraph.to_networkx` converts by default, and the largest complete
#: graph whose :attr:`SocialGraph.adjacency` is materialised (n² entries: 5000 nodes ≈ 100 MB).
MAX_DRAWABLE_NODES = 5000

# Node ids are stored as int32, so n must fit (and leave room for n itself as a bound).
_MAX_NODES = 2**31 - 1
# Counts in a float32 mat-vec are exact only up to 2**24; above that degree we use float64.
_FLOAT32_EXACT = 2**24
# A neighbour sum over a sparse support (few True/non-zero entries) is cheaper as a scatter
# (bincount over the neighbours of the support) than as a full mat-vec over all 2E entries.
_SCATTER_SHARE = 8

Int64Array = NDArray[np.int64]
Int32Array = NDArray[np.int32]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


# ----------------------------------------------------------------------------------- errors


class EdgeListError(ValueError):
    """Problems in an edge-list file.

    Attributes:
        problems: ``(line_number, message)`` pairs, 1-based line numbers; line 0 is about the
            file as a whole (missing, unreadable). At most :attr:`MAX_STORED` are kept.
        n_problems: How many problems were found in total (may exceed ``len(problems)``).
        path: The file, as given.

    ``str(err)`` lists one problem per line (``edges.csv line 7: expected two integer node ids,
    got 'a b c'``), at most :attr:`MAX_SHOWN` of them followed by ``... and N more``.
    """

    MAX_SHOWN = 20
    MAX_STORED = 1000

    def __init__(
        self,
        problems: Sequence[tuple[int, str]],
        path: str | Path | None = None,
        n_problems: int | None = None,
    ) -> None:
        """Build the error from ``(line_number, message)`` pairs found in ``path``."""
        self.problems: list[tuple[int, str]] = [(int(ln), str(msg)) for ln, msg in problems]
        self.path = None if path is None else str(path)
        self.n_problems = max(n_problems or 0, len(self.problems))
        name = Path(self.path).name if self.path else "edge list"
        lines = [
            f"{name} line {ln}: {msg}" if ln > 0 else f"{name}: {msg}"
            for ln, msg in self.problems[: self.MAX_SHOWN]
        ]
        more = self.n_problems - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by constructor arguments (errors cross process boundaries in sweeps)."""
        return (type(self), (self.problems, self.path, self.n_problems))


# ------------------------------------------------------------------------------------ graph


@dataclass(frozen=True, eq=False, repr=False)
class SocialGraph:
    """An undirected simple graph on nodes ``0 .. n-1``, stored as CSR arrays.

    Build one with the generators in this module rather than by hand; they guarantee the
    invariants below (which the constructor checks only cheaply, in O(1)).

    Attributes:
        n: Number of nodes (people).
        indptr: int64, length ``n + 1``; row ``i``'s neighbours are
            ``indices[indptr[i]:indptr[i + 1]]``. ``None`` for the complete graph.
        indices: int32 neighbour ids, both directions of every edge stored, sorted within each
            row, no self loops, no duplicates. ``None`` for the complete graph.
        community: Community label per node (int32), or ``None`` when the graph has none.
        complete: ``True`` for the implicit complete graph (every pair linked, no arrays).

    Equality is identity (graphs are large; compare their arrays explicitly if needed). The
    arrays are read-only once built by this module. Derived data (degrees, sparse matrices)
    are computed on first use and cached on the instance.
    """

    n: int
    indptr: Int64Array | None
    indices: Int32Array | None
    community: Int32Array | None = None
    complete: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False)

    def __post_init__(self) -> None:
        """Check shapes and dtypes (O(1); contents are the builders' responsibility)."""
        n = _check_n(self.n)
        if self.complete:
            if self.indptr is not None or self.indices is not None:
                raise ValueError("a complete SocialGraph stores no indptr/indices; pass None")
        else:
            if self.indptr is None or self.indices is None:
                raise ValueError("indptr and indices are required unless complete=True")
            if self.indptr.shape != (n + 1,) or self.indptr.dtype != np.int64:
                raise ValueError(f"indptr must be int64 of length n + 1 = {n + 1}")
            if self.indices.ndim != 1 or self.indices.dtype != np.int32:
                raise ValueError("indices must be a 1-D int32 array")
            if self.indptr[0] != 0 or self.indptr[-1] != self.indices.shape[0]:
                raise ValueError("indptr must start at 0 and end at len(indices)")
            if self.indices.shape[0] % 2:
                raise ValueError("indices must hold both directions of every edge (even length)")
        if self.community is not None and self.community.shape != (n,):
            raise ValueError(f"community must have one label per node (length {n})")

    def __repr__(self) -> str:
        """Short description (the arrays are far too long to print)."""
        kind = "complete" if self.complete else "csr"
        groups = "" if self.community is None else f", communities={int(self.community.max()) + 1}"
        return f"SocialGraph(n={self.n}, n_edges={self.n_edges}, {kind}{groups})"

    # ------------------------------------------------------------------------ basic measures

    @property
    def degree(self) -> Int64Array:
        """Number of neighbours of each node (int64, length n, read-only; cached, O(n) once)."""
        deg: Int64Array | None = self._cache.get("degree")
        if deg is None:
            deg = np.full(self.n, self.n - 1, dtype=np.int64) if self.complete else np.diff(self._csr()[0])
            deg.setflags(write=False)
            self._cache["degree"] = deg
        return deg

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (O(1))."""
        if self.complete:
            return self.n * (self.n - 1) // 2
        return self._csr()[1].shape[0] // 2

    @property
    def mean_degree(self) -> float:
        """Mean number of neighbours per node, ``2 · n_edges / n`` (O(1))."""
        return 2.0 * self.n_edges / self.n

    @property
    def max_degree(self) -> int:
        """Largest degree (O(n) once, then cached)."""
        if self.complete:
            return self.n - 1
        if "max_degree" not in self._cache:
            self._cache["max_degree"] = int(self.degree.max())
        return int(self._cache["max_degree"])

    def neighbours(self, node: int) -> NDArray[np.integer[Any]]:
        """Neighbour ids of one node, sorted ascending.

        Returns a read-only view into :attr:`indices` (O(1)); for the complete graph a fresh
        int64 array of the other ``n - 1`` nodes (O(n)).
        """
        i = self._check_node(node)
        if self.complete:
            return np.delete(np.arange(self.n, dtype=np.int64), i)
        indptr, indices = self._csr()
        return indices[indptr[i] : indptr[i + 1]]

    # ------------------------------------------------------------------- neighbour aggregates

    def count_neighbours_in(self, mask: ArrayLike) -> FloatArray:
        """For each node, how many of its neighbours have ``mask`` True.

        Args:
            mask: Boolean array of length n (other dtypes are cast with ``astype(bool)``).

        Returns:
            float64 array of length n (whole numbers).

        Complexity: O(n + E) as a sparse mat-vec (float32, exact below 2**24 per node); when the
        True nodes' degrees sum to less than 1/8 of the 2E stored entries, a scatter over just
        their neighbours is used instead (O(n + their degrees)). Complete graph: O(n), no arrays.
        """
        m = self._as_vector(mask, "mask").astype(bool, copy=False)
        if self.complete:
            return float(np.count_nonzero(m)) - m.astype(np.float64)
        support = np.flatnonzero(m)
        if self._support_is_sparse(support):
            hits = self._scatter(support, None)
            return hits.astype(np.float64, copy=False)
        if self.max_degree < _FLOAT32_EXACT:
            counts = self._matrix(np.float32) @ m.astype(np.float32)
            return np.asarray(counts, dtype=np.float64)
        return np.asarray(self._matrix(np.float64) @ m.astype(np.float64), dtype=np.float64)

    def sum_over_neighbours(self, values: ArrayLike) -> FloatArray:
        """For each node, the sum of ``values`` over its neighbours.

        Args:
            values: float array of length n (one value per node).

        Returns:
            float64 array of length n.

        Complexity: O(n + E) as a float64 sparse mat-vec, or a scatter over the neighbours of the
        non-zero entries when those are few (see :meth:`count_neighbours_in`). Complete graph:
        ``values.sum() - values``, O(n).
        """
        x = self._as_vector(values, "values").astype(np.float64, copy=False)
        if self.complete:
            return x.sum() - x
        support = np.flatnonzero(x)
        if self._support_is_sparse(support):
            return self._scatter(support, x[support])
        return np.asarray(self._matrix(np.float64) @ x, dtype=np.float64)

    # ----------------------------------------------------------------------- random choices

    def pick_neighbour(
        self,
        nodes: ArrayLike,
        eligible: ArrayLike,
        weights: ArrayLike | None,
        uniforms: ArrayLike,
    ) -> Int64Array:
        """For each node in ``nodes``, choose one eligible neighbour, weighted.

        Neighbour ``j`` of node ``i`` is chosen with probability ``weights[j] / Σ weights`` over
        ``i``'s neighbours with ``eligible`` True (uniformly among them when ``weights`` is
        None). The only randomness is ``uniforms``: results are reproducible and the caller
        owns the random stream.

        Args:
            nodes: int array of node ids (repeats allowed).
            eligible: bool array of length n; only these nodes may be chosen.
            weights: non-negative float array of length n, or None for uniform weights.
                Zero-weight neighbours are never chosen.
            uniforms: floats in [0, 1), one per entry of ``nodes``.

        Returns:
            int64 array like ``nodes``: the chosen neighbour, or -1 where a node has no
            eligible neighbour with positive weight.

        Complexity: O(len(nodes) + Σ deg(nodes)) time and memory (their CSR slices are gathered,
        a cumulative weight is binary-searched). Complete graph: O(n + len(nodes) log n); the
        node itself is never chosen.
        """
        who = np.asarray(nodes)
        if who.ndim != 1 or (who.size and who.dtype.kind not in "iu"):
            raise ValueError("nodes must be a 1-D integer array")
        who = who.astype(np.int64, copy=False)
        if who.size and (who.min() < 0 or who.max() >= self.n):
            raise ValueError(f"nodes must be ids in [0, {self.n})")
        u = np.asarray(uniforms, dtype=np.float64)
        if u.shape != who.shape:
            raise ValueError("uniforms must have one value per entry of nodes")
        if u.size and (u.min() < 0.0 or u.max() >= 1.0):
            raise ValueError("uniforms must lie in [0, 1)")
        ok = self._as_vector(eligible, "eligible").astype(bool, copy=False)
        if weights is None:
            w_node = ok.astype(np.float64)
        else:
            w = self._as_vector(weights, "weights").astype(np.float64, copy=False)
            if not np.all(w >= 0.0) or not np.all(np.isfinite(w)):
                raise ValueError("weights must be finite and non-negative")
            w_node = np.where(ok, w, 0.0)
        if self.complete:
            return _pick_complete(who, w_node, u)
        return self._pick_csr(who, w_node, u)

    def _pick_csr(self, who: Int64Array, w_node: FloatArray, u: FloatArray) -> Int64Array:
        indptr, indices = self._csr()
        out = np.full(who.shape[0], -1, dtype=np.int64)
        pos, lens, offsets = _slices(indptr, who)
        if pos.size == 0:
            return out
        nbr = indices[pos]
        w = w_node[nbr]
        # One cumulative sum over all gathered slices; a group's slice of it is offset by the
        # sum of the groups before, so each search targets base + u * group_total.
        cum = np.cumsum(w)
        cum0 = np.concatenate(([0.0], cum))
        ends = offsets + lens
        base = cum0[offsets]
        total = cum0[ends] - base
        has = total > 0.0
        if not has.any():
            return out
        target = base[has] + u[has] * total[has]
        # side="right" finds the first entry whose cumulative weight exceeds the target, which
        # is always a positive-weight entry; rounding can only push past the group's end.
        idx = np.searchsorted(cum, target, side="right")
        positive = np.where(w > 0.0, np.arange(w.shape[0]), -1)
        nonempty = lens > 0
        last = np.full(who.shape[0], -1, dtype=np.int64)
        last[nonempty] = np.maximum.reduceat(positive, offsets[nonempty])
        idx = np.minimum(idx, last[has])
        out[has] = nbr[idx]
        return out

    # ------------------------------------------------------------------------ conversions

    @property
    def adjacency(self) -> sp.csr_array:
        """The n × n adjacency matrix as a scipy CSR array of float32 ones (cached).

        Symmetric, no diagonal. For the complete graph it is materialised only up to
        :data:`MAX_DRAWABLE_NODES` nodes (n² entries); above that a ValueError is raised, since
        the point of the implicit complete graph is never to hold those entries.
        """
        if self.complete and self.n > MAX_DRAWABLE_NODES:
            raise ValueError(
                f"the complete graph on {self.n} nodes has {self.n_edges} edges and is stored "
                f"implicitly; its adjacency matrix is only built up to {MAX_DRAWABLE_NODES} nodes"
            )
        return self._matrix(np.float32)

    def to_networkx(self, max_nodes: int = MAX_DRAWABLE_NODES) -> nx.Graph:
        """Convert to a ``networkx.Graph`` (for drawing small graphs and for tests).

        Nodes are ``0 .. n-1``; when the graph has communities each node gets a ``community``
        attribute. Raises ValueError above ``max_nodes`` nodes (networkx holds ~1 KB per edge).
        Complexity: O(n + E) Python objects.
        """
        import networkx as nx  # deferred: slow to import and only needed for small graphs

        if self.n > max_nodes:
            raise ValueError(
                f"the graph has {self.n} nodes; to_networkx converts at most max_nodes = "
                f"{max_nodes} (raise max_nodes deliberately for larger graphs)"
            )
        graph: nx.Graph = nx.complete_graph(self.n) if self.complete else nx.empty_graph(self.n)
        if not self.complete:
            indptr, indices = self._csr()
            rows = np.repeat(np.arange(self.n), np.diff(indptr))
            upper = rows < indices
            graph.add_edges_from(zip(rows[upper].tolist(), indices[upper].tolist(), strict=True))
        if self.community is not None:
            labels = self.community.tolist()
            nx.set_node_attributes(graph, dict(enumerate(labels)), "community")
        return graph

    # ---------------------------------------------------------------------------- internals

    def _csr(self) -> tuple[Int64Array, Int32Array]:
        if self.indptr is None or self.indices is None:
            raise ValueError("the complete graph has no CSR arrays")
        return self.indptr, self.indices

    def _check_node(self, node: int) -> int:
        i = int(node)
        if not 0 <= i < self.n:
            raise ValueError(f"node must be in [0, {self.n}); got {node}")
        return i

    def _as_vector(self, values: ArrayLike, name: str) -> NDArray[Any]:
        arr = np.asarray(values)
        if arr.shape != (self.n,):
            raise ValueError(f"{name} must have one entry per node (shape ({self.n},)); got {arr.shape}")
        return arr

    def _support_is_sparse(self, support: Int64Array) -> bool:
        work = int(self.degree[support].sum())
        return work * _SCATTER_SHARE < self._csr()[1].shape[0]

    def _scatter(self, support: Int64Array, values: FloatArray | None) -> FloatArray:
        # The graph is symmetric, so "sum over my neighbours" equals "what my neighbours send
        # me": scatter each supported node's value onto its neighbours.
        indptr, indices = self._csr()
        pos, lens, _ = _slices(indptr, support)
        weights = None if values is None else np.repeat(values, lens)
        return np.bincount(indices[pos], weights=weights, minlength=self.n).astype(np.float64)

    def _matrix(self, dtype: type[np.float32] | type[np.float64]) -> sp.csr_array:
        key = f"matrix_{np.dtype(dtype).name}"
        matrix: sp.csr_array | None = self._cache.get(key)
        if matrix is None:
            if self.complete:
                dense = np.ones((self.n, self.n), dtype=dtype)
                np.fill_diagonal(dense, 0)
                matrix = sp.csr_array(dense)
            else:
                indptr, indices = self._csr()
                data = np.ones(indices.shape[0], dtype=dtype)
                # scipy gives both index arrays one dtype: hand it an int32 indptr so that it
                # shares the int32 `indices` instead of copying them to int64.
                if indices.shape[0] < 2**31:
                    indptr = indptr.astype(np.int32)
                matrix = sp.csr_array((data, indices, indptr), shape=(self.n, self.n))
                matrix.has_canonical_format = True
            self._cache[key] = matrix
        return matrix


def _pick_complete(who: Int64Array, w_node: FloatArray, u: FloatArray) -> Int64Array:
    """``pick_neighbour`` on the complete graph: a global cumulative sum with ``who`` cut out."""
    out = np.full(who.shape[0], -1, dtype=np.int64)
    cum = np.cumsum(w_node)
    cum0 = np.concatenate(([0.0], cum))
    wi = w_node[who]
    total = cum[-1] - wi  # exact 0.0 when `who` is the only positive weight (sum of zeros)
    has = total > 0.0
    if not has.any():
        return out
    i, wi, target = who[has], wi[has], u[has] * total[has]
    before = cum0[i]  # weight of nodes < i
    low = target < before
    # Below i: search the plain cumulative sum. From i on: skip i's own weight by searching from
    # cum[i] onwards, which can only land strictly after i.
    shifted = cum[i] + (target - before)
    idx = np.where(
        low, np.searchsorted(cum, target, side="right"), np.searchsorted(cum, shifted, side="right")
    )
    # Rounding can push past the end; fall back to the last positive-weight node other than i.
    positive = np.flatnonzero(w_node > 0.0)
    last = positive[-1]
    second = positive[-2] if positive.shape[0] > 1 else -1
    fallback = np.where(i == last, second, last)
    idx = np.where(idx >= w_node.shape[0], fallback, idx)
    out[has] = idx
    return out


def _slices(indptr: Int64Array, nodes: Int64Array) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Positions in ``indices`` of the concatenated CSR rows of ``nodes``.

    Returns ``(positions, lengths, offsets)``: row ``nodes[g]`` occupies
    ``positions[offsets[g] : offsets[g] + lengths[g]]``. O(len(nodes) + Σ lengths), no loop.
    """
    starts = indptr[nodes]
    lens = indptr[nodes + 1] - starts
    offsets = np.cumsum(lens) - lens
    total = int(lens.sum()) if lens.size else 0
    pos = np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, lens)
    return pos, lens, offsets


# ------------------------------------------------------------------------------ construction


def _check_n(n: int) -> int:
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise ValueError(f"n must be a whole number; got {n!r}") from None
    if value != n or not 1 <= value <= _MAX_NODES:
        raise ValueError(f"n must be a whole number in [1, {_MAX_NODES}]; got {n!r}")
    return value


def _unique_sorted(values: NDArray[Any]) -> NDArray[Any]:
    """Sorted distinct values (np.unique is far slower here: it hashes before sorting)."""
    ordered = np.sort(values)
    if ordered.shape[0] < 2:
        return ordered
    keep = np.empty(ordered.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _from_pairs(
    n: int, lo: NDArray[Any], hi: NDArray[Any], community: Int32Array | None = None
) -> SocialGraph:
    """Build the graph from loop-free pairs (duplicates, in either orientation, are merged).

    Complexity: O(n + E log d) time via scipy's coo→csr counting sort plus per-row sorts
    (faster than two full int64 sorts at 10M entries), about 30 bytes per edge of peak memory.
    """
    rows = np.concatenate([lo, hi]).astype(np.int32, copy=False)
    cols = np.concatenate([hi, lo]).astype(np.int32, copy=False)
    del lo, hi
    data = np.ones(rows.shape[0], dtype=np.float32)
    matrix = sp.coo_array((data, (rows, cols)), shape=(n, n)).tocsr()  # sums duplicates
    del rows, cols, data
    matrix.sum_duplicates()
    indptr = matrix.indptr.astype(np.int64)
    indices = matrix.indices.astype(np.int32, copy=False)
    indptr.setflags(write=False)
    indices.setflags(write=False)
    graph = SocialGraph(n=n, indptr=indptr, indices=indices, community=community)
    # The coo→csr matrix is exactly the float32 adjacency count_neighbours_in needs (once its
    # summed duplicates are reset to 1): keep it, sharing `indices`, instead of rebuilding it.
    matrix.data[:] = 1.0
    graph._cache["matrix_float32"] = matrix
    return graph


def graph_from_edges(
    n: int,
    src: ArrayLike,
    dst: ArrayLike,
    community: ArrayLike | None = None,
) -> SocialGraph:
    """Build a graph from an edge list.

    Edges are undirected: ``(u, v)`` and ``(v, u)`` are the same edge. Duplicates are merged and
    self loops dropped silently.

    Args:
        n: Number of nodes; ids must lie in ``[0, n)``.
        src: Integer array of one endpoint per edge.
        dst: Integer array of the other endpoint, same length as ``src``.
        community: Optional integer label per node (length n).

    Returns:
        The graph, with symmetric sorted CSR rows (int32 indices, int64 indptr).

    Complexity: O(n + E log d) time, about 30 bytes per edge of peak memory.
    """
    n = _check_n(n)
    u = np.asarray(src)
    v = np.asarray(dst)
    if u.ndim != 1 or u.shape != v.shape:
        raise ValueError("src and dst must be 1-D arrays of the same length")
    for arr, name in ((u, "src"), (v, "dst")):
        if arr.size and arr.dtype.kind not in "iu":
            raise ValueError(f"{name} must hold integer node ids; got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValueError(f"{name} holds node ids outside [0, {n})")
    u = u.astype(np.int64, copy=False)
    v = v.astype(np.int64, copy=False)
    keep = u != v
    if not keep.all():
        u, v = u[keep], v[keep]
    labels = None
    if community is not None:
        labels = np.asarray(community)
        if labels.shape != (n,) or (labels.size and labels.dtype.kind not in "iu"):
            raise ValueError(f"community must be an integer array of length {n}")
        labels = labels.astype(np.int32)
        labels.setflags(write=False)
    return _from_pairs(n, u, v, labels)


def complete_graph(n: int) -> SocialGraph:
    """The complete graph on n nodes, stored implicitly (O(1) memory, no arrays)."""
    return SocialGraph(n=_check_n(n), indptr=None, indices=None, complete=True)


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
        keys = _unique_sorted(draw(active, counts))
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
    n = _check_n(n)
    if not math.isfinite(mean_degree) or not 0.0 <= mean_degree <= n - 1:
        raise ValueError(f"mean_degree must be in [0, n - 1 = {n - 1}]; got {mean_degree}")
    m_edges = min(round(n * mean_degree / 2.0), n * (n - 1) // 2)
    keys = _block_pairs(n, np.zeros(1, np.int64), np.array([n], np.int64), np.array([m_edges], np.int64), rng)
    lo, hi = _keys_to_pairs(keys, n)
    return _from_pairs(n, lo, hi)


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
    n = _check_n(n)
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
    return _from_pairs(n, lo, hi, labels)


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
        a = rng.integers(0, n, size=int(counts.sum()))
        b = rng.integers(0, n, size=a.shape[0])
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
    n = _check_n(n)
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
    return _from_pairs(n, np.minimum(u, v), np.maximum(u, v))


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
    n = _check_n(n)
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
    return _from_pairs(n, dst, src)


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
            waiting = _member(slot_rows, _unique_sorted(below // self.m))
            redraw = slots[~waiting]
            self.r[redraw] = self.rng.integers(0, 2 * self._first_edge(redraw + e0))
            self.redrawn = _unique_sorted(np.concatenate([self.redrawn, redraw]))
            changed = _unique_sorted(np.concatenate([redraw, below]))
            self._resolve(changed)
            rows = _unique_sorted(changed // self.m)
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
            kids = _unique_sorted(np.concatenate([kids, patch_child[_ranges(plo, phi)]]))
            found.append(kids)
            frontier = kids
        return _unique_sorted(np.concatenate(found))


# ------------------------------------------------------------------------------ edge lists

_SEPARATORS = bytes.maketrans(b",;\t\r\v\f", b"      ")
_TOKEN_SPLIT = re.compile(r"[,;\s]+")


def read_edge_list(path: str | Path, n: int) -> SocialGraph:
    """Read an undirected edge list: one pair of integer node ids per line.

    Format: ``u v``, ``u,v``, ``u;v`` or tab-separated (runs of separators count as one).
    ``#`` starts a comment (whole line or trailing); blank lines are skipped. The first
    non-comment line may be a header of two non-numeric names (``source,target``). Ids must be
    integers in ``[0, n)``. Duplicate edges (either orientation) are merged silently.

    Errors: every malformed line (wrong number of columns, non-integer id, id out of range,
    self loop) is collected with its 1-based line number and raised together as
    :class:`EdgeListError`; a missing file is reported as line 0.

    Complexity: a few million lines parse in about a second through pandas' C parser; only a
    file that fails that fast path is re-read line by line (in Python) to report problems.
    """
    n = _check_n(n)
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise EdgeListError([(0, f"file not found: {file}")], file) from None
    except OSError as exc:
        raise EdgeListError([(0, f"cannot read file: {file} ({exc.strerror})")], file) from None
    fast = _parse_fast(data)
    if fast is not None:
        u, v = fast
        bad = (u < 0) | (u >= n) | (v < 0) | (v >= n) | (u == v)
        if not bad.any():
            return _from_pairs(n, u, v)
    problems, n_problems, u, v = _scan_lines(data, n)
    if n_problems:
        raise EdgeListError(problems, file, n_problems)
    return _from_pairs(n, u, v)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _content(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _parse_fast(data: bytes) -> tuple[Int64Array, Int64Array] | None:
    """Parse a well-formed file quickly; None when anything looks off (the slow scan decides)."""
    body = data
    pos = 0
    while pos < len(data):  # find the first content line, to skip a header
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        try:
            line = _content(data[pos:end].decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if line:
            tokens = _TOKEN_SPLIT.split(line)
            if not any(_is_number(t) for t in tokens):
                if len(tokens) != 2:
                    return None
                body = data[end + 1 :]
            break
        pos = end + 1
    empty = (np.empty(0, np.int64), np.empty(0, np.int64))
    if not body.strip():
        return empty
    try:
        import pandas as pd  # deferred: heavy import, only needed for files
        from pandas.errors import EmptyDataError
    except ImportError:  # pragma: no cover - pandas is a project dependency
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(body.translate(_SEPARATORS)),
            sep=r"\s+",
            header=None,
            comment="#",
            quoting=csv.QUOTE_NONE,
            engine="c",
        )
    except EmptyDataError:
        return empty
    except (ValueError, UnicodeDecodeError):  # ParserError is a ValueError
        return None
    if frame.shape[1] != 2 or any(dtype.kind != "i" for dtype in frame.dtypes):
        return None
    return frame[0].to_numpy(np.int64), frame[1].to_numpy(np.int64)


def _scan_lines(data: bytes, n: int) -> tuple[list[tuple[int, str]], int, Int64Array, Int64Array]:
    """Line-by-line parse that reports every bad line; returns (problems, count, src, dst)."""
    problems: list[tuple[int, str]] = []
    n_problems = 0

    def report(line_number: int, message: str) -> None:
        nonlocal n_problems
        n_problems += 1
        if len(problems) < EdgeListError.MAX_STORED:
            problems.append((line_number, message))

    us, vs = array("q"), array("q")
    seen_content = False
    text = data.decode("utf-8", errors="replace")
    for number, raw in enumerate(text.split("\n"), start=1):
        line = _content(raw)
        if not line:
            continue
        tokens = _TOKEN_SPLIT.split(line)
        if not seen_content:
            seen_content = True
            if len(tokens) == 2 and not any(_is_number(t) for t in tokens):
                continue  # header
        shown = line if len(line) <= 60 else line[:57] + "..."
        if len(tokens) != 2:
            report(number, f"expected two integer node ids, got {shown!r}")
            continue
        try:
            a, b = int(tokens[0]), int(tokens[1])
        except ValueError:
            report(number, f"expected two integer node ids, got {shown!r}")
            continue
        out_of_range = [x for x in (a, b) if not 0 <= x < n]
        if out_of_range:
            report(number, f"node id {out_of_range[0]} out of range [0, {n}) (n = {n})")
        elif a == b:
            report(number, f"self loop {a}-{b}")
        else:
            us.append(a)
            vs.append(b)
    return (
        problems,
        n_problems,
        np.frombuffer(us, dtype=np.int64).copy(),
        np.frombuffer(vs, dtype=np.int64).copy(),
    )


# -------------------------------------------------------------------------------- dispatch


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
