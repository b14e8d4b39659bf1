"""The loyalty programme: points, redemption, expiry and breakage, tiers and their benefits."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from sim.engine.compiled import kernel
from sim.rules.base import MetricInfo, Phase, Rule
from sim.scenario import LoyaltySpec, TierSpec
from sim.world.population import NEVER, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Loyalty"]

CUSTOMER = int(Stage.CUSTOMER)


class _Terms(NamedTuple):
    """The programme's terms as the day's kernel reads them (flags, days, rates; see LoyaltySpec)."""

    closed: bool  # membership "closed": joining needs lifetime spend of join_spend
    join_spend: float
    endowed_points: float
    points_per_currency: float
    basis_spend: bool  # tiers qualify on spend (else on points earned)
    redemption_points: float
    days_points_expiry: int  # NEVER: points never expire
    rolling: bool  # rolling window (else calendar)
    days_window: int
    decay: float  # e^(−1/days_window): the rolling window's daily decay of qualifying spend
    downgrade: int  # 0 none, 1 one tier, 2 to the base
    days_grace: int
    rel_churn_full_balance: float
    goal_gradient: bool  # whether rel_purchase can differ from 1
    share_near_goal: float
    rel_purchase_near_goal: float
    rel_purchase_after_reward: float
    days_after_reward: int


#: An order count stops at this (the int32 column's largest value) rather than wrapping.
_ORDERS_MAX = int(np.iinfo(np.int32).max)


@kernel
def _loyalty_day(
    day: int,
    revenue: np.ndarray,
    n_orders: np.ndarray,
    revenue_seen: np.ndarray,
    orders_seen: np.ndarray,
    stage: np.ndarray,
    tier: np.ndarray,
    points: np.ndarray,
    points_earned: np.ndarray,
    points_redeemed: np.ndarray,
    points_expired: np.ndarray,
    qualifying_spend: np.ndarray,
    day_last_order: np.ndarray,
    day_below_tier: np.ndarray,
    day_last_reward: np.ndarray,
    rel_churn_loyalty: np.ndarray,
    rate_share_extra: np.ndarray,
    rel_purchase: np.ndarray,
    threshold: np.ndarray,
    rel_points: np.ndarray,
    rel_churn: np.ndarray,
    discount: np.ndarray,
    service: np.ndarray,
    extra_share: np.ndarray,
    terms: _Terms,
) -> tuple[float, int, float, float, int, float, float]:
    """One day of the programme for every person, in one pass over the population.

    Per person, in this order: today's spend and orders (revenue and ``n_orders`` against what was
    seen yesterday, updated in ``revenue_seen``/``orders_seen``); a buyer who is no member joins
    (open, or closed with lifetime revenue ≥ ``join_spend``) in tier 0 with ``endowed_points``; a
    member who bought earns ``spend × points_per_currency × rel_points[tier]`` points and qualifying
    spend (or points); then every member redeems whole blocks, loses a balance idle for
    ``days_points_expiry`` days, has the tier reviewed (upgrade at once, downgrade after
    ``days_grace`` days below) and gets the tier's and balance's behavioural multipliers. People are
    independent, so this is what the pass-by-pass array version computed; only the sums below are
    added in index order. ``rel_churn_loyalty`` is recomputed only where tier or balance changed
    today (a member's first day included): elsewhere the formula would give the stored value.

    Args are the population's columns (length n; money in currency, points, days) and the tier
    tables (length n_tiers, ascending ``threshold``).

    Returns:
        (points earned by buyers, members who joined today, discounts (currency), service cost
        (currency), members after today's joins, points redeemed, points expired).
    """
    n_tiers = threshold.size
    top = n_tiers - 1
    earned_total = 0.0
    n_joining = 0
    discounts = 0.0
    service_cost = 0.0
    n_members = 0
    redeemed = 0.0
    expired = 0.0
    block = terms.redemption_points
    for i in range(revenue.size):
        tier_before = tier[i]
        # Revenue grows only with orders: someone whose order count has not moved (and has not
        # stopped at its largest value) spent nothing, and the money columns need not be read.
        ordered = n_orders[i] != orders_seen[i] or n_orders[i] == _ORDERS_MAX
        if not ordered and tier_before == NEVER:
            continue  # neither a buyer nor a member: the common case, read nothing more
        spend = revenue[i] - revenue_seen[i] if ordered else 0.0
        if not spend > 0 and tier_before == NEVER:
            continue
        points_before = points[i]
        if spend > 0:
            orders = np.float64(n_orders[i] - orders_seen[i])
            revenue_seen[i] = revenue[i]
            orders_seen[i] = n_orders[i]
            if tier[i] == NEVER and (not terms.closed or revenue[i] >= terms.join_spend):
                tier[i] = 0
                points[i] = terms.endowed_points
                points_earned[i] += terms.endowed_points
                n_joining += 1
            if tier[i] != NEVER:
                t = int(tier[i])
                earned = spend * terms.points_per_currency * rel_points[t]
                points[i] += earned
                points_earned[i] += earned
                day_last_order[i] = day
                qualifying_spend[i] += spend if terms.basis_spend else earned
                earned_total += earned
                discounts += spend * discount[t]
                service_cost += orders * service[t]
        if tier[i] == NEVER:
            continue
        n_members += 1
        # Redeem whole blocks; fmod is exact, so the balance left is in [0, block) even where
        # floor(points / block) × block would round past the balance of a huge one.
        if points[i] >= block:
            left = np.fmod(points[i], block)
            used = points[i] - left
            points[i] = left
            points_redeemed[i] += used
            day_last_reward[i] = day
            redeemed += used
        # Expire a balance idle too long.
        last = day_last_order[i]
        stale = last != NEVER and day - last >= terms.days_points_expiry
        if terms.days_points_expiry != NEVER and points[i] > 0 and stale:
            expired += points[i]
            points_expired[i] += points[i]
            points[i] = 0.0
        # Review the tier.
        t = int(tier[i])
        q = qualifying_spend[i]
        qualified = top  # searchsorted(side="right") puts NaN after every threshold
        if q == q:
            qualified = -1
            for k in range(n_tiers):
                if threshold[k] <= q:
                    qualified = k
        if qualified > t:
            t = qualified
        holds = qualified >= t
        below_since = day_below_tier[i]
        if holds:
            below_since = NEVER
        review = terms.rolling or day % terms.days_window == 0
        if review and not holds and below_since == NEVER:
            below_since = day
        if (
            terms.downgrade != 0
            and below_since != NEVER
            and day - below_since >= terms.days_grace
            and not holds
        ):
            t = t - 1 if terms.downgrade == 1 else 0
            below_since = NEVER  # a soft landing gets a new grace period in the lower tier
        # (Written only where they change: most members' tier and grace day stay put, and an
        # unchanged cache line is not written back to memory.)
        if tier[i] != t:
            tier[i] = t
        if day_below_tier[i] != below_since:
            day_below_tier[i] = below_since
        if terms.rolling:
            qualifying_spend[i] *= terms.decay
        elif review:
            qualifying_spend[i] = 0.0
        # Behavioural effects of tier and balance (a tier of NEVER after a downgrade indexes from the
        # end, as the array version's fancy indexing did).
        t = int(tier[i])
        at = t + n_tiers if t < 0 else t
        balance = min(points[i] / block, 1.0)
        if tier[i] != tier_before or points[i] != points_before:
            # Only tier and balance move it: unchanged, it keeps the value computed when they last
            # changed (only this rule writes the column), which saves a pow() a member a day.
            rel_churn_loyalty[i] = rel_churn[at] * terms.rel_churn_full_balance**balance
        extra = extra_share[at] if stage[i] == CUSTOMER else 0.0
        if rate_share_extra[i] != extra:
            rate_share_extra[i] = extra
        if not terms.goal_gradient:
            continue
        near = balance >= 1.0 - terms.share_near_goal
        next_threshold = threshold[min(t + 1, top)]
        gap = next_threshold - threshold[at]
        remaining = next_threshold - qualifying_spend[i]
        if t < top and remaining <= terms.share_near_goal * max(gap, 1e-12):
            near = True
        rel = terms.rel_purchase_near_goal if near else 1.0
        last_reward = day_last_reward[i]
        if last_reward != NEVER and day - last_reward < terms.days_after_reward:
            rel = terms.rel_purchase_after_reward
        if rel_purchase[i] != rel:
            rel_purchase[i] = rel
    return earned_total, n_joining, discounts, service_cost, n_members, redeemed, expired


class Loyalty(Rule):
    """Points per currency unit, redeemed in blocks, lost after inactivity; tiers with costed benefits.

    Runs after the day's purchases and reads them off the ``revenue`` and ``n_orders`` columns.

    - **Membership**: open (every buyer joins at their first order) or closed (lifetime spend of
      ``join_spend``). A new member starts in the base tier with ``endowed_points``.
    - **Points**: ``points_per_currency × tier.rel_points`` per currency unit spent. When a balance
      reaches ``redemption_points`` it is redeemed in whole blocks worth ``value_per_point`` each
      (ledger ``loyalty/redemptions``). After ``days_points_expiry`` days without an order the balance
      expires. Breakage = expired / (expired + redeemed) points: the share of settled points never used.
    - **Tiers**: qualifying spend (or points) either decays with time constant ``days_window`` (rolling)
      or resets every ``days_window`` days (calendar). Upgrades are immediate. A member below their
      tier's threshold (checked daily when rolling, at each window's end when calendar) is downgraded
      after ``days_grace`` days still below: not at all (none), one tier (soft landing) or to the base.
    - **Benefits** (per tier, each costed): ``rel_churn`` on the churn hazard; ``discount`` × order value
      (ledger ``loyalty/discounts``); ``rel_share`` adds ``(rel_share − 1) × sharing.rate_share_per_day``
      shares a day (spread by the roles rule); ``service_cost_per_order`` (ledger ``loyalty/service``).
    - **Behaviour**: the balance is a cost of leaving: churn × ``rel_churn_full_balance ^ min(1,
      balance / redemption_points)``. Goal gradient: purchase rate × ``rel_purchase_near_goal`` within
      ``share_near_goal`` of a reward or of the next tier, × ``rel_purchase_after_reward`` for
      ``days_after_reward`` days after a redemption.
    """

    name = "loyalty"
    phase = Phase.LOYALTY
    section = "loyalty"
    reads: ClassVar[frozenset[str]] = frozenset(
        {
            "stage",
            "revenue",
            "n_orders",
            "tier",
            "points",
            "qualifying_spend",
            "day_last_order",
            "day_below_tier",
            "day_last_reward",
        }
    )
    writes: ClassVar[frozenset[str]] = frozenset(
        {
            "points",
            "points_earned",
            "points_redeemed",
            "points_expired",
            "tier",
            "qualifying_spend",
            "day_last_order",
            "day_below_tier",
            "day_last_reward",
            "rel_churn_loyalty",
            "rel_purchase",
            "rate_share_extra",
        }
    )
    zero_intensity: ClassVar[dict[str, object]] = {"loyalty.membership": "off"}
    step_columns: ClassVar[tuple[str, ...]] = (
        "loyalty_members",
        "points_earned",
        "points_redeemed",
        "points_expired",
        "spend_loyalty",
    )
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "loyalty_members": MetricInfo("people", "Programme members on the last day (active or not)."),
        "loyalty_breakage": MetricInfo(
            "share",
            "Points expired / (expired + redeemed): settled points never used.",
            higher_is_better=False,
        ),
        "loyalty_spend": MetricInfo(
            "currency", "Redemptions, discounts and service cost of the programme.", higher_is_better=False
        ),
        "loyalty_liability": MetricInfo(
            "currency", "Value of unredeemed points on the last day (a liability).", higher_is_better=False
        ),
        "loyalty_top_tier_share": MetricInfo(
            "share", "Share of members in the highest tier on the last day."
        ),
    }

    params: LoyaltySpec

    def setup(self, model: Market) -> None:
        """Tier tables and the revenue and order counts already seen."""
        pop = model.population
        tiers = self.params.tiers or [TierSpec(name="base")]
        self._threshold = np.array([t.threshold for t in tiers], dtype=np.float64)
        self._rel_points = np.array([t.rel_points for t in tiers], dtype=np.float64)
        self._rel_churn = np.array([t.rel_churn for t in tiers], dtype=np.float64)
        self._discount = np.array([t.discount for t in tiers], dtype=np.float64)
        self._service = np.array([t.service_cost_per_order for t in tiers], dtype=np.float64)
        rate_share = model.scenario_config.sharing.rate_share_per_day
        self._extra_share = np.array([(t.rel_share - 1.0) * rate_share for t in tiers], dtype=np.float64)
        self._revenue_seen = pop.revenue.copy()
        self._orders_seen = pop.n_orders.copy()
        p = self.params
        self._terms = _Terms(
            closed=p.membership == "closed",
            join_spend=float(p.join_spend),
            endowed_points=float(p.endowed_points),
            points_per_currency=float(p.points_per_currency),
            basis_spend=p.tier_basis == "spend",
            redemption_points=float(p.redemption_points),
            days_points_expiry=NEVER if p.days_points_expiry is None else int(p.days_points_expiry),
            rolling=p.window == "rolling",
            days_window=int(p.days_window),
            decay=math.exp(-1.0 / p.days_window),
            downgrade=("none", "one_tier", "to_base").index(p.downgrade),
            days_grace=int(p.days_grace),
            rel_churn_full_balance=float(p.rel_churn_full_balance),
            goal_gradient=not (p.rel_purchase_near_goal == 1.0 and p.rel_purchase_after_reward == 1.0),
            share_near_goal=float(p.share_near_goal),
            rel_purchase_near_goal=float(p.rel_purchase_near_goal),
            rel_purchase_after_reward=float(p.rel_purchase_after_reward),
            days_after_reward=int(p.days_after_reward),
        )

    def step(self, model: Market) -> None:
        """Enrol, earn, redeem, expire, review tiers and set the behavioural multipliers."""
        if self.params.membership == "off":
            return
        pop = model.population
        p = self.params
        day = model.day
        earned, n_joining, discounts, service, n_members, redeemed, expired = _loyalty_day(
            day,
            pop.revenue,
            pop.n_orders,
            self._revenue_seen,
            self._orders_seen,
            pop.stage,
            pop.tier,
            pop.points,
            pop.points_earned,
            pop.points_redeemed,
            pop.points_expired,
            pop.qualifying_spend,
            pop.day_last_order,
            pop.day_below_tier,
            pop.day_last_reward,
            pop.rel_churn_loyalty,
            pop.rate_share_extra,
            pop.rel_purchase,
            self._threshold,
            self._rel_points,
            self._rel_churn,
            self._discount,
            self._service,
            self._extra_share,
            self._terms,
        )
        cost = self._post(model, "discounts", discounts)
        cost += self._post(model, "service", service)
        cost += self._post(model, "redemptions", redeemed * p.value_per_point)
        model.tally("loyalty_members", n_members)
        model.tally("points_earned", earned + p.endowed_points * n_joining)
        model.tally("points_redeemed", redeemed)
        model.tally("points_expired", expired)
        model.tally("spend_loyalty", cost)

    @staticmethod
    def _post(model: Market, purpose: str, amount: float) -> float:
        model.ledger.spend("loyalty", purpose, amount)
        return amount

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Members, breakage, programme cost, liability and the top tier's share."""
        pop = model.population
        members = pop.tier != NEVER
        n_members = int(members.sum())
        expired = float(pop.points_expired.sum())
        redeemed = float(pop.points_redeemed.sum())
        top = len(self.params.tiers) - 1 if self.params.tiers else 0
        return {
            "loyalty_members": float(n_members),
            "loyalty_breakage": expired / (expired + redeemed) if expired + redeemed > 0 else math.nan,
            "loyalty_spend": float(steps["spend_loyalty"].sum()),
            "loyalty_liability": float(pop.points[members].sum()) * self.params.value_per_point,
            "loyalty_top_tier_share": float((pop.tier == top).sum()) / n_members if n_members else math.nan,
        }
