"""The strategy's channels of acquisition: ads (the funnel), sharing (the ripple), roles, seeding, field team.

Every section but ``ads`` and ``sharing`` defaults to "off" (zero intensity). Units are in each
field's description; naming follows :mod:`sim.scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from sim.scenario.schedule import peak_value, schedulable
from sim.scenario.section import (
    MAX_COUNT,
    MAX_DAYS,
    MAX_MONEY,
    MAX_PEOPLE,
    Probability,
    Section,
    units_per_day_problem,
)

__all__ = [
    "CHANNEL_NAME_PATTERN",
    "AdChannelSpec",
    "AdsSpec",
    "FieldTeamSpec",
    "RolesSpec",
    "SeedingSpec",
    "SharingSpec",
    "channels_as_section",
]


#: A channel's name: lower-case letters, digits and underscores (it names step-table columns).
CHANNEL_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class AdChannelSpec(Section):
    """One paid channel (search, social, video, TV-like broadcast): a budget buys impressions at a CPM.

    Impressions move people down the funnel stage by stage; a frequency cap and wear-out limit what
    one person takes in; carryover (geometric adstock) lets an impression keep working on the
    following days, and saturation (a Hill curve of the day's reach) makes each extra person reached
    worth less (docs/science.md §9).
    """

    name: str = Field(
        "ads",
        min_length=1,
        max_length=40,
        pattern=CHANNEL_NAME_PATTERN,
        description="Name of the channel (lower-case letters, digits, _): names its step-table columns.",
    )
    daily_budget: schedulable(ge=0.0, le=MAX_MONEY) = Field(  # type: ignore[valid-type]
        100.0,
        description=(
            "Ad spend per day (currency per day): a number, or a schedule (a launch burst, weekly and "
            "yearly multipliers)."
        ),
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
    days_adstock_half_life: float | None = Field(
        None,
        gt=0.0,
        le=3650.0,
        description=(
            "Carryover: days after which what an impression leaves in a person's mind has halved "
            "(geometric adstock, retention α = 0.5^(1/half-life), normalised so an impression's total "
            "effect is unchanged, only spread over the following days); none = an impression acts "
            "on its day only."
        ),
    )
    saturation_half_reach: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description=(
            "Saturation: the daily reach (share of the channel's audience shown an ad that day) at "
            "which its effect is half the most it can reach (the Hill curve's κ); each impression "
            "counts κ·H(r)/r, H(r) = r^s/(κ^s + r^s). None = no saturation."
        ),
    )
    saturation_slope: float = Field(
        1.0,
        ge=1.0,
        le=10.0,
        description=(
            "Saturation: the Hill curve's slope s (1 = diminishing returns from the first person "
            "reached; above 1 = an S-curve, little effect below a threshold reach)."
        ),
    )

    @model_validator(mode="after")
    def _representable(self) -> AdChannelSpec:
        problem = units_per_day_problem(
            peak_value(self.daily_budget), self.cpm, "daily_budget / cpm × 1000", "impressions", scale=1000.0
        )
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _saturation(self) -> AdChannelSpec:
        if self.saturation_slope != 1.0 and self.saturation_half_reach is None:
            raise ValueError(
                "saturation_slope is only used with saturation_half_reach; "
                f"got saturation_slope = {self.saturation_slope}, saturation_half_reach = none"
            )
        return self

    @property
    def is_plain(self) -> bool:
        """Whether this is the one-channel funnel of old: named ``ads``, no carryover, no saturation."""
        return (
            self.name == "ads" and self.days_adstock_half_life is None and self.saturation_half_reach is None
        )


def channels_as_section(data: Any) -> Any:
    """A list of channels (plain data) as the ``ads`` section: the first item, the rest as ``channels``.

    Anything else is returned as it is (validation then names what is wrong). Dotted overrides use it
    too, so ``ads.channels.1.cpm`` reaches the third channel of a file that lists them.
    """
    if not isinstance(data, list) or not data or not isinstance(data[0], Mapping) or "channels" in data[0]:
        return data
    first, *rest = data
    return {**first, "channels": list(rest)}


class AdsSpec(AdChannelSpec):
    """The funnel: paid channels. This section is the first channel; ``channels`` lists any others.

    Written as a mapping (the form of a one-channel scenario) the section is one channel named
    ``ads``. Several channels are written as a YAML list under ``ads:`` (each with its own ``name``);
    the first item becomes this section and the rest ``channels``. Channels act one after another in
    that order, each with its own budget, audience, frequency cap, wear-out, carryover and saturation.
    """

    channels: list[AdChannelSpec] = Field(
        default_factory=list,
        description=(
            "Further paid channels, each with every field of a channel and a distinct name (a YAML "
            "list under ads: puts its first item here in ads and the rest in channels)."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _list_form(cls, data: Any) -> Any:
        if isinstance(data, list) and not data:
            raise ValueError("a list of channels must have at least one channel (daily_budget: 0 = no ads)")
        if isinstance(data, list) and isinstance(data[0], Mapping) and "channels" in data[0]:
            raise ValueError("in a list of channels, list every channel as an item (no channels: inside one)")
        return channels_as_section(data)

    @model_validator(mode="after")
    def _distinct_names(self) -> AdsSpec:
        names = [channel.name for channel in self.all_channels()]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"channel names must be distinct; got {', '.join(repeated)} more than once")
        return self

    def all_channels(self) -> list[AdChannelSpec]:
        """Every paid channel in the order they act: this section (as a plain channel), then ``channels``."""
        own = AdChannelSpec.model_validate(self.model_dump(exclude={"channels"}))
        return [own, *self.channels]

    @property
    def is_plain(self) -> bool:
        """Whether this is the one-channel funnel of old (no further channels, carryover or saturation)."""
        return not self.channels and super().is_plain


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

    n_reps: schedulable(ge=0, le=MAX_PEOPLE, integer=True) = Field(  # type: ignore[valid-type]
        0,
        description=(
            "Field reps on duty (people): a whole number, or a schedule of reps per day (fractions are "
            "part-time: contacts and salaries scale with them)."
        ),
    )
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
