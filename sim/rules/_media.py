"""One paid channel's day: budget → impressions → who sees how many → wear-out, saturation, carryover.

Shared by our ads (rule ``ads``) and the rival's (rule ``rival_ads``): a brand's rule asks a
:class:`PaidChannel` for today's exposure and decides itself what an exposure does to a person (its
own stages and acquisitions).

The media transformations follow the marketing-mix literature as pymc-marketing implements it
(docs/science.md §9): carryover is its geometric adstock with ``normalize=True`` (weights α^l over
lags l = 0, 1, …, summing to 1), per person and without a maximum lag; saturation is its Hill
function ``H(x) = x^s / (κ^s + x^s)`` of the day's reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.random import poisson_cdf, poisson_with_residual
from sim.scenario import AdChannelSpec, daily_values

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["MAX_EXPOSURES", "STOCK_FLOOR", "Exposure", "PaidChannel", "hill", "rate_max"]

#: The lifetime exposure count is an int32 column: it stops at its largest value instead of wrapping.
MAX_EXPOSURES = int(np.iinfo(np.int32).max)
#: Carried-over awareness below this many effective impressions is too small to act: such people are
#: skipped (the chance it would move them is below p_stage / 10,000) though their stock still decays.
STOCK_FLOOR = 1e-4


def hill(reach: float, half: float, slope: float) -> float:
    """pymc-marketing's Hill function ``H(r) = r^s / (κ^s + r^s)`` (κ = ``half``, s = ``slope``)."""
    if reach <= 0.0:
        return 0.0
    return reach**slope / (half**slope + reach**slope)


def rate_max(p_max: float) -> float:
    """``−ln(1 − p_max)``: the hazard per effective impression of the likeliest move (∞ at p ≥ 1).

    The bound :meth:`PaidChannel.expose` takes: ``1 − (1 − p)^E ≤ E × rate_max(p_max)`` for p ≤ p_max.
    """
    return math.inf if p_max >= 1.0 else float(-np.log1p(-min(p_max, 1.0 - 1e-12)))


@dataclass
class Exposure:
    """What a channel did today.

    Attributes:
        shown: people shown at least one impression today (sorted ids).
        count: impressions each of them was shown.
        impressions: impressions served in all (bought: spend = impressions × CPM / 1000).
        reach: people shown, ÷ people in the channel's audience today (0 with no audience).
        people: the people whose exposure can act today (sorted ids): those shown, and with
            carryover everyone whose carried-over awareness is at least :data:`STOCK_FLOOR`; with a
            ``rate_max`` only those among them whose uniform is below ``rate_max × effective``.
        effective: the exposure of each of ``people`` today, in effective impressions (after
            wear-out, saturation and carryover): a person moves on with ``1 − (1 − p_stage)^effective``.
        uniform: one uniform per ``people``, independent of their impression count (its residual).
        stock: the channel's total carried-over awareness after today (effective impressions).
        unspent: the day's budget that bought nothing (currency): mostly because the frequency cap
            left too few people to show ads to, so a bigger budget changes nothing.
    """

    shown: np.ndarray
    count: np.ndarray
    impressions: int
    reach: float
    people: np.ndarray
    effective: np.ndarray
    uniform: np.ndarray
    stock: float
    unspent: float = 0.0


class PaidChannel:
    """A channel's state across days: its budget by day, frequency window and carried-over awareness.

    Each day (:meth:`expose`) ``floor(budget(t) / cpm × 1000)`` impressions are spread over the
    audience (Poisson per person by inverse CDF at one uniform each, exact at any number of
    impressions per person), cut to the room under the frequency cap in the rolling window, and
    trimmed to the budget from a random starting person; the budget left unbought is reported.
    The k-th impression in the window counts ``0.5^((k−1)/h)`` (wear-out). With saturation each
    impression then counts ``κ·H(r)/r`` for the day's reach r, so the day's total effect is κ·H(r)
    (a Hill curve of reach). With carryover a person's awareness stock is ``A_t = α·A_{t−1} +
    (1 − α)·E_t`` (E_t today's effective impressions, α = 0.5^(1/half-life)); the stock, not E_t, is
    what acts today.
    """

    def __init__(self, spec: AdChannelSpec, rng: np.random.Generator, n: int, days: int) -> None:
        self.spec = spec
        self.rng = rng
        self._window_days = spec.days_frequency_window
        self._uses_window = spec.frequency_cap is not None or spec.wearout_half_life_exposures is not None
        # The window is kept sparse: for each day in it, who was shown ads and how many. Only a
        # minority sees an ad on a given day, so this is far cheaper than a dense days × people grid.
        self._window: list[tuple[np.ndarray, np.ndarray]] = []
        self._window_count = np.zeros(n, dtype=np.int64)
        half_life = spec.wearout_half_life_exposures
        self._decay = 0.5 ** (1.0 / half_life) if half_life is not None else 1.0
        budget = spec.daily_budget
        if isinstance(budget, (int, float)):
            self._budget: np.ndarray | float = float(budget)
            self._impressions: np.ndarray | int = int(budget / spec.cpm * 1000.0)
        else:
            self._budget = daily_values(budget, days)
            self._impressions = np.floor(self._budget / spec.cpm * 1000.0).astype(np.int64)
        adstock = spec.days_adstock_half_life
        self._retention = 0.5 ** (1.0 / adstock) if adstock is not None else 0.0
        self._stock = np.zeros(n) if adstock is not None else None
        self._p_zero: float | None = None

    @property
    def idle(self) -> bool:
        """Whether the channel never buys an impression (a zero budget every day)."""
        return not np.any(np.asarray(self._impressions) > 0)

    def impressions_on(self, day: int) -> int:
        """Impressions the budget buys on ``day``."""
        if isinstance(self._impressions, np.ndarray):
            return int(self._impressions[min(day, self._impressions.size - 1)])
        return self._impressions

    def budget_on(self, day: int) -> float:
        """The channel's budget on ``day`` (currency)."""
        if isinstance(self._budget, np.ndarray):
            return float(self._budget[min(day, self._budget.size - 1)])
        return self._budget

    def expose(self, model: Market, audience: np.ndarray, rate_max: float = math.inf) -> Exposure:
        """Serve today's impressions to ``audience`` (a mask over people) and return the exposure.

        ``rate_max`` is the largest ``−ln(1 − p_stage)`` of anyone today: a person with E effective
        impressions moves on with ``1 − (1 − p)^E ≤ E × rate_max``, so people whose uniform is at or
        above that bound cannot move and are left out of ``Exposure.people`` (the rule need not look at
        them; the outcome is the same). Infinite (the default): nobody is left out.
        """
        # One uniform per person every day, whatever the budget or state, so that strategies on the
        # same world share them. It sets the impression count, and its position inside the count's
        # CDF step (again uniform, independent of the count) decides whether the person moves on.
        u_impressions = self.rng.random(model.population.n)
        self._forget_old_days()
        drawn, drawn_count, drawn_residual, n_audience = self._serve(model.day, audience, u_impressions)
        served = drawn_count > 0
        shown, count, u_advance = drawn[served], drawn_count[served], drawn_residual[served]
        self._remember(shown, count)
        impressions = int(count.sum())
        unspent = max(0.0, self.budget_on(model.day) - impressions * self.spec.cpm / 1000.0)
        reach = shown.size / n_audience if n_audience else 0.0
        effective = self._effective(shown, count, reach) if impressions else np.zeros(0)
        # A margin over the bound keeps it above the exact probability despite rounding.
        bound = rate_max * (1.0 + 1e-9) if math.isfinite(rate_max) else None
        if self._stock is None:
            people, act, uniform = shown, effective, u_advance
            if bound is not None and shown.size:
                maybe = u_advance < effective * bound
                people, act, uniform = shown[maybe], effective[maybe], u_advance[maybe]
            return Exposure(shown, count, impressions, reach, people, act, uniform, 0.0, unspent)
        exposure = Exposure(shown, count, impressions, reach, shown, effective, u_advance, 0.0, unspent)
        return self._carry_over(exposure, audience, u_impressions, drawn, drawn_residual, bound)

    def _effective(self, shown: np.ndarray, count: np.ndarray, reach: float) -> np.ndarray:
        """Today's effective impressions of each person shown: wear-out, then saturation."""
        if self._decay < 1.0:
            # Sum of decay^(k-1) for k = w+1 .. w+count, w = impressions already in the window
            # before today (a geometric series).
            in_window = (self._window_count[shown] - count).astype(np.float64)
            effective = self._decay**in_window * (1.0 - self._decay**count) / (1.0 - self._decay)
        else:
            effective = count.astype(np.float64)
        half = self.spec.saturation_half_reach
        if half is not None:
            # The day's total effect is κ·H(r), a Hill curve of reach r: each impression counts κ·H(r)/r.
            effective *= half * hill(reach, half, self.spec.saturation_slope) / reach
        return effective

    def _carry_over(
        self,
        today: Exposure,
        audience: np.ndarray,
        u_impressions: np.ndarray,
        drawn: np.ndarray,
        drawn_residual: np.ndarray,
        bound: float | None,
    ) -> Exposure:
        """Geometric adstock per person (normalised): today's stock acts, not today's impressions."""
        stock = self._stock
        assert stock is not None
        alpha = self._retention
        stock *= alpha
        if today.shown.size:
            stock[today.shown] += (1.0 - alpha) * today.effective
        acting = stock >= STOCK_FLOOR
        if bound is not None:
            # Only people whose uniform can fall under stock × bound can move. Every uniform below
            # is at least the person's raw uniform (u / P(0) ≥ u), except the residual of those
            # drawn: the raw uniform against the bound, and the residuals apart, find a superset of
            # them at full length without building anyone's uniform; the exact test follows.
            limit = stock * bound
            maybe = acting & (u_impressions < limit)
            if drawn.size:
                maybe[drawn] |= acting[drawn] & (drawn_residual < limit[drawn])
            acting = maybe
        people = np.flatnonzero(acting)
        uniform = self._uniforms(people, audience, u_impressions, drawn, drawn_residual)
        if bound is not None:
            keep = uniform < stock[people] * bound
            people, uniform = people[keep], uniform[keep]
        return Exposure(
            today.shown,
            today.count,
            today.impressions,
            today.reach,
            people,
            stock[people],
            uniform,
            float(stock.sum()),
            today.unspent,
        )

    def _uniforms(
        self,
        people: np.ndarray,
        audience: np.ndarray,
        u_impressions: np.ndarray,
        drawn: np.ndarray,
        drawn_residual: np.ndarray,
    ) -> np.ndarray:
        """The uniform that decides whether each of ``people`` (sorted ids) moves on today.

        It must not depend on the person's impression count: for those whose uniform drew at least
        one impression, its position inside the count's CDF step; for the rest of the audience, its
        position inside the zero step (u / P(0)); for people outside the audience (or on a day
        nothing was served), the uniform itself, unused otherwise.
        """
        uniform = u_impressions[people]
        if self._p_zero is not None:
            below = audience[people] & (uniform < self._p_zero)
            uniform[below] /= self._p_zero
            if drawn.size and people.size:
                where = np.minimum(np.searchsorted(drawn, people), drawn.size - 1)
                holds = drawn[where] == people
                uniform[holds] = drawn_residual[where[holds]]
        np.clip(uniform, 0.0, np.nextafter(1.0, 0.0), out=uniform)
        return uniform

    def _serve(
        self, day: int, audience: np.ndarray, u_impressions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Who drew at least one impression today, and the audience's size.

        Returns the people whose uniform drew at least one impression, how many each may be shown (0
        once the cap or the budget cut them), their residual uniforms, and the audience's size.
        """
        self._p_zero = None
        nobody = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        budget = self.impressions_on(day)
        if budget == 0:
            return (*nobody, 0)
        n_audience = int(np.count_nonzero(audience))
        if n_audience == 0:
            return (*nobody, 0)
        lam = budget / n_audience
        # Everyone in the audience shares one rate: only those whose uniform passes P(X = 0) are
        # shown anything, and their count is the exact inverse CDF (any number per person).
        self._p_zero = float(np.exp(-lam))
        shown = np.flatnonzero(audience & (u_impressions >= self._p_zero))
        count, residual = poisson_with_residual(u_impressions[shown], lam)
        if self.spec.frequency_cap is not None:
            room = np.maximum(self.spec.frequency_cap - self._window_count[shown], 0)
            # Everyone whose draw reaches the room left is served exactly the room: decide on the
            # uniform's position in the tail P(X ≥ room) (uniform there, and the same however far
            # past the cap the draw went), so budget the cap cannot spend changes nothing.
            capped = np.flatnonzero(count >= room)
            if capped.size:
                below = poisson_cdf(room[capped] - 1.0, lam)
                tail = (u_impressions[shown[capped]] - below) / np.maximum(1.0 - below, 1e-300)
                residual[capped] = np.clip(tail, 0.0, np.nextafter(1.0, 0.0))
                count[capped] = room[capped]
        if int(count.sum()) > budget:
            # Drop impressions past the budget, starting from a random person, so spend ≤ budget.
            start = int(u_impressions[0] * shown.size)
            order = np.roll(np.arange(shown.size), -start)
            cumulative = np.cumsum(count[order])
            count[order] = np.clip(budget - (cumulative - count[order]), 0, count[order])
        return shown, count, residual, n_audience

    def _forget_old_days(self) -> None:
        """Keep the previous ``days_frequency_window − 1`` days, so with today the window is full."""
        while len(self._window) >= self._window_days:
            old_shown, old_count = self._window.pop(0)
            self._window_count[old_shown] -= old_count

    def _remember(self, shown: np.ndarray, count: np.ndarray) -> None:
        """Add today's impressions to the window."""
        if not self._uses_window:
            return
        self._window.append((shown, count))
        self._window_count[shown] += count
