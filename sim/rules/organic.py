"""Adoption from outside paid media and the graph: search, shelves, offline talk."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.compiled import kernel
from sim.rules._brands import stage_factors
from sim.rules._pick import skip_uniforms
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

    def step(self, model: Market) -> None:
        """Convert non-customers at the organic hazard."""
        pop = model.population
        if self.params.rate_per_day <= 0.0:
            skip_uniforms(self.rng, pop.n)  # today's uniforms are drawn whether used or not
            return
        adopters = _adopters(self.rng, pop.stage, self._p_by_stage, self._p_max, model.n_real)
        model.acquire(adopters, Channel.ORGANIC)


@kernel
def _adopters(
    rng: np.random.Generator, stage: np.ndarray, p_by_stage: np.ndarray, p_max: float, n_real: int
) -> np.ndarray:
    """Draw one uniform per person (n, in index order, as ``rng.random(n)``); return who adopts.

    Person i adopts when their uniform is under ``p_by_stage[stage[i]]`` (float64, one probability
    per :class:`~sim.world.population.Stage`); only uniforms under ``p_max`` (the largest) have their
    stage looked up. Fake accounts (rows ≥ ``n_real``) never adopt here. Returns sorted int64 ids.
    """
    found = 0
    adopters = np.empty(min(n_real, stage.shape[0]), dtype=np.int64)  # room for all: never reallocated
    for i in range(stage.shape[0]):
        u = rng.random()
        if u < p_max and i < n_real and u < p_by_stage[stage[i]]:
            adopters[found] = i
            found += 1
    return adopters[:found]
