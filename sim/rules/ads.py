"""The funnel: paid impressions move people from unaware to customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.random import poisson_cdf, poisson_with_residual
from sim.rules.base import ACQUISITION_COLUMNS, Budget, Phase, Rule
from sim.scenario import AdsSpec
from sim.world.population import Channel, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Ads"]

#: The lifetime exposure count is an int32 column: it stops at its largest value instead of wrapping.
_MAX_EXPOSURES = np.iinfo(np.int32).max


class Ads(Rule):
    """A daily budget buys impressions at a CPM; each impression can move a person one stage on.

    Each day ``floor(daily_budget / cpm × 1000)`` impressions are spread over the targeted people
    (Poisson per person, inverse CDF at one uniform per person, exact at any number of impressions
    per person, so before the cap and the budget trim more budget never means fewer impressions for
    anyone). A frequency cap limits impressions per person per rolling window; the budget it leaves
    unserved is not spent, and is reported as ``ads_unspent`` in the step table. Spend = impressions
    served × CPM / 1000, never above the daily budget.

    The k-th impression a person sees within the rolling window counts as ``0.5^((k-1)/h)``
    effective impressions (wear-out, h = ``wearout_half_life_exposures``); attention recovers as old
    impressions leave the window. With W effective impressions today, a person advances one stage
    with probability ``1 − (1 − p_stage)^W``: unaware → aware (``p_aware``), aware → considering
    (``p_consider``), considering → customer (``p_purchase``). A churned person already knows the
    brand and converts with ``p_purchase × customers.rel_winback``. In ``one_stage`` mode every
    non-customer converts directly with ``p_purchase`` (the Bass limit).

    Whether a person moves on is decided by the position of their uniform inside their count's CDF
    step (uniform, independent of the count). When the cap trims the count to the ``room`` left in
    the window, it is the position inside the tail P(X ≥ room) instead: that does not depend on how
    far past the cap the person's draw went, so budget beyond what the cap lets through changes
    nothing at all (it is only reported unspent).
    """

    name = "ads"
    phase = Phase.EXPOSURE
    section = "ads"
    reads: ClassVar[frozenset[str]] = frozenset({"stage", "community"})
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS | {"n_ad_exposures"}
    zero_intensity: ClassVar[dict[str, object]] = {"ads.daily_budget": 0.0}
    budgets: ClassVar[dict[str, Budget]] = {"ads.daily_budget": Budget("ads", ("impressions",), "day")}
    step_columns: ClassVar[tuple[str, ...]] = ("ads_unspent",)

    params: AdsSpec

    def setup(self, model: Market) -> None:
        """Prepare the rolling window (cap and wear-out) and the daily impression budget."""
        n = model.population.n
        self._window_days = self.params.days_frequency_window
        self._uses_window = (
            self.params.frequency_cap is not None or self.params.wearout_half_life_exposures is not None
        )
        # The window is kept sparse: for each day in it, who was shown ads and how many. Only a
        # minority sees an ad on a given day, so this is far cheaper than a dense days × people grid.
        self._window: list[tuple[np.ndarray, np.ndarray]] = []
        self._window_count = np.zeros(n, dtype=np.int64)
        half_life = self.params.wearout_half_life_exposures
        self._decay = 0.5 ** (1.0 / half_life) if half_life is not None else 1.0
        self._impressions_per_day = int(self.params.daily_budget / self.params.cpm * 1000.0)
        self._p_by_stage = self._stage_probabilities(model)

    def _targeted(self, model: Market) -> np.ndarray:
        pop = model.population
        mask = np.ones(pop.n, dtype=bool) if self.params.target == "everyone" else pop.stage != Stage.CUSTOMER
        if self.params.target_community is not None:
            mask &= pop.community == self.params.target_community
        mask[model.n_real :] = False  # fake accounts (fraud) are not an audience
        return mask

    def step(self, model: Market) -> None:
        """Serve today's impressions, charge them, and move exposed people down the funnel."""
        pop = model.population
        # One uniform per person every day, whatever the budget or state, so that strategies on the
        # same world share them. It sets the impression count, and its position inside the count's
        # CDF step (again uniform, independent of the count) decides whether the person moves on.
        u_impressions = self.rng.random(pop.n)
        self._forget_old_days()
        shown, count, u_advance = self._serve(model, u_impressions)
        self._remember(shown, count)
        total = int(count.sum())
        spent = total * self.params.cpm / 1000.0
        if self.params.daily_budget > spent:
            model.tally("ads_unspent", self.params.daily_budget - spent)
        if total == 0:
            return
        model.ledger.spend("ads", "impressions", spent)
        model.tally("impressions", total)
        if self._decay < 1.0:
            # Sum of decay^(k-1) for k = w+1 .. w+count, w = impressions already in the window
            # before today (a geometric series).
            in_window = (self._window_count[shown] - count).astype(np.float64)
            effective = self._decay**in_window * (1.0 - self._decay**count) / (1.0 - self._decay)
        else:
            effective = count.astype(np.float64)
        pop.n_ad_exposures[shown] = np.minimum(pop.n_ad_exposures[shown] + count, _MAX_EXPOSURES)

        stage = pop.stage[shown]
        p_step = self._p_by_stage[stage]
        p_advance = -np.expm1(effective * np.log1p(-np.minimum(p_step, 1.0 - 1e-12)))
        p_advance[p_step >= 1.0] = 1.0
        moves = u_advance < p_advance
        movers = shown[moves]
        mover_stage = stage[moves]
        if self.params.funnel == "one_stage":
            converts = mover_stage != Stage.CUSTOMER
        else:
            converts = (mover_stage == Stage.CONSIDERING) | (mover_stage == Stage.CHURNED)
        advancing = movers[~converts & (mover_stage < Stage.CONSIDERING)]
        pop.stage[advancing] += 1
        model.acquire(movers[converts], Channel.ADS)

    def _serve(self, model: Market, u_impressions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Who is shown ads today, how many impressions each (≥ 1), and their residual uniforms."""
        nobody = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        budget = self._impressions_per_day
        if budget == 0:
            return nobody
        targeted = self._targeted(model)
        n_targeted = int(np.count_nonzero(targeted))
        if n_targeted == 0:
            return nobody
        lam = budget / n_targeted
        targets = np.flatnonzero(targeted)
        drawn, residual = poisson_with_residual(u_impressions[targets], lam)
        seen = drawn > 0
        shown, count, residual = targets[seen], drawn[seen], residual[seen]
        if self.params.frequency_cap is not None:
            room = np.maximum(self.params.frequency_cap - self._window_count[shown], 0)
            # Everyone whose draw reaches the room left is served exactly the room: decide on the
            # uniform's position in the tail P(X ≥ room) (uniform there, and the same however far
            # past the cap the draw went).
            capped = np.flatnonzero(count >= room)
            if capped.size:
                below = poisson_cdf(room[capped] - 1.0, lam)
                u_capped = u_impressions[shown[capped]]
                tail = (u_capped - below) / np.maximum(1.0 - below, 1e-300)
                residual[capped] = np.clip(tail, 0.0, np.nextafter(1.0, 0.0))
                count[capped] = room[capped]
        if int(count.sum()) > budget:
            # Drop impressions past the budget, starting from a random person, so spend ≤ budget.
            start = int(u_impressions[0] * shown.size)
            order = np.roll(np.arange(shown.size), -start)
            cumulative = np.cumsum(count[order])
            count[order] = np.clip(budget - (cumulative - count[order]), 0, count[order])
        served = count > 0
        return shown[served], count[served], residual[served]

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

    def _stage_probabilities(self, model: Market) -> np.ndarray:
        """Per-impression probability of moving on, indexed by :class:`Stage`."""
        ads = self.params
        winback = ads.p_purchase * model.scenario_config.customers.rel_winback
        if ads.funnel == "one_stage":
            return np.array([ads.p_purchase, ads.p_purchase, ads.p_purchase, 0.0, winback])
        return np.array([ads.p_aware, ads.p_consider, ads.p_purchase, 0.0, winback])
