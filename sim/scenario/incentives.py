"""The referral programme, the fraud attack on it and the defences against that attack.

``incentives`` and ``defences`` are strategy (the firm chooses them); ``fraud`` is part of the market:
the attackers and their pool of fake accounts exist whatever the strategy, so strategies compared
side by side face the same attackers. Every section defaults to off. Units are in each field's
description; naming follows :mod:`sim.scenario`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.schedule import Schedule, schedulable
from sim.scenario.section import MAX_COUNT, MAX_MONEY, MAX_PEOPLE, Probability, Section, Share, Switch

__all__ = ["DefencesSpec", "FraudSpec", "IncentivesSpec"]


class IncentivesSpec(Section):
    """The referral programme: who is paid what, when, within which caps and budget, and how people respond.

    This is the one referral programme of a scenario: a plain "pay the referrer 5 per referral" is
    ``enabled: true, amount_referrer: 5``. A reward is *earned* when a referred friend signs up
    (``trigger: sign_up``) or the day after their first order (``first_purchase``), and is *paid*
    ``days_holding`` days later if the trigger still holds. Employees (``Role.EMPLOYEE``) earn
    ``amount_employee`` per referral instead of ``amount_referrer``. Every reward, the employees'
    included, counts against ``budget``.

    The behavioural response (``share_uplift_max`` …; docs/science.md §3) is on by default, so a
    larger reward brings more referrals, with diminishing returns, more over weak ties, and (for
    friend rewards) friends of lower value. Clawback and detection take back what they can: a held
    reward is cancelled, a paid reversible one (store credit, points; cash is not) is reversed.
    """

    enabled: Switch = Field(False, description="Run the referral programme (off: nothing is paid).")
    who: Literal["referrer", "friend", "both"] = Field(
        "referrer", description="Who is rewarded: the referrer, the referred friend, or both (two-sided)."
    )
    kind: Literal["cash", "store_credit", "points"] = Field(
        "cash",
        description=(
            "What is paid. cash costs its face value and cannot be taken back; store credit costs the "
            "goods it buys (face × (1 − economics.gross_margin)); points cost face × points_cost_share. "
            "Store credit and points are reversible (clawback, detection)."
        ),
    )
    points_cost_share: Share = Field(
        0.3, description="Cost to the firm of one currency unit of points (breakage and margin), share."
    )
    amount_referrer: float = Field(
        0.0, ge=0.0, le=MAX_MONEY, description="Referrer's reward (currency per referral)."
    )
    amount_friend: float = Field(
        0.0, ge=0.0, le=MAX_MONEY, description="Friend's reward (currency per referral)."
    )
    share_of_first_order: Share = Field(
        0.0,
        description=(
            "Added to each reward: this share of the friend's order value (0 = fixed amounts only); "
            "with trigger sign_up it is paid whether or not the friend ever orders."
        ),
    )
    amount_employee: float = Field(
        0.0,
        ge=0.0,
        le=MAX_MONEY,
        description=(
            "Employee programme: reward (currency value) an employee (Role.EMPLOYEE, roles section) "
            "earns per referral, instead of amount_referrer. It raises employees' sharing with the same "
            "response as any reward and counts against the budget."
        ),
    )
    employee_kind: Literal["cash", "points"] = Field(
        "points",
        description=(
            "What employees are paid: cash (face value, not reversible) or points (face × "
            "points_cost_share, reversible)."
        ),
    )
    trigger: Literal["sign_up", "first_purchase", "active_after_days"] = Field(
        "first_purchase",
        description=(
            "When a reward is earned: when the friend signs up; the day after the friend's first order "
            "(customers.p_first_order of sign-ups ever order; a share of coupon farmers never do); or at "
            "the first order, paid only if the friend is still active days_active_required days later."
        ),
    )
    days_active_required: int = Field(
        0, ge=0, le=3650, description="For trigger active_after_days: days the friend must stay (days)."
    )
    days_holding: int = Field(
        0, ge=0, le=3650, description="Days between earning a reward and paying it (holding period, days)."
    )
    days_clawback_window: int | None = Field(
        30,
        ge=0,
        le=3650,
        description=(
            "Clawback: when the friend churns within this many days of the reward being earned, a held "
            "reward is cancelled and a paid reversible one (store credit, points) is reversed (days). "
            "None = no clawback."
        ),
    )
    cap_per_referrer: float | None = Field(
        None,
        ge=0.0,
        le=MAX_MONEY,
        description="Most one referrer is paid over the whole run (currency); none = no cap.",
    )
    cap_per_referrer_period: float | None = Field(
        None,
        ge=0.0,
        le=MAX_MONEY,
        description="Most one referrer is paid within any rolling period (currency).",
    )
    days_cap_period: int = Field(30, ge=1, le=3650, description="Length of the rolling cap period (days).")
    budget: schedulable(ge=0.0, le=MAX_MONEY) | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "Programme budget (currency): every reward paid, referrer, friend and employee, counts "
            "against it (at its cost to the firm). A number is the budget over the horizon; a schedule "
            "releases money day by day (currency per day): spend to date stays within what has been "
            "released (its sum over the horizon is the budget). None = unlimited."
        ),
    )
    pacing_tolerance: float | None = Field(
        None,
        ge=0.0,
        le=10.0,
        description=(
            "Daily pacing: cumulative spend may run at most this share ahead of the linear plan "
            "budget × day / days (0.1 = 10% ahead); held rewards wait for the pace. None = no pacing. "
            "Only with a number budget: a schedule is the pace itself."
        ),
    )
    personalised: Switch = Field(
        False,
        description=(
            "Scale the referrer's reward by their spend so far relative to the mean customer's, "
            "clipped to [personal_min, personal_max]."
        ),
    )
    personal_min: float = Field(0.5, ge=0.0, le=100.0, description="Lowest personalised multiplier.")
    personal_max: float = Field(2.0, ge=0.0, le=100.0, description="Highest personalised multiplier.")
    share_uplift_max: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description=(
            "Behaviour: the most a reward raises a sharer's share rate (0.5 = +50%); the uplift is "
            "share_uplift_max × (1 − e^(−reward / reward_scale)): diminishing returns (Wolters et al. "
            "2020). Applies to customers and, through amount_employee, to employees."
        ),
    )
    reward_scale: float = Field(
        10.0,
        ge=1e-6,  # a reward divided by it stays finite (rewards are at most 1e12)
        le=MAX_MONEY,
        description="Behaviour: reward (currency) at which 63% of the uplift is reached.",
    )
    weak_tie_emphasis: Share = Field(
        0.5,
        description=(
            "Behaviour: how much more the uplift works over weak ties (Ryu & Feick 2007). With tie "
            "strengths from a graph file, the uplift is × (1 − e + 2e·s̄/(s + s̄)) for a sharer's mean "
            "tie strength s, mean s̄ over people; otherwise ties are taken as weaker the more friends "
            "a sharer has: × (1 − e + 2e·d/(d + d̄)) for degree d, mean d̄."
        ),
    )
    low_value_pull: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description=(
            "Behaviour: larger friend rewards pull in lower-value friends (Wolters et al. 2020). A "
            "friend's conversion is × (1 + pull·g·(1 − v/v̄)) (≥ 0) for order value v, mean v̄, g = 1 − "
            "e^(−friend reward / reward_scale)."
        ),
    )
    rel_churn_referrer_active: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description=(
            "Behaviour: churn hazard multiplier of a referred customer while their referrer is active."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> IncentivesSpec:
        if self.trigger == "active_after_days" and self.days_holding < self.days_active_required:
            raise ValueError(
                "incentives.days_holding must be at least incentives.days_active_required when "
                "incentives.trigger = active_after_days (the payout cannot precede the check); got "
                f"days_holding = {self.days_holding}, days_active_required = {self.days_active_required}"
            )
        if self.personal_min > self.personal_max:
            raise ValueError(
                "incentives.personal_min must be at most incentives.personal_max; got "
                f"personal_min = {self.personal_min}, personal_max = {self.personal_max}"
            )
        if self.pacing_tolerance is not None and isinstance(self.budget, Schedule):
            raise ValueError(
                "incentives.pacing_tolerance paces a number budget; a schedule budget is the pace itself "
                "(spend to date stays within the money it has released); got a schedule and "
                f"pacing_tolerance = {self.pacing_tolerance}"
            )
        if self.pacing_tolerance is not None and self.budget is None:
            raise ValueError(
                "incentives.pacing_tolerance needs incentives.budget (pacing follows the budget plan); "
                "got budget = None"
            )
        return self


class FraudSpec(Section):
    """Attackers who farm referral rewards (part of the market: they exist whatever the strategy).

    Each attacker is a real account (an operator) with a private pool of dormant fake accounts,
    built with the world after the ``network.n`` real people. Self-referral fakes hang off their
    operator; ring fakes are densely linked to each other and thinly to the real graph, and refer
    each other in turn. Coupon farmers are real people who join for the friend reward; a share of
    them never buys, the rest buy the minimum once; all leave soon after.
    """

    n_attackers: int = Field(0, ge=0, le=100_000, description="Attackers (operators) in the market.")
    accounts_per_attacker: int = Field(
        20, ge=1, le=1000, description="Dormant fake accounts each attacker can activate (accounts)."
    )
    share_rings: Share = Field(
        0.5, description="Share of attackers running a ring (the rest self-refer from their own account)."
    )
    ring_links_to_real: int = Field(
        1, ge=0, le=50, description="Edges from each fake account to random real people (thin ties)."
    )
    rate_accounts_per_day: float = Field(
        0.0,
        ge=0.0,
        le=100.0,
        description=(
            "Fake accounts an attacker activates per day when the payoff is large; the rate is "
            "× (1 − e^(−max(0, value − cost)/cost)), value = reward on offer per fake account."
        ),
    )
    cost_per_account: float = Field(
        2.0,
        ge=1e-6,  # the payoff divided by it stays finite (rewards are at most 1e12)
        le=MAX_MONEY,
        description="Attacker's cost of one fake account (SIM, device, first order; currency).",
    )
    days_fake_life: int = Field(
        7, ge=1, le=3650, description="Days a fake account stays active before it is abandoned (days)."
    )
    fake_order_value: float = Field(
        5.0,
        ge=0.0,
        le=MAX_MONEY,
        description="Value of a fake account's one order (currency; the minimum purchase).",
    )
    rate_coupon_farmers_per_day: float = Field(
        0.0,
        ge=0.0,
        le=MAX_PEOPLE,
        description=(
            "Coupon farmers joining per day when the friend reward is large (people per day); × "
            "(1 − e^(−friend reward / cost_per_account))."
        ),
    )
    days_farmer_stay: int = Field(
        3, ge=1, le=3650, description="Days a coupon farmer stays before leaving (days)."
    )
    share_farmers_never_buy: Share = Field(
        0.5,
        description=(
            "Share of coupon farmers who sign up for the reward and never order; the rest buy the "
            "minimum once, on the day they join (so a first-purchase trigger pays fewer of them)."
        ),
    )

    @property
    def n_fake_accounts(self) -> int:
        """Rows the fake-account pool adds to the world."""
        return self.n_attackers * self.accounts_per_attacker


class DefencesSpec(Section):
    """Defences against referral fraud; each is optional and each costs honest customers something.

    The holding period is ``incentives.days_holding``. A denied honest reward (false positive)
    lowers that referrer's future sharing by ``rel_share_after_denial`` per denial.
    """

    max_referrals_per_day: int | None = Field(
        None,
        ge=0,
        le=MAX_COUNT,
        description="Velocity limit: rewarded referrals per referrer per day; none = no limit.",
    )
    max_rewarded_referrals: int | None = Field(
        None, ge=0, le=MAX_COUNT, description="Rewarded referrals per referrer over the run; none = no limit."
    )
    p_identity_detect: Probability = Field(
        0.0, description="Identity-match check: probability a fake account is caught at sign-up."
    )
    p_identity_false_positive: Probability = Field(
        0.0,
        description=(
            "Identity-match check: probability an honest friend is wrongly matched (shared office/dorm)."
        ),
    )
    ring_detection: Switch = Field(
        False,
        description=(
            "Look for dense clusters in the referral graph (connected components of recent referrals "
            "and their referrers, kept when most of their ties stay inside)."
        ),
    )
    days_detection_interval: int = Field(
        7, ge=1, le=365, description="Ring detection runs every this many days (days)."
    )
    days_detection_window: int = Field(
        30, ge=1, le=3650, description="Referrals of the last this many days are examined (days)."
    )
    ring_min_size: int = Field(
        4, ge=2, le=10_000, description="Smallest cluster treated as a ring (accounts)."
    )
    ring_min_internal_share: Share = Field(
        0.6, description="Share of a cluster's ties that must stay inside it to be treated as a ring."
    )
    action: Literal["block", "flag"] = Field(
        "block",
        description="block: detected accounts lose their rewards at once; flag: they wait for review.",
    )
    review_capacity_per_day: int = Field(
        50, ge=0, le=MAX_COUNT, description="Flagged accounts reviewed per day (a review finds the truth)."
    )
    rel_share_after_denial: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Multiplier on a referrer's share rate for each honest reward denied to them.",
    )

    @property
    def active(self) -> bool:
        """Whether any defence is on."""
        return (
            self.max_referrals_per_day is not None
            or self.max_rewarded_referrals is not None
            or self.p_identity_detect > 0
            or self.p_identity_false_positive > 0
            or self.ring_detection
        )
