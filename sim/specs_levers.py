"""Scenario sections of issue #4: habit, retention offers, win-back, roles, seeding, field team, loyalty.

Every section defaults to "off" (zero intensity): a scenario that does not mention it runs exactly as
before. Units are in each field's description; naming follows :mod:`sim.scenario`.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from sim.spec import Probability, Section, Share

if TYPE_CHECKING:
    from sim.scenario import Scenario

__all__ = [
    "FieldTeamSpec",
    "HabitSpec",
    "LoyaltySpec",
    "RetentionOffersSpec",
    "RolesSpec",
    "SeedingSpec",
    "TierSpec",
    "WinbackSpec",
    "check_lever_sections",
]


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
    """Offers to active customers (a discount, a call) that change churn for a while (science.md §4).

    People differ in how an offer moves them (uplift modelling's four groups): *persuadables* stay
    because of it, *sleeping dogs* are reminded to leave, and the rest (*sure things*, who would stay
    anyway, and *lost causes*, who leave anyway) do not respond; an offer to them is wasted.
    """

    daily_budget: float = Field(0.0, ge=0.0, description="Spend on retention offers (currency per day).")
    cost_per_offer: float = Field(5.0, gt=0.0, description="Cost of one offer (currency per offer).")
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
        total = self.share_persuadable + self.share_sleeping_dog
        if total > 1.0:
            raise ValueError(
                "share_persuadable + share_sleeping_dog must be at most 1; got "
                f"{self.share_persuadable} + {self.share_sleeping_dog} = {total}"
            )
        return self


class WinbackSpec(Section):
    """Contacting churned customers to bring them back."""

    daily_budget: float = Field(0.0, ge=0.0, description="Spend on win-back contacts (currency per day).")
    cost_per_contact: float = Field(2.0, gt=0.0, description="Cost of one contact (currency per contact).")
    p_convert: Probability = Field(0.05, description="Probability a contact brings the person back.")


class RolesSpec(Section):
    """Roles on the graph: employees and KOLs who share more than ordinary customers (mission.md §5)."""

    p_convert: Probability = Field(
        0.05, description="Probability a share from an employee or KOL converts the friend who hears it."
    )
    n_employees: int = Field(0, ge=0, description="Employees, chosen at random among the people (people).")
    employee_rate_share_per_day: float = Field(
        0.2, ge=0.0, le=50.0, description="Shares each employee makes per day, customer or not."
    )
    employee_reward_per_referral: float = Field(
        0.0,
        ge=0.0,
        description="Paid to an employee per customer their shares bring (currency per referral).",
    )
    n_kols: int = Field(0, ge=0, description="Key opinion leaders (people); ignored when kol_ids is set.")
    kol_selection: Literal["degree", "random", "assigned"] = Field(
        "degree", description="How KOLs are chosen: the most friends first, at random, or kol_ids."
    )
    kol_ids: list[int] = Field(
        default_factory=list, description="Node ids of the KOLs when kol_selection = assigned."
    )
    kol_rate_share_per_day: float = Field(
        0.05, ge=0.0, le=50.0, description="Posts each KOL makes per day, customer or not."
    )
    kol_friends_per_share: float = Field(
        20.0, ge=1.0, description="Friends one KOL post reaches (an ordinary share reaches one)."
    )
    kol_fee_per_day: float = Field(
        0.0, ge=0.0, description="Fee paid to each KOL (currency per KOL per day)."
    )

    @model_validator(mode="after")
    def _kols(self) -> RolesSpec:
        if self.kol_selection == "assigned" and not self.kol_ids:
            raise ValueError("kol_ids must list at least one node id when kol_selection = assigned; got []")
        if self.kol_selection != "assigned" and self.kol_ids:
            raise ValueError(
                "kol_ids is only used with kol_selection = assigned; "
                f"got kol_selection = {self.kol_selection}"
            )
        if any(i < 0 for i in self.kol_ids):
            raise ValueError(f"kol_ids must be node ids ≥ 0; got {self.kol_ids}")
        return self


class SeedingSpec(Section):
    """Seed users made customers on the first day (free product, a launch list)."""

    budget: float = Field(0.0, ge=0.0, description="Seeding budget, spent on day 1 (currency).")
    cost_per_seed: float = Field(20.0, gt=0.0, description="Cost of one seed user (currency per person).")
    selection: Literal["random", "hubs", "community"] = Field(
        "random", description="Who is seeded: at random, the most connected first, or inside one community."
    )
    community: int | None = Field(
        None, ge=0, description="The community seeded when selection = community (communities graph only)."
    )


class FieldTeamSpec(Section):
    """A field team (地推): reps contacting people in person, paid a salary and a commission.

    Reps paid per sign-up push marginal people: sign-ups rise by ``rel_convert_signup_push`` but the
    extra ones are poor fits whose churn hazard is ``rel_churn_signup_push`` times higher. Reps paid
    per customer still active after ``days_retained`` days do not push.
    """

    n_reps: int = Field(0, ge=0, description="Field reps (people on the team).")
    contacts_per_rep_per_day: float = Field(
        20.0, ge=0.0, le=10_000.0, description="Contacts each rep makes per day (people per rep per day)."
    )
    community: int | None = Field(
        None, ge=0, description="Community the reps work in (communities graph only); none = anywhere."
    )
    p_convert: Probability = Field(0.05, description="Probability a contact signs up (without pushing).")
    salary_per_rep_per_day: float = Field(0.0, ge=0.0, description="Salary (currency per rep per day).")
    commission: Literal["per_signup", "per_retained"] = Field(
        "per_signup",
        description="Commission paid per sign-up, or per sign-up still active after days_retained.",
    )
    commission_amount: float = Field(0.0, ge=0.0, description="Commission (currency per paid customer).")
    days_retained: int = Field(
        30, ge=1, le=3650, description="Days a sign-up must stay active to earn a per_retained commission."
    )
    days_active: int | None = Field(
        None, ge=1, description="The team works the first days_active days (launch); none = whole horizon."
    )
    rel_convert_signup_push: float = Field(
        1.0,
        ge=1.0,
        le=10.0,
        description="Multiplier on sign-ups when paid per sign-up (pushing marginal people).",
    )
    rel_churn_signup_push: float = Field(
        1.0, ge=1.0, le=20.0, description="Multiplier on the churn hazard of the pushed (marginal) sign-ups."
    )


class TierSpec(Section):
    """One loyalty tier: the qualifying threshold and the benefits (each costed in the ledger)."""

    name: str = Field(..., min_length=1, max_length=40, description="Tier name (base, silver, gold…).")
    threshold: float = Field(
        0.0, ge=0.0, description="Qualifying spend (currency) or points in the window to reach the tier."
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
        0.0, ge=0.0, description="Extra service cost per order (currency per order), e.g. free shipping."
    )


class LoyaltySpec(Section):
    """A points programme with tiers (mission.md §4)."""

    membership: Literal["off", "open", "closed"] = Field(
        "off", description="off: no programme; open: every buyer joins; closed: spend join_spend to join."
    )
    join_spend: float = Field(
        0.0, ge=0.0, description="Lifetime spend needed to join a closed programme (currency)."
    )
    points_per_currency: float = Field(1.0, ge=0.0, description="Points earned per currency unit spent.")
    redemption_points: float = Field(
        500.0, gt=0.0, description="Points redeemed at once when a balance reaches this (points)."
    )
    value_per_point: float = Field(
        0.01, ge=0.0, description="What a redeemed point is worth to the member (currency per point)."
    )
    days_points_expiry: int | None = Field(
        365, ge=1, description="Points expire after this many days without an order; none = never."
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
        0.0, ge=0.0, description="Points given at enrolment (endowed progress toward the first reward)."
    )

    @model_validator(mode="after")
    def _tiers(self) -> LoyaltySpec:
        thresholds = [tier.threshold for tier in self.tiers]
        if any(b <= a for a, b in itertools.pairwise(thresholds)):
            raise ValueError(f"tiers[].threshold must be strictly ascending; got {thresholds}")
        if thresholds and thresholds[0] != 0.0:
            raise ValueError(f"tiers[0].threshold (the base tier) must be 0; got {thresholds[0]}")
        names = [tier.name for tier in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tiers[].name must be unique; got {names}")
        return self


def check_lever_sections(scenario: Scenario) -> None:
    """Cross-section checks (communities, node ids) for these sections; raises ValueError naming fields."""
    from sim.scenario import CommunitySpec

    network = scenario.network
    n_blocks = network.n_communities if isinstance(network, CommunitySpec) else None
    for path, value in (
        ("seeding.community", scenario.seeding.community),
        ("field_team.community", scenario.field_team.community),
    ):
        if value is None:
            continue
        if n_blocks is None:
            raise ValueError(f"{path} needs network.kind = communities; got network.kind = {network.kind}")
        if value >= n_blocks:
            raise ValueError(f"{path} must be in [0, {n_blocks - 1}]; got {value}")
    if scenario.seeding.selection == "community" and scenario.seeding.community is None:
        raise ValueError("seeding.community must be set when seeding.selection = community; got none")
    if scenario.seeding.selection != "community" and scenario.seeding.community is not None:
        raise ValueError(
            "seeding.community is only used with seeding.selection = community; "
            f"got seeding.selection = {scenario.seeding.selection}"
        )
    roles = scenario.roles
    too_big = [i for i in roles.kol_ids if i >= network.n]
    if too_big:
        raise ValueError(f"roles.kol_ids must be in [0, {network.n - 1}] (network.n); got {too_big}")
    if roles.n_employees + max(roles.n_kols, len(roles.kol_ids)) > network.n:
        raise ValueError(
            f"roles.n_employees + roles.n_kols must be at most network.n = {network.n}; "
            f"got {roles.n_employees} + {max(roles.n_kols, len(roles.kol_ids))}"
        )
