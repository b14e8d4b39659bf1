"""The market as a rule sees it: the state and services of one simulated day.

:class:`Market` is a structural type (a :class:`typing.Protocol`): the model
(:class:`sim.engine.model.MarketModel`) satisfies it, and rules are written against it, so nothing
under ``sim/rules`` imports the model and the model can import the rules without a loop. A test
double with these attributes can drive a rule on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from sim.engine.ledger import Ledger
    from sim.scenario import Scenario
    from sim.world.build import World
    from sim.world.graph import SocialGraph
    from sim.world.population import Channel, Population

__all__ = ["Market"]


class Market(Protocol):
    """What a rule may read and call during :meth:`~sim.rules.base.Rule.step`.

    Attributes:
        day: the day being simulated (1 on the first step; 0 while the world is set up).
        population: the people's state arrays, real people in rows ``[0, n_real)``, then fake
            accounts; columns are assigned in place, never rebound.
        graph: the social graph (read-only).
        ledger: every money line; rules post the day's spend and earnings here.
        scenario_config: the validated scenario of this run.
        world: the world as built (the graph, the day-0 population and the world's seed).
        n_real: the number of real people (rows before the fake accounts).
    """

    day: int
    population: Population
    graph: SocialGraph
    ledger: Ledger
    scenario_config: Scenario
    world: World
    n_real: int

    def acquire(self, people: np.ndarray, channel: Channel, referrers: np.ndarray | None = None) -> None:
        """Make ``people`` (non-customers) customers today via ``channel``, with optional referrers."""

    def record_orders(self, people: np.ndarray, orders: np.ndarray, spend: np.ndarray) -> None:
        """Log today's orders: ``orders[i]`` orders worth ``spend[i]`` in all by ``people[i]``.

        A no-op unless the run keeps orders (``sim.run(…, keep_orders=True)``).
        """

    def real_only(self, people: np.ndarray) -> np.ndarray:
        """The real people among sorted ids ``people`` (fake accounts dropped)."""
        ...

    def real_population(self) -> Population:
        """The real people's rows (views, no copy)."""
        ...

    def tally(self, name: str, amount: float) -> None:
        """Add ``amount`` to today's step-table column ``name``."""
