"""The competition: a rival brand in the same market, with its own paid channels, word of mouth and offers.

``rival`` is part of the market (see :data:`sim.scenario.MARKET_SECTIONS`): strategies compared side
by side face the same rival. Off by default; with it off every output is what it was. Units are in
each field's description; naming follows :mod:`sim.scenario`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.scenario.channels import AdsSpec
from sim.scenario.section import Probability, Section, Share

__all__ = ["RivalSpec"]


def _no_rival_ads() -> AdsSpec:
    return AdsSpec(daily_budget=0.0)


class RivalSpec(Section):
    """A rival brand in the same market, with its own strategy: paid channels, word of mouth, offers.

    A person is a customer of at most one brand. The rival's customers are not ours: our rules never
    count them, and our ads, shares, discovery and reps win them over only by switching, at
    ``rel_switch`` times the usual rate (× ``rel_churn``, the rival's retention). Our customers switch
    to the rival the same way, at ``rel_switch × rel_switch_offer`` × their own retention multipliers
    (a retention offer's and their loyalty tier's). A customer who churns from either brand is back in
    the market and can adopt either. Word of mouth spreads each brand among friends (docs/odd.md,
    rules ``rival_ads`` and ``rival``).
    """

    enabled: bool = Field(False, description="Put a rival brand in the market (off: a monopoly).")
    share_initial_customers: Share = Field(
        0.0,
        description=(
            "Share of the people who are the rival's customers on day 0, drawn among those who are not ours."
        ),
    )
    rate_organic_per_day: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Hazard per person per day of adopting the rival on their own (its Bass p without ads).",
    )
    ads: AdsSpec = Field(
        default_factory=_no_rival_ads,
        description="The rival's paid channels, with the fields of ours (its spend is not in our books).",
    )
    rate_share_per_day: float = Field(
        0.03,
        ge=0.0,
        le=50.0,
        description=(
            "Shares each rival customer makes per day on their first day with the rival (it then fades "
            "with days_share_half_life)."
        ),
    )
    p_convert: Probability = Field(
        0.08, description="Probability a rival customer's share converts a friend."
    )
    days_share_half_life: float | None = Field(
        30.0,
        gt=0.0,
        le=36_500.0,
        description="Days after joining at which a rival customer's share rate has halved; none = no fading.",
    )
    normalisation: Literal["fraction", "count"] = Field(
        "fraction",
        description=(
            "fraction: a person hears the share of their own friends who share the rival; count: the "
            "number of such friends over the mean degree."
        ),
    )
    rel_switch: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description=(
            "Switching: multiplier on a brand's conversion hazard (an ad, a share, discovery, a rep) "
            "when the person is the other brand's customer (0 = nobody switches; 1 = as easy to win as "
            "someone who is nobody's customer)."
        ),
    )
    rel_switch_offer: float = Field(
        1.0,
        ge=0.0,
        le=20.0,
        description=(
            "The rival's welcome offer to switchers: multiplier on our customers' hazard of switching "
            "to the rival (1 = none)."
        ),
    )
    rel_churn: float = Field(
        1.0,
        ge=0.0,
        le=100.0,
        description=(
            "The rival's retention (its offers and tiers): multiplier on its customers' churn hazard "
            "and on their hazard of switching to us (each person's base churn is their own)."
        ),
    )
