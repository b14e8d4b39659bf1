"""The ripple: customers pass the brand to their friends, most right after they join."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.rules._brands import switch_to_us
from sim.rules._referral import convert_referred
from sim.rules.base import ACQUISITION_COLUMNS, Phase, Rule
from sim.scenario import SharingSpec
from sim.world.population import Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Sharing", "expected_lifetime_shares"]


def expected_lifetime_shares(spec: SharingSpec, days: int | None = None) -> float:
    """Expected shares of one customer over ``days`` days of sharing (the whole spell if None), at rel 1.

    The k-th sharing day has rate ``rate_share_per_day × x^(k−1)``, x = 0.5^(1/half-life), so the
    sum is ``rate × (1 − x^days) / (1 − x)``, capped at ``max_shares_per_customer``; without fading
    it is ``rate × days`` (infinite without a horizon or a cap).
    """
    rate = spec.rate_share_per_day
    half_life = spec.days_share_half_life
    if half_life is None:
        total = rate * days if days is not None else (np.inf if rate > 0 else 0.0)
    else:
        x = 0.5 ** (1.0 / half_life)
        reach = 1.0 - x**days if days is not None else 1.0
        total = rate * reach / (1.0 - x)
    if spec.max_shares_per_customer is not None:
        total = min(total, spec.max_shares_per_customer)
    return float(total)


class Sharing(Rule):
    """Customers who have bought share the brand with friends; a share converts with ``p_convert``.

    A sharer is a real active customer who has placed a first order and was acquired before today
    (someone who joins today starts tomorrow; a sign-up who never orders never shares). Word of mouth
    is strongest right after the purchase and fades (Berger & Schwartz 2011, docs/science.md §3): on
    their k-th day of sharing in a spell a customer shares at ``rate_share_per_day × rel_share ×
    0.5^((k−1)/days_share_half_life)``, and, with ``max_shares_per_customer``, stops once their
    expected shares in the spell reach it. So every customer makes a finite expected number of
    shares, and with no churn one paid customer brings ``1/(1 − K)`` customers in all.

    A non-customer's daily hazard of converting is ``p_convert × pressure``, the pressure following
    ``normalisation`` (docs/science.md §1) over the sharers' weights w (their rate today):

    - ``fraction``: Σ w over sharing friends / friends (Rand & Rust 2011). Every sparse graph is
      slower than the complete graph under this rule.
    - ``count``: Σ w / the graph's mean degree. People with many friends hear more and hubs adopt
      early.

    On the complete graph without fading both give the Bass model with ``q = rate_share_per_day ×
    p_convert`` per day. A churned person converts at ``customers.rel_winback`` times the hazard, the
    rival's customer at ``rival.rel_switch × rival.rel_churn`` times it. The
    new customer's referrer is one of their sharing friends, chosen with weight w.

    Incentives act through two columns other rules write: ``rel_share`` (the referral programme's
    uplift, weak ties, denied rewards) and a friend's conversion × ``rel_referred_convert`` (larger
    friend rewards pull in lower-value friends). Fake accounts (rows after ``model.n_real``) never
    share or convert here: only the attack (rule ``fraud``) activates them.
    """

    name = "sharing"
    phase = Phase.SHARING
    section = "sharing"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"stage", "day_acquired", "day_first_order", "rel_share", "rel_referred_convert"}
    )
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS
    zero_intensity: ClassVar[dict[str, object]] = {"sharing.rate_share_per_day": 0.0}

    params: SharingSpec

    def step(self, model: Market) -> None:
        """Convert friends of today's sharers and record who referred whom."""
        pop = model.population
        graph = model.graph
        day = model.day
        u_convert = self.rng.random(pop.n)
        p = self.params
        if p.rate_share_per_day * p.p_convert <= 0.0:
            return
        stage = pop.stage
        first_order = pop.day_first_order
        sharers = (stage == Stage.CUSTOMER) & (pop.day_acquired < day) & (first_order >= 0)
        sharers &= first_order < day
        n_real = model.n_real
        if pop.n > n_real:
            sharers[n_real:] = False  # fake accounts refer only through the attack (rule fraud)
        if not sharers.any():
            return
        weights = self._weights(model, sharers)
        if weights is not None:
            sharers = weights > 0.0  # a spent share budget takes a sharer out of the referrer pick
        # Only real non-customers can convert, and of them only those whose uniform is under a
        # bound of their hazard (1 − e^(−h) ≤ h, every factor at its largest, each friend's weight
        # at the largest weight): only their friends are summed. The same people convert, with the
        # same hazards, as if everyone were looked at.
        scenario = model.scenario_config
        winback = scenario.customers.rel_winback
        switch = switch_to_us(scenario)
        scale = p.p_convert * p.rate_share_per_day
        top = scale * max(1.0, winback, switch) * max(1.0, float(pop.rel_referred_convert.max()))
        w_max = 1.0 if weights is None else float(weights.max())
        bound = top * w_max * (1.0 + 1e-9)  # the margin keeps it above the exact value despite rounding
        mean_degree = max(graph.mean_degree, 1e-12)
        if p.normalisation == "fraction":  # Σ w / friends ≤ w_max
            maybe = u_convert[:n_real] < bound
        else:  # Σ w / mean degree ≤ friends × w_max / mean degree
            maybe = u_convert[:n_real] < graph.degree[:n_real] * (bound / mean_degree)
        maybe &= stage[:n_real] != Stage.CUSTOMER
        candidates = np.flatnonzero(maybe)
        friends = graph.sum_over_neighbours_at(candidates, sharers if weights is None else weights)
        heard = friends > 0
        exposed, friends = candidates[heard], friends[heard]
        fraction = p.normalisation == "fraction"
        hazard = scale * (friends / graph.degree[exposed] if fraction else friends / mean_degree)
        exposed_stage = stage[exposed]
        hazard[exposed_stage == Stage.CHURNED] *= winback
        if scenario.rival.enabled:  # the rival's customers switch at a lower rate
            hazard[exposed_stage == Stage.RIVAL] *= switch
        rel_convert = pop.rel_referred_convert[exposed]
        if np.any(rel_convert != 1.0):
            hazard *= rel_convert
        convert_referred(model, exposed, hazard, u_convert[exposed], sharers, weights)

    def _weights(self, model: Market, sharers: np.ndarray) -> np.ndarray | None:
        """Each sharer's share rate today relative to ``rate_share_per_day`` (0 elsewhere).

        None when every sharer has weight 1 (no incentive multipliers, no fading, no share budget),
        so the neighbour sum can count a mask instead.
        """
        pop = model.population
        p = self.params
        rel_share = pop.rel_share
        plain_rel = bool(rel_share.min() == 1.0 and rel_share.max() == 1.0)  # two cheap reductions
        half_life, budget = p.days_share_half_life, p.max_shares_per_customer
        if plain_rel and half_life is None and budget is None:
            return None
        ids = np.flatnonzero(sharers)
        weight = np.ones(ids.size) if plain_rel else rel_share[ids].astype(np.float64)
        if half_life is not None or budget is not None:
            # Days this spell's sharing has run before today: 0 on the first day after joining.
            age = (model.day - 1 - pop.day_acquired[ids]).astype(np.float64)
            if half_life is not None:
                x = 0.5 ** (1.0 / half_life)
                with np.errstate(over="ignore"):  # a half-life near 0: age/half-life is inf, today 0
                    today = np.exp2(-age / half_life)
                shared = (1.0 - today) / (1.0 - x)  # Σ x^k for k < age: shares so far at rate 1
            else:
                today = np.ones(ids.size)
                shared = age
            if budget is not None:
                # Shares already made at the sharer's current rate; today's are cut to what is left.
                rate_today = p.rate_share_per_day * weight * today
                left = budget - p.rate_share_per_day * weight * shared
                with np.errstate(over="ignore"):  # a rate near 0 gives room inf: clipped to 1 below
                    room = np.divide(left, rate_today, out=np.zeros(ids.size), where=rate_today > 0.0)
                today = today * np.clip(room, 0.0, 1.0)
            weight *= today
        weights = np.zeros(pop.n)
        weights[ids] = weight
        return weights
