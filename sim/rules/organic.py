"""Adoption from outside paid media and the graph: search, shelves, offline talk."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, flag_below, flagged_uniforms, new_flags, stream_key
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
        self._key = stream_key(self.rng)

    def step(self, model: Market) -> None:
        """Convert non-customers at the organic hazard."""
        pop = model.population
        if self.params.rate_per_day <= 0.0:
            return  # counter-based uniforms: skipping a day shifts no later number
        key = draw_key(self._key, model.day)
        adopters = _adopters(key, pop.stage, self._p_by_stage, model.n_real)
        model.acquire(adopters, Channel.ORGANIC)


@kernel
def _adopters(key: np.uint64, stage: np.ndarray, p_by_stage: np.ndarray, n_real: int) -> np.ndarray:
    """Who adopts today: the real people whose uniform under ``key`` is under ``p_by_stage[stage[i]]``.

    ``p_by_stage``: float64, one probability per :class:`~sim.world.population.Stage` (0 for
    customers; all 0: nobody can adopt, and nothing is computed). Person i's
    uniform is :func:`~sim.engine.counter.uniform` ``(key, i)``, the same whoever else may adopt.
    Fake accounts (rows ≥ ``n_real``) never adopt here. Returns sorted int64 ids.
    """
    n = min(n_real, stage.shape[0])
    p_max = p_by_stage.max() if p_by_stage.size else 0.0
    if not p_max > 0.0 or n <= 0:
        return np.empty(0, dtype=np.int64)
    # Those under the largest probability are marked in one vectorised pass and listed; of them,
    # those under their own stage's probability adopt.
    flags = new_flags(n)
    flag_below(key, n, p_max, flags)
    listed, u = flagged_uniforms(key, flags, n)
    found = 0
    for k in range(listed.size):
        p = p_by_stage[stage[listed[k]]]
        if p > 0.0 and u[k] < p:
            listed[found] = listed[k]
            found += 1
    return listed[:found]
