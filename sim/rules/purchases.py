"""Orders, revenue and experiences: sign-ups place a first order (or never do), buyers order again."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.random import binomial_from_uniform, geometric_with_residual, poisson_with_residual
from sim.rules.base import MetricInfo, Phase, Rule
from sim.scenario import CustomersSpec, daily_values
from sim.world.population import CHANNELS, NEVER, NOT_DUE, Stage, add_counts

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine.market import Market

__all__ = ["FIRST_ORDER_CHANNELS", "Purchases"]

#: Channels a first-time customer can have signed up through (day-0 customers ordered before day 1).
FIRST_ORDER_CHANNELS: tuple[str, ...] = tuple(c for c in CHANNELS if c not in ("none", "initial"))


class Purchases(Rule):
    """Sign-ups place a first order or never do; buyers order again; each order is good or bad.

    Every acquisition is a *sign-up*. When a person who has never ordered signs up, their uniform
    of that day decides whether they will ever order (``customers.p_first_order``) and, from its
    position inside that step, after how many days: geometric on 0, 1, 2, … with mean
    ``customers.days_to_first_order`` (0 = today). A decision another rule made first is kept (the
    fraud rule decides for coupon farmers and fake accounts). The first order is placed on the due
    day, or on the first later day the person is an active customer again; it is one order plus,
    as on every day, Poisson(``rate_purchase × rel_purchase × rel_demand(t)``) repeat orders (the
    last factor is ``customers.rel_demand`` on day t: 1, or a schedule for seasonality). From the next
    day the buyer orders Poisson(``rate_purchase × rel_purchase × rel_demand(t)``) a day; someone who
    had bought before and comes back (won back) places one order on the day they return. Sign-ups who
    never order place none (and never share: rule ``sharing``).

    Orders are at the person's typical ``order_value``; each is good with
    ``customers.p_good_experience`` (drawn from the residual of the same uniform). Revenue is booked
    as sales revenue, and ``1 − economics.gross_margin`` of it as cost of goods. Every order goes
    through :meth:`place_orders`, the one place orders are booked.
    """

    name = "purchases"
    phase = Phase.PURCHASES
    section = "customers"
    reads: ClassVar[frozenset[str]] = frozenset(
        {
            "stage",
            "day_acquired",
            "day_first_order",
            "day_first_order_due",
            "first_channel",
            "rate_purchase",
            "order_value",
            "rel_purchase",
        }
    )
    writes: ClassVar[frozenset[str]] = frozenset(
        {
            "day_first_order",
            "day_first_order_due",
            "n_orders",
            "revenue",
            "n_good_experiences",
            "n_bad_experiences",
        }
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
    step_columns: ClassVar[tuple[str, ...]] = tuple(f"first_orders_{c}" for c in FIRST_ORDER_CHANNELS)
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "never_ordered": MetricInfo(
            "people",
            "Real people who signed up during the horizon and had placed no order by its end.",
            higher_is_better=False,
        ),
    }

    params: CustomersSpec

    def setup(self, model: Market) -> None:
        """The success probability of the geometric delay to the first order; demand by day."""
        self._p_delay = 1.0 / (1.0 + self.params.days_to_first_order)
        demand = daily_values(self.params.rel_demand, self.scenario.days)
        # None when demand never moves from 1, so the default run's arithmetic is unchanged.
        self._demand: np.ndarray | None = None if np.all(demand == 1.0) else demand

    def step(self, model: Market) -> None:
        """Decide today's sign-ups' first orders, then place first and repeat orders."""
        pop = model.population
        day = model.day
        u_orders = self.rng.random(pop.n)
        active = np.flatnonzero(pop.stage == Stage.CUSTOMER)
        if active.size == 0:
            return
        first = pop.day_first_order[active]
        never_ordered = first == NEVER
        uniforms = u_orders[active]
        due = pop.day_first_order_due[active]
        undecided = never_ordered & (due == NEVER)
        if undecided.any():
            # The day's uniform decides "ever?" and, from its residual, "when?"; for a first order due
            # today the next residual drives today's repeat orders (one uniform, three decisions).
            u = uniforms[undecided]
            p_first = self.params.p_first_order
            buys = u < p_first
            delay, residual = geometric_with_residual(u[buys] / p_first, self._p_delay)
            planned = np.full(u.size, NOT_DUE, dtype=np.int64)
            planned[buys] = day + delay
            due[undecided] = planned  # ``due`` and ``uniforms`` are copies (fancy indexing)
            pop.day_first_order_due[active[undecided]] = planned
            # Those who order today use the residual for their orders; the rest never use it.
            u[buys] = residual
            uniforms[undecided] = u
        starting = never_ordered & (due <= day)
        bought = ~never_ordered
        ordering = bought | starting
        people = active[ordering]
        if people.size == 0:
            return
        rate = pop.rate_purchase[people]
        rel_purchase = pop.rel_purchase[people]
        if np.any(rel_purchase != 1.0):  # loyalty's goal gradient; skipped when off (bit-for-bit)
            rate = rate * rel_purchase
        if self._demand is not None:  # demand seasonality (customers.rel_demand)
            rate = rate * self._demand[day]
        orders, u_bad = poisson_with_residual(uniforms[ordering], rate)
        # One first order today, or one order on the day a past buyer comes back.
        starts = starting[ordering]
        orders += starts | (pop.day_acquired[people] == day)
        first_buyers = people[starts]
        if first_buyers.size:
            pop.day_first_order[first_buyers] = day
            self._tally_first_orders(model, first_buyers)
        buying = orders > 0
        self.place_orders(model, people[buying], orders[buying], u_bad[buying])

    @staticmethod
    def _tally_first_orders(model: Market, first_buyers: np.ndarray) -> None:
        """Count today's first-time customers (real people) by the channel of their first sign-up."""
        real = first_buyers[first_buyers < model.n_real]
        by_channel = np.bincount(model.population.first_channel[real], minlength=len(CHANNELS))
        for channel in FIRST_ORDER_CHANNELS:
            count = int(by_channel[CHANNELS.index(channel)])
            if count:
                model.tally(f"first_orders_{channel}", count)

    def place_orders(self, model: Market, buyers: np.ndarray, orders: np.ndarray, u_bad: np.ndarray) -> None:
        """Book ``orders[i]`` orders of ``buyers[i]`` today: experiences, revenue, cost of goods.

        Args:
            model: the market (population columns and the ledger are updated).
            buyers: distinct person ids, each with at least one order today.
            orders: orders per buyer (≥ 1).
            u_bad: one uniform per buyer; the bad experiences are Binomial(orders, 1 − p_good) at it.
        """
        if buyers.size == 0:
            return
        pop = model.population
        bad = binomial_from_uniform(u_bad, orders, 1.0 - self.params.p_good_experience)
        spend = orders * pop.order_value[buyers].astype(np.float64)
        add_counts(pop.n_orders, buyers, orders)
        pop.revenue[buyers] += spend
        add_counts(pop.n_bad_experiences, buyers, bad)
        add_counts(pop.n_good_experiences, buyers, orders - bad)
        model.record_orders(buyers, orders, spend)  # the order log (a no-op unless kept)
        revenue = float(spend.sum())
        margin = model.scenario_config.economics.gross_margin
        model.ledger.earn("sales", "revenue", revenue)
        model.ledger.spend("sales", "cost_of_goods", revenue * (1.0 - margin))
        model.tally("orders", int(orders.sum()))

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Sign-ups of the horizon who never ordered."""
        pop = model.real_population()
        signed_up = pop.day_first_acquired > 0
        return {"never_ordered": float(np.count_nonzero(signed_up & (pop.day_first_order == NEVER)))}
