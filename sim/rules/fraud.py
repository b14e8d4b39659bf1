"""Attackers who farm referral rewards: fake accounts (self-referral and rings) and coupon farmers.

Fake accounts are real rows of the population (``Role.FAKE``) and real nodes of the graph, appended
after the ``network.n`` real people when the world is built (:mod:`sim.world.fake_accounts`). They stay
dormant (no other rule touches them) until an attacker activates them through a referral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.random import poisson_from_uniform
from sim.rules.base import ACQUISITION_COLUMNS, MetricInfo, Phase, Rule
from sim.scenario import FraudSpec
from sim.world.fake_accounts import fraud_layout
from sim.world.population import NEVER, NOT_DUE, Channel, FraudKind, Stage

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine.market import Market
    from sim.scenario import Scenario

__all__ = ["Fraud", "reward_per_fake_account"]


def reward_per_fake_account(scenario: Scenario) -> tuple[float, float]:
    """Reward on offer to an attacker per referral (currency): (referrer side, friend side).

    The attacker controls both ends of a fake referral, so both sides count. Personalisation and
    caps are ignored: the attacker sees the advertised offer.
    """
    referrer = 0.0
    friend = 0.0
    incentives = scenario.incentives
    if incentives.enabled:
        on_order = incentives.share_of_first_order * scenario.fraud.fake_order_value
        if incentives.who in ("referrer", "both"):
            referrer += incentives.amount_referrer + on_order
        if incentives.who in ("friend", "both"):
            friend += incentives.amount_friend + on_order
    return referrer, friend


class Fraud(Rule):
    """Attackers activate fake accounts and coupon farmers join, as the reward on offer pays.

    Each day attacker ``a`` activates Poisson(λ) of its dormant fake accounts, with
    ``λ = rate_accounts_per_day × (1 − e^(−max(0, value − cost)/cost))``: value is the reward per fake
    referral (both sides, :func:`reward_per_fake_account`), cost ``cost_per_account``, so the
    attack grows with the reward and stops when a fake account costs more than it earns.
    A self-referral fake is referred by its operator; a ring's fake by the ring's previous fake
    (the first by the operator), so referrals cycle inside the ring. A fake account places one
    order of ``fake_order_value`` on the day it signs up (the attacker pays it, so a first-purchase
    trigger does not stop it) and is abandoned ``days_fake_life`` days later.

    Coupon farmers: real people who never signed up, joining at ``rate_coupon_farmers_per_day ×
    (1 − e^(−friend reward / cost_per_account))`` a day, each with a code of a random active
    customer (codes are posted on deal sites). A share ``share_farmers_never_buy`` never orders;
    the rest buy the minimum once (``fake_order_value``), on the day they join. All leave after
    ``days_farmer_stay`` days. They are real people: those who buy count as customers. This rule
    plans their first order (``day_first_order_due``); the purchases rule places it.
    """

    name = "fraud"
    phase = Phase.SHARING
    section = "fraud"
    reads: ClassVar[frozenset[str]] = frozenset({"stage", "day_acquired", "day_first_acquired", "fraud_kind"})
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS | frozenset(
        {
            "day_churned",
            "day_first_churned",
            "day_first_order_due",
            "fraud_kind",
            "order_value",
            "rate_purchase",
        }
    )
    zero_intensity: ClassVar[dict[str, object]] = {
        "fraud.rate_accounts_per_day": 0.0,
        "fraud.rate_coupon_farmers_per_day": 0.0,
    }
    step_columns: ClassVar[tuple[str, ...]] = ("fake_accounts_acquired", "coupon_farmers_joined")
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "fake_accounts_acquired": MetricInfo(
            "accounts", "Fake accounts attackers activated (never counted as customers).", False
        ),
        "coupon_farmers": MetricInfo(
            "people", "Real people who signed up for the friend reward and left (some never ordered).", False
        ),
    }

    params: FraudSpec

    def setup(self, model: Market) -> None:
        """The attackers of this world, and how many fakes each has used."""
        spec = self.params
        self._layout = fraud_layout(spec, model.n_real, model.world.seed) if spec.n_fake_accounts else None
        self._used = np.zeros(spec.n_attackers, dtype=np.int64)
        self._farmers = np.zeros(0, dtype=np.int64)  # coupon farmers who have not left yet
        self._fakes = np.zeros(0, dtype=np.int64)  # fake accounts activated and not yet abandoned
        referrer_value, friend_value = reward_per_fake_account(self.scenario)
        cost = spec.cost_per_account
        self._rate = spec.rate_accounts_per_day * -np.expm1(
            -max(0.0, referrer_value + friend_value - cost) / cost
        )
        self._farmer_rate = spec.rate_coupon_farmers_per_day * -np.expm1(-friend_value / cost)

    def step(self, model: Market) -> None:
        """Abandon expired fakes and farmers, then activate today's fakes and farmers."""
        pop = model.population
        # Draws depend only on the configuration, never on the state, so runs of one scenario (and
        # strategies sharing its fraud section) keep common random numbers.
        u_attack = self.rng.random(self.params.n_attackers)
        self._abandon(model)
        if self._layout is not None and self._rate > 0:
            self._activate_fakes(model, u_attack)
        if self.params.rate_coupon_farmers_per_day > 0:
            u_farm = self.rng.random(pop.n, dtype=np.float32)
            if self._farmer_rate > 0:
                self._recruit_farmers(model, u_farm)

    def _abandon(self, model: Market) -> None:
        pop = model.population
        spec = self.params
        day = model.day
        if self._fakes.size:
            fakes = self._fakes
            expired = (pop.stage[fakes] == Stage.CUSTOMER) & (
                pop.day_acquired[fakes] + spec.days_fake_life <= day
            )
            self._leave(model, fakes[expired])
            self._fakes = fakes[~expired]
        if self._farmers.size:
            farmers = self._farmers
            leaving = (pop.stage[farmers] == Stage.CUSTOMER) & (
                pop.day_acquired[farmers] + spec.days_farmer_stay <= day
            )
            self._leave(model, farmers[leaving])
            model.tally("churned", int(leaving.sum()))
            self._farmers = farmers[~leaving]

    @staticmethod
    def _leave(model: Market, people: np.ndarray) -> None:
        pop = model.population
        pop.stage[people] = Stage.CHURNED
        pop.day_churned[people] = model.day
        first = people[pop.day_first_churned[people] == NEVER]
        pop.day_first_churned[first] = model.day

    def _activate_fakes(self, model: Market, u_attack: np.ndarray) -> None:
        layout = self._layout
        assert layout is not None
        k = layout.accounts_per_attacker
        counts = np.minimum(poisson_from_uniform(u_attack, self._rate), k - self._used)
        attackers = np.flatnonzero(counts > 0)
        if attackers.size == 0:
            return
        n_new = counts[attackers]
        owner = np.repeat(attackers, n_new)
        # Slots used today: used[a], used[a] + 1, …, used[a] + counts[a] − 1.
        offset = np.arange(owner.size) - np.repeat(np.cumsum(n_new) - n_new, n_new)
        slot = self._used[owner] + offset
        fakes = layout.fake_ids(owner, slot)
        ring = layout.is_ring[owner] & (slot > 0)
        referrers = np.where(ring, fakes - 1, layout.operators[owner])
        self._used[attackers] += n_new
        model.acquire(fakes, Channel.SHARING, referrers=referrers)
        model.population.day_first_order_due[fakes] = model.day  # the attacker buys the minimum today
        self._fakes = np.concatenate([self._fakes, fakes])
        model.tally("fake_accounts_acquired", int(fakes.size))

    def _recruit_farmers(self, model: Market, u_farm: np.ndarray) -> None:
        pop = model.population
        n_real = model.n_real
        never_bought = pop.day_first_acquired[:n_real] == NEVER  # never signed up
        n_eligible = int(np.count_nonzero(never_bought))
        if n_eligible == 0:
            return
        p_join = min(1.0, self._farmer_rate / n_eligible)
        farmers = np.flatnonzero((u_farm[:n_real] < p_join) & never_bought)
        if farmers.size == 0:
            return
        active = np.flatnonzero(pop.stage[:n_real] == Stage.CUSTOMER)
        if active.size == 0:
            return
        # u / p is again uniform: it picks whose code the farmer uses, and what is left of it inside
        # the pick decides whether the farmer ever orders.
        position = u_farm[farmers].astype(np.float64) / p_join * active.size
        pick = np.minimum(position.astype(np.int64), active.size - 1)
        never_buys = (position - pick) < self.params.share_farmers_never_buy
        model.acquire(farmers, Channel.SHARING, referrers=active[pick])
        pop.day_first_order_due[farmers] = np.where(never_buys, NOT_DUE, model.day)
        pop.fraud_kind[farmers] = FraudKind.COUPON_FARMER
        pop.order_value[farmers] = self.params.fake_order_value
        pop.rate_purchase[farmers] = 0.0
        self._farmers = np.concatenate([self._farmers, farmers])
        model.tally("coupon_farmers_joined", int(farmers.size))

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Fake accounts and coupon farmers over the run."""
        return {
            "fake_accounts_acquired": float(steps["fake_accounts_acquired"].sum()),
            "coupon_farmers": float(steps["coupon_farmers_joined"].sum()),
        }
