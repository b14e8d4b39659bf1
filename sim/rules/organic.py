"""Adoption from outside paid media and the graph: search, shelves, offline talk."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.counter import UNSCREENED, any_below, draw_key, screen_block, stream_key, uniform
from sim.rules._brands import stage_factors
from sim.rules.base import ACQUISITION_COLUMNS, Phase, Rule
from sim.scenario import OrganicSpec
from sim.world.population import Channel

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Organic"]


class Organic(Rule):
    """A constant external hazard: each non-customer adopts with ``1 − e^(−rate_per_day)`` a day.

    This is the Bass model's p (the external force) when ads are off. Churned people adopt at
    ``customers.rel_winback`` times the hazard, and the rival's customers switch at
    ``rival.rel_switch × rival.rel_churn`` times it.

    Each open person's uniform is counter-based (:mod:`sim.engine.counter`): a function of the
    seed, the day and the person, computed only for the real non-customers.
    """

    name = "organic"
    phase = Phase.EXPOSURE
    section = "organic"
    reads: ClassVar[frozenset[str]] = frozenset({"stage"})
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS
    zero_intensity: ClassVar[dict[str, object]] = {"organic.rate_per_day": 0.0}

    params: OrganicSpec

    def setup(self, model: Market) -> None:
        """Daily adoption probability by stage (customers 0, churned people at the win-back rate)."""
        stage_rate = self.params.rate_per_day * stage_factors(model.scenario_config)
        self._p_by_stage = -np.expm1(-stage_rate)
        self._p_max = float(self._p_by_stage.max())
        self._key = stream_key(self.rng)

    def step(self, model: Market) -> None:
        """Convert non-customers at the organic hazard."""
        pop = model.population
        if self.params.rate_per_day <= 0.0:
            return  # counter-based uniforms: skipping a day shifts no later number
        key = draw_key(self._key, model.day)
        adopters = _adopters(key, pop.stage, self._p_by_stage, self._p_max, model.n_real)
        model.acquire(adopters, Channel.ORGANIC)


@kernel
def _adopters(
    key: np.uint64, stage: np.ndarray, p_by_stage: np.ndarray, p_max: float, n_real: int
) -> np.ndarray:
    """Who adopts today: the real people whose uniform under ``key`` is under ``p_by_stage[stage[i]]``.

    ``p_by_stage``: float64, one probability per :class:`~sim.world.population.Stage` (0 for
    customers, whose uniform is never computed); ``p_max`` its largest. Person i's uniform is
    :func:`~sim.engine.counter.uniform` ``(key, i)``, computed only for people whose stage can adopt.
    Fake accounts (rows ≥ ``n_real``) never adopt here. Returns sorted int64 ids.
    """
    n = min(n_real, stage.shape[0])
    if p_max <= 0.0 or n <= 0:
        return np.empty(0, dtype=np.int64)
    # Room for the expected adopters and 8 standard deviations more; on the rare overflow a second
    # pass lists them all (uniforms are recomputed, not stored): no full-length list.
    room = min(n, int(p_max * n + 8.0 * np.sqrt(p_max * n) + 64.0))
    adopters = np.empty(room, dtype=np.int64)
    found = 0
    # A block is looked at person by person only if someone's uniform in it is under the largest
    # probability (taken from the table itself: ``p_max`` only sizes the list).
    top = p_by_stage.max()
    screen = screen_block(top)
    stride = screen if screen > 0 else UNSCREENED
    for start in range(0, n, stride):
        stop = min(start + stride, n)
        if screen > 0 and not any_below(key, start, stop, top):
            continue
        for i in range(start, stop):
            p = p_by_stage[stage[i]]
            if p > 0.0 and uniform(key, i) < p:
                if found < room:
                    adopters[found] = i
                found += 1
    if found <= room:
        return adopters[:found]
    adopters = np.empty(found, dtype=np.int64)
    at = 0
    for i in range(n):
        p = p_by_stage[stage[i]]
        if p > 0.0 and uniform(key, i) < p:
            adopters[at] = i
            at += 1
    return adopters
