"""The social graph: who can pass the brand to whom.

A :class:`SocialGraph` stores an undirected simple graph on nodes ``0 .. n-1`` in CSR form
(``indptr`` int64 of length ``n + 1``, ``indices`` int32 holding *both* directions of every edge,
sorted within each row). The complete graph is implicit: no arrays at all, so the Bass-style
"everyone knows everyone" market costs O(n) memory instead of O(n²).

Random graphs are made in :mod:`sim.world.generators`, files are read in :mod:`sim.world.edge_list`,
and :func:`sim.world.build.build_graph` chooses between them from a scenario's ``network`` section.
:func:`with_new_nodes` appends nodes and their ties (the attack's fake accounts) to a built graph
without rebuilding it.

A graph read from a file also carries what the file said beyond who knows whom:
:attr:`SocialGraph.tie_strength` (a weight column, aligned with ``indices``),
:attr:`SocialGraph.node_ids` (the file's own id of each row) and :attr:`SocialGraph.notes` (what the
reader changed on the way in: self-loops dropped, duplicates merged, ids renumbered). Rules read none
of them in the daily loop unless they ask for tie strength.

Rules that fuse their day into a numba kernel read the CSR arrays there through the compiled row
operations :func:`row_sum`, :func:`add_from_rows` and :func:`pick_by_positive_weight`, which give
the very floats that :meth:`SocialGraph.sum_over_neighbours` and :meth:`SocialGraph.pick_neighbour`
give.

Memory: about ``8 n + 8 E`` bytes for the CSR arrays of a graph with ``E`` edges, plus the cached
float32 adjacency matrix behind the neighbour counts (another ``8 E`` bytes of ones; it shares the
``indices`` array). A float64 copy of the ones (``16 E`` bytes) is added on the first
:meth:`SocialGraph.sum_over_neighbours` over a dense vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from sim.engine.compiled import kernel

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "MAX_DRAWABLE_NODES",
    "SocialGraph",
    "add_from_rows",
    "check_n",
    "complete_graph",
    "from_pairs",
    "graph_from_edges",
    "pick_by_positive_weight",
    "row_sum",
    "simple_graph",
    "unique_sorted",
    "with_new_nodes",
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
        tie_strength: float64 strength of each stored tie, aligned with :attr:`indices` (entry ``k``
            is the tie between row ``i`` and ``indices[k]`` for ``indptr[i] <= k < indptr[i + 1]``;
            symmetric, ≥ 0), or ``None`` when the graph is unweighted (every tie counts the same).
            Read from a weight column of a graph file; see :meth:`tie_strength_between`.
        node_ids: The id of each row in the file the graph was read from (length n: int64 when the
            file's ids were whole numbers, else an object array of strings), or ``None`` for a
            generated graph (row ``i`` is person ``i``). Joins results back to a user's own ids.
        notes: Human-readable lines about what building the graph changed or assumed (self-loops
            dropped, duplicates merged, a directed list made symmetric, ids renumbered). Library
            code never prints them; the CLI and the app show them.

    Equality is identity (graphs are large; compare their arrays explicitly if needed). The
    arrays are read-only once built by this module. Derived data (degrees, sparse matrices)
    are computed on first use and cached on the instance.
    """

    n: int
    indptr: Int64Array | None
    indices: Int32Array | None
    community: Int32Array | None = None
    complete: bool = False
    tie_strength: FloatArray | None = None
    node_ids: NDArray[Any] | None = None
    notes: tuple[str, ...] = ()
    _cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False)

    def __post_init__(self) -> None:
        """Check shapes and dtypes (O(1); contents are the builders' responsibility)."""
        n = check_n(self.n)
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
        if self.tie_strength is not None:
            if self.complete or self.indices is None:
                raise ValueError("the complete graph has no tie strengths")
            if self.tie_strength.shape != self.indices.shape or self.tie_strength.dtype != np.float64:
                raise ValueError("tie_strength must be float64 with one entry per stored tie (like indices)")
        if self.node_ids is not None and self.node_ids.shape != (n,):
            raise ValueError(f"node_ids must have one id per node (length {n})")

    def __repr__(self) -> str:
        """Short description (the arrays are far too long to print)."""
        kind = "complete" if self.complete else "csr"
        groups = "" if self.community is None else f", communities={int(self.community.max()) + 1}"
        weighted = "" if self.tie_strength is None else ", weighted"
        return f"SocialGraph(n={self.n}, n_edges={self.n_edges}, {kind}{groups}{weighted})"

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
    def mean_tie_strength(self) -> FloatArray | None:
        """Each node's mean :attr:`tie_strength` over its ties (float64, length n; NaN for nobody's friend).

        None for an unweighted graph. Cached, O(E) once.
        """
        if self.tie_strength is None:
            return None
        mean: FloatArray | None = self._cache.get("mean_tie_strength")
        if mean is None:
            indptr, _ = self._csr()
            rows = np.repeat(np.arange(self.n), np.diff(indptr))
            total = np.bincount(rows, weights=self.tie_strength, minlength=self.n)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = total / self.degree
            mean.setflags(write=False)
            self._cache["mean_tie_strength"] = mean
        return mean

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

    def sum_over_neighbours_at(self, nodes: ArrayLike, values: ArrayLike) -> FloatArray:
        """``sum_over_neighbours(values)[nodes]``, bit for bit, reading only the rows of ``nodes``.

        Args:
            nodes: int array of node ids.
            values: float (or bool) array of length n.

        Returns:
            float64 array like ``nodes``.

        Each row is summed from 0.0 in ascending neighbour order (rows are sorted), the order in
        which the mat-vec and the scatter of :meth:`sum_over_neighbours` add a node's terms, so
        every entry is the same float. Complexity: O(n) to find the non-zero values, then O(len(nodes)
        + Σ deg(nodes)), or, when the non-zero values' rows are fewer than the nodes', the full sum
        (then indexed); complete graph: the full sum, then indexed.
        """
        x = self._as_vector(values, "values").astype(np.float64, copy=False)
        who = np.asarray(nodes, dtype=np.int64)
        if self.complete:
            return np.asarray((x.sum() - x)[who], dtype=np.float64)
        indptr, indices = self._csr()
        support = np.flatnonzero(x)
        if int(self.degree[support].sum()) < int(self.degree[who].sum()):
            # The non-zero values' rows are fewer than the nodes' own: scatter them (or the
            # mat-vec, when they are many), as sum_over_neighbours does, and index.
            if self._support_is_sparse(support):
                return self._scatter(support, x[support])[who]
            return np.asarray((self._matrix(np.float64) @ x)[who], dtype=np.float64)
        pos, lens, _ = _slices(indptr, who)
        rows = np.repeat(np.arange(who.size), lens)
        return np.bincount(rows, weights=x[indices[pos]], minlength=who.size).astype(np.float64, copy=False)

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
                Zero-weight neighbours are never chosen. Checked (ValueError) where read: at the
                neighbours of ``nodes`` (everywhere on the complete graph).
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
        w_all = None if weights is None else self._as_vector(weights, "weights")
        if not self.complete:
            return self._pick_csr(who, ok, w_all, u)
        if w_all is None:
            w_node = ok.astype(np.float64)
        else:
            w_node = _checked_weights(w_all.astype(np.float64, copy=False))
            w_node = np.where(ok, w_node, 0.0)
        return _pick_complete(who, w_node, u)

    def _pick_csr(
        self, who: Int64Array, ok: NDArray[Any], w_all: NDArray[Any] | None, u: FloatArray
    ) -> Int64Array:
        # Eligibility and weights are read (and weights checked) only at the gathered neighbours:
        # a pick for a few people never pays for a pass over everyone.
        indptr, indices = self._csr()
        out = np.full(who.shape[0], -1, dtype=np.int64)
        pos, lens, offsets = _slices(indptr, who)
        if pos.size == 0:
            return out
        nbr = indices[pos]
        if w_all is None:
            w = ok[nbr].astype(np.float64)
        else:
            w = np.where(ok[nbr], _checked_weights(w_all[nbr].astype(np.float64, copy=False)), 0.0)
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

    # ------------------------------------------------------------------------ tie strength

    def tie_strength_between(self, nodes: ArrayLike, others: ArrayLike) -> FloatArray:
        """Strength of the tie between ``nodes[k]`` and ``others[k]``, for each ``k``.

        Args:
            nodes: int array of node ids.
            others: int array of node ids, same shape as ``nodes``.

        Returns:
            float64 array like ``nodes``: the tie's :attr:`tie_strength`; 1.0 for every tie of an
            unweighted graph; NaN where the two are not linked (or are the same person).

        Complexity: O(k log E) after a one-off O(E) key array (8 bytes per stored tie, cached); the
        complete graph needs no arrays.
        """
        a = np.asarray(nodes)
        b = np.asarray(others)
        if (
            a.shape != b.shape
            or a.ndim != 1
            or (a.size and (a.dtype.kind not in "iu" or b.dtype.kind not in "iu"))
        ):
            raise ValueError("nodes and others must be 1-D integer arrays of the same length")
        a = a.astype(np.int64, copy=False)
        b = b.astype(np.int64, copy=False)
        if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= self.n):
            raise ValueError(f"node ids must be in [0, {self.n})")
        out = np.full(a.shape[0], np.nan)
        if self.complete:
            out[a != b] = 1.0
            return out
        keys: Int64Array | None = self._cache.get("tie_keys")
        indptr, indices = self._csr()
        if keys is None:
            # Rows ascend and each row's neighbours are sorted, so row * n + neighbour is sorted.
            keys = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(indptr)) * self.n + indices
            self._cache["tie_keys"] = keys
        if keys.shape[0] == 0:
            return out
        wanted = a * self.n + b
        pos = np.minimum(np.searchsorted(keys, wanted), keys.shape[0] - 1)
        found = keys[pos] == wanted
        out[found] = 1.0 if self.tie_strength is None else self.tie_strength[pos[found]]
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
        attribute, and a weighted graph's edges get a ``weight`` (their tie strength). Raises
        ValueError above ``max_nodes`` nodes (networkx holds ~1 KB per edge).
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
            if self.tie_strength is None:
                graph.add_edges_from(zip(rows[upper].tolist(), indices[upper].tolist(), strict=True))
            else:
                graph.add_weighted_edges_from(
                    zip(
                        rows[upper].tolist(),
                        indices[upper].tolist(),
                        self.tie_strength[upper].tolist(),
                        strict=True,
                    )
                )
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
        return np.bincount(indices[pos], weights=weights, minlength=self.n).astype(np.float64, copy=False)

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


def _checked_weights(w: FloatArray) -> FloatArray:
    """``w`` itself, after checking every entry is finite and non-negative (else ValueError)."""
    if not np.all(w >= 0.0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and non-negative")
    return w


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


# -------------------------------------------------------------------- compiled row operations
# Rules fuse their daily pass over people into one kernel; these are the CSR steps such a kernel
# calls, each giving the very float that the SocialGraph method it mirrors gives.


@kernel
def row_sum(indptr: Int64Array, indices: Int32Array, values: FloatArray, node: int) -> float:
    """Σ ``values`` over the neighbours of ``node``: ``sum_over_neighbours(values)[node]``, bit for bit.

    Args:
        indptr: a CSR graph's row pointers (int64, length n + 1).
        indices: its neighbour ids (int32).
        values: float64, length n.
        node: a node id.

    The row is summed from 0.0 in ascending neighbour order, as the mat-vec and the scatter of
    :meth:`SocialGraph.sum_over_neighbours` add a node's terms. O(deg(node)).
    """
    total = 0.0
    for k in range(indptr[node], indptr[node + 1]):
        total += values[indices[k]]
    return total


@kernel
def sums_at(
    ids: Int64Array,
    indptr: Int64Array,
    indices: Int32Array,
    values: FloatArray,
    complete: bool,
    total: float,
    pushed: FloatArray,
) -> FloatArray:
    """Σ ``values`` over the neighbours of each of ``ids`` (float64, one per id).

    On the complete graph (``complete``) that is ``total − values[i]`` (``total``: Σ values); where
    the sums were pushed from the few with a value (``pushed``: :func:`add_from_rows`'s ``out``, of
    length n; empty otherwise) it is ``pushed[i]``; else the CSR row sum (:func:`row_sum`).
    """
    sums = np.empty(ids.shape[0])
    for k in range(ids.shape[0]):
        if complete:
            sums[k] = total - values[ids[k]]
        elif pushed.shape[0] > 0:
            sums[k] = pushed[ids[k]]
        else:
            sums[k] = row_sum(indptr, indices, values, ids[k])
    return sums


@kernel
def add_from_rows(
    indptr: Int64Array, indices: Int32Array, values: FloatArray, rows: Int64Array, out: FloatArray
) -> None:
    """``out[i] += values[j]`` for every neighbour i of every j in ``rows``: a scatter from the few.

    Args:
        indptr: a CSR graph's row pointers (int64, length n + 1).
        indices: its neighbour ids (int32).
        values: float64, length n.
        rows: int64 node ids in ascending order, no repeats: the nodes whose value is not 0.
        out: float64, length n; all zeros gives ``sum_over_neighbours(values)``, bit for bit.

    The graph is symmetric, so each listed node adds its value to its neighbours; a node's terms
    arrive in ascending neighbour order, as :func:`row_sum` adds them (the zeros it adds change no
    sum). O(Σ deg over ``rows``): cheaper than row sums when those rows are few.
    """
    for j in rows:
        v = values[j]
        for k in range(indptr[j], indptr[j + 1]):
            out[indices[k]] += v


@kernel
def pick_by_positive_weight(
    indptr: Int64Array, indices: Int32Array, weights: FloatArray, nodes: Int64Array, uniforms: FloatArray
) -> Int64Array:
    """``pick_neighbour(nodes, weights > 0, weights, uniforms)`` on a CSR graph, bit for bit, compiled.

    Args:
        indptr: a CSR graph's row pointers (int64, length n + 1).
        indices: its neighbour ids (int32).
        weights: float64, length n, finite and ≥ 0 (not checked): each person's weight in the pick.
        nodes: int64 node ids (repeats allowed).
        uniforms: float64 in [0, 1), one per entry of ``nodes``.

    Returns:
        int64 array like ``nodes``: the chosen neighbour, or -1 where none has positive weight.

    :meth:`SocialGraph.pick_neighbour` takes one cumulative sum over the gathered rows of all
    ``nodes`` in order and searches ``base + u × row total`` in it; the running sum here is that
    same sequence of additions, so every comparison sees the same floats. O(len(nodes) + Σ deg).
    """
    out = np.full(nodes.shape[0], -1, dtype=np.int64)
    running = 0.0  # the cumulative sum over every row gathered so far
    for g in range(nodes.shape[0]):
        start, end = indptr[nodes[g]], indptr[nodes[g] + 1]
        base = running
        last = -1
        for k in range(start, end):
            w = weights[indices[k]]
            if w > 0.0:
                running += w
                last = k
        total = running - base
        if total > 0.0:
            target = base + uniforms[g] * total
            cum = base
            chosen = last  # rounding can carry the target past the row's end: its last positive entry
            for k in range(start, last):
                w = weights[indices[k]]
                cum += w if w > 0.0 else 0.0
                if cum > target:
                    chosen = k
                    break
            out[g] = indices[chosen]
    return out


# ------------------------------------------------------------------------------ construction


def check_n(n: int) -> int:
    """``n`` as a node count that int32 ids can index; ValueError naming the range otherwise."""
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise ValueError(f"n must be a whole number; got {n!r}") from None
    if value != n or not 1 <= value <= _MAX_NODES:
        raise ValueError(f"n must be a whole number in [1, {_MAX_NODES}]; got {n!r}")
    return value


def unique_sorted(values: NDArray[Any]) -> NDArray[Any]:
    """Sorted distinct values (np.unique is far slower here: it hashes before sorting)."""
    ordered = np.sort(values)
    if ordered.shape[0] < 2:
        return ordered
    keep = np.empty(ordered.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def from_pairs(
    n: int,
    lo: NDArray[Any],
    hi: NDArray[Any],
    community: Int32Array | None = None,
    *,
    weight: NDArray[np.float64] | None = None,
    node_ids: NDArray[Any] | None = None,
    notes: tuple[str, ...] = (),
) -> SocialGraph:
    """Build the graph from loop-free pairs (duplicates, in either orientation, are merged).

    With ``weight`` (one non-negative value per pair), the merged duplicates' weights are added and
    the result is the graph's :attr:`~SocialGraph.tie_strength`. ``node_ids`` and ``notes`` are
    stored as given.

    Complexity: O(n + E log d) time via scipy's coo→csr counting sort plus per-row sorts
    (faster than two full int64 sorts at 10M entries), about 30 bytes per edge of peak memory
    (another 16 with weights).
    """
    rows = np.concatenate([lo, hi]).astype(np.int32, copy=False)
    cols = np.concatenate([hi, lo]).astype(np.int32, copy=False)
    del lo, hi
    if weight is None:
        data = np.ones(rows.shape[0], dtype=np.float32)
    else:
        data = np.concatenate([weight, weight]).astype(np.float64, copy=False)
    matrix = sp.coo_array((data, (rows, cols)), shape=(n, n)).tocsr()  # sums duplicates
    del rows, cols, data
    matrix.sum_duplicates()
    indptr = matrix.indptr.astype(np.int64)
    indices = matrix.indices.astype(np.int32, copy=False)
    indptr.setflags(write=False)
    indices.setflags(write=False)
    strength = None
    if weight is not None:
        strength = np.array(matrix.data, dtype=np.float64)
        strength.setflags(write=False)
    if node_ids is not None:
        node_ids.setflags(write=False)
    graph = SocialGraph(
        n=n,
        indptr=indptr,
        indices=indices,
        community=community,
        tie_strength=strength,
        node_ids=node_ids,
        notes=tuple(notes),
    )
    if weight is None:
        # The coo→csr matrix is exactly the float32 adjacency count_neighbours_in needs (once its
        # summed duplicates are reset to 1): keep it, sharing `indices`, instead of rebuilding it.
        matrix.data[:] = 1.0
        graph._cache["matrix_float32"] = matrix
    return graph


def with_new_nodes(
    graph: SocialGraph,
    n_new: int,
    lo: NDArray[Any],
    hi: NDArray[Any],
    community: Int32Array | None = None,
    *,
    weight: NDArray[np.float64] | None = None,
    notes: tuple[str, ...] = (),
) -> SocialGraph:
    """``graph`` with ``n_new`` nodes appended (ids ``graph.n …``) and the ties ``lo[k]``–``hi[k]``.

    Every new tie must touch a new node and none may be a loop (so none repeats an existing tie);
    duplicates among the new ties merge, their ``weight`` added, exactly as :func:`from_pairs` merges
    them. The result is the graph :func:`from_pairs` would build from all the ties (old and new) at
    once, array for array, without rebuilding it: a new node's id is larger than every old one, so an
    old row's new neighbours sort after its old ones and are inserted at its end. (Repeated new ties
    of unequal weight may sum in another order, as in :func:`from_pairs` itself, where scipy fixes
    no order: the last bit may differ. Equal weights, as fake accounts have, add up the same.)

    Args:
        graph: A CSR graph (not the implicit complete one).
        n_new: Nodes to append.
        lo: One end of each new tie (ids in ``[0, graph.n + n_new)``).
        hi: The other end.
        community: Label of every node of the result (length ``graph.n + n_new``), or None.
        weight: Strength of each new tie; required when ``graph`` is weighted, refused otherwise.
        notes: The result's :attr:`~SocialGraph.notes`.

    Complexity: O(n + E + new ties · log) time; besides the result, memory of the size of the new
    ties and one bool per stored tie (``np.insert``'s mask). The old arrays are not copied twice.

    Raises:
        ValueError: For the complete graph, or a weight that does not match the graph.
    """
    if graph.complete or graph.indptr is None or graph.indices is None:
        raise ValueError("new nodes can only be appended to a CSR graph")
    if (weight is None) != (graph.tie_strength is None):
        raise ValueError("weight must be given exactly when the graph is weighted")
    n_old = graph.n
    n = check_n(n_old + n_new)
    # The new ties alone, both directions, merged and sorted by row as from_pairs does it.
    rows = np.concatenate([lo, hi]).astype(np.int32, copy=False)
    cols = np.concatenate([hi, lo]).astype(np.int32, copy=False)
    data = (
        np.ones(rows.shape[0], dtype=np.float32)
        if weight is None
        else np.concatenate([weight, weight]).astype(np.float64, copy=False)
    )
    extra = sp.coo_array((data, (rows, cols)), shape=(n, n)).tocsr()  # sums duplicates
    extra.sum_duplicates()
    extra_indptr = extra.indptr.astype(np.int64)
    stored = graph.indices.shape[0]
    # Where each new entry goes in the old arrays: at the end of its row (new rows: at the very end).
    old_end = np.concatenate([graph.indptr[1:], np.full(n_new, stored, dtype=np.int64)])
    at = np.repeat(old_end, np.diff(extra_indptr))
    indices = np.insert(graph.indices, at, extra.indices.astype(np.int32, copy=False))
    indptr = np.concatenate([graph.indptr, np.full(n_new, stored, dtype=np.int64)]) + extra_indptr
    indices.setflags(write=False)
    indptr.setflags(write=False)
    strength = None
    if graph.tie_strength is not None:
        strength = np.insert(graph.tie_strength, at, np.asarray(extra.data, dtype=np.float64))
        strength.setflags(write=False)
    return SocialGraph(
        n=n, indptr=indptr, indices=indices, community=community, tie_strength=strength, notes=tuple(notes)
    )


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def simple_graph(
    n: int,
    src: Int64Array,
    dst: Int64Array,
    *,
    weight: FloatArray | None = None,
    community: Int32Array | None = None,
    node_ids: NDArray[Any] | None = None,
    directed: bool | None = False,
    notes: tuple[str, ...] = (),
) -> SocialGraph:
    """The simple undirected graph of a list of pairs: self-loops dropped, duplicates merged, with notes.

    The one place where both the file readers and :func:`graph_from_edges` turn pairs into a graph,
    so the two handle loops and duplicates alike. ``src``/``dst`` must already be ids in ``[0, n)``.

    Args:
        n: Number of nodes.
        src: int64 ids of one end of each pair.
        dst: int64 ids of the other end.
        weight: Optional non-negative tie strength per pair; the strengths of merged duplicates
            (and of both directions of a directed list) are added.
        community: Optional int32 label per node.
        node_ids: Optional id of each node in the user's file (stored on the graph).
        directed: ``False``: the pairs are undirected ties, and a repeated pair (in either order) is a
            duplicate. ``True``: the pairs are arcs of a directed list, made symmetric (a tie wherever
            either arc exists). ``None``: unknown (a file that does not say); a pair listed in both
            orders marks the list as directed.
        notes: Notes to keep, before the ones this function adds.

    Returns:
        The graph; its :attr:`~SocialGraph.notes` end with one line per change made (none when the
        pairs were already simple): ``dropped 3 self-loops``, ``dropped 5 duplicate ties …``, or
        ``the list is directed …``.

    Complexity: O(n + E log d); one extra sort of the pairs only when some pair repeats.
    """
    lines = list(notes)
    loops = src == dst
    n_loops = int(np.count_nonzero(loops))
    if n_loops:
        keep = ~loops
        src, dst = src[keep], dst[keep]
        weight = None if weight is None else weight[keep]
        lines.append(f"dropped {_plural(n_loops, 'self-loop')} (a person is not their own friend)")
    graph = from_pairs(n, src, dst, community, weight=weight, node_ids=node_ids)
    repeated = src.shape[0] - graph.n_edges
    added = "; their tie strengths are added" if weight is not None else ""
    if repeated and directed is False:
        lines.append(
            f"dropped {_plural(repeated, 'duplicate tie')} (a pair given more than once, in either "
            f"order){added}"
        )
    elif repeated or directed:
        same = reverse = 0
        if repeated:
            # Split the repeats into the same arc listed again and the reverse of an arc listed before.
            keys = unique_sorted(src.astype(np.int64) * n + dst)
            same = src.shape[0] - keys.shape[0]
            reverse = keys.shape[0] - graph.n_edges
        if directed:
            text = (
                "the list is directed (the file says so): ties are made symmetric, a tie wherever either "
                "person lists the other"
            )
            if reverse:
                text += f"; {_plural(reverse, 'pair')} listed both ways became one tie each"
            lines.append(text)
        elif reverse:
            lines.append(
                f"{_plural(reverse, 'pair')} {'is' if reverse == 1 else 'are'} listed both ways "
                "(u v and v u), as in a directed list or one that stores each tie twice: each pair is one tie"
            )
        if reverse and weight is not None:
            lines[-1] += "; the strengths of both directions are added"
        if same:
            lines.append(f"dropped {_plural(same, 'duplicate line')} (the same pair listed again){added}")
    if not lines:
        return graph
    noted = SocialGraph(
        n=graph.n,
        indptr=graph.indptr,
        indices=graph.indices,
        community=graph.community,
        tie_strength=graph.tie_strength,
        node_ids=graph.node_ids,
        notes=tuple(lines),
    )
    noted._cache.update(graph._cache)  # the adjacency matrix already built
    return noted


def graph_from_edges(
    n: int,
    src: ArrayLike,
    dst: ArrayLike,
    community: ArrayLike | None = None,
    *,
    weight: ArrayLike | None = None,
) -> SocialGraph:
    """Build a graph from an edge list.

    Edges are undirected: ``(u, v)`` and ``(v, u)`` are the same edge. Self-loops are dropped and
    duplicates merged, exactly as the file readers do, with one summary line in
    :attr:`~SocialGraph.notes` (e.g. ``dropped 2 self-loops (…)``); nothing is printed.

    Args:
        n: Number of nodes; ids must lie in ``[0, n)``.
        src: Integer array of one endpoint per edge.
        dst: Integer array of the other endpoint, same length as ``src``.
        community: Optional integer label per node (length n).
        weight: Optional tie strength per edge (finite, ≥ 0); kept as
            :attr:`~SocialGraph.tie_strength`, duplicates' strengths added.

    Returns:
        The graph, with symmetric sorted CSR rows (int32 indices, int64 indptr).

    Raises:
        ValueError: For ids outside ``[0, n)``, non-integer ids, mismatched lengths, or weights
            that are not finite and non-negative.

    Complexity: O(n + E log d) time, about 30 bytes per edge of peak memory.
    """
    n = check_n(n)
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
    w = None
    if weight is not None:
        w = np.asarray(weight, dtype=np.float64)
        if w.shape != u.shape:
            raise ValueError("weight must have one value per edge")
        if w.size and not (np.all(np.isfinite(w)) and w.min() >= 0.0):
            raise ValueError("weight must be finite and non-negative (a tie strength)")
    labels = None
    if community is not None:
        labels = np.asarray(community)
        if labels.shape != (n,) or (labels.size and labels.dtype.kind not in "iu"):
            raise ValueError(f"community must be an integer array of length {n}")
        labels = labels.astype(np.int32)
        labels.setflags(write=False)
    return simple_graph(n, u, v, weight=w, community=labels, directed=False)


def complete_graph(n: int) -> SocialGraph:
    """The complete graph on n nodes, stored implicitly (O(1) memory, no arrays)."""
    return SocialGraph(n=check_n(n), indptr=None, indices=None, complete=True)
