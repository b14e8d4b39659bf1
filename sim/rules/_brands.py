"""Two brands in one market: how a person moves between us and the rival (shared by the rules).

The state machine (docs/odd.md §2, "The rival's customers"): ``stage`` is a person's stage with
us, plus :attr:`~sim.world.population.Stage.RIVAL` while they are the rival's customer; ``rival_stage``
is their stage with the rival (``CUSTOMER`` exactly while ``stage`` is ``RIVAL``). Our rules convert a
rival customer only by switching, at ``rival.rel_switch × rival.rel_churn`` times the rate they apply
to someone who is nobody's customer; the rival converts our customers at ``rival.rel_switch ×
rival.rel_switch_offer`` times its rate, times their own retention multipliers (a retention offer
while it lasts, their loyalty tier). :meth:`sim.engine.market.Market.acquire` takes a switcher away
from the rival; :func:`join_rival` and :func:`leave_rival` are the rival's side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.compiled import kernel
from sim.world.population import NEVER, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market
    from sim.scenario import Scenario

__all__ = [
    "join_rival",
    "join_rival_at",
    "leave_rival",
    "leave_rival_at",
    "stage_factor_at",
    "stage_factors",
    "switch_to_rival",
    "switch_to_rival_at",
    "switch_to_rival_max",
    "switch_to_us",
    "tally_joined",
]


def switch_to_us(scenario: Scenario) -> float:
    """Multiplier on our conversion hazard for the rival's customers (0 without a rival)."""
    rival = scenario.rival
    return rival.rel_switch * rival.rel_churn if rival.enabled else 0.0


def stage_factors(scenario: Scenario) -> np.ndarray:
    """Multiplier on a hazard of becoming our customer, by :class:`Stage`.

    Customers 0; churned people ``customers.rel_winback``; the rival's customers :func:`switch_to_us`.
    """
    return np.array([1.0, 1.0, 1.0, 0.0, scenario.customers.rel_winback, switch_to_us(scenario)])


def switch_to_rival(model: Market, customers: np.ndarray) -> np.ndarray:
    """Multiplier on the rival's conversion hazard for each of our ``customers`` (active, sorted ids).

    ``rival.rel_switch × rival.rel_switch_offer``, times the customer's own retention: their
    ``rel_churn_offer`` while a retention offer lasts and their loyalty ``rel_churn_loyalty``. The
    levers that keep a customer from churning keep them from switching too.
    """
    rival = model.scenario_config.rival
    pop = model.population
    factor = np.full(customers.size, rival.rel_switch * rival.rel_switch_offer)
    offered = pop.day_offer_ends[customers] >= model.day
    if offered.any():
        factor[offered] *= pop.rel_churn_offer[customers[offered]]
    loyalty = pop.rel_churn_loyalty[customers]
    if np.any(loyalty != 1.0):
        factor *= loyalty
    return factor


def switch_to_rival_max(model: Market) -> float:
    """An upper bound on :func:`switch_to_rival` over every customer today (for thinning by a bound).

    ``rival.rel_switch × rival.rel_switch_offer`` times the largest offer and loyalty multipliers
    where they exceed 1 (two reductions over the columns).
    """
    rival = model.scenario_config.rival
    pop = model.population
    top = rival.rel_switch * rival.rel_switch_offer
    top *= max(1.0, float(pop.rel_churn_offer.max(initial=1.0)))
    return top * max(1.0, float(pop.rel_churn_loyalty.max(initial=1.0)))


def join_rival(model: Market, people: np.ndarray, *, count: bool = True) -> None:
    """Make ``people`` (real, distinct, not the rival's customers) the rival's customers today.

    ``count=False`` (the rival's day-0 customers) leaves the day's tallies alone.

    Our customers among them are lost to the rival: they leave us as a churned customer does (their
    spell ends today; counted in ``churned`` and ``lost_to_rival``). Everyone's stage with us is kept
    in ``stage_before_rival`` for when they leave the rival. One kernel call (:func:`join_rival_at`).
    """
    if people.size == 0:
        return
    pop = model.population
    ids = np.ascontiguousarray(people, dtype=np.int64)
    n_ours = join_rival_at(
        ids,
        ids.size,
        model.day,
        pop.stage,
        pop.stage_before_rival,
        pop.rival_stage,
        pop.day_rival_acquired,
        pop.day_churned,
        pop.day_first_churned,
    )
    if count:
        tally_joined(model, ids.size, n_ours)


def tally_joined(model: Market, n_joined: int, n_ours: int) -> None:
    """Count ``n_joined`` new rival customers today, ``n_ours`` of them lost by us (also churned)."""
    if n_ours:
        model.tally("lost_to_rival", int(n_ours))
        model.tally("churned", int(n_ours))
    if n_joined:
        model.tally("new_rival", int(n_joined))


def leave_rival(model: Market, people: np.ndarray) -> None:
    """The rival's customers ``people`` (distinct) churn from it: back in the market, open to either brand.

    With us they return to the stage they had when they joined the rival; a former customer of ours
    (or one who was ours then) returns as churned. One kernel call (:func:`leave_rival_at`).
    """
    if people.size == 0:
        return
    pop = model.population
    ids = np.ascontiguousarray(people, dtype=np.int64)
    leave_rival_at(ids, ids.size, pop.stage, pop.stage_before_rival, pop.rival_stage, pop.day_first_acquired)
    model.tally("rival_churned", int(ids.size))


_CUSTOMER = int(Stage.CUSTOMER)
_CHURNED = int(Stage.CHURNED)
_RIVAL = int(Stage.RIVAL)


@kernel
def stage_factor_at(stage: int, winback: float, switch: float, rival: bool) -> float:
    """:func:`stage_factors` inside a kernel: the multiplier of a hazard for someone at ``stage``.

    ``winback`` for a churned person, ``switch`` for the rival's customer (with a ``rival``), else 1
    (a hazard × 1 is the hazard, to the bit).
    """
    if stage == _CHURNED:
        return winback
    if rival and stage == _RIVAL:
        return switch
    return 1.0


@kernel
def join_rival_at(
    people: np.ndarray,
    m: int,
    day: int,
    stage: np.ndarray,
    stage_before_rival: np.ndarray,
    rival_stage: np.ndarray,
    day_rival_acquired: np.ndarray,
    day_churned: np.ndarray,
    day_first_churned: np.ndarray,
) -> int:
    """:func:`join_rival`'s state change for ``people[:m]`` (int64 ids, distinct); returns how many were ours.

    Kernels of the rules call it directly (columns as in the population); the tallies are the caller's.
    """
    n_ours = 0
    for k in range(m):
        i = people[k]
        before = stage[i]
        if before == _CUSTOMER:
            n_ours += 1
            day_churned[i] = day
            if day_first_churned[i] == NEVER:
                day_first_churned[i] = day
        stage_before_rival[i] = before
        stage[i] = _RIVAL
        rival_stage[i] = _CUSTOMER
        day_rival_acquired[i] = day
    return n_ours


@kernel
def leave_rival_at(
    people: np.ndarray,
    m: int,
    stage: np.ndarray,
    stage_before_rival: np.ndarray,
    rival_stage: np.ndarray,
    day_first_acquired: np.ndarray,
) -> None:
    """:func:`leave_rival`'s state change for ``people[:m]`` (int64 ids, distinct).

    The tally (``rival_churned``) is the caller's.
    """
    for k in range(m):
        i = people[k]
        before = stage_before_rival[i]
        if day_first_acquired[i] != NEVER or before == _CUSTOMER:
            stage[i] = _CHURNED
        else:
            stage[i] = before
        rival_stage[i] = _CHURNED


@kernel
def switch_to_rival_at(
    i: int,
    day: int,
    base: float,
    day_offer_ends: np.ndarray,
    rel_churn_offer: np.ndarray,
    rel_churn_loyalty: np.ndarray,
) -> float:
    """:func:`switch_to_rival` for customer ``i`` on ``day``; ``base``: ``rel_switch × rel_switch_offer``.

    The same products in the same order (a factor of 1 changes no bit, so none is skipped).
    """
    factor = base
    if day_offer_ends[i] >= day:
        factor *= np.float64(rel_churn_offer[i])
    return factor * np.float64(rel_churn_loyalty[i])
