"""The loyalty rule's day kernel on hand-made populations: joins, points, blocks, expiry and tiers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules.loyalty import _loyalty_day, _Terms
from sim.world.population import NEVER, Stage

TIERS = {
    "threshold": np.array([0.0, 300.0, 1000.0]),
    "rel_points": np.array([1.0, 1.25, 1.5]),
    "rel_churn": np.array([1.0, 0.9, 0.75]),
    "discount": np.array([0.0, 0.02, 0.05]),
    "service": np.array([0.0, 0.0, 1.0]),
    "extra_share": np.array([0.0, 0.0, 0.1]),
}


def terms(**changes: object) -> _Terms:
    values: dict[str, object] = {
        "closed": False,
        "join_spend": 0.0,
        "endowed_points": 0.0,
        "points_per_currency": 1.0,
        "basis_spend": True,
        "redemption_points": 500.0,
        "days_points_expiry": 180,
        "rolling": True,
        "days_window": 365,
        "decay": math.exp(-1.0 / 365),
        "downgrade": 1,
        "days_grace": 30,
        "rel_churn_full_balance": 0.9,
        "goal_gradient": True,
        "share_near_goal": 0.2,
        "rel_purchase_near_goal": 1.2,
        "rel_purchase_after_reward": 0.8,
        "days_after_reward": 14,
    }
    values.update(changes)
    return _Terms(**values)  # type: ignore[arg-type]


def people(n: int) -> dict[str, np.ndarray]:
    return {
        "revenue": np.zeros(n),
        "n_orders": np.zeros(n, dtype=np.int32),
        "revenue_seen": np.zeros(n),
        "orders_seen": np.zeros(n, dtype=np.int32),
        "stage": np.full(n, Stage.CUSTOMER, dtype=np.int8),
        "tier": np.full(n, NEVER, dtype=np.int8),
        "points": np.zeros(n),
        "points_earned": np.zeros(n),
        "points_redeemed": np.zeros(n),
        "points_expired": np.zeros(n),
        "qualifying_spend": np.zeros(n),
        "day_last_order": np.full(n, NEVER, dtype=np.int32),
        "day_below_tier": np.full(n, NEVER, dtype=np.int32),
        "day_last_reward": np.full(n, NEVER, dtype=np.int32),
        "rel_churn_loyalty": np.ones(n, dtype=np.float32),
        "rate_share_extra": np.zeros(n, dtype=np.float32),
        "rel_purchase": np.ones(n, dtype=np.float32),
    }


def day(d: int, cols: dict[str, np.ndarray], t: _Terms, tiers: dict[str, np.ndarray] = TIERS) -> tuple:
    return _loyalty_day(d, *cols.values(), *tiers.values(), t)  # type: ignore[call-arg, arg-type]


@pytest.mark.parametrize("n", [0, 5])
def test_a_day_without_buyers_or_members_changes_nothing(n: int) -> None:
    cols = people(n)
    before = {key: value.copy() for key, value in cols.items()}
    assert day(3, cols, terms()) == (0.0, 0, 0.0, 0.0, 0, 0.0, 0.0)
    for key, value in cols.items():
        np.testing.assert_array_equal(value, before[key])


def test_every_buyer_joins_an_open_programme_and_earns_on_todays_spend_only() -> None:
    cols = people(4)
    cols["revenue"][:] = [40.0, 120.0, 0.0, 10.0]
    cols["revenue_seen"][3] = 10.0  # bought before, nothing today
    cols["n_orders"][:] = [1, 2, 0, 1]
    cols["orders_seen"][3] = 1
    earned, joined, discounts, service, members, redeemed, expired = day(7, cols, terms(endowed_points=5.0))
    assert (joined, members) == (2, 2)
    assert earned == 160.0 and discounts == 0.0 and service == 0.0 and redeemed == 0.0 and expired == 0.0
    np.testing.assert_array_equal(cols["tier"], [0, 0, NEVER, NEVER])
    np.testing.assert_array_equal(cols["points"], [45.0, 125.0, 0.0, 0.0])
    np.testing.assert_array_equal(cols["points_earned"], [45.0, 125.0, 0.0, 0.0])
    np.testing.assert_array_equal(cols["day_last_order"], [7, 7, NEVER, NEVER])
    np.testing.assert_array_equal(cols["revenue_seen"], cols["revenue"])
    np.testing.assert_array_equal(cols["orders_seen"], cols["n_orders"])


def test_a_buyer_whose_order_count_has_stopped_at_its_largest_value_still_earns() -> None:
    # Revenue grows only with orders, so the kernel reads the money columns only where the order
    # count moved; a count stuck at the int32 maximum cannot move, and its spend still counts.
    cols = people(3)
    top = np.iinfo(np.int32).max
    cols["n_orders"][:] = [top, top, 3]
    cols["orders_seen"][:] = [top, top, 3]
    cols["revenue"][:] = [80.0, 50.0, 30.0]
    cols["revenue_seen"][:] = [30.0, 50.0, 30.0]  # the first spent 50 today; the others nothing
    earned, joined, *_ = day(4, cols, terms())
    assert (earned, joined) == (50.0, 1)
    np.testing.assert_array_equal(cols["tier"], [0, NEVER, NEVER])
    np.testing.assert_array_equal(cols["revenue_seen"], [80.0, 50.0, 30.0])


def test_a_closed_programme_admits_only_buyers_past_the_join_spend_but_sees_every_order() -> None:
    cols = people(2)
    cols["revenue"][:] = [50.0, 150.0]
    cols["n_orders"][:] = [1, 1]
    _, joined, *_ = day(1, cols, terms(closed=True, join_spend=100.0))
    assert joined == 1
    np.testing.assert_array_equal(cols["tier"], [NEVER, 0])
    np.testing.assert_array_equal(cols["revenue_seen"], [50.0, 150.0])


def test_whole_blocks_are_redeemed_and_an_idle_balance_expires() -> None:
    cols = people(2)
    cols["tier"][:] = 0
    cols["points"][:] = [1234.0, 80.0]
    cols["day_last_order"][:] = [100, 10]
    _, _, _, _, members, redeemed, expired = day(200, cols, terms())
    assert (members, redeemed, expired) == (2, 1000.0, 80.0)
    np.testing.assert_array_equal(cols["points"], [234.0, 0.0])
    np.testing.assert_array_equal(cols["day_last_reward"], [200, NEVER])
    assert cols["rel_purchase"][0] == np.float32(0.8)  # resting after the reward


def test_tiers_go_up_at_once_and_down_one_step_after_the_grace_period() -> None:
    cols = people(2)
    cols["tier"][:] = [0, 2]
    cols["qualifying_spend"][:] = [1500.0, 0.0]
    day(10, cols, terms(rolling=False, days_window=10, decay=1.0))
    np.testing.assert_array_equal(cols["tier"], [2, 2])
    np.testing.assert_array_equal(cols["day_below_tier"], [NEVER, 10])
    np.testing.assert_array_equal(cols["qualifying_spend"], [0.0, 0.0])  # a calendar window resets
    day(39, cols, terms(rolling=False, days_window=10, decay=1.0))
    np.testing.assert_array_equal(cols["tier"], [2, 2])  # still in grace
    day(40, cols, terms(rolling=False, days_window=10, decay=1.0))
    # The second fell below at the day-10 review; the first only at today's review.
    np.testing.assert_array_equal(cols["tier"], [2, 1])
    np.testing.assert_array_equal(cols["day_below_tier"], [40, NEVER])
    assert cols["rel_churn_loyalty"][1] == np.float32(0.9)


def test_a_member_below_the_base_threshold_drops_out_as_the_array_version_did() -> None:
    tiers = dict(TIERS, threshold=np.array([50.0, 300.0, 1000.0]))
    cols = people(1)
    cols["tier"][0] = 0
    cols["day_below_tier"][0] = 0
    _, _, _, _, members, _, _ = day(40, cols, terms(), tiers)
    assert members == 1
    assert cols["tier"][0] == NEVER
    # Fancy indexing with −1 read the top tier's benefits.
    assert cols["rel_churn_loyalty"][0] == np.float32(0.75 * 0.9**0.0)


def test_the_churn_multiplier_is_recomputed_only_where_tier_or_balance_moved() -> None:
    cols = people(3)
    cols["tier"][:] = 0
    cols["points"][:] = [250.0, 250.0, 0.0]
    cols["day_last_order"][:] = 5
    cols["rel_churn_loyalty"][:] = 0.5  # as computed on an earlier day (a stand-in value)
    cols["revenue"][1] = 100.0  # the second member buys today
    cols["n_orders"][1] = 1
    day(6, cols, terms())
    assert cols["rel_churn_loyalty"][0] == np.float32(0.5)  # nothing moved
    assert cols["rel_churn_loyalty"][1] == np.float32(0.9 ** (350.0 / 500.0))
    assert cols["rel_churn_loyalty"][2] == np.float32(0.5)
