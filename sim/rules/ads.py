"""The funnel: paid impressions, on one or several channels, move people from unaware to customer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.random import substream
from sim.rules._brands import switch_to_us
from sim.rules._media import MAX_EXPOSURES, ChannelScratch, PaidChannel, rate_max
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
    person (exact at any number of impressions per person): a counter-based uniform keyed by the
    channel's own random stream, the day and the person, computed only where used. A
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
        scratch = ChannelScratch(n)  # the channels' days run one after another
        self._channels = [
            PaidChannel(
                spec,
                self.rng if index == 0 else substream(self.rng, spec.name),
                n,
                days,
                not_prospect=Stage.CUSTOMER,
                scratch=scratch,
            )
            for index, spec in enumerate(specs)
        ]
        self._p_by_stage = [self._stage_probabilities(model, spec) for spec in specs]
        # −ln(1 − p) by stage (NumPy's log1p, as the day would compute it) and where p ≥ 1 (certain).
        self._log_q = [np.log1p(-np.minimum(p, 1.0 - 1e-12)) for p in self._p_by_stage]
        self._certain = [p >= 1.0 for p in self._p_by_stage]
        # The largest −ln(1 − p) of each channel: a bound that lets the channel skip who cannot move.
        self._rate_max = [rate_max(float(p.max())) for p in self._p_by_stage]
        # Each channel's step-table columns (CHANNEL_COLUMNS) and ledger purpose, named once.
        self._names = [
            {what: f"{what}_{spec.name}" for what in CHANNEL_COLUMNS} | {"purpose": ledger_purpose(spec)}
            for spec in specs
        ]

    def step(self, model: Market) -> None:
        """Serve each channel's impressions, charge them, and move exposed people down the funnel."""
        for index, channel in enumerate(self._channels):
            self._run_channel(model, index, channel)

    def _run_channel(self, model: Market, index: int, channel: PaidChannel) -> None:
        spec = channel.spec
        pop = model.population
        names = self._names[index]
        exposure = channel.expose(model, self._rate_max[index])
        total = exposure.impressions
        if exposure.unspent > 0.0:
            model.tally("ads_unspent", exposure.unspent)
        if self._columns:
            model.tally(names["adstock"], channel.stock_total())
        if total == 0 and exposure.people.size == 0:
            return
        if total:
            spend = total * spec.cpm / 1000.0
            model.ledger.spend("ads", names["purpose"], spend)
            model.tally("impressions", total)
            if self._columns:
                model.tally(names["spend_ads"], spend)
                model.tally(names["impressions"], total)
                model.tally(names["reach"], int(exposure.shown.size))
        # Only those whose uniform is under a bound of their probability are in exposure.people.
        n_converts, real_first, real = _advance(
            exposure.shown,
            exposure.count,
            pop.n_ad_exposures,
            exposure.people,
            exposure.effective,
            exposure.uniform,
            pop.stage,
            self._log_q[index],
            self._certain[index],
            spec.funnel == "one_stage",
            self._columns,
            pop.day_first_acquired,
            pop.first_ad_channel,
            index,
            model.n_real,
            exposure.people,  # the converts overwrite the people already looked at
        )
        if n_converts == 0:
            return
        if self._columns:
            model.tally(names["new_ads"], real_first)
            model.tally(names["won_back_ads"], real - real_first)
        model.acquire(exposure.people[:n_converts].copy(), Channel.ADS)

    @staticmethod
    def _stage_probabilities(model: Market, spec: AdChannelSpec) -> np.ndarray:
        """Per-impression probability of moving on, indexed by :class:`Stage`."""
        scenario = model.scenario_config
        winback = spec.p_purchase * scenario.customers.rel_winback
        switch = spec.p_purchase * switch_to_us(scenario)
        if spec.funnel == "one_stage":
            return np.array([spec.p_purchase, spec.p_purchase, spec.p_purchase, 0.0, winback, switch])
        return np.array([spec.p_aware, spec.p_consider, spec.p_purchase, 0.0, winback, switch])


# Stages as plain ints for the kernel.
_CONSIDERING, _CUSTOMER, _CHURNED, _RIVAL = (
    int(Stage.CONSIDERING),
    int(Stage.CUSTOMER),
    int(Stage.CHURNED),
    int(Stage.RIVAL),
)


@kernel
def _advance(
    shown: np.ndarray,
    count: np.ndarray,
    n_ad_exposures: np.ndarray,
    people: np.ndarray,
    effective: np.ndarray,
    uniform: np.ndarray,
    stage: np.ndarray,
    log_q: np.ndarray,
    certain: np.ndarray,
    one_stage: bool,
    track_first: bool,
    day_first_acquired: np.ndarray,
    first_ad_channel: np.ndarray,
    index: int,
    n_real: int,
    converts: np.ndarray,
) -> tuple[int, int, int]:
    """A channel's exposure moves people down our funnel; returns who converts (in ``converts``).

    Adds each shown person's ``count`` to their lifetime ``n_ad_exposures`` (stopping at
    :data:`MAX_EXPOSURES`). Each of ``people`` (sorted ids) with ``effective`` impressions moves on
    when their ``uniform`` is below ``1 − (1 − p)^effective = −expm1(effective × log_q[stage])``
    (``log_q = ln(1 − p)`` by stage; 1 where ``certain``): one stage up (unaware → aware →
    considering), or, from considering, churned or the rival's customer (any stage but customer in
    ``one_stage``), into ``converts``. With ``track_first`` a convert never acquired before gets
    ``first_ad_channel = index``. Returns the converts' number, the real first-timers among them and
    the real ones in all (ids below ``n_real``). ``converts`` may be ``people`` itself: the k-th convert
    is written after the entry it comes from (at or after k) has been read.
    """
    for j in range(shown.size):
        i = shown[j]
        n_ad_exposures[i] = min(np.int64(n_ad_exposures[i]) + count[j], MAX_EXPOSURES)
    n_converts = 0
    real_first = 0
    real = 0
    for j in range(people.size):
        i = people[j]
        now = stage[i]
        p_advance = 1.0 if certain[now] else -math.expm1(effective[j] * log_q[now])
        if not uniform[j] < p_advance:
            continue
        converts_now = now != _CUSTOMER if one_stage else now in (_CONSIDERING, _CHURNED, _RIVAL)
        if not converts_now:
            if now < _CONSIDERING:
                stage[i] = now + 1
            continue
        converts[n_converts] = i
        n_converts += 1
        if i < n_real:
            real += 1
        if track_first and day_first_acquired[i] == NEVER:
            first_ad_channel[i] = index
            if i < n_real:
                real_first += 1
    return n_converts, real_first, real
