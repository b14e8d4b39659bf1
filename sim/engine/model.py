"""``MarketModel``: a real ``mesa.Model`` whose customers live in arrays.

Mesa owns time (``steps``), the model's random generator and model-level data collection. The
people are columns of a :class:`~sim.world.population.Population`; ``model.customer(i)`` returns a Mesa
agent that is a *view* of row ``i``, created on demand, so a million-customer run does not pay for a
million objects (docs/architecture.md).

A day (one Mesa step) runs the registered rules in phase order (see :class:`sim.rules.Phase`), then
closes the day: stage counts, acquisitions by channel and money are tallied into one row of the
step table. Day 0 is the world as built; step ``t`` simulates day ``t``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.engine.compiled import kernel
from sim.engine.ledger import Ledger
from sim.engine.random import stream
from sim.rules import REGISTRY, Rule, ordered_rules
from sim.scenario import Scenario
from sim.world.build import World, build_world
from sim.world.population import CHANNELS, NEVER, Channel, Population, Stage, count_stages

__all__ = ["STEP_COLUMNS", "Customer", "MarketModel", "scenario_step_columns"]


_ACQUISITION_CHANNELS = [c for c in CHANNELS if c not in ("none", "initial")]
_STAGE_COLUMNS = [f"n_{stage.name.lower()}" for stage in Stage]
#: Columns of the step table, in order (documented in docs/metrics.md).
STEP_COLUMNS: tuple[str, ...] = (
    "day",
    *_STAGE_COLUMNS,
    *(f"new_{c}" for c in _ACQUISITION_CHANNELS),
    *(f"won_back_{c}" for c in _ACQUISITION_CHANNELS),
    "churned",
    "orders",
    "impressions",
    "revenue",
    "cost_of_goods",
    "spend_ads",
    "spend_sharing",
    "marketing_spend",
    # Then each registered rule's own columns (Rule.step_columns), in registry order.
    *(column for rule in REGISTRY for column in rule.step_columns),
)


_NO_REFERRERS = np.zeros(0, dtype=np.int64)
_MAX_ACQUISITIONS = int(np.iinfo(np.int16).max)


@kernel
def _acquire_rows(
    people: np.ndarray,
    referrers: np.ndarray,
    channel: int,
    day: int,
    n_real: int,
    rival: bool,
    stage: np.ndarray,
    rival_stage: np.ndarray,
    acquired_via: np.ndarray,
    day_acquired: np.ndarray,
    n_acquisitions: np.ndarray,
    first_channel: np.ndarray,
    day_first_acquired: np.ndarray,
    referrer: np.ndarray,
    n_referrals: np.ndarray,
) -> tuple[int, int, int]:
    """Write one acquisition per person of ``people`` (distinct ids) into the population's columns.

    ``referrers`` is empty (nobody referred them) or one id per person (``NEVER`` for none). Returns
    the real people among them acquired for the first time, the real people won back, and the real
    people who left the rival for us.
    """
    new = won_back = from_rival = 0
    for j in range(people.size):
        person = people[j]
        real = person < n_real
        first = day_first_acquired[person] == NEVER
        if rival and stage[person] == Stage.RIVAL:
            rival_stage[person] = Stage.CHURNED
            from_rival += real
        stage[person] = Stage.CUSTOMER
        acquired_via[person] = channel
        day_acquired[person] = day
        # The count stops at its dtype's largest value instead of wrapping (add_counts' rule).
        if n_acquisitions[person] < _MAX_ACQUISITIONS:
            n_acquisitions[person] += 1
        if first:
            first_channel[person] = channel
            day_first_acquired[person] = day
            new += real
        else:
            won_back += real
        if referrers.size:
            who = referrers[j]
            referrer[person] = who
            if who != NEVER:
                n_referrals[who] += 1
        else:
            referrer[person] = NEVER
    return new, won_back, from_rival


def scenario_step_columns(scenario: Scenario) -> list[str]:
    """The step table's columns for ``scenario``.

    :data:`STEP_COLUMNS`, then the rules' columns that depend on it (a named ad channel's, the rival's;
    :meth:`sim.rules.Rule.columns_for`), in registry order.
    """
    extra = [column for rule in REGISTRY for column in rule.columns_for(scenario)]
    return [*STEP_COLUMNS, *extra]


class _ColumnView:
    """Attribute access on a :class:`Customer` backed by one population column.

    This is the pattern of Mesa's ``PropertyDescriptor``: the value lives in an array.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, agent: Customer | None, owner: type) -> Any:
        if agent is None:
            return self
        return agent.model.population.column(self.name)[agent.index].item()

    def __set__(self, agent: Customer, value: Any) -> None:
        agent.model.population.column(self.name)[agent.index] = value


class Customer(mesa.Agent):
    """A Mesa agent that is a live view of one person's row.

    Reading ``customer.stage`` reads the population column; assigning writes it. Views are for
    inspection (the app, tests, notebooks); rules work on whole columns.
    """

    model: MarketModel

    def __init__(self, model: MarketModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def stage_name(self) -> str:
        """The stage as a word (``"customer"``, ``"churned"``, …)."""
        return Stage(self.model.population.stage[self.index]).name.lower()

    @property
    def channel_name(self) -> str:
        """Channel of the latest acquisition as a word (``"none"`` if never acquired)."""
        return CHANNELS[self.model.population.acquired_via[self.index]]

    @property
    def neighbours(self) -> list[int]:
        """Ids of this person's friends."""
        return [int(i) for i in self.model.graph.neighbours(self.index)]

    def as_dict(self) -> dict[str, Any]:
        """Every column's value for this person."""
        return self.model.population.row(self.index)

    def __repr__(self) -> str:
        return f"Customer({self.index}, stage={self.stage_name}, channel={self.channel_name})"


for _name in Population.column_names:
    setattr(Customer, _name, _ColumnView(_name))


class MarketModel(mesa.Model):
    """The simulated market: a graph of people, the rules of one strategy, and the books.

    Args:
        scenario: the validated scenario (stored as ``scenario_config``; Mesa reserves ``scenario``).
        seed: run seed; defaults to ``scenario.seed``. Every rule's stream derives from it.
        world: a prebuilt world to run on (shared between strategies); built from the seed if None.
        keep_orders: keep every order for :meth:`orders_frame` (the order log); off by default, and
            then logging an order costs one method call a day.

    Attributes:
        day: the day being simulated (0 before the first step).
        population: the people's state arrays (the world's own when the model built it; a private
            copy of a world passed in, which stays as built).
        graph: the social graph (shared, read-only).
        ledger: every money line.
        rules: rule instances in phase order.
        datacollector: Mesa collector holding the step table (``"steps"``: one row per day; no
            agent reporters, so collection costs nothing per person).
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        world: World | None = None,
        *,
        keep_orders: bool = False,
    ) -> None:
        run_seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=run_seed)
        self.scenario_config = scenario
        self.run_seed = run_seed
        # A world built here is the model's own: its population is evolved in place, not copied (at
        # 1M people the copy is about 175 MiB of the run's peak). A world passed in is shared (strategies
        # compared on one world), so the model evolves a private copy and leaves the world as built.
        owns_world = world is None
        world = world if world is not None else build_world(scenario, run_seed)
        # network.n is None for a graph file without it: the file (the world) says how many people.
        people = world.n_real if scenario.network.n is None else scenario.network.n
        expected = people + scenario.fraud.n_fake_accounts
        if world.graph.n != expected or world.n_real != people:
            raise ValueError(
                f"the world has {world.graph.n} people but network.n + fraud's fake accounts is {expected}"
            )
        #: Real people are rows [0, n_real); fake accounts (fraud) follow them. Metrics count real rows.
        self.n_real: int = people
        self.world = world
        self.graph = world.graph
        self.population = world.population if owns_world else world.population.copy()
        self.ledger = Ledger()
        self.day = 0
        # Today's counts and amounts (people, orders, impressions, rule columns).
        self._tallies: defaultdict[str, float] = defaultdict(int)
        self._views: dict[int, Customer] = {}
        # The order log: one (day, buyers, orders, spend, referrers) chunk a day, or None when off.
        self._order_chunks: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = (
            [] if keep_orders else None
        )
        self._columns = scenario_step_columns(scenario)
        self._column_set = frozenset(self._columns)
        #: With a rival brand, acquisitions of its customers are counted as customers won from it.
        self._rival = scenario.rival.enabled
        self._acquisition_columns = {
            channel: (f"new_{CHANNELS[channel]}", f"won_back_{CHANNELS[channel]}") for channel in Channel
        }
        self.rules: list[Rule] = [
            rule_class(scenario, stream(run_seed, rule_class.name)) for rule_class in ordered_rules()
        ]
        for rule in self.rules:
            rule.setup(self)
        self.datacollector = mesa.DataCollector(tables={"steps": self.step_columns()})
        self._close_day()

    # ----------------------------------------------------------------------------- services

    def acquire(self, people: np.ndarray, channel: Channel, referrers: np.ndarray | None = None) -> None:
        """Make ``people`` (non-customers) customers today via ``channel``.

        Rules call this instead of writing the acquisition columns themselves, so first-time and
        won-back customers are recorded the same way everywhere.
        """
        if people.size == 0:
            return
        pop = self.population
        new, won_back, from_rival = _acquire_rows(
            people,
            _NO_REFERRERS if referrers is None else referrers,
            int(channel),
            self.day,
            self.n_real,
            self._rival,
            pop.stage,
            pop.rival_stage,
            pop.acquired_via,
            pop.day_acquired,
            pop.n_acquisitions,
            pop.first_channel,
            pop.day_first_acquired,
            pop.referrer,
            pop.n_referrals,
        )
        new_column, won_back_column = self._acquisition_columns[channel]
        self._tallies[new_column] += new
        self._tallies[won_back_column] += won_back
        if from_rival:
            # Rival customers among them switched to us: they left the rival (counted as won from it).
            self._tallies["won_from_rival"] += from_rival

    def record_orders(self, people: np.ndarray, orders: np.ndarray, spend: np.ndarray) -> None:
        """Log today's orders (``orders[i]`` orders worth ``spend[i]`` in all by ``people[i]``).

        A no-op unless the model keeps orders. Kept per buyer and day (about 20 bytes each); the
        referrer is the one of the acquisition the order belongs to, so it is read now.
        """
        if self._order_chunks is None or people.size == 0:
            return
        self._order_chunks.append(
            (
                self.day,
                people.astype(np.int32),
                orders.astype(np.int32),
                spend.astype(np.float64),
                self.population.referrer[people].copy(),
            )
        )

    @property
    def keeps_orders(self) -> bool:
        """Whether this model keeps the order log."""
        return self._order_chunks is not None

    def orders_frame(self) -> pd.DataFrame:
        """Every order so far, one row per order, in the order placed (docs/metrics.md, "Order log").

        Columns: ``customer_id`` (int32, the person's row; ids ≥ ``network.n`` are fake accounts),
        ``day`` (int32), ``amount`` (float64, currency), ``first_channel`` (category: the channel of
        the person's first acquisition), ``referrer`` (Int32, who referred the acquisition the order
        belongs to; missing when nobody did).

        Raises:
            RuntimeError: the model was built without ``keep_orders``.
        """
        if self._order_chunks is None:
            raise RuntimeError("this model does not keep orders: build it with keep_orders=True")
        chunks = self._order_chunks
        if chunks:
            days = np.concatenate([np.full(c[1].size, c[0], dtype=np.int32) for c in chunks])
            people, counts, spend, referrers = (np.concatenate([c[i] for c in chunks]) for i in range(1, 5))
        else:
            days = people = counts = referrers = np.empty(0, dtype=np.int32)
            spend = np.empty(0, dtype=np.float64)
        ids = np.repeat(people, counts)
        codes = self.population.first_channel[ids].astype(np.int64)
        channels = pd.Categorical.from_codes(codes, categories=pd.Index(list(CHANNELS)))
        referrer = pd.array(np.repeat(referrers, counts), dtype="Int32")
        referrer[np.asarray(referrer == NEVER, dtype=bool)] = pd.NA
        return pd.DataFrame(
            {
                "customer_id": ids.astype(np.int32),
                "day": np.repeat(days, counts),
                "amount": np.repeat(spend / np.maximum(counts, 1), counts),
                "first_channel": channels,
                "referrer": referrer,
            }
        )

    def real_only(self, people: np.ndarray) -> np.ndarray:
        """The real people among sorted ids ``people``: fake accounts (rows ≥ ``n_real``) dropped.

        Fake accounts join only through the attack (rule ``fraud``), so word of mouth, discovery and
        outreach leave them out.
        """
        if self.population.n == self.n_real:
            return people
        return people[: np.searchsorted(people, self.n_real)]

    def real_population(self) -> Population:
        """The real people (views, no copy): the population without appended fake accounts."""
        return self.population.head(self.n_real)

    def tally(self, name: str, amount: float) -> None:
        """Add ``amount`` to today's counter ``name`` (a column of the step table)."""
        if name not in self._column_set:
            raise KeyError(f"{name!r} is not a step-table column; declare it in the rule's step_columns")
        self._tallies[name] += amount

    def customer(self, index: int) -> Customer:
        """A Mesa agent view of person ``index`` (the same object on repeated calls)."""
        if not 0 <= index < self.population.n:
            raise IndexError(f"customer index must be in [0, {self.population.n - 1}]; got {index}")
        view = self._views.get(index)
        if view is None:
            view = Customer(self, index)
            self._views[index] = view
        return view

    # ------------------------------------------------------------------------------ stepping

    def step(self) -> None:
        """Simulate one day: every rule in phase order, then close the day."""
        self.day += 1
        self._tallies.clear()
        self.ledger.start_day(self.day)
        for rule in self.rules:
            rule.step(self)
        self._close_day()

    def run(self, days: int | None = None) -> None:
        """Step until ``days`` (default: the scenario's horizon) have been simulated."""
        for _ in range(self.scenario_config.days if days is None else days):
            self.step()

    def step_columns(self) -> list[str]:
        """Columns of this run's step table, in order (documented in docs/metrics.md)."""
        return list(self._columns)

    def _close_day(self) -> None:
        counts = count_stages(self.population.stage[: self.n_real]).tolist()
        row: dict[str, float] = dict.fromkeys(self._columns, 0)
        row["day"] = self.day
        row.update(zip(_STAGE_COLUMNS, counts, strict=True))
        row.update(self._tallies)
        ledger = self.ledger
        row["revenue"] = ledger.today("earn", "sales")
        row["cost_of_goods"] = ledger.today("spend", "sales")
        row["spend_ads"] = ledger.today("spend", "ads")
        row["spend_sharing"] = ledger.today("spend", "sharing")
        row["marketing_spend"] = ledger.marketing_spend_today()
        if self._rival:
            # The two brands side by side: our share of their active customers and of their ad spend.
            ours, theirs = row["n_customer"], row["n_rival"]
            row["share_of_market"] = ours / (ours + theirs) if ours + theirs else math.nan
            spend, rival_spend = row["spend_ads"], row["spend_rival_ads"]
            row["share_of_voice"] = spend / (spend + rival_spend) if spend + rival_spend else math.nan
        # One table row a day: cheaper than a reporter per column, which Mesa deep-copies.
        self.datacollector.add_table_row("steps", row)

    def steps_frame(self) -> pd.DataFrame:
        """The step table so far: one row per day, day 0 first (columns in docs/metrics.md)."""
        return self.datacollector.get_table_dataframe("steps")
