"""Customers leave; churned people go back to the market and can be won back."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, stream_key, uniform
from sim.rules._kernels import list_at_stage
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

    Who churns is decided by a counter-based uniform per customer and day (:mod:`sim.engine.counter`),
    computed only for the active customers: a customer's number does not depend on who else is one.
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

    def setup(self, model: Market) -> None:
        """``rel_churn_per_bad_experience ** k`` by NumPy for every count k; the key; today's customers."""
        with np.errstate(over="ignore", under="ignore"):
            self._rel_bad_pow = self.params.rel_churn_per_bad_experience ** np.arange(
                _N_BAD_COUNTS, dtype=np.float64
            )
        self._key = stream_key(self.rng)  # the counter-based uniforms' key (one draw site a day)
        # Today's active customers (int32 ids, prefix used; pages never written cost no memory).
        self._active = np.empty(model.population.n, dtype=np.int32)

    def step(self, model: Market) -> None:
        """Churn today's leavers (one kernel call, :func:`_churn_day`)."""
        pop = model.population
        if self.params.rel_churn == 0.0:
            return  # nobody churns (the uniforms are counter-based: nothing to spend)
        habit = model.scenario_config.habit
        leavers = _churn_day(
            draw_key(self._key, model.day),
            model.day,
            pop.stage,
            pop.p_churn_base,
            pop.n_bad_experiences,
            pop.n_good_experiences,
            pop.rel_churn_referred,
            pop.rel_churn_fit,
            pop.rel_churn_loyalty,
            pop.day_offer_ends,
            pop.rel_churn_offer,
            pop.day_churned,
            pop.day_first_churned,
            self.params.rel_churn,
            self._rel_bad_pow,
            habit.rel_churn_habit,
            habit.good_experiences_for_habit,
            self._active,
        )
        if leavers:
            model.tally("churned", int(leavers))


#: Bad-experience counts are int16 (they stop at its largest value): one power per possible count.
_N_BAD_COUNTS = int(np.iinfo(np.int16).max) + 1
_CUSTOMER = int(Stage.CUSTOMER)
_CHURNED = int(Stage.CHURNED)


@kernel
def _churn_day(
    key: np.uint64,
    day: int,
    stage: np.ndarray,
    p_churn_base: np.ndarray,
    n_bad: np.ndarray,
    n_good: np.ndarray,
    rel_churn_referred: np.ndarray,
    rel_churn_fit: np.ndarray,
    rel_churn_loyalty: np.ndarray,
    day_offer_ends: np.ndarray,
    rel_churn_offer: np.ndarray,
    day_churned: np.ndarray,
    day_first_churned: np.ndarray,
    rel_churn: float,
    rel_bad_pow: np.ndarray,
    rel_habit: float,
    good_for_habit: int,
    active: np.ndarray,
) -> int:
    """The churn rule's day over the active customers, one uniform each (``uniform(key, i)``).

    Each active customer's hazard multiplier is ``rel_churn × rel_bad_pow[bad] × rel_churn_referred ×
    habit × rel_churn_fit × rel_churn_loyalty × offer`` (float64, in that order; ``rel_bad_pow`` is
    NumPy's ``rel_bad ** k``; habit is ``rel_habit`` once good − bad ≥ ``good_for_habit``; the offer's
    factor counts while ``day_offer_ends ≥ day``). The customer churns with ``p_churn_base`` if the
    multiplier is exactly 1, else ``1 − (1 − p)^multiplier``, at their uniform (``key``: the day's
    draw key, :func:`sim.engine.counter.uniform`); leavers get stage CHURNED, ``day_churned`` (and
    ``day_first_churned`` the first time) = ``day``. ``active`` is a length-n int32 buffer (the
    customers are listed in its prefix first).

    Returns:
        The number of leavers.
    """
    # First list the active customers (a tight scan), then work on them alone: the columns are
    # then read in passes that the processor can run ahead on.
    m = list_at_stage(stage, _CUSTOMER, active)
    leavers = 0
    for k in range(m):
        i = active[k]
        bad = n_bad[i]
        factor = rel_churn * rel_bad_pow[bad]
        factor = factor * np.float64(rel_churn_referred[i])
        if np.int32(n_good[i]) - np.int32(bad) >= good_for_habit:
            factor = factor * rel_habit
        factor = factor * np.float64(rel_churn_fit[i])
        factor = factor * np.float64(rel_churn_loyalty[i])
        if day_offer_ends[i] >= day:
            factor = factor * np.float64(rel_churn_offer[i])
        p_base = float(p_churn_base[i])
        if factor != 1.0:
            # Multiply the hazard, not the probability, so p stays in [0, 1].
            p_base = -math.expm1(math.log1p(-min(p_base, 1 - 1e-15)) * factor)
        if uniform(key, i) < p_base:
            stage[i] = _CHURNED
            day_churned[i] = day
            if day_first_churned[i] == NEVER:
                day_first_churned[i] = day
            leavers += 1
    return leavers
