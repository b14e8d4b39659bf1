"""Retention offers to active customers, and win-back contacts to churned ones."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.rules._pick import BudgetCounter, pick_lowest, pick_lowest_in, pick_top
from sim.rules.base import ACQUISITION_COLUMNS, Budget, MetricInfo, Phase, Rule
from sim.scenario import RetentionOffersSpec, Schedule, WinbackSpec, daily_values
from sim.world.population import Channel, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["OfferResponse", "RetentionOffers", "Winback"]


def _counter(daily_budget: float | Schedule, unit_cost: float, days: int) -> BudgetCounter:
    """Units (offers, contacts) a day from a daily budget: a number, or a schedule by day."""
    if isinstance(daily_budget, Schedule):
        return BudgetCounter(daily_values(daily_budget, days) / unit_cost)
    return BudgetCounter(daily_budget / unit_cost)


class OfferResponse(IntEnum):
    """How a retention offer would move a person (uplift modelling's four groups, docs/science.md §4)."""

    SURE_THING = 0  # would stay anyway: the offer is wasted
    LOST_CAUSE = 1  # would leave anyway: the offer is wasted
    PERSUADABLE = 2  # stays because of the offer
    SLEEPING_DOG = 3  # the contact reminds them to leave


class RetentionOffers(Rule):
    """Each day ``daily_budget / cost_per_offer`` offers go to active customers not already under one.

    Response groups are drawn once per run at the shares of the section: persuadables and sleeping dogs
    at random; the rest are sure things when their base churn is below the median and lost causes
    above it (so wasted offers are split by risk as the names say). While an offer lasts
    (``days_effect`` days from the day it is made) the churn rule multiplies the person's hazard by
    ``rel_churn_persuaded`` (persuadables) or ``rel_churn_sleeping_dog`` (sleeping dogs).

    Targeting ranks today's eligible customers by a uniform (random), by their churn hazard before
    levers (churn_risk), or by expected uplift = hazard × (1 − response multiplier of the group the uplift
    model believes they are in), skipping non-positive uplift (uplift). The uplift model knows the true
    group with ``p_uplift_model_correct``, else it sees a group drawn at the population shares.
    """

    name = "retention_offers"
    phase = Phase.RETENTION
    section = "retention_offers"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"stage", "p_churn_base", "n_bad_experiences", "day_offer_ends", "offer_response"}
    )
    writes: ClassVar[frozenset[str]] = frozenset({"offer_response", "day_offer_ends", "rel_churn_offer"})
    zero_intensity: ClassVar[dict[str, object]] = {"retention_offers.daily_budget": 0.0}
    budgets: ClassVar[dict[str, Budget]] = {
        "retention_offers.daily_budget": Budget("retention", ("offers",), "accrued")
    }
    step_columns: ClassVar[tuple[str, ...]] = (
        "retention_offers",
        "offers_to_persuadables",
        "spend_retention",
    )
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "retention_offers": MetricInfo("offers", "Retention offers made over the horizon."),
        "retention_spend": MetricInfo("currency", "Spend on retention offers.", higher_is_better=False),
        "offers_to_persuadables_share": MetricInfo(
            "share", "Share of retention offers that reached persuadables (targeting quality)."
        ),
    }

    params: RetentionOffersSpec

    def setup(self, model: Market) -> None:
        """Draw each person's response group and what the uplift model believes it is."""
        pop = model.population
        self._offers = _counter(self.params.daily_budget, self.params.cost_per_offer, self.scenario.days)
        self._believed: np.ndarray | None = None
        if self._offers.idle:
            return
        p = self.params
        u_group, u_known, u_guess = self.rng.random((3, pop.n))
        group = np.where(pop.p_churn_base > np.median(pop.p_churn_base), OfferResponse.LOST_CAUSE, 0)
        group = np.where(u_group < p.share_persuadable, OfferResponse.PERSUADABLE, group)
        sleeping = (u_group >= p.share_persuadable) & (u_group < p.share_persuadable + p.share_sleeping_dog)
        group = np.where(sleeping, OfferResponse.SLEEPING_DOG, group)
        pop.offer_response[:] = group
        guess = np.where(u_guess < p.share_persuadable, OfferResponse.PERSUADABLE, OfferResponse.SURE_THING)
        sleeping_guess = (u_guess >= p.share_persuadable) & (
            u_guess < p.share_persuadable + p.share_sleeping_dog
        )
        guess = np.where(sleeping_guess, OfferResponse.SLEEPING_DOG, guess)
        self._believed = np.where(u_known < p.p_uplift_model_correct, group, guess).astype(np.int8)

    def _response_multiplier(self, groups: np.ndarray) -> np.ndarray:
        p = self.params
        rel = np.ones(groups.size, dtype=np.float64)
        rel[groups == OfferResponse.PERSUADABLE] = p.rel_churn_persuaded
        rel[groups == OfferResponse.SLEEPING_DOG] = p.rel_churn_sleeping_dog
        return rel

    def step(self, model: Market) -> None:
        """Make today's offers."""
        pop = model.population
        if self._offers.idle:
            return  # off for the whole run: no draws (the stream is this rule's own)
        u_pick = self.rng.random(pop.n)
        n_offers = self._offers.take(model.day)
        if n_offers == 0:
            return  # a day without budget (a weekend): nobody to look for
        eligible = np.flatnonzero((pop.stage == Stage.CUSTOMER) & (pop.day_offer_ends < model.day))
        if eligible.size == 0:
            return
        targeting = self.params.targeting
        if targeting == "random":
            chosen = pick_lowest(eligible, u_pick, n_offers)
        else:
            rel_bad = model.scenario_config.customers.rel_churn_per_bad_experience
            risk = pop.p_churn_base[eligible] * rel_bad ** pop.n_bad_experiences[eligible].astype(np.float64)
            if targeting == "churn_risk":
                chosen = pick_top(eligible, risk, u_pick, n_offers)
            else:
                assert self._believed is not None
                uplift = risk * (1.0 - self._response_multiplier(self._believed[eligible]))
                worth = uplift > 0
                chosen = pick_top(eligible[worth], uplift[worth], u_pick, n_offers)
        if chosen.size == 0:
            return
        groups = pop.offer_response[chosen]
        pop.day_offer_ends[chosen] = model.day + self.params.days_effect - 1
        pop.rel_churn_offer[chosen] = self._response_multiplier(groups)
        cost = chosen.size * self.params.cost_per_offer
        model.ledger.spend("retention", "offers", cost)
        model.tally("retention_offers", int(chosen.size))
        model.tally("offers_to_persuadables", int(np.count_nonzero(groups == OfferResponse.PERSUADABLE)))
        model.tally("spend_retention", cost)

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Offers made, their cost and the share that reached persuadables."""
        offers = float(steps["retention_offers"].sum())
        return {
            "retention_offers": offers,
            "retention_spend": float(steps["spend_retention"].sum()),
            "offers_to_persuadables_share": float(steps["offers_to_persuadables"].sum()) / offers
            if offers
            else float("nan"),
        }


class Winback(Rule):
    """Each day ``daily_budget / cost_per_contact`` churned people, chosen at random, are contacted.

    A contact brings the person back with ``p_convert`` (channel ``winback``); contacts cost whether
    or not they work.
    """

    name = "winback"
    phase = Phase.RETENTION
    section = "winback"
    reads: ClassVar[frozenset[str]] = frozenset({"stage"})
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS
    zero_intensity: ClassVar[dict[str, object]] = {"winback.daily_budget": 0.0}
    budgets: ClassVar[dict[str, Budget]] = {
        "winback.daily_budget": Budget("winback", ("contacts",), "accrued")
    }
    step_columns: ClassVar[tuple[str, ...]] = ("winback_contacts", "spend_winback")
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "winback_contacts": MetricInfo("contacts", "Win-back contacts made over the horizon."),
        "winback_spend": MetricInfo("currency", "Spend on win-back contacts.", higher_is_better=False),
    }

    params: WinbackSpec

    def setup(self, model: Market) -> None:
        """Turn the daily budget (a number or a schedule) into contacts per day."""
        self._contacts = _counter(self.params.daily_budget, self.params.cost_per_contact, self.scenario.days)

    def step(self, model: Market) -> None:
        """Contact churned people and bring some back."""
        pop = model.population
        if self._contacts.idle:
            return  # off for the whole run: no draws (the stream is this rule's own)
        u_pick = self.rng.random(pop.n)
        u_convert = self.rng.random(pop.n)
        n_contacts = self._contacts.take(model.day)
        churned = pop.stage[: model.n_real] == Stage.CHURNED  # abandoned fakes stay gone
        contacted = pick_lowest_in(churned, u_pick[: model.n_real], n_contacts)
        if contacted.size == 0:
            return
        cost = contacted.size * self.params.cost_per_contact
        model.ledger.spend("winback", "contacts", cost)
        model.tally("winback_contacts", int(contacted.size))
        model.tally("spend_winback", cost)
        model.acquire(contacted[u_convert[contacted] < self.params.p_convert], Channel.WINBACK)

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Contacts made and their cost."""
        return {
            "winback_contacts": float(steps["winback_contacts"].sum()),
            "winback_spend": float(steps["spend_winback"].sum()),
        }
