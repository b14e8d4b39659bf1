"""The strategy's channels of acquisition: ads (the funnel), sharing (the ripple), roles, seeding, field team.

Every section but ``ads`` and ``sharing`` defaults to "off" (zero intensity). Units are in each
field's description; naming follows :mod:`sim.scenario`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.section import (
    MAX_COUNT,
    MAX_DAYS,
    MAX_MONEY,
    MAX_PEOPLE,
    Probability,
    Section,
    units_per_day_problem,
)

__all__ = ["AdsSpec", "FieldTeamSpec", "RolesSpec", "SeedingSpec", "SharingSpec"]


class AdsSpec(Section):
    """The funnel: a daily budget buys impressions at a CPM; impressions move people down stages."""

    daily_budget: float = Field(
        100.0, ge=0.0, le=MAX_MONEY, description="Ad spend per day (currency per day)."
    )
    cpm: float = Field(
        8.0,
        gt=0.0,
        le=MAX_MONEY,
        description=(
            "Cost per thousand impressions (currency); Meta ≈ 6-15, display ≈ 0.5-5. daily_budget / cpm × "
            "1000 (impressions a day) must be at most 1e15."
        ),
    )
    target: Literal["everyone", "prospects"] = Field(
        "prospects",
        description="Who is shown ads: everyone, or only people who are not active customers.",
    )
    target_community: int | None = Field(
        None, ge=0, le=MAX_PEOPLE, description="Show ads only inside this community (communities graph only)."
    )
    funnel: Literal["three_stage", "one_stage"] = Field(
        "three_stage",
        description=(
            "three_stage: unaware → aware → considering → customer; one_stage: an impression "
            "converts directly (the Bass limit)."
        ),
    )
    p_aware: Probability = Field(0.05, description="Unaware → aware, per effective impression.")
    p_consider: Probability = Field(0.02, description="Aware → considering, per effective impression.")
    p_purchase: Probability = Field(
        0.025, description="Considering → customer (or any → customer in one_stage), per impression."
    )
    frequency_cap: int | None = Field(
        3, ge=1, le=MAX_COUNT, description="Most impressions one person is shown per window; none = no cap."
    )
    days_frequency_window: int = Field(
        7, ge=1, le=366, description="Rolling window of the cap and wear-out (days)."
    )
    wearout_half_life_exposures: float | None = Field(
        2.0,
        gt=0.0,
        le=MAX_COUNT,  # past ~1e16 exposures 0.5^(1/h) is 1 in float64: no wear-out, say none
        description=(
            "Exposures within the rolling window after which an impression's effect halves (the k-th "
            "counts 0.5^((k-1)/h)); attention halves by about the 3rd exposure; none = no wear-out."
        ),
    )

    @model_validator(mode="after")
    def _representable(self) -> AdsSpec:
        problem = units_per_day_problem(
            self.daily_budget, self.cpm, "ads.daily_budget / ads.cpm × 1000", "impressions", scale=1000.0
        )
        if problem:
            raise ValueError(problem)
        return self


class SharingSpec(Section):
    """The ripple: customers who have bought pass the brand to their friends, most right after joining.

    Rewards for referrals are the ``incentives`` section (the referral programme): they raise the
    share rate through its behavioural response and pay per referral.
    """

    rate_share_per_day: float = Field(
        0.03,
        ge=0.0,
        le=50.0,
        description=(
            "Shares each active customer makes per day on their first day of sharing (it then fades "
            "with days_share_half_life)."
        ),
    )
    p_convert: Probability = Field(
        0.08, description="Probability a share converts a non-customer (trust: above an impression's)."
    )
    normalisation: Literal["fraction", "count"] = Field(
        "fraction",
        description=(
            "fraction: a person's pressure is the share of *their own* friends who are customers "
            "(Rand & Rust); count: the number of customer friends over the mean degree (hubs adopt "
            "early)."
        ),
    )
    days_share_half_life: float | None = Field(
        30.0,
        gt=0.0,
        le=36_500.0,
        description=(
            "Days after joining at which a customer's share rate has halved: word of mouth is "
            "strongest right after the purchase and fades (Berger & Schwartz 2011, docs/science.md "
            "§3); the k-th day as a customer shares at rate × 0.5^((k−1)/half-life). None = no fading."
        ),
    )
    max_shares_per_customer: float | None = Field(
        None,
        gt=0.0,
        le=1_000_000.0,
        description=(
            "Lifetime share budget: expected shares one customer makes in one spell as a customer "
            "(at their own rate, after fading); they stop sharing once it is spent (shares). None = "
            "no limit."
        ),
    )


class RolesSpec(Section):
    """Roles on the graph: employees and KOLs who share more than ordinary customers.

    Employees are rewarded per referral by the referral programme (``incentives.amount_employee``),
    and that reward raises their share rate like any referrer's.
    """

    p_convert: Probability = Field(
        0.05, description="Probability a share from an employee or KOL converts the friend who hears it."
    )
    n_employees: int = Field(
        0, ge=0, le=MAX_PEOPLE, description="Employees, chosen at random among the people (people)."
    )
    employee_rate_share_per_day: float = Field(
        0.2,
        ge=0.0,
        le=50.0,
        description=(
            "Shares each employee makes per day, customer or not, before the employee reward's uplift "
            "(incentives.amount_employee)."
        ),
    )
    n_kols: int = Field(
        0, ge=0, le=MAX_PEOPLE, description="Key opinion leaders (people); ignored when kol_ids is set."
    )
    kol_selection: Literal["degree", "random", "assigned"] = Field(
        "degree", description="How KOLs are chosen: the most friends first, at random, or kol_ids."
    )
    kol_ids: list[Annotated[int, Field(ge=0, le=MAX_PEOPLE)]] = Field(
        default_factory=list, description="Node ids of the KOLs when kol_selection = assigned."
    )
    kol_rate_share_per_day: float = Field(
        0.05, ge=0.0, le=50.0, description="Posts each KOL makes per day, customer or not."
    )
    kol_friends_per_share: float = Field(
        20.0,
        ge=1.0,
        le=MAX_PEOPLE,
        description="Friends one KOL post reaches (an ordinary share reaches one).",
    )
    kol_fee_per_day: float = Field(
        0.0, ge=0.0, le=MAX_MONEY, description="Fee paid to each KOL (currency per KOL per day)."
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
        return self


class SeedingSpec(Section):
    """Seed users made customers on the first day (free product, a launch list)."""

    budget: float = Field(0.0, ge=0.0, le=MAX_MONEY, description="Seeding budget, spent on day 1 (currency).")
    cost_per_seed: float = Field(
        20.0, gt=0.0, le=MAX_MONEY, description="Cost of one seed user (currency per person)."
    )
    selection: Literal["random", "hubs", "community"] = Field(
        "random", description="Who is seeded: at random, the most connected first, or inside one community."
    )
    community: int | None = Field(
        None,
        ge=0,
        le=MAX_PEOPLE,
        description="The community seeded when selection = community (communities graph only).",
    )

    @model_validator(mode="after")
    def _representable(self) -> SeedingSpec:
        problem = units_per_day_problem(
            self.budget, self.cost_per_seed, "seeding.budget / seeding.cost_per_seed", "seeds"
        )
        if problem:
            raise ValueError(problem)
        return self


class FieldTeamSpec(Section):
    """A field team (地推): reps contacting people in person, paid a salary and a commission.

    Reps paid per sign-up push marginal people: sign-ups rise by ``rel_convert_signup_push`` but the
    extra ones are poor fits whose churn hazard is ``rel_churn_signup_push`` times higher. Reps paid
    per customer still active after ``days_retained`` days do not push.
    """

    n_reps: int = Field(0, ge=0, le=MAX_PEOPLE, description="Field reps (people on the team).")
    contacts_per_rep_per_day: float = Field(
        20.0, ge=0.0, le=10_000.0, description="Contacts each rep makes per day (people per rep per day)."
    )
    community: int | None = Field(
        None,
        ge=0,
        le=MAX_PEOPLE,
        description="Community the reps work in (communities graph only); none = anywhere.",
    )
    p_convert: Probability = Field(0.05, description="Probability a contact signs up (without pushing).")
    salary_per_rep_per_day: float = Field(
        0.0, ge=0.0, le=MAX_MONEY, description="Salary (currency per rep per day)."
    )
    commission: Literal["per_signup", "per_retained"] = Field(
        "per_signup",
        description="Commission paid per sign-up, or per sign-up still active after days_retained.",
    )
    commission_amount: float = Field(
        0.0, ge=0.0, le=MAX_MONEY, description="Commission (currency per paid customer)."
    )
    days_retained: int = Field(
        30, ge=1, le=3650, description="Days a sign-up must stay active to earn a per_retained commission."
    )
    days_active: int | None = Field(
        None,
        ge=1,
        le=MAX_DAYS,
        description="The team works the first days_active days (launch); none = whole horizon.",
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
