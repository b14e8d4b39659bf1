"""Customers leave; churned people go back to the market and can be won back."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.rules.base import Phase, Rule
from sim.scenario import CustomersSpec
from sim.world.population import NEVER, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Churn"]


class Churn(Rule):
    """Each active customer churns with their own daily probability.

    The base probability comes from the person's per-period churn θ ~ Beta(α, β) (heterogeneous by
    default, docs/science.md §4). The hazard is multiplied by ``customers.rel_churn`` and by
    ``customers.rel_churn_per_bad_experience`` per bad experience:
    ``p = 1 − (1 − p_base)^(rel_churn × rel_bad^bad × rel_churn_referred)``, where the last factor
    (a column, 1 by default) is written by the incentives rule for referred customers. A churned person
    returns to the market (stage CHURNED) where ads, shares and organic discovery can win them back.

    Retention levers multiply the same hazard (each is 1 when its section is off, so the default
    run is unchanged): ``habit.rel_churn_habit`` once a customer's good experiences exceed their bad
    ones by ``habit.good_experiences_for_habit`` (a bad experience undoes a good one); the person's
    ``rel_churn_fit`` (poor-fit sign-ups pushed by field reps), ``rel_churn_loyalty`` (tier benefit and
    unredeemed balance) and, until ``day_offer_ends``, ``rel_churn_offer`` (a retention offer).
    """

    name = "churn"
    phase = Phase.RETENTION
    section = "customers"
    reads: ClassVar[frozenset[str]] = frozenset(
        {
            "rel_churn_referred",
            "stage",
            "p_churn_base",
            "n_bad_experiences",
            "n_good_experiences",
            "rel_churn_fit",
            "rel_churn_loyalty",
            "rel_churn_offer",
            "day_offer_ends",
        }
    )
    writes: ClassVar[frozenset[str]] = frozenset({"stage", "day_churned", "day_first_churned"})
    zero_intensity: ClassVar[dict[str, object]] = {"customers.rel_churn": 0.0}

    params: CustomersSpec

    def step(self, model: Market) -> None:
        """Churn today's leavers."""
        pop = model.population
        u_churn = self.rng.random(pop.n)
        active = np.flatnonzero(pop.stage == Stage.CUSTOMER)
        if active.size == 0 or self.params.rel_churn == 0.0:
            return
        p_base = pop.p_churn_base[active].astype(np.float64)
        bad = pop.n_bad_experiences[active]
        rel_bad = self.params.rel_churn_per_bad_experience
        multiplier = self.params.rel_churn * rel_bad ** bad.astype(np.float64)
        rel_referred = pop.rel_churn_referred[active]
        if np.any(rel_referred != 1.0):  # referred customers whose referrer is active (incentives)
            multiplier = multiplier * rel_referred
        multiplier = self._lever_multiplier(model, active, bad, multiplier)
        if np.all(multiplier == 1.0):
            p_churn = p_base
        else:
            # Multiply the hazard, not the probability, so p stays in [0, 1].
            p_churn = -np.expm1(np.log1p(-np.minimum(p_base, 1 - 1e-15)) * multiplier)
        leavers = active[u_churn[active] < p_churn]
        if leavers.size == 0:
            return
        pop.stage[leavers] = Stage.CHURNED
        pop.day_churned[leavers] = model.day
        first = leavers[pop.day_first_churned[leavers] == NEVER]
        pop.day_first_churned[first] = model.day
        model.tally("churned", int(leavers.size))

    def _lever_multiplier(
        self, model: Market, active: np.ndarray, bad: np.ndarray, multiplier: np.ndarray
    ) -> np.ndarray:
        """``multiplier`` times the habit, fit, loyalty and offer multipliers of ``active`` customers.

        Each factor is applied only when something can make it differ from 1, so with every lever
        off the arithmetic (and the result, bit for bit) is the core model's.
        """
        pop = model.population
        habit = model.scenario_config.habit
        if habit.rel_churn_habit != 1.0:
            net_good = pop.n_good_experiences[active].astype(np.int32) - bad.astype(np.int32)
            multiplier = multiplier * np.where(
                net_good >= habit.good_experiences_for_habit, habit.rel_churn_habit, 1.0
            )
        for column in (pop.rel_churn_fit, pop.rel_churn_loyalty):
            factor = column[active]
            if np.any(factor != 1.0):
                multiplier = multiplier * factor.astype(np.float64)
        offered = pop.day_offer_ends[active] >= model.day
        if offered.any():
            multiplier = multiplier * np.where(offered, pop.rel_churn_offer[active].astype(np.float64), 1.0)
        return multiplier
