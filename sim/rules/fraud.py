"""Attackers who farm referral rewards: fake accounts (self-referral and rings) and coupon farmers.

Fake accounts are real rows of the population (``Role.FAKE``) and real nodes of the graph, appended
after the ``network.n`` real people when the world is built (:mod:`sim.world.fake_accounts`). They stay
dormant (no other rule touches them) until an attacker activates them through a referral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, stream_key, uniform
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


_CUSTOMER = int(Stage.CUSTOMER)
_CHURNED = int(Stage.CHURNED)
_COUPON_FARMER = int(FraudKind.COUPON_FARMER)
#: Draw site of the coupon farmers' uniforms (one per real person who never signed up, each day).
_SITE_FARMERS = 0
#: People per block when the coupon farmers' search counts active customers (a pick scans one block).
_BLOCK = 1024


@kernel
def _leave_after(
    people: np.ndarray,
    days_stay: int,
    day: int,
    stage: np.ndarray,
    day_acquired: np.ndarray,
    day_churned: np.ndarray,
    day_first_churned: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Churn the ``people`` (fakes or farmers) who are customers acquired ``days_stay`` or more days ago.

    Those leaving become churned today (``day_churned``, and ``day_first_churned`` if they never
    churned before). Returns the people who stay (in their order) and how many left.
    """
    stay = np.empty(people.size, dtype=np.int64)
    n_stay = 0
    for k in range(people.size):
        i = people[k]
        if stage[i] == _CUSTOMER and day_acquired[i] + days_stay <= day:
            stage[i] = _CHURNED
            day_churned[i] = day
            if day_first_churned[i] == NEVER:
                day_first_churned[i] = day
        else:
            stay[n_stay] = i
            n_stay += 1
    return stay[:n_stay].copy(), people.size - n_stay


@kernel
def _find_farmers(
    key: np.uint64,
    n_real: int,
    day_first_acquired: np.ndarray,
    stage: np.ndarray,
    rate: float,
    share_never_buy: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's coupon farmers among the real people who never signed up, and whose code each uses.

    Each of the n_e real people who never signed up joins when their counter-based uniform under
    the draw ``key`` (:func:`sim.engine.counter.draw_key`; computed for them only) is below
    p = min(1, ``rate`` / n_e). Given u < p, u / p is again uniform: × the number of active
    customers it picks whose code the farmer uses (an index into the real active customers in id
    order), and what is left of it inside the pick decides whether the farmer never orders (below
    ``share_never_buy``). Nobody joins when nobody is eligible or nobody is an active customer.

    The active customers are not listed: the first pass counts them per block of ``_BLOCK``
    people, and a pick is found by locating its block and scanning that block. Each block's
    uniforms are first only tested (a branch-free count that vectorises); a block is searched for
    its farmers only when someone in it joins.

    Returns:
        The farmers (int64, ascending ids), the code owner of each (int64) and whether each never
        orders (bool), sized by how many joined.
    """
    n_blocks = (n_real + _BLOCK - 1) // _BLOCK
    # before[b]: active customers in the blocks before block b (b = 0 … n_blocks). The counts are
    # branch-free sums per block, which the compiler turns into vector instructions.
    before = np.zeros(n_blocks + 1, dtype=np.int64)
    n_eligible = 0
    for b in range(n_blocks):
        start, stop = b * _BLOCK, min((b + 1) * _BLOCK, n_real)
        eligible = 0
        active = 0
        for i in range(start, stop):
            eligible += day_first_acquired[i] == NEVER
            active += stage[i] == _CUSTOMER
        n_eligible += eligible
        before[b + 1] = before[b] + active
    n_active = before[n_blocks]
    farmers = np.empty(0, dtype=np.int64)
    codes = np.empty(0, dtype=np.int64)
    never_buys = np.empty(0, dtype=np.bool_)
    if n_eligible == 0 or n_active == 0:
        return farmers, codes, never_buys
    p_join = rate / n_eligible
    if not p_join < 1.0:
        p_join = 1.0
    found = 0
    for b in range(n_blocks):
        start, stop = b * _BLOCK, min((b + 1) * _BLOCK, n_real)
        # Whether anyone of the block joins, branch-free (vectorised); most blocks have nobody.
        joins = 0
        last = -1
        for i in range(start, stop):
            join = (day_first_acquired[i] == NEVER) & (uniform(key, i) < p_join)
            joins += join
            last = max(last, i if join else -1)
        if joins == 0:
            continue
        if joins == 1:  # the usual case: the one who joins is known, no second look at the block
            start, stop = last, last + 1
        for i in range(start, stop):
            if day_first_acquired[i] != NEVER:
                continue
            u = uniform(key, i)
            if not u < p_join:
                continue
            if found == farmers.size:
                size = max(16, 2 * found)
                farmers = _grown(farmers, size)
                codes = _grown(codes, size)
                grown_never = np.empty(size, dtype=np.bool_)
                grown_never[:found] = never_buys[:found]
                never_buys = grown_never
            position = u / p_join * n_active
            pick = min(int(position), n_active - 1)
            block = np.searchsorted(before, pick, side="right") - 1
            rank = before[block]
            code = block * _BLOCK
            while True:
                if stage[code] == _CUSTOMER:
                    if rank == pick:
                        break
                    rank += 1
                code += 1
            farmers[found] = i
            codes[found] = code
            never_buys[found] = (position - pick) < share_never_buy
            found += 1
    return farmers[:found].copy(), codes[:found].copy(), never_buys[:found].copy()


@kernel
def _grown(values: np.ndarray, size: int) -> np.ndarray:
    """``values`` (int64) copied into the front of a new array of ``size`` entries."""
    grown = np.empty(size, dtype=np.int64)
    grown[: values.size] = values
    return grown


@kernel
def _mark_farmers(
    farmers: np.ndarray,
    never_buys: np.ndarray,
    day: int,
    fake_order_value: float,
    day_first_order_due: np.ndarray,
    fraud_kind: np.ndarray,
    order_value: np.ndarray,
    rate_purchase: np.ndarray,
) -> None:
    """Make the new ``farmers`` coupon farmers: one minimum order today (or never), then no more.

    ``never_buys[k]`` says whether farmer k never orders (first order not due); the order's value is
    ``fake_order_value`` (currency) and the purchase rate 0.
    """
    for k in range(farmers.size):
        i = farmers[k]
        day_first_order_due[i] = NOT_DUE if never_buys[k] else day
        fraud_kind[i] = _COUPON_FARMER
        order_value[i] = fake_order_value
        rate_purchase[i] = 0.0


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
        # Whether any attacker has a dormant fake left: once none has, no count can be above zero.
        self._fakes_left = self._layout is not None and self._layout.accounts_per_attacker > 0
        self._farmers = np.zeros(0, dtype=np.int64)  # coupon farmers who have not left yet
        self._fakes = np.zeros(0, dtype=np.int64)  # fake accounts activated and not yet abandoned
        referrer_value, friend_value = reward_per_fake_account(self.scenario)
        cost = spec.cost_per_account
        self._rate = spec.rate_accounts_per_day * -np.expm1(
            -max(0.0, referrer_value + friend_value - cost) / cost
        )
        self._farmer_rate = spec.rate_coupon_farmers_per_day * -np.expm1(-friend_value / cost)
        # The coupon farmers' uniforms: counter-based, computed only for the people who may join.
        self._key = stream_key(self.rng)

    def step(self, model: Market) -> None:
        """Abandon expired fakes and farmers, then activate today's fakes and farmers."""
        # The attackers' draws (one per attacker, every day) depend only on the configuration, never
        # on the state, and the farmers' uniforms are counter-based, so runs of one scenario (and
        # strategies sharing its fraud section) keep common random numbers.
        u_attack = self.rng.random(self.params.n_attackers)
        self._abandon(model)
        if self._layout is not None and self._rate > 0 and self._fakes_left:
            self._activate_fakes(model, u_attack)
        if self._farmer_rate > 0:
            self._recruit_farmers(model)

    def _abandon(self, model: Market) -> None:
        pop = model.population
        spec = self.params
        day = model.day
        if self._fakes.size:
            self._fakes, _ = _leave_after(
                self._fakes,
                spec.days_fake_life,
                day,
                pop.stage,
                pop.day_acquired,
                pop.day_churned,
                pop.day_first_churned,
            )
        if self._farmers.size:
            self._farmers, n_left = _leave_after(
                self._farmers,
                spec.days_farmer_stay,
                day,
                pop.stage,
                pop.day_acquired,
                pop.day_churned,
                pop.day_first_churned,
            )
            model.tally("churned", n_left)

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
        self._fakes_left = bool((self._used < k).any())
        model.acquire(fakes, Channel.SHARING, referrers=referrers)
        model.population.day_first_order_due[fakes] = model.day  # the attacker buys the minimum today
        self._fakes = np.concatenate([self._fakes, fakes])
        model.tally("fake_accounts_acquired", int(fakes.size))

    def _recruit_farmers(self, model: Market) -> None:
        pop = model.population
        farmers, codes, never_buys = _find_farmers(
            draw_key(self._key, model.day, _SITE_FARMERS),
            model.n_real,
            pop.day_first_acquired,
            pop.stage,
            float(self._farmer_rate),
            float(self.params.share_farmers_never_buy),
        )
        if farmers.size == 0:
            return
        model.acquire(farmers, Channel.SHARING, referrers=codes)
        _mark_farmers(
            farmers,
            never_buys,
            model.day,
            float(self.params.fake_order_value),
            pop.day_first_order_due,
            pop.fraud_kind,
            pop.order_value,
            pop.rate_purchase,
        )
        self._farmers = np.concatenate([self._farmers, farmers])
        model.tally("coupon_farmers_joined", int(farmers.size))

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Fake accounts and coupon farmers over the run."""
        return {
            "fake_accounts_acquired": float(steps["fake_accounts_acquired"].sum()),
            "coupon_farmers": float(steps["coupon_farmers_joined"].sum()),
        }
