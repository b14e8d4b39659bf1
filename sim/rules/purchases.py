"""Orders, revenue and experiences of active customers."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.random import binomial_from_uniform, poisson_with_residual
from sim.rules.base import Phase, Rule
from sim.scenario import CustomersSpec
from sim.world.population import Stage, add_counts

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["Purchases"]


class Purchases(Rule):
    """Active customers order; each order is a good or a bad experience.

    Becoming a customer is a first order, placed on the day of acquisition. After that a customer
    orders Poisson(``rate_purchase``) times a day at their own typical ``order_value`` (both drawn with
    the world, so spend is heavy-tailed), times the person's ``rel_purchase`` (1 unless a loyalty
    programme's goal gradient moves it). Each order is good with ``customers.p_good_experience``.
    Revenue is booked as sales revenue, and ``1 − economics.gross_margin`` of it as cost of goods.
    """

    name = "purchases"
    phase = Phase.PURCHASES
    section = "customers"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"stage", "day_acquired", "rate_purchase", "order_value", "rel_purchase"}
    )
    writes: ClassVar[frozenset[str]] = frozenset(
        {"n_orders", "revenue", "n_good_experiences", "n_bad_experiences"}
    )
    zero_intensity: ClassVar[dict[str, object]] = {
        "population.rate_purchase_per_day": 0.0,
        "population.share_initial_customers": 0.0,
        "organic.rate_per_day": 0.0,
        "ads.daily_budget": 0.0,
        "fraud.rate_accounts_per_day": 0.0,
        "fraud.rate_coupon_farmers_per_day": 0.0,
        # acquisition levers that convert people outside the funnel
        "seeding.budget": 0.0,
        "field_team.n_reps": 0,
        "roles.n_employees": 0,
        "roles.n_kols": 0,
    }

    params: CustomersSpec

    def step(self, model: Market) -> None:
        """Place today's orders and book the revenue."""
        pop = model.population
        u_orders = self.rng.random(pop.n)
        active = np.flatnonzero(pop.stage == Stage.CUSTOMER)
        if active.size == 0:
            return
        # The residual uniform decides the experiences: one draw per person serves both decisions.
        rate = pop.rate_purchase[active]
        rel_purchase = pop.rel_purchase[active]
        if np.any(rel_purchase != 1.0):  # loyalty's goal gradient; skipped when off (bit-for-bit)
            rate = rate * rel_purchase
        orders, u_bad = poisson_with_residual(u_orders[active], rate)
        orders += pop.day_acquired[active] == model.day
        buying = orders > 0
        buyers = active[buying]
        if buyers.size == 0:
            return
        orders = orders[buying]
        bad = binomial_from_uniform(u_bad[buying], orders, 1.0 - self.params.p_good_experience)
        spend = orders * pop.order_value[buyers].astype(np.float64)
        add_counts(pop.n_orders, buyers, orders)
        pop.revenue[buyers] += spend
        add_counts(pop.n_bad_experiences, buyers, bad)
        add_counts(pop.n_good_experiences, buyers, orders - bad)
        revenue = float(spend.sum())
        margin = model.scenario_config.economics.gross_margin
        model.ledger.earn("sales", "revenue", revenue)
        model.ledger.spend("sales", "cost_of_goods", revenue * (1.0 - margin))
        model.tally("orders", int(orders.sum()))
