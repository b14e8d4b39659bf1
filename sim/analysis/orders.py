"""The order log out: every order of a run, the per-customer summary CLV libraries read, and its size.

``sim.run(…, keep_orders=True)`` (``ripple run --orders``) keeps the log; docs/metrics.md ("Order
log") lists the columns. The summary uses pymc-marketing's names and definitions, so it can be
given to ``BetaGeoModel``, ``ParetoNBDModel`` or ``GammaGammaModel`` as it is (time in days).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario import Scenario
from sim.world.build import people_in

__all__ = ["BYTES_PER_ORDER", "customer_summary", "order_log_estimate"]

#: Memory per order row of the finished log: customer id, day and referrer (4 bytes each), amount
#: (8), channel code (1), the referrer's missing-value mask (1); while running, about 24 bytes per
#: buyer and day are kept.
BYTES_PER_ORDER = 22


def customer_summary(orders: pd.DataFrame, observation_day: int) -> pd.DataFrame:
    """One row per customer who ordered: what CLV models take, in pymc-marketing's names.

    Definitions are those of ``pymc_marketing.clv.rfm_summary(…, time_unit="D")``: the orders of one
    day count as one purchase (their amounts summed); ``frequency`` is the number of days with
    orders after the first; ``recency`` the days from the first to the last such day; ``T`` the days
    from the first order to ``observation_day`` (the run's last day); ``monetary_value`` the mean
    spend of the repeat days (0 without any), in currency.

    Args:
        orders: the order log (``customer_id``, ``day``, ``amount``).
        observation_day: the last simulated day.

    Returns:
        Columns ``customer_id``, ``frequency``, ``recency``, ``T``, ``monetary_value`` (floats, as
        pymc-marketing writes them), sorted by customer id.
    """
    days = orders.groupby(["customer_id", "day"], sort=True, observed=True)["amount"].sum().reset_index()
    grouped = days.groupby("customer_id", sort=True)
    first = grouped["day"].transform("min")
    repeat = days[days["day"] > first]
    summary = pd.DataFrame(
        {
            "frequency": grouped.size() - 1,
            "recency": grouped["day"].max() - grouped["day"].min(),
            "T": observation_day - grouped["day"].min(),
        }
    )
    summary["monetary_value"] = (
        repeat.groupby("customer_id")["amount"].mean().reindex(summary.index).fillna(0.0)
    )
    summary = summary.astype(np.float64).reset_index()
    summary["customer_id"] = summary["customer_id"].astype(np.int64)
    return summary


def order_log_estimate(scenario: Scenario) -> tuple[int, int]:
    """An upper estimate of the order log's size before running: (orders, bytes).

    The bound has every real person a customer from day one, ordering at the mean purchase rate
    (``population.rate_purchase_per_day``) every day, plus one first order each: real runs, where
    people join over time and churn, log less.
    """
    people = people_in(scenario)
    orders = int(people * (1 + scenario.population.rate_purchase_per_day * scenario.days))
    return orders, orders * BYTES_PER_ORDER
