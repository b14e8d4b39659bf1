"""The loyalty programme: points, redemption, expiry and breakage, tiers and their benefits."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.rules.base import MetricInfo, Phase, Rule
from sim.scenario import LoyaltySpec, TierSpec
from sim.world.population import NEVER, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Loyalty"]


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
        self._threshold = np.array([t.threshold for t in tiers])
        self._rel_points = np.array([t.rel_points for t in tiers])
        self._rel_churn = np.array([t.rel_churn for t in tiers])
        self._discount = np.array([t.discount for t in tiers])
        self._service = np.array([t.service_cost_per_order for t in tiers])
        rate_share = model.scenario_config.sharing.rate_share_per_day
        self._extra_share = np.array([(t.rel_share - 1.0) * rate_share for t in tiers])
        self._revenue_seen = pop.revenue.copy()
        self._orders_seen = pop.n_orders.copy()

    def step(self, model: Market) -> None:
        """Enrol, earn, redeem, expire, review tiers and set the behavioural multipliers."""
        if self.params.membership == "off":
            return
        pop = model.population
        p = self.params
        day = model.day
        spend_all = pop.revenue - self._revenue_seen
        buyers = np.flatnonzero(spend_all > 0)
        spend = spend_all[buyers]
        orders = (pop.n_orders[buyers] - self._orders_seen[buyers]).astype(np.float64)
        self._revenue_seen[buyers] = pop.revenue[buyers]
        self._orders_seen[buyers] = pop.n_orders[buyers]

        joining = buyers[pop.tier[buyers] == NEVER]
        if p.membership == "closed":
            joining = joining[pop.revenue[joining] >= p.join_spend]
        pop.tier[joining] = 0
        pop.points[joining] = p.endowed_points
        pop.points_earned[joining] += p.endowed_points

        member_buying = pop.tier[buyers] != NEVER
        buyers, spend, orders = buyers[member_buying], spend[member_buying], orders[member_buying]
        tier = pop.tier[buyers]
        earned = spend * p.points_per_currency * self._rel_points[tier]
        pop.points[buyers] += earned
        pop.points_earned[buyers] += earned
        pop.day_last_order[buyers] = day
        pop.qualifying_spend[buyers] += spend if p.tier_basis == "spend" else earned
        cost = self._post(model, "discounts", float((spend * self._discount[tier]).sum()))
        cost += self._post(model, "service", float((orders * self._service[tier]).sum()))

        members = np.flatnonzero(pop.tier != NEVER)
        redeemed = self._redeem(model, members)
        cost += self._post(model, "redemptions", redeemed * p.value_per_point)
        expired = self._expire(model, members)
        self._review_tiers(model, members)
        self._set_effects(model, members)
        model.tally("loyalty_members", int(members.size))
        model.tally("points_earned", float(earned.sum()) + p.endowed_points * joining.size)
        model.tally("points_redeemed", redeemed)
        model.tally("points_expired", expired)
        model.tally("spend_loyalty", cost)

    @staticmethod
    def _post(model: Market, purpose: str, amount: float) -> float:
        model.ledger.spend("loyalty", purpose, amount)
        return amount

    def _redeem(self, model: Market, members: np.ndarray) -> float:
        pop = model.population
        block = self.params.redemption_points
        ready = members[pop.points[members] >= block]
        if ready.size == 0:
            return 0.0
        # Whole blocks are redeemed; fmod is exact, so the balance left is in [0, block) even where
        # floor(points / block) × block would round past the balance of a huge one.
        left = np.fmod(pop.points[ready], block)
        used = pop.points[ready] - left
        pop.points[ready] = left
        pop.points_redeemed[ready] += used
        pop.day_last_reward[ready] = model.day
        return float(used.sum())

    def _expire(self, model: Market, members: np.ndarray) -> float:
        pop = model.population
        days = self.params.days_points_expiry
        if days is None:
            return 0.0
        last = pop.day_last_order[members]
        stale = members[(pop.points[members] > 0) & (last != NEVER) & (model.day - last >= days)]
        lost = float(pop.points[stale].sum())
        pop.points_expired[stale] += pop.points[stale]
        pop.points[stale] = 0.0
        return lost

    def _review_tiers(self, model: Market, members: np.ndarray) -> None:
        pop = model.population
        p = self.params
        day = model.day
        tier = pop.tier[members].astype(np.int64)
        qualifying = pop.qualifying_spend[members]
        qualified = np.searchsorted(self._threshold, qualifying, side="right") - 1
        up = qualified > tier
        tier[up] = qualified[up]
        holds = qualified >= tier
        below_since = pop.day_below_tier[members]
        below_since[holds] = NEVER
        review = p.window == "rolling" or day % p.days_window == 0
        if review:
            below_since[(~holds) & (below_since == NEVER)] = day
        if p.downgrade != "none":
            due = (below_since != NEVER) & (day - below_since >= p.days_grace) & ~holds
            if p.downgrade == "one_tier":
                tier[due] -= 1
            else:
                tier[due] = 0
            below_since[due] = NEVER  # a soft landing gets a new grace period in the lower tier
        pop.tier[members] = tier
        pop.day_below_tier[members] = below_since
        if p.window == "rolling":
            pop.qualifying_spend[members] *= math.exp(-1.0 / p.days_window)
        elif review:
            pop.qualifying_spend[members] = 0.0

    def _set_effects(self, model: Market, members: np.ndarray) -> None:
        pop = model.population
        p = self.params
        tier = pop.tier[members].astype(np.int64)
        balance = np.minimum(pop.points[members] / p.redemption_points, 1.0)
        pop.rel_churn_loyalty[members] = self._rel_churn[tier] * p.rel_churn_full_balance**balance
        active = pop.stage[members] == Stage.CUSTOMER
        pop.rate_share_extra[members] = np.where(active, self._extra_share[tier], 0.0)
        if p.rel_purchase_near_goal == 1.0 and p.rel_purchase_after_reward == 1.0:
            return
        near = balance >= 1.0 - p.share_near_goal
        top = len(self._threshold) - 1
        has_next = tier < top
        next_threshold = self._threshold[np.minimum(tier + 1, top)]
        gap = next_threshold - self._threshold[tier]
        remaining = next_threshold - pop.qualifying_spend[members]
        near |= has_next & (remaining <= p.share_near_goal * np.maximum(gap, 1e-12))
        rel = np.where(near, p.rel_purchase_near_goal, 1.0)
        last_reward = pop.day_last_reward[members]
        resting = (last_reward != NEVER) & (model.day - last_reward < p.days_after_reward)
        pop.rel_purchase[members] = np.where(resting, p.rel_purchase_after_reward, rel)

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
