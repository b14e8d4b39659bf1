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
from sim.engine.random import substream
from sim.rules._brands import join_rival, leave_rival, switch_to_rival, switch_to_rival_max
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
    day 0. Each day (one uniform per person, from this rule's stream): a rival customer churns with
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
        # Each real person's friend count for the pressure, as a float (exact), at least 1.
        self._degree = np.maximum(model.graph.degree[: model.n_real], 1).astype(np.float64)
        share = self.params.share_initial_customers
        if share <= 0:
            return
        pop = model.population
        u_initial = self.rng.random(model.n_real)
        chosen = np.flatnonzero((u_initial < share) & (pop.stage[: model.n_real] != Stage.CUSTOMER))
        join_rival(model, chosen, count=False)

    def step(self, model: Market) -> None:
        """Churn the rival's leavers, then convert people by its discovery and word of mouth."""
        if not self.params.enabled:
            return
        pop = model.population
        n_real = model.n_real
        u = self.rng.random(n_real)
        stage = pop.stage[:n_real]
        rival = stage == Stage.RIVAL
        joiners = self._joiners(model, rival, u)
        self._churn(model, np.flatnonzero(rival), u)
        if joiners is not None:
            join_rival(model, joiners)

    def _churn(self, model: Market, customers: np.ndarray, u: np.ndarray) -> None:
        rel = self.scenario.customers.rel_churn * self.params.rel_churn
        if customers.size == 0 or rel == 0.0:
            return
        p_base = model.population.p_churn_base[customers].astype(np.float64)
        p_churn = -np.expm1(np.log1p(-np.minimum(p_base, 1 - 1e-15)) * rel)
        leave_rival(model, customers[u[customers] < p_churn])

    def _joiners(self, model: Market, rival: np.ndarray, u: np.ndarray) -> np.ndarray | None:
        """Who becomes the rival's customer today (real, not already): u < 1 − e^(−h); None if nobody can.

        Only people whose uniform falls under a cheap upper bound of their hazard get their exact
        hazard (1 − e^(−h) ≤ h, and their factor is at most the largest of 1, rel_winback and the
        switching factor's bound; each sharing friend's weight at most the largest): only their
        friends are summed. The same people join as if everyone's hazard were computed, at a
        fraction of the cost.
        """
        p = self.params
        pop = model.population
        graph = model.graph
        n_real = model.n_real
        q = p.rate_share_per_day * p.p_convert
        shares = None
        if q > 0:
            sharers = np.zeros(pop.n, dtype=bool)
            sharers[:n_real] = rival & (pop.day_rival_acquired[:n_real] < model.day)
            if sharers.any():
                shares = self._shares(model, sharers)
        organic = p.rate_organic_per_day
        if shares is None and organic <= 0:
            return None
        winback = self.scenario.customers.rel_winback
        stage = pop.stage[:n_real]
        # A margin over the bound keeps it above the exact probability despite rounding.
        top = max(1.0, winback, switch_to_rival_max(model)) * (1.0 + 1e-9)
        mean_degree = max(graph.mean_degree, 1e-12)
        if shares is None:
            maybe = u < organic * top
        else:
            # Each friend shares at most the largest weight: pressure ≤ that weight (fraction), or
            # ≤ friends × it / mean degree (count). Only candidates' friends are then summed.
            w_max = float(shares.max())
            if p.normalisation == "fraction":
                maybe = u < (organic + q * w_max) * top
            else:
                maybe = u < (organic + q * w_max * (self._degree / mean_degree)) * top
        candidates = np.flatnonzero(maybe & ~rival)
        h = np.full(candidates.size, organic)
        if shares is not None:
            heard = graph.sum_over_neighbours_at(candidates, shares)
            if p.normalisation == "fraction":
                pressure = heard / self._degree[candidates]
            else:
                pressure = heard / mean_degree
            h = h + q * pressure
        ours = stage[candidates] == Stage.CUSTOMER
        if ours.any():
            h[ours] *= switch_to_rival(model, candidates[ours])
        returning = (pop.rival_stage[candidates] == Stage.CHURNED) & ~ours
        h[returning] *= winback
        return candidates[u[candidates] < -np.expm1(-h)]

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
