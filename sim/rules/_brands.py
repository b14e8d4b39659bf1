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

from sim.world.population import NEVER, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market
    from sim.scenario import Scenario

__all__ = [
    "join_rival",
    "leave_rival",
    "stage_factors",
    "switch_to_rival",
    "switch_to_rival_max",
    "switch_to_us",
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
    """Make ``people`` (real, not the rival's customers) the rival's customers today.

    ``count=False`` (the rival's day-0 customers) leaves the day's tallies alone.

    Our customers among them are lost to the rival: they leave us as a churned customer does (their
    spell ends today; counted in ``churned`` and ``lost_to_rival``). Everyone's stage with us is kept
    in ``stage_before_rival`` for when they leave the rival.
    """
    if people.size == 0:
        return
    pop = model.population
    day = model.day
    ours = people[pop.stage[people] == Stage.CUSTOMER]
    if ours.size:
        pop.day_churned[ours] = day
        first = ours[pop.day_first_churned[ours] == NEVER]
        pop.day_first_churned[first] = day
        if count:
            model.tally("lost_to_rival", int(ours.size))
            model.tally("churned", int(ours.size))
    pop.stage_before_rival[people] = pop.stage[people]
    pop.stage[people] = Stage.RIVAL
    pop.rival_stage[people] = Stage.CUSTOMER
    pop.day_rival_acquired[people] = day
    if count:
        model.tally("new_rival", int(people.size))


def leave_rival(model: Market, people: np.ndarray) -> None:
    """The rival's customers ``people`` churn from it: back in the market, open to either brand.

    With us they return to the stage they had when they joined the rival; a former customer of ours
    (or one who was ours then) returns as churned.
    """
    if people.size == 0:
        return
    pop = model.population
    before = pop.stage_before_rival[people]
    was_ours = (pop.day_first_acquired[people] != NEVER) | (before == Stage.CUSTOMER)
    pop.stage[people] = np.where(was_ours, Stage.CHURNED, before).astype(np.int8)
    pop.rival_stage[people] = Stage.CHURNED
    model.tally("rival_churned", int(people.size))
