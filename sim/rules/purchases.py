"""Orders, revenue and experiences: sign-ups place a first order (or never do), buyers order again."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, stream_key, uniform
from sim.engine.random import SUMMING_MAX_RATE, poisson_with_residual
from sim.rules._kernels import list_at_stage
from sim.rules.base import MetricInfo, Phase, Rule
from sim.scenario import CustomersSpec, daily_values
from sim.world.population import CHANNELS, NEVER, NOT_DUE, Stage

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine.market import Market

__all__ = ["FIRST_ORDER_CHANNELS", "Purchases"]

#: Channels a first-time customer can have signed up through (day-0 customers ordered before day 1).
FIRST_ORDER_CHANNELS: tuple[str, ...] = tuple(c for c in CHANNELS if c not in ("none", "initial"))

# Constants the kernels compile in (those of sim.engine.random's inverse-CDF draws, which they repeat).
_CUSTOMER = int(Stage.CUSTOMER)
_TINY = 1e-300
_BELOW_ONE = float(np.nextafter(1.0, 0.0))
_RESOLUTION = 1e-16
_MAX_TERMS = 10_000
_INT32_MAX = int(np.iinfo(np.int32).max)
_INT16_MAX = int(np.iinfo(np.int16).max)
#: Orders per buyer and day up to which (1 − p_bad)^n is read from a table NumPy computed.
_POW_TABLE = 4096


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
    as sales revenue, and ``1 − economics.gross_margin`` of it as cost of goods. Every order is booked
    by one kernel (``_book_orders``: the day's kernel calls it, and so does :meth:`place_orders`).

    The day's uniform of a person is counter-based (:mod:`sim.engine.counter`): a function of the
    seed, the day and the person, computed only for the active customers, so it is the same whoever
    else is a customer. The day is one compiled pass over the active customers (``_order_day``).
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
        """The geometric delay's constants, demand by day, the binomial's table and the order buffers."""
        self._p_delay = 1.0 / (1.0 + self.params.days_to_first_order)
        # ln(1 − p) of the delay, computed as geometric_with_residual computes it (unused when p = 1).
        self._log_q = float(np.log1p(-self._p_delay)) if self._p_delay < 1.0 else 0.0
        demand = daily_values(self.params.rel_demand, self.scenario.days)
        # None when demand never moves from 1, so the default run's arithmetic is unchanged.
        self._demand: np.ndarray | None = None if np.all(demand == 1.0) else demand
        self._p_bad = 1.0 - self.params.p_good_experience
        with np.errstate(over="ignore", under="ignore"):
            # (1 − p_bad)^n by NumPy for every n below the table's end: the binomial's first term.
            self._q_bad_pow = (1.0 - self._p_bad) ** np.arange(_POW_TABLE, dtype=np.int64)
        n = model.population.n
        self._key = stream_key(self.rng)  # the counter-based uniforms' key (one draw site a day)
        # Today's buyers (and deferred high-rate orderers), in id order. np.empty: only the prefix a
        # day writes is ever touched, so they cost memory for the most buyers of a day, not for n.
        self._buyers = np.empty(n, dtype=np.int64)
        self._orders = np.empty(n, dtype=np.int64)
        self._u_bad = np.empty(n, dtype=np.float64)
        self._rate = np.empty(n, dtype=np.float64)
        self._spend = np.empty(n, dtype=np.float64)
        self._by_channel = np.zeros(len(CHANNELS), dtype=np.int64)

    def step(self, model: Market) -> None:
        """Decide today's sign-ups' first orders, then place first and repeat orders (one kernel call)."""
        pop = model.population
        demand = 1.0 if self._demand is None else float(self._demand[model.day])
        n_buyers, n_large, n_first, total = _order_day(
            draw_key(self._key, model.day),
            pop.stage,
            pop.day_first_order,
            pop.day_first_order_due,
            pop.day_acquired,
            pop.first_channel,
            pop.rate_purchase,
            pop.rel_purchase,
            pop.order_value,
            pop.n_orders,
            pop.revenue,
            pop.n_good_experiences,
            pop.n_bad_experiences,
            model.day,
            model.n_real,
            self.params.p_first_order,
            self._p_delay,
            self._log_q,
            demand,
            self._p_bad,
            self._q_bad_pow,
            self._buyers,
            self._orders,
            self._u_bad,
            self._rate,
            self._spend,
            self._by_channel,
        )
        if n_first:
            self._tally_first_orders(model)
        if n_buyers == 0:
            return
        buyers, orders = self._buyers[:n_buyers], self._orders[:n_buyers]
        if n_large == 0:  # the kernel has booked every order: book the day's totals
            self._book_totals(model, buyers, orders, self._spend[:n_buyers], total)
            return
        # Rates above SUMMING_MAX_RATE (rare): the kernel left their Poisson draw (and all booking)
        # to NumPy's incomplete-gamma inversion; their uniform and rate wait in the buffers.
        large = self._rate[:n_buyers] > SUMMING_MAX_RATE
        u_bad = self._u_bad[:n_buyers]
        counts, residual = poisson_with_residual(u_bad[large], self._rate[:n_buyers][large])
        orders[large] += counts
        u_bad[large] = residual
        buying = orders > 0
        self.place_orders(model, buyers[buying], orders[buying], u_bad[buying])

    def _tally_first_orders(self, model: Market) -> None:
        """Count today's first-time customers (real people) by the channel of their first sign-up."""
        by_channel = self._by_channel
        for channel in FIRST_ORDER_CHANNELS:
            count = int(by_channel[CHANNELS.index(channel)])
            if count:
                model.tally(f"first_orders_{channel}", count)

    def place_orders(self, model: Market, buyers: np.ndarray, orders: np.ndarray, u_bad: np.ndarray) -> None:
        """Book ``orders[i]`` orders of ``buyers[i]`` today: experiences, revenue, cost of goods.

        The daily step books its orders inside its kernel (the same :func:`_book_orders`) and only
        the day's totals here; this entry books a given list (used on days with very high rates).

        Args:
            model: the market (population columns and the ledger are updated).
            buyers: distinct person ids, each with at least one order today.
            orders: orders per buyer (≥ 1).
            u_bad: one uniform per buyer; the bad experiences are Binomial(orders, 1 − p_good) at it.
        """
        if buyers.size == 0:
            return
        pop = model.population
        buyers = np.ascontiguousarray(buyers, dtype=np.int64)
        orders = np.ascontiguousarray(orders, dtype=np.int64)
        spend = np.empty(buyers.size, dtype=np.float64)
        total = _book_orders(
            buyers,
            orders,
            np.ascontiguousarray(u_bad, dtype=np.float64),
            buyers.size,
            self._p_bad,
            self._q_bad_pow,
            pop.order_value,
            pop.n_orders,
            pop.revenue,
            pop.n_good_experiences,
            pop.n_bad_experiences,
            spend,
        )
        self._book_totals(model, buyers, orders, spend, total)

    @staticmethod
    def _book_totals(
        model: Market, buyers: np.ndarray, orders: np.ndarray, spend: np.ndarray, total: int
    ) -> None:
        """The order log, revenue and cost of goods in the ledger, and the day's order count."""
        model.record_orders(buyers, orders, spend)  # the order log (a no-op unless kept)
        revenue = float(spend.sum())
        margin = model.scenario_config.economics.gross_margin
        model.ledger.earn("sales", "revenue", revenue)
        model.ledger.spend("sales", "cost_of_goods", revenue * (1.0 - margin))
        model.tally("orders", int(total))

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Sign-ups of the horizon who never ordered."""
        pop = model.real_population()
        signed_up = pop.day_first_acquired > 0
        return {"never_ordered": float(np.count_nonzero(signed_up & (pop.day_first_order == NEVER)))}


@kernel
def _geometric(v: float, p: float, log_q: float) -> tuple[int, float]:
    """One draw of :func:`sim.engine.random.geometric_with_residual`: (count, residual) at uniform ``v``."""
    if p == 1.0:
        return 0, v
    count = math.floor(math.log1p(-v) / log_q)
    q_k = math.exp(count * log_q)
    residual = (v - 1.0 + q_k) / max(p * q_k, _TINY)
    return count, min(max(residual, 0.0), _BELOW_ONE)


@kernel
def _poisson(u: float, rate: float) -> tuple[int, float]:
    """One draw of :func:`sim.engine.random.poisson_with_residual` by summing (rate ≤ SUMMING_MAX_RATE).

    The same operations in the same order as the array loop ``_by_summing``: (count, residual).
    """
    pmf = math.exp(-rate)
    residual = u / max(pmf, _TINY)
    count = 0
    if u >= pmf:
        cdf = pmf
        k = 0
        while k < _MAX_TERMS:
            count += 1
            k += 1
            below = cdf
            pmf = pmf * rate / k
            cdf = cdf + pmf
            residual = (u - below) / max(pmf, _TINY)
            if not (u >= cdf and (pmf > _RESOLUTION or k < rate)):
                break
    return count, min(max(residual, 0.0), _BELOW_ONE)


@kernel
def _binomial(u: float, trials: int, p: float, q_pow: np.ndarray) -> int:
    """One draw of :func:`sim.engine.random.binomial_from_uniform`: Binomial(trials, p) at ``u``.

    ``q_pow[n]`` is NumPy's ``(1 − p) ** n`` (the same first term the array version computes).
    """
    if p <= 0.0:
        return 0
    if p >= 1.0:
        return trials
    if trials <= 0:
        return 0
    odds = p / (1.0 - p)
    pmf = q_pow[trials] if trials < q_pow.size else math.pow(1.0 - p, float(trials))
    count = 0
    if u >= pmf:
        cdf = pmf
        k = 0
        while True:
            count += 1
            pmf = pmf * (trials - k) / (k + 1) * odds
            k += 1
            cdf = cdf + pmf
            if not (u >= cdf and k < trials):
                break
    return count


@kernel
def _book_orders(
    buyers: np.ndarray,
    orders: np.ndarray,
    u_bad: np.ndarray,
    m: int,
    p_bad: float,
    q_bad_pow: np.ndarray,
    order_value: np.ndarray,
    n_orders: np.ndarray,
    revenue: np.ndarray,
    n_good: np.ndarray,
    n_bad: np.ndarray,
    spend: np.ndarray,
) -> int:
    """Book the first ``m`` buyers' orders: experiences, order counts and revenue; returns the orders.

    ``buyers`` (int64 ids, distinct), ``orders`` (int64, ≥ 1) and ``u_bad`` (float64 uniforms) are
    read at ``[:m]``; ``spend[:m]`` receives each buyer's spend (orders × order value, currency).
    Bad experiences are Binomial(orders, ``p_bad``) at the buyer's uniform; the count columns stop at
    their dtype's largest value (as :func:`sim.world.population.add_counts` does).
    """
    total = 0
    for j in range(m):
        i = buyers[j]
        k = orders[j]
        bad = _binomial(u_bad[j], k, p_bad, q_bad_pow)
        amount = k * np.float64(order_value[i])
        spend[j] = amount
        n_orders[i] = min(np.int64(n_orders[i]) + k, _INT32_MAX)
        revenue[i] += amount
        n_bad[i] = min(np.int64(n_bad[i]) + bad, _INT16_MAX)
        n_good[i] = min(np.int64(n_good[i]) + (k - bad), _INT16_MAX)
        total += k
    return total


@kernel
def _order_day(
    key: np.uint64,
    stage: np.ndarray,
    day_first_order: np.ndarray,
    day_first_order_due: np.ndarray,
    day_acquired: np.ndarray,
    first_channel: np.ndarray,
    rate_purchase: np.ndarray,
    rel_purchase: np.ndarray,
    order_value: np.ndarray,
    n_orders: np.ndarray,
    revenue: np.ndarray,
    n_good: np.ndarray,
    n_bad: np.ndarray,
    day: int,
    n_real: int,
    p_first: float,
    p_delay: float,
    log_q: float,
    demand: float,
    p_bad: float,
    q_bad_pow: np.ndarray,
    buyers: np.ndarray,
    orders: np.ndarray,
    u_bad: np.ndarray,
    rate: np.ndarray,
    spend: np.ndarray,
    by_channel: np.ndarray,
) -> tuple[int, int, int, int]:
    """The purchases rule's day over the active customers, in id order, one uniform each.

    Customer ``i``'s uniform is ``uniform(key, i)`` (:func:`sim.engine.counter.uniform`, ``key`` the
    day's draw key), computed for the active customers only.

    Per active customer: a sign-up who never ordered and has no plan yet decides "ever?" (``u <
    p_first``) and "when?" (geometric delay with ``p_delay``, from the uniform's residual), written
    to ``day_first_order_due``; whoever has ordered before, or whose first order is due, orders
    Poisson(rate_purchase × rel_purchase (float32) × ``demand``) repeat orders, plus one on their
    first order day or the day they came back. First-time buyers get ``day_first_order = day`` and,
    if real (id < ``n_real``), are counted by ``first_channel`` into ``by_channel`` (zeroed first).

    Buyers are listed in ``buyers``/``orders``/``u_bad``/``rate`` (length-n buffers, prefix used).
    A rate above SUMMING_MAX_RATE is left undrawn: the person is listed with their uniform in
    ``u_bad`` and only their fixed extra order in ``orders``, and then nothing is booked (the caller
    draws those and books). Otherwise the orders are booked (:func:`_book_orders`, spend in ``spend``).

    Returns:
        (buyers listed, of them high-rate, first-time buyers, orders booked).
    """
    by_channel[:] = 0
    m = 0
    n_large = 0
    n_first = 0
    # First list the active customers (a tight scan, into ``buyers``, whose prefix the buyers then
    # overwrite from the front: the k-th buyer is at most the k-th customer).
    n_active = list_at_stage(stage, _CUSTOMER, buyers)
    for j in range(n_active):
        i = buyers[j]
        u = uniform(key, i)
        never = day_first_order[i] == NEVER
        due = int(day_first_order_due[i])
        if never and due == NEVER:
            # The day's uniform decides "ever?" and, from its residual, "when?"; for a first order
            # due today the next residual drives today's repeat orders (one uniform, three decisions).
            if u < p_first:
                delay, u = _geometric(u / p_first, p_delay, log_q)
                due = day + delay
            else:
                due = NOT_DUE
            day_first_order_due[i] = due
        starting = never and due <= day
        if never and not starting:
            continue
        # float32 product as NumPy computes it, then float64 (× demand when it moves).
        today = np.float64(rate_purchase[i] * rel_purchase[i]) * demand
        extra = 1 if starting or day_acquired[i] == day else 0
        if starting:
            day_first_order[i] = day
            n_first += 1
            if i < n_real:
                by_channel[first_channel[i]] += 1
        if today > SUMMING_MAX_RATE:
            buyers[m] = i
            orders[m] = extra
            u_bad[m] = u
            rate[m] = today
            m += 1
            n_large += 1
            continue
        count, residual = _poisson(u, today)
        count += extra
        if count > 0:
            buyers[m] = i
            orders[m] = count
            u_bad[m] = residual
            rate[m] = today
            m += 1
    total = 0
    if n_large == 0:
        total = _book_orders(
            buyers, orders, u_bad, m, p_bad, q_bad_pow, order_value, n_orders, revenue, n_good, n_bad, spend
        )
    return m, n_large, n_first, total
