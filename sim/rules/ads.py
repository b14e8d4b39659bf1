"""The funnel: paid impressions, on one or several channels, move people from unaware to customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.random import substream
from sim.rules._brands import switch_to_us
from sim.rules._media import MAX_EXPOSURES, PaidChannel, rate_max
from sim.rules.base import ACQUISITION_COLUMNS, Budget, Phase, Rule
from sim.scenario import AdChannelSpec, AdsSpec, Scenario
from sim.world.population import NEVER, Channel, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["CHANNEL_COLUMNS", "Ads", "ledger_purpose"]

#: Step-table columns of each named channel, ``<what>_<channel name>`` (docs/metrics.md).
CHANNEL_COLUMNS: tuple[str, ...] = ("spend_ads", "impressions", "reach", "adstock", "new_ads", "won_back_ads")


def ledger_purpose(channel: AdChannelSpec) -> str:
    """The ledger purpose of a channel's impressions (all on ledger channel ``ads``).

    ``impressions`` for the channel named ``ads`` (the one channel of old), ``impressions_<name>`` for
    the others.
    """
    return "impressions" if channel.name == "ads" else f"impressions_{channel.name}"


class Ads(Rule):
    """Daily budgets buy impressions at a CPM on each paid channel; impressions move people on.

    Each channel (``ads``, then each of ``ads.channels``, in order) buys ``floor(budget(t) / cpm ×
    1000)`` impressions on day t and spreads them over its audience (everyone, or people who are not
    active customers; optionally one community), Poisson per person by inverse CDF at one uniform per
    person (exact at any number of impressions per person), from the channel's own random stream. A
    frequency cap limits impressions per person per rolling window; the budget it leaves unserved is
    not spent, and is reported as ``ads_unspent`` in the step table. Spend = impressions served × CPM
    / 1000, never above the day's budget (see :class:`~sim.rules._media.PaidChannel` for wear-out,
    saturation and carryover, and for how a capped person's move is decided).

    With E effective impressions today (with carryover: the awareness stock), a person advances one
    stage with probability ``1 − (1 − p_stage)^E``: unaware → aware (``p_aware``), aware → considering
    (``p_consider``), considering → customer (``p_purchase``). A churned person converts with
    ``p_purchase × customers.rel_winback``; the rival's customer switches with ``p_purchase ×
    rival.rel_switch × rival.rel_churn``. In ``one_stage`` mode every non-customer converts directly
    with ``p_purchase`` (times the same factors). Channels act one after another, so a person can
    move on once per channel a day.
    """

    name = "ads"
    phase = Phase.EXPOSURE
    section = "ads"
    reads: ClassVar[frozenset[str]] = frozenset({"stage", "community"})
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS | {"n_ad_exposures", "first_ad_channel"}
    zero_intensity: ClassVar[dict[str, object]] = {"ads.daily_budget": 0.0}
    budgets: ClassVar[dict[str, Budget]] = {"ads.daily_budget": Budget("ads", ("impressions",), "day")}
    step_columns: ClassVar[tuple[str, ...]] = ("ads_unspent",)

    params: AdsSpec

    @classmethod
    def columns_for(cls, scenario: Scenario) -> tuple[str, ...]:
        """Per-channel columns, unless the scenario has the one plain channel of old."""
        if scenario.ads.is_plain:
            return ()
        return tuple(
            f"{what}_{channel.name}" for channel in scenario.ads.all_channels() for what in CHANNEL_COLUMNS
        )

    @classmethod
    def budgets_for(cls, scenario: Scenario) -> dict[str, Budget]:
        """One daily budget per channel, each governing its own ledger purpose."""
        paths = [
            "ads.daily_budget",
            *(f"ads.channels.{i}.daily_budget" for i in range(len(scenario.ads.channels))),
        ]
        return {
            path: Budget("ads", (ledger_purpose(channel),), "day")
            for path, channel in zip(paths, scenario.ads.all_channels(), strict=True)
        }

    def setup(self, model: Market) -> None:
        """Each channel's state (its own random stream but the first's, which is the rule's)."""
        n = model.population.n
        days = self.scenario.days
        specs = self.params.all_channels()
        self._columns = not self.params.is_plain
        self._channels = [
            PaidChannel(spec, self.rng if index == 0 else substream(self.rng, spec.name), n, days)
            for index, spec in enumerate(specs)
        ]
        self._p_by_stage = [self._stage_probabilities(model, spec) for spec in specs]
        # The largest −ln(1 − p) of each channel: a bound that lets the channel skip who cannot move.
        self._rate_max = [rate_max(float(p.max())) for p in self._p_by_stage]

    def _audience(self, model: Market, spec: AdChannelSpec) -> np.ndarray:
        pop = model.population
        mask = np.ones(pop.n, dtype=bool) if spec.target == "everyone" else pop.stage != Stage.CUSTOMER
        if spec.target_community is not None:
            mask &= pop.community == spec.target_community
        mask[model.n_real :] = False  # fake accounts (fraud) are not an audience
        return mask

    def step(self, model: Market) -> None:
        """Serve each channel's impressions, charge them, and move exposed people down the funnel."""
        for index, channel in enumerate(self._channels):
            self._run_channel(model, index, channel)

    def _run_channel(self, model: Market, index: int, channel: PaidChannel) -> None:
        spec = channel.spec
        pop = model.population
        exposure = channel.expose(model, self._audience(model, spec), self._rate_max[index])
        total = exposure.impressions
        if exposure.unspent > 0.0:
            model.tally("ads_unspent", exposure.unspent)
        if self._columns:
            model.tally(f"adstock_{spec.name}", exposure.stock)
        if total == 0 and exposure.people.size == 0:
            return
        if total:
            spend = total * spec.cpm / 1000.0
            model.ledger.spend("ads", ledger_purpose(spec), spend)
            model.tally("impressions", total)
            exposures = pop.n_ad_exposures[exposure.shown] + exposure.count
            pop.n_ad_exposures[exposure.shown] = np.minimum(exposures, MAX_EXPOSURES)
            if self._columns:
                model.tally(f"spend_ads_{spec.name}", spend)
                model.tally(f"impressions_{spec.name}", total)
                model.tally(f"reach_{spec.name}", int(exposure.shown.size))
        people = exposure.people  # only those whose uniform is under a bound of their probability
        stage = pop.stage[people]
        p_step = self._p_by_stage[index][stage]
        p_advance = -np.expm1(exposure.effective * np.log1p(-np.minimum(p_step, 1.0 - 1e-12)))
        p_advance[p_step >= 1.0] = 1.0
        moves = exposure.uniform < p_advance
        movers = people[moves]
        mover_stage = stage[moves]
        if spec.funnel == "one_stage":
            converts = mover_stage != Stage.CUSTOMER
        else:
            converts = (mover_stage == Stage.CONSIDERING) | (mover_stage == Stage.CHURNED)
            converts |= mover_stage == Stage.RIVAL
        advancing = movers[~converts & (mover_stage < Stage.CONSIDERING)]
        pop.stage[advancing] += 1
        self._acquire(model, index, movers[converts])

    def _acquire(self, model: Market, index: int, people: np.ndarray) -> None:
        """Sign up ``people`` via ads; record which channel brought first-timers (and count by channel)."""
        if self._columns and people.size:
            pop = model.population
            first = people[pop.day_first_acquired[people] == NEVER]
            pop.first_ad_channel[first] = index
            name = self._channels[index].spec.name
            real_first = int(np.count_nonzero(first < model.n_real))
            model.tally(f"new_ads_{name}", real_first)
            model.tally(f"won_back_ads_{name}", int(np.count_nonzero(people < model.n_real)) - real_first)
        model.acquire(people, Channel.ADS)

    @staticmethod
    def _stage_probabilities(model: Market, spec: AdChannelSpec) -> np.ndarray:
        """Per-impression probability of moving on, indexed by :class:`Stage`."""
        scenario = model.scenario_config
        winback = spec.p_purchase * scenario.customers.rel_winback
        switch = spec.p_purchase * switch_to_us(scenario)
        if spec.funnel == "one_stage":
            return np.array([spec.p_purchase, spec.p_purchase, spec.p_purchase, 0.0, winback, switch])
        return np.array([spec.p_aware, spec.p_consider, spec.p_purchase, 0.0, winback, switch])
