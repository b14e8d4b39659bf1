"""A rival brand in the same market: its paid channels, its word of mouth, discovery and churn.

Two rules, both behind the ``rival`` section and off by default: ``rival_ads`` (phase exposure) buys
the rival's impressions and moves people along the rival's funnel; ``rival`` (phase sharing) lets its
customers churn, then converts people by its word of mouth and by discovery. How people move between
the brands is :mod:`sim.rules._brands` (and docs/odd.md, "The rival's customers").
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, flag_buffer, stream_key, uniform, uniforms
from sim.engine.random import substream
from sim.rules._brands import (
    join_rival,
    join_rival_at,
    leave_rival_at,
    switch_to_rival_at,
    switch_to_rival_max,
    tally_joined,
)
from sim.rules._media import ChannelScratch, PaidChannel, rate_max
from sim.rules.base import MetricInfo, Phase, Rule
from sim.scenario import AdChannelSpec, RivalSpec, Scenario
from sim.world.population import Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Rival", "RivalAds"]

#: Columns the rival's own moves write (joining and leaving it).
_RIVAL_WRITES: frozenset[str] = frozenset(
    {"stage", "rival_stage", "stage_before_rival", "day_rival_acquired", "day_churned", "day_first_churned"}
)
_RIVAL_READS: frozenset[str] = frozenset(
    {"stage", "rival_stage", "stage_before_rival", "day_first_acquired", "day_offer_ends", "rel_churn_offer"}
    | {"rel_churn_loyalty", "day_first_churned"}
)


class RivalAds(Rule):
    """The rival's paid channels: impressions move people along the rival's funnel, or make them switch.

    Each of the rival's channels works as ours do (budget by day, CPM, audience, frequency cap,
    wear-out, saturation, carryover; :class:`~sim.rules._media.PaidChannel`), from its own random
    stream (counter-based uniforms, computed only where used). Its audience is everyone, or
    (``prospects``) everyone who is not its customer. With E effective impressions, a person who is
    nobody's customer moves one stage along the rival's funnel (``rival_stage``: unaware → aware →
    considering → the rival's customer) with ``1 − (1 − p_stage)^E``; someone who left the rival
    converts with ``p_purchase × customers.rel_winback``; our customer switches with ``p_purchase``
    × their switching multiplier (:func:`~sim.rules._brands.switch_to_rival`). The rival's spend is
    its own: it is in the step table
    (``spend_rival_ads``), not in our ledger.
    """

    name = "rival_ads"
    phase = Phase.EXPOSURE
    section = "rival"
    reads: ClassVar[frozenset[str]] = _RIVAL_READS | {"community"}
    writes: ClassVar[frozenset[str]] = _RIVAL_WRITES
    zero_intensity: ClassVar[dict[str, object]] = {"rival.ads.daily_budget": 0.0}

    params: RivalSpec

    @classmethod
    def columns_for(cls, scenario: Scenario) -> tuple[str, ...]:
        """The rival's ad spend and impressions (with a rival)."""
        return ("spend_rival_ads", "impressions_rival") if scenario.rival.enabled else ()

    def setup(self, model: Market) -> None:
        """Each of the rival's channels, the first on the rule's stream, the others on their own."""
        self._channels: list[PaidChannel] = []
        if not self.params.enabled:
            return
        n, days = model.population.n, self.scenario.days
        scratch = ChannelScratch(n)  # the channels' days run one after another
        self._channels = [
            PaidChannel(
                spec,
                self.rng if index == 0 else substream(self.rng, spec.name),
                n,
                days,
                not_prospect=Stage.RIVAL,
                scratch=scratch,
            )
            for index, spec in enumerate(self.params.ads.all_channels())
        ]
        self._channels = [channel for channel in self._channels if not channel.idle]
        p_by_stage = [self._p_by_rival_stage(channel.spec) for channel in self._channels]
        # ln(1 − p) by stage with the rival (NumPy's log1p, as the day would compute it), where p ≥ 1,
        # and the largest p (for the bound).
        self._log_q = [np.log1p(-np.minimum(p, 1.0 - 1e-12)) for p in p_by_stage]
        self._certain = [p >= 1.0 for p in p_by_stage]
        self._p_max = [float(p.max()) for p in p_by_stage]

    def step(self, model: Market) -> None:
        """Serve the rival's impressions and move the people they reach."""
        if not self._channels:
            return
        # Our customers' switching multipliers only change in other rules: one bound for the day.
        top = switch_to_rival_max(model)
        for index, channel in enumerate(self._channels):
            self._run_channel(model, index, channel, top)

    def _run_channel(self, model: Market, index: int, channel: PaidChannel, switch_max: float) -> None:
        spec = channel.spec
        pop = model.population
        # A bound on today's −ln(1 − p) over everyone the channel can move: our customers switch with
        # p_purchase × switch_to_rival, at most its bound (switch_to_rival_max).
        exposure = channel.expose(model, rate_max(max(self._p_max[index], spec.p_purchase * switch_max)))
        if exposure.impressions:
            model.tally("spend_rival_ads", exposure.impressions * spec.cpm / 1000.0)
            model.tally("impressions_rival", exposure.impressions)
        if exposure.people.size == 0:
            return
        rival = model.scenario_config.rival
        n_converts = _rival_advance(
            exposure.people,
            exposure.effective,
            exposure.uniform,
            pop.stage,
            pop.rival_stage,
            self._log_q[index],
            self._certain[index],
            spec.funnel == "one_stage",
            spec.p_purchase,
            rival.rel_switch * rival.rel_switch_offer,
            model.day,
            pop.day_offer_ends,
            pop.rel_churn_offer,
            pop.rel_churn_loyalty,
            exposure.people,  # the converts overwrite the people already looked at
        )
        if n_converts:
            join_rival(model, exposure.people[:n_converts].copy())

    def _p_by_rival_stage(self, spec: AdChannelSpec) -> np.ndarray:
        """Per-impression probability of moving on, by stage with the rival (its customers: 0)."""
        winback = spec.p_purchase * self.scenario.customers.rel_winback
        if spec.funnel == "one_stage":
            return np.array([spec.p_purchase, spec.p_purchase, spec.p_purchase, 0.0, winback, 0.0])
        return np.array([spec.p_aware, spec.p_consider, spec.p_purchase, 0.0, winback, 0.0])


# Stages as plain ints for the kernel.
_CONSIDERING, _CUSTOMER, _CHURNED, _RIVAL = (
    int(Stage.CONSIDERING),
    int(Stage.CUSTOMER),
    int(Stage.CHURNED),
    int(Stage.RIVAL),
)


@kernel
def _rival_advance(
    people: np.ndarray,
    effective: np.ndarray,
    uniform: np.ndarray,
    stage: np.ndarray,
    rival_stage: np.ndarray,
    log_q: np.ndarray,
    certain: np.ndarray,
    one_stage: bool,
    p_purchase: float,
    switch: float,
    day: int,
    day_offer_ends: np.ndarray,
    rel_churn_offer: np.ndarray,
    rel_churn_loyalty: np.ndarray,
    converts: np.ndarray,
) -> int:
    """A rival channel's exposure moves people along the rival's funnel; returns how many join it.

    Each of ``people`` (sorted ids) with ``effective`` impressions moves on when their ``uniform`` is
    below ``1 − (1 − p)^effective``: the rival's customers never; our customers with ``p = p_purchase
    × switch`` × their retention multipliers (``rel_churn_offer`` while their offer lasts, to
    ``day_offer_ends``; ``rel_churn_loyalty``), as :func:`~sim.rules._brands.switch_to_rival` gives,
    and they join the rival; anyone else by their ``rival_stage``, with ``log_q = ln(1 − p)`` (1 where
    ``certain``): one stage up the rival's funnel (unaware → aware → considering), or from
    considering or having left the rival (any stage in ``one_stage``) into ``converts``, which may be
    ``people`` itself (the k-th convert is written after the entry it comes from, at or after k, has
    been read).
    """
    n_converts = 0
    for j in range(people.size):
        i = people[j]
        now = stage[i]
        if now == _RIVAL:
            continue  # the rival's customers: p = 0
        ours = now == _CUSTOMER
        with_rival = rival_stage[i]
        if ours:
            factor = switch
            if day_offer_ends[i] >= day:
                factor *= np.float64(rel_churn_offer[i])
            factor *= np.float64(rel_churn_loyalty[i])
            p_step = p_purchase * factor
            if p_step >= 1.0:
                p_advance = 1.0
            else:
                p_advance = -math.expm1(effective[j] * math.log1p(-min(p_step, 1.0 - 1e-12)))
        elif certain[with_rival]:
            p_advance = 1.0
        else:
            p_advance = -math.expm1(effective[j] * log_q[with_rival])
        if not uniform[j] < p_advance:
            continue
        if one_stage or ours or with_rival in (_CONSIDERING, _CHURNED):
            converts[n_converts] = i
            n_converts += 1
        elif with_rival < _CONSIDERING:
            rival_stage[i] = with_rival + 1
    return n_converts


class Rival(Rule):
    """The rival's customers churn; its word of mouth and discovery convert people; market share.

    Set-up: ``share_initial_customers`` of the people who are not our customers are the rival's on
    day 0. Each day, at a counter-based uniform per real person (:mod:`sim.engine.counter`, computed
    only where compared with a probability): a rival customer churns with
    ``1 − (1 − p_churn_base)^(customers.rel_churn × rival.rel_churn)`` and is back in the market
    (:func:`~sim.rules._brands.leave_rival`); anyone else becomes the rival's customer with ``1 −
    e^(−h)``, ``h = (rate_organic_per_day + rate_share_per_day × p_convert × pressure) × f``, where
    pressure is the rival's word of mouth as in our ``sharing`` rule (its customers share from the
    day after joining, fading with ``days_share_half_life``; ``fraction`` or ``count``), and f is 1,
    ``customers.rel_winback`` for someone who left the rival, or our customer's switching multiplier.
    """

    name = "rival"
    phase = Phase.SHARING
    section = "rival"
    reads: ClassVar[frozenset[str]] = _RIVAL_READS | {"p_churn_base", "day_rival_acquired"}
    writes: ClassVar[frozenset[str]] = _RIVAL_WRITES
    zero_intensity: ClassVar[dict[str, object]] = {"rival.enabled": False}
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "market_share": MetricInfo(
            "share", "Our active customers ÷ ours + the rival's, on the last day (with a rival)."
        ),
        "share_of_voice": MetricInfo(
            "share", "Our ad spend ÷ ours + the rival's, over the horizon (with a rival)."
        ),
        "rival_customers": MetricInfo(
            "people", "The rival's customers on the last day.", higher_is_better=False
        ),
        "won_from_rival": MetricInfo("people", "The rival's customers who switched to us."),
        "lost_to_rival": MetricInfo(
            "people", "Our customers who switched to the rival.", higher_is_better=False
        ),
    }

    params: RivalSpec

    @classmethod
    def columns_for(cls, scenario: Scenario) -> tuple[str, ...]:
        """The rival's flows and the two shares (with a rival)."""
        if not scenario.rival.enabled:
            return ()
        return (
            "new_rival",
            "rival_churned",
            "won_from_rival",
            "lost_to_rival",
            "share_of_market",
            "share_of_voice",
        )

    def setup(self, model: Market) -> None:
        """The rival's day-0 customers, among the real people who are not ours."""
        if not self.params.enabled:
            return
        graph = model.graph
        # Each person's friend count (the graph's int64 degrees; the kernel takes at least 1).
        self._degree = graph.degree
        empty = np.zeros(1, dtype=np.int64)
        # The CSR rows the kernel sums the sharers' weights over (none on the complete graph).
        self._indptr = empty if graph.indptr is None else graph.indptr
        self._indices = empty.astype(np.int32) if graph.indices is None else graph.indices
        self._key = stream_key(self.rng)  # the counter-based uniforms' key (site 0 a day; day 0: site 1)
        # The most a real person's friends can press them, over the mean degree (count normalisation).
        top = max(int(self._degree[: model.n_real].max(initial=1)), 1)
        self._reach_max = float(top) / max(graph.mean_degree, 1e-12)
        # The largest daily churn probability of a rival customer (p_churn_base is the world's, fixed
        # for the run): no rival customer whose uniform is above it can leave today.
        rel = self.scenario.customers.rel_churn * self.params.rel_churn
        p_max = float(model.population.p_churn_base[: model.n_real].max(initial=0.0))
        self._churn_bound = -math.expm1(math.log1p(-min(p_max, 1 - 1e-15)) * rel) * _BOUND_MARGIN
        # Today's churners and joiners (ids, prefix used; untouched pages cost no memory).
        self._churners = np.empty(model.n_real, dtype=np.int64)
        self._joiners = np.empty(model.n_real, dtype=np.int64)
        self._flags = flag_buffer(model.n_real)  # who may move today (scratch)
        share = self.params.share_initial_customers
        if share <= 0:
            return
        pop = model.population
        u_initial = uniforms(draw_key(self._key, 0, _SITE_INITIAL), model.n_real)
        chosen = np.flatnonzero((u_initial < share) & (pop.stage[: model.n_real] != Stage.CUSTOMER))
        join_rival(model, chosen, count=False)

    def step(self, model: Market) -> None:
        """Churn the rival's leavers, then convert people by its discovery and word of mouth.

        One kernel call (:func:`_rival_day`): each real person's uniform is compared with a bound of
        their churn (the rival's customers) or joining (everyone else) probability today first
        (nobody above it can move), and only those below it are looked at. On the complete graph
        the sharers' total weight is summed first (everyone hears everyone).
        """
        if not self.params.enabled:
            return
        p = self.params
        pop = model.population
        graph = model.graph
        customers = self.scenario.customers
        rival = self.scenario.rival
        heard_everyone = 0.0
        if graph.complete:
            heard_everyone = self._heard_on_complete_graph(model)
        q = p.rate_share_per_day * p.p_convert
        reach = 1.0 if p.normalisation == "fraction" else self._reach_max
        factor = max(1.0, customers.rel_winback, switch_to_rival_max(model))
        join_bound = (p.rate_organic_per_day + q * reach) * factor * _BOUND_MARGIN
        n_churners, n_joiners, n_ours = _rival_day(
            draw_key(self._key, model.day, _SITE_DAY),
            self._churn_bound,
            join_bound,
            model.n_real,
            model.day,
            pop.stage,
            pop.rival_stage,
            pop.stage_before_rival,
            pop.day_rival_acquired,
            pop.day_first_acquired,
            pop.day_churned,
            pop.day_first_churned,
            pop.p_churn_base,
            pop.day_offer_ends,
            pop.rel_churn_offer,
            pop.rel_churn_loyalty,
            self._indptr,
            self._indices,
            graph.complete,
            heard_everyone,
            self._degree,
            p.normalisation == "fraction",
            max(graph.mean_degree, 1e-12),
            p.rate_organic_per_day,
            q,
            -1.0 if p.days_share_half_life is None else float(p.days_share_half_life),
            customers.rel_churn * p.rel_churn,
            customers.rel_winback,
            rival.rel_switch * rival.rel_switch_offer,
            self._churners,
            self._joiners,
            self._flags,
        )
        if n_churners:
            model.tally("rival_churned", int(n_churners))
        tally_joined(model, n_joiners, n_ours)

    def _heard_on_complete_graph(self, model: Market) -> float:
        """On the complete graph, what a non-sharer hears: every sharer's weight, summed by NumPy.

        :meth:`~sim.world.graph.SocialGraph.sum_over_neighbours_at` gives ``total − own`` there, and
        nobody who can join shares (own weight 0).
        """
        pop = model.population
        n_real = model.n_real
        if self.params.rate_share_per_day * self.params.p_convert <= 0:
            return 0.0
        sharers = np.zeros(pop.n, dtype=bool)
        sharers[:n_real] = (pop.stage[:n_real] == Stage.RIVAL) & (pop.day_rival_acquired[:n_real] < model.day)
        if not sharers.any():
            return 0.0
        return float(self._shares(model, sharers).sum())

    def _shares(self, model: Market, sharers: np.ndarray) -> np.ndarray:
        """How much each rival sharer shares today, relative to ``rate_share_per_day`` (0 elsewhere).

        The mask itself (as 0/1) without fading.
        """
        half_life = self.params.days_share_half_life
        if half_life is None:
            return sharers.astype(np.float64)
        ids = np.flatnonzero(sharers)
        age = (model.day - 1 - model.population.day_rival_acquired[ids]).astype(np.float64)
        weights = np.zeros(model.population.n)
        with np.errstate(over="ignore"):  # a half-life near 0 makes age/half-life inf: weight 0, exactly
            weights[ids] = np.exp2(-age / half_life)
        return weights

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Market share and share of voice, the rival's customers, and the customers that switched."""
        if not self.params.enabled:
            return {}
        run = steps[steps["day"] > 0]
        ours = float(run["spend_ads"].sum())
        theirs = float(run["spend_rival_ads"].sum())
        last = steps.iloc[-1]
        return {
            "market_share": float(last["share_of_market"]),
            "share_of_voice": ours / (ours + theirs) if ours + theirs > 0 else math.nan,
            "rival_customers": float(last["n_rival"]),
            "won_from_rival": float(run["won_from_rival"].sum()),
            "lost_to_rival": float(run["lost_to_rival"].sum()),
        }


_CUSTOMER = int(Stage.CUSTOMER)
_CHURNED = int(Stage.CHURNED)
_RIVAL = int(Stage.RIVAL)
#: Margin over the hazard's bound that keeps it above the exact probability despite rounding.
_BOUND_MARGIN = 1.0 + 1e-9
#: Counter-based draw sites: the day's decisions (churn or join; one per person), day 0's customers.
_SITE_DAY = 0
_SITE_INITIAL = 1


@kernel
def _rival_day(
    key: np.uint64,
    churn_bound: float,
    join_bound: float,
    n_real: int,
    day: int,
    stage: np.ndarray,
    rival_stage: np.ndarray,
    stage_before_rival: np.ndarray,
    day_rival_acquired: np.ndarray,
    day_first_acquired: np.ndarray,
    day_churned: np.ndarray,
    day_first_churned: np.ndarray,
    p_churn_base: np.ndarray,
    day_offer_ends: np.ndarray,
    rel_churn_offer: np.ndarray,
    rel_churn_loyalty: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    complete: bool,
    heard_everyone: float,
    degree: np.ndarray,
    fraction: bool,
    mean_degree: float,
    organic: float,
    q: float,
    half_life: float,
    rel_churn: float,
    winback: float,
    switch_base: float,
    churners: np.ndarray,
    joiners: np.ndarray,
    flags: np.ndarray,
) -> tuple[int, int, int]:
    """The rival rule's day over the real people (ids ``[0, n_real)``), one uniform each.

    Person ``i``'s uniform is ``uniform(key, i)`` (:func:`sim.engine.counter.uniform`; ``key``: the
    day's draw key). A rival customer whose uniform is not below ``churn_bound`` (a bound of every
    churn probability today), or anyone else whose uniform is not below ``join_bound`` (a bound of
    every joining probability today), cannot move and is passed over.

    A rival customer churns with ``1 − (1 − p_churn_base)^rel_churn``. Anyone else joins the rival
    with ``1 − e^(−h)``, ``h = (organic + q × pressure) × f``: pressure is the sharers' weight summed
    over the person's CSR row (``indptr`` int64, ``indices`` int32; ascending, from 0.0, as
    :meth:`~sim.world.graph.SocialGraph.sum_over_neighbours_at` sums it), over ``degree`` (int64
    friend counts, taken as at least 1; ``fraction``) or ``mean_degree``; on the complete graph it
    is ``heard_everyone``. A sharer is a rival customer since before today, of weight
    ``2^(−(day − 1 − day_rival_acquired) / half_life)`` (1 with ``half_life`` < 0: no fading).
    ``f`` is :func:`switch_to_rival_at` for our customers, ``winback`` for someone who left the
    rival, else 1. Only people whose uniform falls under a bound of their hazard (weights ≤ 1) have
    their friends summed: the same people join.

    Everyone is decided on the day's starting state; then the churners (``churners``) leave the rival
    and the joiners (``joiners``) join it (:func:`leave_rival_at`, :func:`join_rival_at`). ``flags``
    (uint8, :func:`~sim.engine.counter.flag_buffer` of at least ``n_real``) is scratch.

    Returns:
        (churners, joiners, joiners who were our customers).
    """
    n_churners = 0
    n_joiners = 0
    churn = rel_churn != 0.0
    # Those whose uniform is under their bound (the joining bound, or for the rival's customers the
    # churn bound) are marked in one vectorised pass; the rest cannot move. The marked are then looked
    # at one by one, eight marks at a time.
    churn_at = churn_bound if churn else 0.0
    marks, real_stage = flags[:n_real], stage[:n_real]  # (indexed from 0: vectorised)
    for k in range(marks.size):
        u = uniform(key, k)
        marks[k] = (u < join_bound) | ((u < churn_at) & (real_stage[k] == _RIVAL))
    words = flags.view(np.uint64)
    for word in range(-(-n_real // 8)):
        if words[word] == 0:
            continue
        for i in range(8 * word, min(8 * word + 8, n_real)):
            if not flags[i]:
                continue
            u = uniform(key, i)
            if stage[i] == _RIVAL:
                if churn and u < churn_bound:
                    p_base = min(np.float64(p_churn_base[i]), 1 - 1e-15)
                    if u < -math.expm1(math.log1p(-p_base) * rel_churn):
                        churners[n_churners] = i
                        n_churners += 1
                continue
            if not u < join_bound:
                continue
            if stage[i] == _CUSTOMER:
                factor = switch_to_rival_at(
                    i, day, switch_base, day_offer_ends, rel_churn_offer, rel_churn_loyalty
                )
            elif rival_stage[i] == _CHURNED:
                factor = winback
            else:
                factor = 1.0
            friends = float(max(degree[i], 1))
            reach = 1.0 if fraction else friends / mean_degree  # the most pressure a person can feel
            if not u < (organic + q * reach) * factor * _BOUND_MARGIN:
                continue
            heard = 0.0
            if q > 0.0:
                if complete:
                    heard = heard_everyone
                else:
                    for k in range(indptr[i], indptr[i + 1]):
                        j = indices[k]
                        if j < n_real and stage[j] == _RIVAL and day_rival_acquired[j] < day:
                            if half_life < 0.0:
                                heard += 1.0
                            else:
                                age = np.float64(day - 1 - day_rival_acquired[j])
                                heard += 2.0 ** (-age / half_life)
            pressure = heard / friends if fraction else heard / mean_degree
            h = (organic + q * pressure) * factor
            if u < -math.expm1(-h):
                joiners[n_joiners] = i
                n_joiners += 1
    leave_rival_at(churners, n_churners, stage, stage_before_rival, rival_stage, day_first_acquired)
    n_ours = join_rival_at(
        joiners,
        n_joiners,
        day,
        stage,
        stage_before_rival,
        rival_stage,
        day_rival_acquired,
        day_churned,
        day_first_churned,
    )
    return n_churners, n_joiners, n_ours
