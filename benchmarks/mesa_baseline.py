"""Baseline for the benchmark: an idiomatic one-``mesa.Agent``-per-customer market.

It implements the same core rules as Ripple's ads + sharing + churn (one-stage funnel, fraction
normalisation, Beta churn) the way a Mesa tutorial would: every person is an Agent whose ``step``
decides for itself, scheduled with ``shuffle_do``. It exists only to be measured against
:class:`sim.MarketModel`; it is not part of the package.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.scenario import Scenario
from sim.world.build import build_world

UNAWARE, CUSTOMER, CHURNED = 0, 3, 4


class Person(mesa.Agent):
    """One person: sees ads, hears friends' shares, buys, churns."""

    def __init__(self, model: BaselineMarket, friends: list[int], p_churn: float) -> None:
        super().__init__(model)
        self.friends = friends
        self.p_churn = p_churn
        self.stage = UNAWARE
        self.was_customer = False

    def step(self) -> None:
        model = self.model
        rng = model.rng
        if self.stage == CUSTOMER:
            if self.was_customer and rng.random() < self.p_churn:
                self.stage = CHURNED
            return
        impressions = rng.poisson(model.impressions_per_person)
        p_ad = 1.0 - (1.0 - model.p_purchase) ** impressions
        customers = sum(1 for j in self.friends if model.people[j].was_customer)
        pressure = customers / len(self.friends) if self.friends else 0.0
        p_share = 1.0 - math.exp(-model.q * pressure)
        if rng.random() < p_ad or rng.random() < p_share:
            self.stage = CUSTOMER

    def advance(self) -> None:
        self.was_customer = self.stage == CUSTOMER


class BaselineMarket(mesa.Model):
    """The same market with one Agent per person."""

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        super().__init__(rng=seed)
        world = build_world(scenario, seed)
        graph = world.graph
        assert graph.indptr is not None and graph.indices is not None
        self.impressions_per_person = scenario.ads.daily_budget / scenario.ads.cpm * 1000 / graph.n
        self.p_purchase = scenario.ads.p_purchase
        self.q = scenario.sharing.rate_share_per_day * scenario.sharing.p_convert
        initial = world.population.stage == CUSTOMER
        self.people: list[Person] = []
        for i in range(graph.n):
            friends = graph.indices[graph.indptr[i] : graph.indptr[i + 1]].tolist()
            person = Person(self, friends, float(world.population.p_churn_base[i]))
            if initial[i]:
                person.stage = CUSTOMER
                person.was_customer = True
            self.people.append(person)

    def step(self) -> None:
        self.agents.shuffle_do("step")
        self.agents.do("advance")

    def customers(self) -> int:
        return int(np.sum([p.stage == CUSTOMER for p in self.people]))
