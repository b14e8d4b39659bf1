"""Adoption from outside paid media and the graph: search, shelves, offline talk."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

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
        u_adopt = self.rng.random(pop.n)
        rate = self.params.rate_per_day
        if rate <= 0.0:
            return
        # Only uniforms under the largest probability can adopt: the stage is looked up for them alone.
        maybe = np.flatnonzero(u_adopt < self._p_max)
        adopters = maybe[u_adopt[maybe] < self._p_by_stage[pop.stage[maybe]]]
        model.acquire(model.real_only(adopters), Channel.ORGANIC)
