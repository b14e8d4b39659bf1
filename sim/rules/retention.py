"""Retention offers to active customers, and win-back contacts to churned ones."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, stream_key, uniform, uniforms
from sim.rules._kernels import list_at_stage
from sim.rules._pick import BudgetCounter
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

    Every uniform is counter-based (:mod:`sim.engine.counter`): the groups' three per person at
    set-up; each day's per eligible customer (random targeting) or per customer tied at the last
    place (ranked targeting), computed only for them.
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
        self._idle = self._offers.idle  # asked once: the budget is fixed for the run
        if self._idle:
            return
        self._key = stream_key(self.rng)  # the counter-based uniforms' key
        # Today's eligible customers: ids with their uniform or score (prefix used; pages never
        # written cost no memory).
        self._ids = np.empty(pop.n, dtype=np.int64)
        self._scores = np.empty(pop.n, dtype=np.float64)
        self._rel_bad_pow = _powers(self.scenario.customers.rel_churn_per_bad_experience)
        p = self.params
        u_group, u_known, u_guess = (uniforms(draw_key(self._key, 0, site), pop.n) for site in _SITES_GROUPS)
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

    def step(self, model: Market) -> None:
        """Make today's offers.

        Random targeting is one kernel call (:func:`_offer_at_random`, the eligible customers'
        uniforms computed in it). Ranked targeting (:func:`_offer_top`) needs a uniform only to break
        a tie at the last place: just the tied candidates' are computed.
        """
        pop = model.population
        if self._idle:
            return
        n_offers = self._offers.take(model.day)
        if n_offers == 0:
            return  # a day without budget (a weekend): nobody to look for
        p = self.params
        day_ends = model.day + p.days_effect - 1
        key = draw_key(self._key, model.day)
        if p.targeting == "random":
            n_chosen, n_persuadable = _offer_at_random(
                key,
                model.day,
                pop.stage,
                pop.day_offer_ends,
                n_offers,
                self._ids,
                self._scores,
                pop.offer_response,
                pop.rel_churn_offer,
                day_ends,
                p.rel_churn_persuaded,
                p.rel_churn_sleeping_dog,
            )
        else:
            assert self._believed is not None
            n_chosen, n_tied, n_missing, n_persuadable = _offer_top(
                model.day,
                pop.stage,
                pop.day_offer_ends,
                pop.p_churn_base,
                pop.n_bad_experiences,
                self._rel_bad_pow,
                self._believed,
                p.targeting == "uplift",
                n_offers,
                self._ids,
                self._scores,
                pop.offer_response,
                pop.rel_churn_offer,
                day_ends,
                p.rel_churn_persuaded,
                p.rel_churn_sleeping_dog,
            )
            if n_tied:
                # The candidates tied at the last place (after the n_chosen above it) are decided by
                # their uniforms: the lowest n_missing of them are offered too.
                tied = np.sort(self._ids[n_chosen : n_chosen + n_tied])
                u = uniforms(key, tied)
                picked = tied[np.argpartition(u, n_missing - 1)[:n_missing]]
                n_persuadable += _make_offers(
                    picked,
                    picked.size,
                    pop.offer_response,
                    pop.day_offer_ends,
                    pop.rel_churn_offer,
                    day_ends,
                    p.rel_churn_persuaded,
                    p.rel_churn_sleeping_dog,
                )
                n_chosen += picked.size
        if n_chosen == 0:
            return
        cost = n_chosen * p.cost_per_offer
        model.ledger.spend("retention", "offers", cost)
        model.tally("retention_offers", int(n_chosen))
        model.tally("offers_to_persuadables", int(n_persuadable))
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
    or not they work. Two counter-based uniforms per person and day (:mod:`sim.engine.counter`): one
    ranks the churned people (computed for them only), the other decides a contact's return
    (computed for the contacted only).
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
        """Turn the daily budget (a number or a schedule) into contacts per day; the day's buffers."""
        self._contacts = _counter(self.params.daily_budget, self.params.cost_per_contact, self.scenario.days)
        self._idle = self._contacts.idle  # asked once: the budget is fixed for the run
        self._key = stream_key(self.rng)  # the counter-based uniforms' key
        # Today's churned real people and their uniforms (prefix used; pages never written cost no memory).
        self._ids = np.empty(model.n_real, dtype=np.int64)
        self._uniforms = np.empty(model.n_real, dtype=np.float64)

    def step(self, model: Market) -> None:
        """Contact churned people and bring some back.

        The churned people's uniforms of draw site 0 pick the contacts (one kernel call,
        :func:`_pick_lowest_day`); the contacts' uniforms of site 1 decide who comes back.
        """
        pop = model.population
        if self._idle:
            return
        n_contacts = self._contacts.take(model.day)
        if n_contacts <= 0:
            return  # nobody to contact
        n_contacted = _pick_lowest_day(
            draw_key(self._key, model.day, _SITE_PICK),
            model.n_real,
            pop.stage,
            _CHURNED,
            n_contacts,
            self._ids,
            self._uniforms,
        )
        if n_contacted == 0:
            return
        contacted = np.sort(self._ids[:n_contacted])
        u_convert = uniforms(draw_key(self._key, model.day, _SITE_CONVERT), contacted)
        cost = contacted.size * self.params.cost_per_contact
        model.ledger.spend("winback", "contacts", cost)
        model.tally("winback_contacts", int(contacted.size))
        model.tally("spend_winback", cost)
        model.acquire(contacted[u_convert < self.params.p_convert], Channel.WINBACK)

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Contacts made and their cost."""
        return {
            "winback_contacts": float(steps["winback_contacts"].sum()),
            "winback_spend": float(steps["spend_winback"].sum()),
        }


_CUSTOMER = int(Stage.CUSTOMER)
_CHURNED = int(Stage.CHURNED)
_PERSUADABLE = int(OfferResponse.PERSUADABLE)
_SLEEPING_DOG = int(OfferResponse.SLEEPING_DOG)
#: Bad-experience counts are int16 (they stop at its largest value): one power per possible count.
_N_BAD_COUNTS = int(np.iinfo(np.int16).max) + 1
#: Counter-based draw sites: retention offers' groups at set-up (day 0), win-back's two a day.
_SITES_GROUPS = (1, 2, 3)
_SITE_PICK = 0
_SITE_CONVERT = 1


def _powers(base: float) -> np.ndarray:
    """``base ** k`` for every bad-experience count k, by NumPy (as the hazard formulas compute it)."""
    with np.errstate(over="ignore", under="ignore"):
        return base ** np.arange(_N_BAD_COUNTS, dtype=np.float64)


@kernel
def _lowest(values: np.ndarray, m: int, k: int, out: np.ndarray) -> int:
    """Move the ``k`` entries with the lowest ``values`` among ``out[:m]`` to ``out[:k]``; returns k'.

    ``values[:m]`` belongs to ``out[:m]`` entry by entry (both are reordered). Which of several equal
    values at the cut is taken is unspecified (uniforms are equal with probability about 2⁻⁵³).
    Returns ``k' = min(k, m)``.
    """
    if k >= m:
        return m
    if k <= 0:
        return 0
    cut = np.partition(values[:m], k - 1)[k - 1]
    taken = 0
    for j in range(m):  # strictly below the cut: all of them belong (fewer than k)
        if values[j] < cut:
            out[taken], out[j] = out[j], out[taken]
            values[taken], values[j] = values[j], values[taken]
            taken += 1
    for j in range(taken, m):
        if taken == k:
            break
        if values[j] == cut:
            out[taken], out[j] = out[j], out[taken]
            values[taken], values[j] = values[j], values[taken]
            taken += 1
    return taken


@kernel
def _pick_lowest_day(
    key: np.uint64,
    n_real: int,
    stage: np.ndarray,
    wanted: int,
    k: int,
    ids: np.ndarray,
    drawn: np.ndarray,
) -> int:
    """Of the people at stage ``wanted``, pick the k with the lowest uniforms (``uniform(key, i)``).

    Only real people (ids below ``n_real``) are candidates. The picked are ``ids[:k']`` (unordered;
    k' = min(k, candidates), returned): :func:`sim.rules._pick.pick_lowest_in`'s choice, in one pass.
    ``ids`` and ``drawn`` (their uniforms) are buffers of at least ``n_real``.
    """
    m = 0
    for i in range(n_real):
        if stage[i] == wanted:
            ids[m] = i
            drawn[m] = uniform(key, i)
            m += 1
    return _lowest(drawn, m, k, ids)


@kernel
def _make_offers(
    chosen: np.ndarray,
    m: int,
    offer_response: np.ndarray,
    day_offer_ends: np.ndarray,
    rel_churn_offer: np.ndarray,
    day_ends: int,
    rel_persuaded: float,
    rel_sleeping: float,
) -> int:
    """Offers to ``chosen[:m]``: their effect lasts to ``day_ends`` with their group's churn multiplier.

    Returns how many of them are persuadables.
    """
    persuadables = 0
    for k in range(m):
        i = chosen[k]
        group = offer_response[i]
        day_offer_ends[i] = day_ends
        if group == _PERSUADABLE:
            rel_churn_offer[i] = rel_persuaded
            persuadables += 1
        elif group == _SLEEPING_DOG:
            rel_churn_offer[i] = rel_sleeping
        else:
            rel_churn_offer[i] = 1.0
    return persuadables


@kernel
def _offer_at_random(
    key: np.uint64,
    day: int,
    stage: np.ndarray,
    day_offer_ends: np.ndarray,
    k: int,
    ids: np.ndarray,
    drawn: np.ndarray,
    offer_response: np.ndarray,
    rel_churn_offer: np.ndarray,
    day_ends: int,
    rel_persuaded: float,
    rel_sleeping: float,
) -> tuple[int, int]:
    """Random targeting's day: offers to the k eligible with the lowest uniforms (``uniform(key, i)``).

    Eligible: active customers whose last offer has ended (``day_offer_ends < day``); their uniforms
    are computed into ``drawn`` (a float64 buffer of length n, prefix used). Returns (offers made,
    of them to persuadables).
    """
    m = 0
    for i in range(stage.size):
        if stage[i] == _CUSTOMER and day_offer_ends[i] < day:
            ids[m] = i
            drawn[m] = uniform(key, i)
            m += 1
    chosen = _lowest(drawn, m, k, ids)
    persuadables = _make_offers(
        ids, chosen, offer_response, day_offer_ends, rel_churn_offer, day_ends, rel_persuaded, rel_sleeping
    )
    return chosen, persuadables


@kernel
def _offer_top(
    day: int,
    stage: np.ndarray,
    day_offer_ends: np.ndarray,
    p_churn_base: np.ndarray,
    n_bad: np.ndarray,
    rel_bad_pow: np.ndarray,
    believed: np.ndarray,
    uplift: bool,
    k: int,
    ids: np.ndarray,
    scores: np.ndarray,
    offer_response: np.ndarray,
    rel_churn_offer: np.ndarray,
    day_ends: int,
    rel_persuaded: float,
    rel_sleeping: float,
) -> tuple[int, int, int, int]:
    """Ranked targeting's day: offers to the k eligible with the highest score, but for a tie.

    The score is the churn risk ``p_churn_base × rel_bad_pow[bad]`` (float64), or with ``uplift`` that
    times ``1 −`` the believed group's response multiplier, only where positive. Everyone scoring
    above the k-th highest score is offered (``ids[:chosen]``). If the candidates tied at that score
    are more than the places left, they are listed in ``ids[chosen:chosen + tied]`` and not offered:
    the caller breaks the tie by their uniforms (:func:`sim.rules._pick.pick_top`'s rule).

    Returns:
        (offers made, candidates tied for the ``missing`` places left, missing, persuadables offered).
    """
    # First list the active customers (a tight scan), then score the eligible among them in place.
    n_active = list_at_stage(stage, _CUSTOMER, ids)
    m = 0
    for j in range(n_active):
        i = ids[j]
        if day_offer_ends[i] >= day:
            continue
        score = np.float64(p_churn_base[i]) * rel_bad_pow[n_bad[i]]
        if uplift:
            group = believed[i]
            rel = rel_persuaded if group == _PERSUADABLE else rel_sleeping if group == _SLEEPING_DOG else 1.0
            score = score * (1.0 - rel)
            if not score > 0:
                continue
        ids[m] = i
        scores[m] = score
        m += 1
    if k <= 0:
        return 0, 0, 0, 0
    if k >= m:
        chosen = m
        tied = 0
    else:
        kth = np.partition(scores[:m], m - k)[m - k]
        chosen = 0
        for j in range(m):  # everyone above the k-th score first (fewer than k of them)
            if scores[j] > kth:
                ids[chosen], ids[j] = ids[j], ids[chosen]
                scores[chosen], scores[j] = scores[j], scores[chosen]
                chosen += 1
        tied = 0
        for j in range(chosen, m):  # then the ties (in no particular order)
            if scores[j] == kth:
                ids[chosen + tied] = ids[j]
                tied += 1
        if tied <= k - chosen:
            chosen += tied
            tied = 0
    missing = k - chosen if tied else 0
    persuadables = _make_offers(
        ids, chosen, offer_response, day_offer_ends, rel_churn_offer, day_ends, rel_persuaded, rel_sleeping
    )
    return chosen, tied, missing, persuadables
