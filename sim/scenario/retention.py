"""The strategy's retention levers: habit, retention offers, win-back and the loyalty programme.

Every section defaults to "off" (zero intensity): a scenario that does not mention it runs exactly as
before. Units are in each field's description; naming follows :mod:`sim.scenario`.
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.errors import given_text
from sim.scenario.schedule import peak_value, schedulable
from sim.scenario.section import (
    MAX_DAYS,
    MAX_MONEY,
    MAX_POINTS,
    Probability,
    Section,
    Share,
    units_per_day_problem,
)

__all__ = ["HabitSpec", "LoyaltySpec", "RetentionOffersSpec", "TierSpec", "WinbackSpec"]


class HabitSpec(Section):
    """Habit: after enough good experiences a customer's churn drops (the essays say three)."""

    good_experiences_for_habit: int = Field(
        3,
        ge=1,
        le=1000,
        description=(
            "Good experiences, net of bad ones (each bad one undoes a good one), after which a customer "
            "is habitual (orders)."
        ),
    )
    rel_churn_habit: float = Field(
        1.0, ge=0.0, le=1.0, description="Multiplier on a habitual customer's churn hazard (1 = off)."
    )


class RetentionOffersSpec(Section):
    """Offers to active customers (a discount, a call) that change churn for a while (docs/science.md §4).

    People differ in how an offer moves them (uplift modelling's four groups): *persuadables* stay
    because of it, *sleeping dogs* are reminded to leave, and the rest (*sure things*, who would stay
    anyway, and *lost causes*, who leave anyway) do not respond; an offer to them is wasted.
    """

    daily_budget: schedulable(ge=0.0, le=MAX_MONEY) = Field(  # type: ignore[valid-type]
        0.0, description="Spend on retention offers (currency per day): a number or a schedule."
    )
    cost_per_offer: float = Field(
        5.0, gt=0.0, le=MAX_MONEY, description="Cost of one offer (currency per offer)."
    )
    days_effect: int = Field(
        30,
        ge=1,
        le=3650,
        description="How long an offer's effect on churn lasts (days); no repeat meanwhile.",
    )
    targeting: Literal["random", "churn_risk", "uplift"] = Field(
        "random",
        description=(
            "Who gets the offers: random active customers, the highest churn risk first, or the highest "
            "expected uplift (risk × response) first."
        ),
    )
    share_persuadable: Share = Field(
        0.25, description="Share of people whose churn an offer lowers (persuadables)."
    )
    share_sleeping_dog: Share = Field(
        0.10, description="Share of people whose churn an offer raises (sleeping dogs)."
    )
    rel_churn_persuaded: float = Field(
        0.2, ge=0.0, le=1.0, description="Multiplier on a persuadable's churn hazard while the offer lasts."
    )
    rel_churn_sleeping_dog: float = Field(
        2.0, ge=1.0, le=20.0, description="Multiplier on a sleeping dog's churn hazard while the offer lasts."
    )
    p_uplift_model_correct: Probability = Field(
        1.0,
        description=(
            "Probability that the uplift model knows a person's response group (else it sees a random "
            "group); only for targeting = uplift."
        ),
    )

    @model_validator(mode="after")
    def _shares(self) -> RetentionOffersSpec:
        problem = units_per_day_problem(
            peak_value(self.daily_budget),
            self.cost_per_offer,
            "retention_offers.daily_budget / retention_offers.cost_per_offer",
            "offers",
        )
        if problem:
            raise ValueError(problem)
        total = self.share_persuadable + self.share_sleeping_dog
        if total > 1.0:
            raise ValueError(
                "share_persuadable + share_sleeping_dog must be at most 1; got "
                f"{self.share_persuadable} + {self.share_sleeping_dog} = {total}"
            )
        return self


class WinbackSpec(Section):
    """Contacting churned customers to bring them back."""

    daily_budget: schedulable(ge=0.0, le=MAX_MONEY) = Field(  # type: ignore[valid-type]
        0.0, description="Spend on win-back contacts (currency per day): a number or a schedule."
    )
    cost_per_contact: float = Field(
        2.0, gt=0.0, le=MAX_MONEY, description="Cost of one contact (currency per contact)."
    )
    p_convert: Probability = Field(0.05, description="Probability a contact brings the person back.")

    @model_validator(mode="after")
    def _representable(self) -> WinbackSpec:
        problem = units_per_day_problem(
            peak_value(self.daily_budget),
            self.cost_per_contact,
            "winback.daily_budget / winback.cost_per_contact",
            "contacts",
        )
        if problem:
            raise ValueError(problem)
        return self


class TierSpec(Section):
    """One loyalty tier: the qualifying threshold and the benefits (each costed in the ledger)."""

    name: str = Field(..., min_length=1, max_length=40, description="Tier name (base, silver, gold…).")
    threshold: float = Field(
        0.0,
        ge=0.0,
        le=MAX_POINTS,
        description="Qualifying spend (currency) or points in the window to reach the tier.",
    )
    rel_points: float = Field(
        1.0, ge=0.0, le=20.0, description="Multiplier on points earned per currency unit."
    )
    rel_churn: float = Field(1.0, ge=0.0, le=10.0, description="Multiplier on a member's churn hazard.")
    discount: Share = Field(0.0, description="Share of each order's value given back (a cost to the brand).")
    rel_share: float = Field(
        1.0,
        ge=1.0,
        le=20.0,
        description="Multiplier on a member's shares per day (sharing.rate_share_per_day).",
    )
    service_cost_per_order: float = Field(
        0.0,
        ge=0.0,
        le=MAX_MONEY,
        description="Extra service cost per order (currency per order), e.g. free shipping.",
    )


class LoyaltySpec(Section):
    """A points programme with tiers."""

    membership: Literal["off", "open", "closed"] = Field(
        "off", description="off: no programme; open: every buyer joins; closed: spend join_spend to join."
    )
    join_spend: float = Field(
        0.0, ge=0.0, le=MAX_MONEY, description="Lifetime spend needed to join a closed programme (currency)."
    )
    points_per_currency: float = Field(
        1.0,
        ge=0.0,
        le=1e6,  # points = spend × this × a tier's rel_points: bounded so balances stay finite
        description="Points earned per currency unit spent.",
    )
    redemption_points: float = Field(
        500.0,
        ge=1e-6,  # balance / redemption_points whole blocks are redeemed: bounded so that stays finite
        le=MAX_POINTS,
        description="Points redeemed at once when a balance reaches this (points).",
    )
    value_per_point: float = Field(
        0.01,
        ge=0.0,
        le=MAX_MONEY,
        description="What a redeemed point is worth to the member (currency per point).",
    )
    days_points_expiry: int | None = Field(
        365,
        ge=1,
        le=MAX_DAYS,
        description="Points expire after this many days without an order; none = never.",
    )
    tier_basis: Literal["spend", "points"] = Field(
        "spend", description="Tiers qualify on spend (currency) or points earned in the window."
    )
    window: Literal["rolling", "calendar"] = Field(
        "rolling",
        description=(
            "rolling: qualifying amounts decay with time constant days_window (a smooth rolling window); "
            "calendar: they reset every days_window days."
        ),
    )
    days_window: int = Field(365, ge=1, le=3650, description="Qualification window (days).")
    downgrade: Literal["none", "one_tier", "to_base"] = Field(
        "one_tier",
        description=(
            "When a member no longer qualifies: keep the tier, drop one (soft landing), or drop to the base."
        ),
    )
    days_grace: int = Field(
        30,
        ge=0,
        le=3650,
        description="Days a member may stay below their tier's threshold before a downgrade.",
    )
    tiers: list[TierSpec] = Field(
        default_factory=list,
        description=(
            "Tiers, lowest first (thresholds ascending; the first, threshold 0, is the base tier every "
            "member has)."
        ),
    )
    rel_churn_full_balance: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description=(
            "Churn multiplier of a member whose unredeemed balance is at the redemption threshold (less "
            "balance, proportionally less effect on the log scale): points are a cost of leaving."
        ),
    )
    rel_purchase_near_goal: float = Field(
        1.0,
        ge=1.0,
        le=5.0,
        description=(
            "Purchase-rate multiplier within share_near_goal of a reward or the next tier (goal gradient)."
        ),
    )
    share_near_goal: Share = Field(0.2, description="How close counts as near a goal (share of the gap).")
    rel_purchase_after_reward: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Purchase-rate multiplier in the days_after_reward after a redemption.",
    )
    days_after_reward: int = Field(14, ge=0, le=365, description="Length of the post-reward slowdown (days).")
    endowed_points: float = Field(
        0.0,
        ge=0.0,
        le=MAX_POINTS,
        description="Points given at enrolment (endowed progress toward the first reward).",
    )

    @model_validator(mode="after")
    def _tiers(self) -> LoyaltySpec:
        thresholds = [tier.threshold for tier in self.tiers]
        if any(b <= a for a, b in itertools.pairwise(thresholds)):
            raise ValueError(f"tiers[].threshold must be strictly ascending; got {given_text(thresholds)}")
        if thresholds and thresholds[0] != 0.0:
            raise ValueError(f"tiers[0].threshold (the base tier) must be 0; got {thresholds[0]}")
        names = [tier.name for tier in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tiers[].name must be unique; got {given_text(names)}")
        return self
