"""The fraud rule's kernels: who leaves, and which coupon farmers join with whose code."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.fraud import _find_farmers, _leave_after, _mark_farmers
from sim.world.population import NEVER, NOT_DUE, FraudKind, Stage


def test_people_leave_once_their_stay_is_over_and_the_rest_stay_in_order() -> None:
    stage = np.array(
        [Stage.CUSTOMER, Stage.CUSTOMER, Stage.CHURNED, Stage.CUSTOMER, Stage.CUSTOMER], dtype=np.int8
    )
    day_acquired = np.array([1, 5, 1, 2, 2], dtype=np.int32)
    day_churned = np.full(5, NEVER, dtype=np.int32)
    day_first_churned = np.array([NEVER, NEVER, NEVER, 0, NEVER], dtype=np.int32)
    people = np.array([4, 3, 2, 1, 0], dtype=np.int64)
    stay, n_left = _leave_after(people, 3, 5, stage, day_acquired, day_churned, day_first_churned)
    assert n_left == 3  # 0, 3 and 4 were acquired 3 or more days ago; 2 is no customer
    np.testing.assert_array_equal(stay, [2, 1])
    np.testing.assert_array_equal(
        stage, [Stage.CHURNED, Stage.CUSTOMER, Stage.CHURNED, Stage.CHURNED, Stage.CHURNED]
    )
    np.testing.assert_array_equal(day_churned, [5, NEVER, NEVER, 5, 5])
    np.testing.assert_array_equal(day_first_churned, [5, NEVER, NEVER, 0, 5])  # a first churn is kept


def test_nobody_to_abandon_is_nobody_left() -> None:
    stage, days = np.zeros(3, dtype=np.int8), np.zeros(3, dtype=np.int32)
    stay, n_left = _leave_after(np.zeros(0, dtype=np.int64), 3, 5, stage, days, days.copy(), days.copy())
    assert stay.size == 0 and n_left == 0


def farmers_by_arrays(
    u_farm: np.ndarray,
    n_real: int,
    day_first_acquired: np.ndarray,
    stage: np.ndarray,
    rate: float,
    share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The array version the kernel replaced: farmers, the code owner of each, and who never orders."""
    never_bought = day_first_acquired[:n_real] == NEVER
    n_eligible = int(np.count_nonzero(never_bought))
    empty = np.zeros(0, dtype=np.int64)
    if n_eligible == 0:
        return empty, empty, np.zeros(0, dtype=bool)
    p_join = min(1.0, np.float64(rate) / n_eligible)
    farmers = np.flatnonzero((u_farm[:n_real] < p_join) & never_bought)
    active = np.flatnonzero(stage[:n_real] == Stage.CUSTOMER)
    if farmers.size == 0 or active.size == 0:
        return empty, empty, np.zeros(0, dtype=bool)
    position = u_farm[farmers].astype(np.float64) / p_join * active.size
    pick = np.minimum(position.astype(np.int64), active.size - 1)
    return farmers, active[pick], (position - pick) < share


@pytest.mark.parametrize(
    ("share_signed_up", "share_customers", "rate"),
    [(0.5, 0.3, 40.0), (0.0, 0.3, 5.0), (1.0, 0.3, 5.0), (0.5, 0.0, 40.0), (0.9, 0.3, 1e6)],
    ids=["some", "everyone-eligible", "nobody-eligible", "no-customers", "everyone-joins"],
)
def test_farmers_are_those_the_array_version_found(
    share_signed_up: float, share_customers: float, rate: float
) -> None:
    rng = np.random.default_rng(4)
    n, n_real = 1000, 950
    day_first_acquired = np.where(rng.random(n) < share_signed_up, 3, NEVER).astype(np.int32)
    stage = np.where(rng.random(n) < share_customers, Stage.CUSTOMER, Stage.UNAWARE).astype(np.int8)
    u_farm = rng.random(n, dtype=np.float32)
    active, found_ids, code_ids = (np.zeros(n_real, dtype=np.int64) for _ in range(3))
    never_buys = np.zeros(n_real, dtype=bool)
    found = _find_farmers(
        u_farm, n_real, day_first_acquired, stage, rate, 0.4, active, found_ids, code_ids, never_buys
    )
    farmers, codes, never = farmers_by_arrays(u_farm, n_real, day_first_acquired, stage, rate, 0.4)
    assert found == farmers.size
    np.testing.assert_array_equal(found_ids[:found], farmers)
    np.testing.assert_array_equal(code_ids[:found], codes)
    np.testing.assert_array_equal(never_buys[:found], never)
    if rate == 1e6:
        assert found == np.count_nonzero(day_first_acquired[:n_real] == NEVER)


@pytest.mark.parametrize("farmers", [np.zeros(0, dtype=np.int64), np.array([1, 3], dtype=np.int64)])
def test_farmers_order_once_today_or_never_and_then_stop(farmers: np.ndarray) -> None:
    due = np.full(4, NEVER, dtype=np.int32)
    kind = np.zeros(4, dtype=np.int8)
    value = np.full(4, 40.0, dtype=np.float32)
    rate = np.full(4, 0.03, dtype=np.float32)
    _mark_farmers(farmers, np.array([True, False]), 9, 5.0, due, kind, value, rate)
    marked = np.isin(np.arange(4), farmers)
    np.testing.assert_array_equal(due, np.where(marked, [0, NOT_DUE, 0, 9], NEVER))
    np.testing.assert_array_equal(kind, np.where(marked, FraudKind.COUPON_FARMER, 0))
    np.testing.assert_array_equal(value, np.where(marked, 5.0, 40.0).astype(np.float32))
    np.testing.assert_array_equal(rate, np.where(marked, 0.0, 0.03).astype(np.float32))
