"""The ripple: customers pass the brand to their friends."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.rules._referral import convert_referred
from sim.rules.base import ACQUISITION_COLUMNS, Phase, Rule
from sim.scenario import SharingSpec
from sim.world.population import Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Sharing"]


class Sharing(Rule):
    """Active customers share the brand with friends; a share converts with ``p_convert``.

    Customers who were active at the start of the day share (someone who joins today starts
    tomorrow). A non-customer's daily hazard of converting is ``rate_share_per_day × p_convert ×
    pressure``, where the pressure follows ``normalisation`` (docs/science.md §1):

    - ``fraction``: customer friends / friends. Each person hears ``rate_share_per_day`` shares a day
      when all their friends are customers (Rand & Rust 2011). Every sparse graph is slower than the
      complete graph under this rule.
    - ``count``: customer friends / the graph's mean degree. Each customer shares with each friend at
      ``rate_share_per_day / mean degree``, so people with many friends hear more and hubs adopt early.

    On the complete graph both give the Bass model with ``q = rate_share_per_day × p_convert`` per day.
    A churned person converts at ``customers.rel_winback`` times the hazard. The new customer's
    referrer is one of their sharing friends chosen at random, and ``reward_per_referral`` is paid per
    referral (the simple form of a referral reward; the ``incentives`` section holds the full one).

    Incentives act through two columns other rules write: a sharer's rate is × ``rel_share`` (reward
    uplift, weak ties, denied rewards) and a friend's conversion × ``rel_referred_convert`` (larger
    rewards pull in lower-value friends). Fake accounts (rows after ``model.n_real``) never share or
    convert here: only the attack (rule ``fraud``) activates them.
    """

    name = "sharing"
    phase = Phase.SHARING
    section = "sharing"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"stage", "day_acquired", "rel_share", "rel_referred_convert"}
    )
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS
    zero_intensity: ClassVar[dict[str, object]] = {"sharing.rate_share_per_day": 0.0}

    params: SharingSpec

    def step(self, model: Market) -> None:
        """Convert friends of today's sharers and record who referred whom."""
        pop = model.population
        graph = model.graph
        u_convert = self.rng.random(pop.n)
        q = self.params.rate_share_per_day * self.params.p_convert
        if q <= 0.0:
            return
        stage = pop.stage
        sharers = (stage == Stage.CUSTOMER) & (pop.day_acquired < model.day)
        n_real = model.n_real
        if pop.n > n_real:
            sharers[n_real:] = False  # fake accounts refer only through the attack (rule fraud)
        if not sharers.any():
            return
        # Incentives and defences scale each sharer's rate (pop.rel_share); all ones means plain counts.
        rel_share = pop.rel_share
        weighted = bool(rel_share.min() != 1.0 or rel_share.max() != 1.0)  # two cheap reductions
        if weighted:
            # float64 once, so the graph's sum and pick both use it without converting again.
            sharer_weight = np.where(sharers, rel_share.astype(np.float64), 0.0)
            customer_friends = graph.sum_over_neighbours(sharer_weight)
        else:
            customer_friends = graph.count_neighbours_in(sharers)
        # Only non-customers with at least one sharing friend can convert; work on them alone.
        exposed = model.real_only(np.flatnonzero((customer_friends > 0) & (stage != Stage.CUSTOMER)))
        if self.params.normalisation == "fraction":
            pressure = customer_friends[exposed] / graph.degree[exposed]
        else:
            pressure = customer_friends[exposed] / max(graph.mean_degree, 1e-12)
        hazard = q * pressure
        hazard[stage[exposed] == Stage.CHURNED] *= model.scenario_config.customers.rel_winback
        rel_convert = pop.rel_referred_convert[exposed]
        if np.any(rel_convert != 1.0):
            hazard *= rel_convert
        weights = sharer_weight if weighted else None
        referrers = convert_referred(model, exposed, hazard, u_convert[exposed], sharers, weights)
        reward = self.params.reward_per_referral
        if reward > 0 and referrers.size:
            model.ledger.spend("sharing", "referral_rewards", reward * referrers.size)
