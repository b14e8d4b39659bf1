"""The interface every rule implements, and the phase order the model runs them in."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

if TYPE_CHECKING:
    from sim.engine.market import Market
    from sim.scenario import Scenario

__all__ = ["ACQUISITION_COLUMNS", "Budget", "MetricInfo", "Phase", "Rule"]

#: Columns :meth:`sim.engine.market.Market.acquire` writes; a rule that converts people declares them.
ACQUISITION_COLUMNS: frozenset[str] = frozenset(
    {
        "stage",
        "acquired_via",
        "first_channel",
        "day_acquired",
        "day_first_acquired",
        "n_acquisitions",
        "referrer",
        "n_referrals",
        "rival_stage",  # a customer won from the rival leaves it (only with a rival)
    }
)


@dataclass(frozen=True)
class MetricInfo:
    """What a headline metric means: its unit and which direction is better."""

    unit: str
    description: str
    higher_is_better: bool = True


@dataclass(frozen=True)
class Budget:
    """The money a budget field governs: ledger spend lines of one channel and some purposes.

    ``per`` says how the budget holds: ``"day"``, each day's lines stay within it; ``"accrued"``, a
    daily budget whose unspent part carries over, so the lines up to day t stay within t × budget;
    ``"run"``, the horizon's lines do. A test checks, for every rule's budgets, that the governed
    lines never exceed them.
    """

    channel: str
    purposes: tuple[str, ...]
    per: Literal["day", "accrued", "run"]


class Phase(IntEnum):
    """When in a day a rule runs. The model sorts rules by phase, then by registry order.

    1. EXPOSURE: paid and external contact (ads, organic discovery) moves people down the funnel.
    2. SHARING: customers pass the brand to friends; converted friends are acquired.
    3. DECISIONS: conversions that depend on the day's exposure as a whole.
    4. INCENTIVES: rewards are earned and paid.
    5. FRAUD: checks on rewards and accounts.
    6. PURCHASES: active customers order, and each order is a good or bad experience.
    7. LOYALTY: points and tiers.
    8. RETENTION: churn, retention offers and win-back.
    The model closes the day (tallies, data collection) after the last phase.
    """

    EXPOSURE = 10
    SHARING = 20
    DECISIONS = 30
    INCENTIVES = 40
    FRAUD = 50
    PURCHASES = 60
    LOYALTY = 70
    RETENTION = 80


class Rule(ABC):
    """One mechanism of the market.

    A rule reads and writes population columns and posts money to the ledger; it never calls
    another rule. ``step`` is vectorised over the population: no Python loop over people.

    Class attributes a rule declares:
        name: stable identifier; also names the rule's random stream.
        phase: when in the day it runs.
        section: the scenario section holding its parameters.
        reads / writes: the population columns it reads and may change (checked by the contract test).
        zero_intensity: dotted overrides that switch the mechanism off (the contract test checks that
            nothing then changes).
        budgets: the scenario's budget fields this rule spends against (dotted path → the ledger lines
            each governs); every unit of money the field limits must be among them.
        step_columns: extra columns of the step table this rule fills each day through
            ``model.tally(name, amount)`` (0 on days it posts nothing). Document them in docs/metrics.md.
            Columns whose names depend on the scenario (one per ad channel) come from
            :meth:`columns_for`.
        metrics: headline metrics this rule reports (name → unit and meaning), computed by
            :meth:`summarise` at the end of a run and listed in :data:`sim.analysis.metrics.METRICS`.
    """

    name: ClassVar[str]
    phase: ClassVar[Phase]
    section: ClassVar[str]
    reads: ClassVar[frozenset[str]]
    writes: ClassVar[frozenset[str]]
    zero_intensity: ClassVar[dict[str, Any]]
    budgets: ClassVar[dict[str, Budget]] = {}
    step_columns: ClassVar[tuple[str, ...]] = ()
    metrics: ClassVar[dict[str, MetricInfo]] = {}

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        self.scenario = scenario
        self.params: BaseModel = getattr(scenario, self.section)
        self.rng = rng

    @classmethod
    def columns_for(cls, scenario: Scenario) -> tuple[str, ...]:
        """Step-table columns that depend on the scenario, beyond :attr:`step_columns`.

        One set per named ad channel, the rival's when there is one; filled through ``model.tally``
        like :attr:`step_columns`. None by default.
        """
        return ()

    @classmethod
    def budgets_for(cls, scenario: Scenario) -> dict[str, Budget]:
        """The budgets this rule spends against in ``scenario`` (dotted path → the lines it governs).

        :attr:`budgets` by default; a rule whose budgets depend on the scenario (one per ad channel)
        says so here. ``tests/test_budgets.py`` checks the ledger against these.
        """
        return dict(cls.budgets)

    def setup(self, model: Market) -> None:  # noqa: B027 - optional hook, empty by design
        """Prepare rule-private state once the world exists (optional)."""

    @abstractmethod
    def step(self, model: Market) -> None:
        """Advance this mechanism by one day."""

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Values of this rule's :attr:`metrics` after the run (``steps``: the step table)."""
        return {}
