"""The funnel: paid impressions move people from unaware to customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.population import Channel, Stage
from sim.random import poisson_from_uniform
from sim.rules.base import ACQUISITION_COLUMNS, Phase, Rule
from sim.scenario import AdsSpec

if TYPE_CHECKING:
    from sim.model import MarketModel

__all__ = ["Ads"]

# Impressions one person can be counted for in one day; the window ring stores uint8.
_MAX_IMPRESSIONS_PER_DAY = 255


class Ads(Rule):
    """A daily budget buys impressions at a CPM; each impression can move a person one stage on.

    Each day ``floor(daily_budget / cpm × 1000)`` impressions are spread over the targeted people
    (Poisson per person, inverse CDF at one uniform per person, so more budget never means fewer
    impressions for anyone). A frequency cap limits impressions per person per rolling window; the
    budget it leaves unserved is not spent. Spend = impressions served × CPM / 1000, never above the
    daily budget.

    The k-th impression a person sees within the rolling window counts as ``0.5^((k-1)/h)``
    effective impressions (wear-out, h = ``wearout_half_life_exposures``); attention recovers as old
    impressions leave the window. With W effective impressions today, a person advances one stage
    with probability ``1 − (1 − p_stage)^W``: unaware → aware (``p_aware``), aware → considering
    (``p_consider``), considering → customer (``p_purchase``). A churned person already knows the
    brand and converts with ``p_purchase × customers.rel_winback``. In ``one_stage`` mode every
    non-customer converts directly with ``p_purchase`` (the Bass limit).
    """

    name = "ads"
    phase = Phase.EXPOSURE
    section = "ads"
    reads: ClassVar[frozenset[str]] = frozenset({"stage", "community"})
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS | {"n_ad_exposures"}
    zero_intensity: ClassVar[dict[str, object]] = {"ads.daily_budget": 0.0}

    params: AdsSpec

    def setup(self, model: MarketModel) -> None:
        """Allocate the rolling window (cap and wear-out): one byte per person per day of it."""
        n = model.population.n
        self._window_days = self.params.days_frequency_window
        needs_window = (
            self.params.frequency_cap is not None
            or self.params.wearout_half_life_exposures is not None
        )
        self._ring = np.zeros((self._window_days, n), dtype=np.uint8) if needs_window else None
        self._window_count = np.zeros(n, dtype=np.int32) if self._ring is not None else None
        half_life = self.params.wearout_half_life_exposures
        self._decay = 0.5 ** (1.0 / half_life) if half_life is not None else 1.0
        self._impressions_per_day = int(self.params.daily_budget / self.params.cpm * 1000.0)

    def _targeted(self, model: MarketModel) -> np.ndarray:
        pop = model.population
        if self.params.target == "everyone":
            mask = np.ones(pop.n, dtype=bool)
        else:
            mask = pop.stage != Stage.CUSTOMER
        if self.params.target_community is not None:
            mask &= pop.community == self.params.target_community
        return mask

    def step(self, model: MarketModel) -> None:
        """Serve today's impressions, charge them, and move exposed people down the funnel."""
        pop = model.population
        # Both uniforms are drawn for everyone every day so that people keep their numbers whatever
        # the budget or state: strategies on the same world share them.
        u_impressions = self.rng.random(pop.n)
        u_advance = self.rng.random(pop.n)
        budget_impressions = self._impressions_per_day
        targeted = self._targeted(model)
        n_targeted = int(targeted.sum())
        served = np.zeros(pop.n, dtype=np.int64)
        if budget_impressions > 0 and n_targeted > 0:
            lam = budget_impressions / n_targeted
            served[targeted] = poisson_from_uniform(u_impressions[targeted], lam)
            np.minimum(served, _MAX_IMPRESSIONS_PER_DAY, out=served)
            if self._window_count is not None and self.params.frequency_cap is not None:
                room = np.maximum(self.params.frequency_cap - self._window_count, 0)
                np.minimum(served, room, out=served)
            served = self._trim_to_budget(served, budget_impressions, u_impressions[0])
        self._roll_window(model.day, served)
        total = int(served.sum())
        if total == 0:
            return
        model.ledger.spend("ads", "impressions", total * self.params.cpm / 1000.0)
        model.tally("impressions", total)

        shown = np.flatnonzero(served)
        count = served[shown]
        if self._decay < 1.0 and self._window_count is not None:
            # Sum of decay^(k-1) for k = w+1 .. w+count, w = impressions already in the window
            # before today (a geometric series).
            in_window = (self._window_count[shown] - count).astype(np.float64)
            effective = self._decay**in_window * (1.0 - self._decay**count) / (1.0 - self._decay)
        else:
            effective = count.astype(np.float64)
        pop.n_ad_exposures[shown] += count.astype(np.int32)

        stage = pop.stage[shown]
        p_step = self._p_by_stage(model)[stage]
        p_advance = -np.expm1(effective * np.log1p(-np.minimum(p_step, 1.0 - 1e-12)))
        p_advance[p_step >= 1.0] = 1.0
        moves = u_advance[shown] < p_advance
        movers = shown[moves]
        mover_stage = stage[moves]
        converts = (mover_stage == Stage.CONSIDERING) | (mover_stage == Stage.CHURNED)
        if self.params.funnel == "one_stage":
            converts = mover_stage != Stage.CUSTOMER
        advancing = movers[~converts & (mover_stage < Stage.CONSIDERING)]
        pop.stage[advancing] += 1
        model.acquire(movers[converts], Channel.ADS)

    def _p_by_stage(self, model: MarketModel) -> np.ndarray:
        """Per-impression probability of moving on, indexed by :class:`Stage`."""
        ads = self.params
        winback = ads.p_purchase * model.scenario_config.customers.rel_winback
        if ads.funnel == "one_stage":
            return np.array([ads.p_purchase, ads.p_purchase, ads.p_purchase, 0.0, winback])
        return np.array([ads.p_aware, ads.p_consider, ads.p_purchase, 0.0, winback])

    def _trim_to_budget(self, served: np.ndarray, budget: int, u_offset: float) -> np.ndarray:
        """Drop impressions past the budget, starting from a random person, so spend ≤ budget."""
        total = int(served.sum())
        if total <= budget:
            return served
        start = int(u_offset * served.size)
        order = np.roll(np.arange(served.size), -start)
        cumulative = np.cumsum(served[order])
        keep = np.clip(budget - (cumulative - served[order]), 0, served[order])
        trimmed = np.empty_like(served)
        trimmed[order] = keep
        return trimmed

    def _roll_window(self, day: int, served: np.ndarray) -> None:
        """Replace the oldest day of the frequency window with today's impressions."""
        if self._ring is None or self._window_count is None:
            return
        slot = day % self._window_days
        self._window_count -= self._ring[slot]
        self._ring[slot] = served
        self._window_count += self._ring[slot]
