"""Graph-based ring detection on the referral graph, and the review queue for flagged accounts.

The sign-up checks (identity match, velocity and per-referrer limits) decide single rewards and run
inside the incentives rule; this rule looks at the referral graph as a whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from sim.engine.compiled import kernel
from sim.rules._kernels import stable_order
from sim.rules.base import MetricInfo, Phase, Rule
from sim.scenario import DefencesSpec
from sim.world.population import NEVER, AccountStatus, Channel, FraudKind

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine.market import Market

__all__ = ["Defences", "dense_referral_clusters"]


def dense_referral_clusters(
    adjacency: sp.csr_array,
    degree: np.ndarray,
    friends: np.ndarray,
    referrers: np.ndarray,
    min_size: int,
    min_internal_share: float,
) -> np.ndarray:
    """Accounts in dense clusters of the recent referral graph (sorted node ids).

    The examined accounts are the recently referred ``friends`` and their ``referrers``. Their
    subgraph joins the social ties among them and the referral links; each connected component
    (scipy.sparse.csgraph) is a candidate, and a ring is one with at least ``min_size`` accounts
    whose members keep at least ``min_internal_share`` of their ties inside it (a farm: dense
    inside, thin to the rest of the graph). Honest referral chains are embedded in the wider graph,
    so most of their ties leave the cluster; a tight group of honest friends can still be caught
    (a false positive).

    Complexity: O(V + E_V) for the V examined accounts and the E_V ties among them.
    """
    nodes = np.union1d(friends, referrers)
    if nodes.size < min_size:
        return np.zeros(0, dtype=np.int64)
    social = adjacency[nodes][:, nodes]
    position_friend = np.searchsorted(nodes, friends)
    position_referrer = np.searchsorted(nodes, referrers)
    links = sp.csr_array(
        (np.ones(friends.size, dtype=np.float32), (position_friend, position_referrer)),
        shape=(nodes.size, nodes.size),
    )
    joined = social + links + links.T
    n_components, label = connected_components(joined, directed=False)
    size = np.bincount(label, minlength=n_components)
    internal_ties = np.bincount(label, weights=np.asarray(social.sum(axis=1)).ravel(), minlength=n_components)
    all_ties = np.bincount(label, weights=degree[nodes].astype(np.float64), minlength=n_components)
    share_inside = np.divide(internal_ties, all_ties, out=np.zeros(n_components), where=all_ties > 0)
    ring = (size >= min_size) & (share_inside >= min_internal_share)
    return nodes[ring[label]]


_SHARING = int(Channel.SHARING)


@kernel
def _root(parent: np.ndarray, k: int) -> int:
    """The root of ``k``'s set in a union-find forest, halving the path on the way."""
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


@kernel
def _collect_new(people: np.ndarray, position: np.ndarray, out: np.ndarray, n_out: int) -> int:
    """Append to ``out`` (from ``n_out``) each of ``people`` not yet marked in ``position`` (−1).

    Marks them (−2) so each is collected once; returns the new count.
    """
    for i in people:
        if position[i] == -1:
            position[i] = -2
            out[n_out] = i
            n_out += 1
    return n_out


@kernel
def _recent_rings(
    day_first_acquired: np.ndarray,
    acquired_via: np.ndarray,
    referrer: np.ndarray,
    first_day: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    degree: np.ndarray,
    min_size: int,
    min_internal_share: float,
    position: np.ndarray,
) -> np.ndarray:
    """:func:`dense_referral_clusters` of the accounts referred since ``first_day``, on the CSR graph.

    The examined accounts are those acquired via sharing with a referrer whose first sign-up is on
    or after ``first_day``, and their referrers. Components of the social ties among them joined
    with the referral links are found by union-find instead of scipy's ``connected_components``;
    each component's size, ties inside it (counted from the CSR rows) and ties in all (``degree``)
    are the same integers, so the same components are rings.

    ``position`` is a length-n int32 scratch row of −1, left as it came.

    Returns:
        The accounts in rings (sorted node ids).
    """
    n_friends = 0
    for i in range(day_first_acquired.size):
        if day_first_acquired[i] >= first_day and acquired_via[i] == _SHARING and referrer[i] != NEVER:
            n_friends += 1
    friends = np.empty(n_friends, dtype=np.int64)
    referrers = np.empty(n_friends, dtype=np.int64)
    k = 0
    for i in range(day_first_acquired.size):
        if day_first_acquired[i] >= first_day and acquired_via[i] == _SHARING and referrer[i] != NEVER:
            friends[k] = i
            referrers[k] = referrer[i]
            k += 1
    # The examined accounts, sorted, and each one's place among them.
    nodes = np.empty(2 * n_friends, dtype=np.int64)
    n_nodes = _collect_new(friends, position, nodes, 0)
    n_nodes = _collect_new(referrers, position, nodes, n_nodes)
    nodes = nodes[:n_nodes]
    nodes = nodes[stable_order(nodes)]
    for k in range(n_nodes):
        position[nodes[k]] = k
    found = np.zeros(0, dtype=np.int64)
    if n_nodes >= min_size:
        parent = np.arange(n_nodes)
        internal = np.zeros(n_nodes, dtype=np.int64)
        for k in range(n_nodes):
            u = nodes[k]
            for e in range(indptr[u], indptr[u + 1]):
                other = position[indices[e]]
                if other >= 0:
                    internal[k] += 1
                    a, b = _root(parent, k), _root(parent, other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        for k in range(n_friends):
            a, b = _root(parent, position[friends[k]]), _root(parent, position[referrers[k]])
            if a != b:
                parent[max(a, b)] = min(a, b)
        size = np.zeros(n_nodes, dtype=np.int64)
        internal_ties = np.zeros(n_nodes, dtype=np.int64)
        all_ties = np.zeros(n_nodes, dtype=np.int64)
        root = np.empty(n_nodes, dtype=np.int64)
        for k in range(n_nodes):
            r = _root(parent, k)
            root[k] = r
            size[r] += 1
            internal_ties[r] += internal[k]
            all_ties[r] += degree[nodes[k]]
        found = np.empty(n_nodes, dtype=np.int64)
        n_found = 0
        for k in range(n_nodes):
            r = root[k]
            share_inside = internal_ties[r] / all_ties[r] if all_ties[r] > 0 else 0.0
            if size[r] >= min_size and share_inside >= min_internal_share:
                found[n_found] = nodes[k]
                n_found += 1
        found = found[:n_found].copy()
    for k in range(n_nodes):
        position[nodes[k]] = -1
    return found


class Defences(Rule):
    """Every ``days_detection_interval`` days, find rings in the referral graph; review flagged accounts.

    The referral graph holds the accounts referred in the last ``days_detection_window`` days and
    their referrers (:func:`dense_referral_clusters`). Accounts found are blocked at once
    (``action = block``: their held rewards are cancelled) or flagged (their rewards wait) and
    reviewed ``review_capacity_per_day`` a day, oldest first: a review finds the truth, blocking
    fraud and clearing honest accounts. Precision and recall are measured against the simulator's
    ground truth (``fraud_kind``) over every referred account, including identity-check blocks.
    """

    name = "defences"
    phase = Phase.FRAUD
    section = "defences"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"acquired_via", "day_first_acquired", "referrer", "account_status", "fraud_kind"}
    )
    writes: ClassVar[frozenset[str]] = frozenset({"account_status"})
    zero_intensity: ClassVar[dict[str, object]] = {"defences.ring_detection": False}
    step_columns: ClassVar[tuple[str, ...]] = ("accounts_flagged", "accounts_blocked", "accounts_reviewed")
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "detection_precision": MetricInfo(
            "share", "Blocked or flagged referred accounts that are fraudulent (fake or coupon farmer)."
        ),
        "detection_recall": MetricInfo(
            "share", "Fraudulent referred accounts (fake or coupon farmer) that were blocked or flagged."
        ),
        "accounts_blocked": MetricInfo("accounts", "Accounts blocked by any defence at the end of the run."),
    }

    params: DefencesSpec

    def setup(self, model: Market) -> None:
        """An empty review queue (and the detection's scratch row)."""
        self._queue = np.zeros(0, dtype=np.int64)
        self._position = np.full(model.population.n if self.params.ring_detection else 0, -1, dtype=np.int32)

    def step(self, model: Market) -> None:
        """Run ring detection on its days, then work through the review queue."""
        spec = self.params
        if spec.ring_detection and model.day % spec.days_detection_interval == 0:
            self._detect(model)
        if self._queue.size and spec.review_capacity_per_day > 0:
            self._review(model)

    def _detect(self, model: Market) -> None:
        spec = self.params
        pop = model.population
        graph = model.graph
        first_day = model.day - spec.days_detection_window + 1
        if graph.complete:  # no CSR rows: the matrix version (small complete graphs only)
            recent = np.flatnonzero(
                (pop.day_first_acquired >= first_day)
                & (pop.acquired_via == Channel.SHARING)
                & (pop.referrer != NEVER)
            )
            if recent.size == 0:
                return
            found = dense_referral_clusters(
                graph.adjacency,
                graph.degree,
                recent,
                pop.referrer[recent].astype(np.int64),
                spec.ring_min_size,
                spec.ring_min_internal_share,
            )
        else:
            assert graph.indptr is not None and graph.indices is not None
            found = _recent_rings(
                pop.day_first_acquired,
                pop.acquired_via,
                pop.referrer,
                first_day,
                graph.indptr,
                graph.indices,
                graph.degree,
                spec.ring_min_size,
                float(spec.ring_min_internal_share),
                self._position,
            )
        new = found[pop.account_status[found] == AccountStatus.CLEAR]
        if new.size == 0:
            return
        if spec.action == "block":
            pop.account_status[new] = AccountStatus.BLOCKED
            model.tally("accounts_blocked", int(new.size))
        else:
            pop.account_status[new] = AccountStatus.FLAGGED
            self._queue = np.concatenate([self._queue, new])
            model.tally("accounts_flagged", int(new.size))

    def _review(self, model: Market) -> None:
        pop = model.population
        reviewed = self._queue[: self.params.review_capacity_per_day]
        self._queue = self._queue[reviewed.size :]
        fraud = pop.fraud_kind[reviewed] != FraudKind.HONEST
        pop.account_status[reviewed[fraud]] = AccountStatus.BLOCKED
        pop.account_status[reviewed[~fraud]] = AccountStatus.CLEARED
        model.tally("accounts_reviewed", int(reviewed.size))
        model.tally("accounts_blocked", int(fraud.sum()))

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Precision and recall of every defence against the ground truth."""
        pop = model.population
        referred = (pop.first_channel == Channel.SHARING) & (pop.day_first_acquired > 0)
        truth = referred & np.isin(pop.fraud_kind, [FraudKind.FAKE_ACCOUNT, FraudKind.COUPON_FARMER])
        status = pop.account_status
        caught = referred & ((status == AccountStatus.BLOCKED) | (status == AccountStatus.FLAGGED))
        n_caught = int(caught.sum())
        n_truth = int(truth.sum())
        hits = int((caught & truth).sum())
        return {
            "detection_precision": hits / n_caught if n_caught else float("nan"),
            "detection_recall": hits / n_truth if n_truth else float("nan"),
            "accounts_blocked": float(np.count_nonzero(status == AccountStatus.BLOCKED)),
        }
