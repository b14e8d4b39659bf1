"""Fake accounts: the attackers' dormant accounts, appended after the real people when the world is built.

Fake accounts are real rows of the population (``Role.FAKE``) and real nodes of the graph. They stay
dormant (no rule touches them) until an attacker activates them through a referral (rule ``fraud``).
Their edges come from their own random streams (``fraud_world``, ``fraud_links``), so the real
people and the ties among them are the same with or without an attack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.random import stream
from sim.scenario import FraudSpec
from sim.world.graph import SocialGraph, with_new_nodes
from sim.world.population import FraudKind, Population, Role

__all__ = ["FraudLayout", "add_fake_accounts", "fraud_layout"]


@dataclass(frozen=True)
class FraudLayout:
    """Who the attackers are: attacker ``a`` owns fake rows ``n_real + a·k … n_real + (a+1)·k − 1``.

    Attributes:
        n_real: real people (rows before the pool).
        accounts_per_attacker: k, fake accounts per attacker.
        operators: the real account (node id) behind each attacker.
        is_ring: whether each attacker runs a ring (else self-referral from the operator).
    """

    n_real: int
    accounts_per_attacker: int
    operators: np.ndarray
    is_ring: np.ndarray

    def fake_ids(self, attacker: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Row of attacker ``attacker``'s fake account number ``slot``."""
        return self.n_real + attacker.astype(np.int64) * self.accounts_per_attacker + slot


def fraud_layout(spec: FraudSpec, n_real: int, seed: int) -> FraudLayout:
    """The attackers of the world built from ``seed`` (the first draws of its ``fraud_world`` stream)."""
    rng = stream(seed, "fraud_world")
    operators = rng.choice(n_real, size=spec.n_attackers, replace=False).astype(np.int64)
    n_rings = round(spec.share_rings * spec.n_attackers)
    is_ring = np.arange(spec.n_attackers) < n_rings
    return FraudLayout(n_real, spec.accounts_per_attacker, operators, is_ring)


def add_fake_accounts(
    graph: SocialGraph, population: Population, spec: FraudSpec, seed: int, *, reuse: bool = False
) -> tuple[SocialGraph, Population]:
    """The world with each attacker's dormant fake accounts appended after the real people.

    Self-referral fakes are each linked to their operator; a ring's fakes are linked to every other
    fake of the ring (dense) and its first one to the operator. Every fake also gets
    ``ring_links_to_real`` edges to random real people (thin ties to the real graph). On a weighted
    graph the fakes' ties get the smallest tie strength of the real graph (they are strangers).

    With ``reuse`` the real ``population`` is consumed (see :meth:`Population.grown`): for a world
    built only to be extended, so the peak holds one population, not two.

    Complexity: O(n + E + fakes·(k + links)) time; the new ties are inserted into the graph's CSR
    arrays (one copy of each), not rebuilt from all the ties.
    """
    n_real = graph.n
    layout = fraud_layout(spec, n_real, seed)
    rng = stream(seed, "fraud_links")
    k = spec.accounts_per_attacker
    n_fake = spec.n_fake_accounts
    n_total = n_real + n_fake
    attacker_of = np.repeat(np.arange(spec.n_attackers), k)
    slot = np.tile(np.arange(k), spec.n_attackers)
    fakes = layout.fake_ids(attacker_of, slot)
    ring_fake = layout.is_ring[attacker_of]
    # Only the new ties: every one touches a fake account, so the real graph is appended to, not rebuilt.
    assert graph.indptr is not None and graph.indices is not None  # checked by Scenario (not complete)
    parts_src: list[np.ndarray] = []
    parts_dst: list[np.ndarray] = []
    # Self-referral fakes and each ring's first fake hang off the operator.
    to_operator = ~ring_fake | (slot == 0)
    parts_src.append(fakes[to_operator])
    parts_dst.append(layout.operators[attacker_of[to_operator]])
    # Rings: every pair of fakes inside a ring.
    ring_attackers = np.flatnonzero(layout.is_ring)
    if ring_attackers.size and k > 1:
        i, j = np.triu_indices(k, 1)
        base = layout.fake_ids(ring_attackers, np.zeros(ring_attackers.size, dtype=np.int64))
        parts_src.append((base[:, None] + i[None, :]).ravel())
        parts_dst.append((base[:, None] + j[None, :]).ravel())
    links = spec.ring_links_to_real
    if links:
        parts_src.append(np.repeat(fakes, links))
        parts_dst.append(rng.integers(0, n_real, size=n_fake * links))
    community = None
    if graph.community is not None:
        community = np.concatenate([graph.community, graph.community[layout.operators[attacker_of]]])
    new_src, new_dst = np.concatenate(parts_src), np.concatenate(parts_dst)
    weight = None
    if graph.tie_strength is not None:
        # A fake account is a stranger: its ties get the weakest strength the real graph has.
        weight = np.full(new_src.shape[0], graph.tie_strength.min() if graph.tie_strength.size else 1.0)
    labels = None
    if community is not None:
        labels = community.astype(np.int32)
        labels.setflags(write=False)
    # No loops by construction; duplicate random links merge silently (they are not the user's ties).
    bigger_graph = with_new_nodes(graph, n_fake, new_src, new_dst, labels, weight=weight, notes=graph.notes)

    bigger = population.grown(n_total, reuse=reuse)
    bigger.role[n_real:] = Role.FAKE
    bigger.fraud_kind[n_real:] = FraudKind.FAKE_ACCOUNT
    bigger.fraud_kind[layout.operators] = FraudKind.ATTACKER
    bigger.order_value[n_real:] = spec.fake_order_value
    bigger.rate_purchase[n_real:] = 0.0
    bigger.p_churn_base[n_real:] = 0.0  # fakes leave when abandoned (rule fraud), not by churn
    if community is not None:
        bigger.community[n_real:] = community[n_real:]
    return bigger_graph, bigger
