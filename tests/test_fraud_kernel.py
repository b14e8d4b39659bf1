"""The fraud rule's kernels: who leaves, and which coupon farmers join with whose code."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.counter import draw_key, stream_key, uniforms
from sim.engine.random import stream
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
    key: np.uint64,
    n_real: int,
    day_first_acquired: np.ndarray,
    stage: np.ndarray,
    rate: float,
    share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule in array expressions on everybody's uniform: farmers, their codes, who never orders."""
    u_farm = uniforms(key, n_real)
    never_bought = day_first_acquired[:n_real] == NEVER
    n_eligible = int(np.count_nonzero(never_bought))
    empty = np.zeros(0, dtype=np.int64)
    if n_eligible == 0:
        return empty, empty, np.zeros(0, dtype=bool)
    p_join = min(1.0, np.float64(rate) / n_eligible)
    farmers = np.flatnonzero((u_farm < p_join) & never_bought)
    active = np.flatnonzero(stage[:n_real] == Stage.CUSTOMER)
    if farmers.size == 0 or active.size == 0:
        return empty, empty, np.zeros(0, dtype=bool)
    position = u_farm[farmers] / p_join * active.size
    pick = np.minimum(position.astype(np.int64), active.size - 1)
    return farmers, active[pick], (position - pick) < share


@pytest.mark.parametrize(
    ("share_signed_up", "share_customers", "rate", "n_real"),
    [
        (0.5, 0.3, 40.0, 950),
        (0.0, 0.3, 5.0, 950),
        (1.0, 0.3, 5.0, 950),
        (0.5, 0.0, 40.0, 950),
        (0.9, 0.3, 1e6, 950),
        (0.5, 0.3, 1e6, 5000),  # several blocks of active customers to pick from
        (0.5, 0.002, 1e6, 5000),  # a few active customers, most blocks without one
    ],
    ids=[
        "some",
        "everyone-eligible",
        "nobody-eligible",
        "no-customers",
        "everyone-joins",
        "blocks",
        "sparse",
    ],
)
def test_farmers_are_those_the_array_version_finds_on_the_same_uniforms(
    share_signed_up: float, share_customers: float, rate: float, n_real: int
) -> None:
    rng = np.random.default_rng(4)
    n = n_real + 50
    day_first_acquired = np.where(rng.random(n) < share_signed_up, 3, NEVER).astype(np.int32)
    stage = np.where(rng.random(n) < share_customers, Stage.CUSTOMER, Stage.UNAWARE).astype(np.int8)
    key = draw_key(stream_key(stream(4, "fraud")), 7, 0)
    farmers, codes, never = _find_farmers(key, n_real, day_first_acquired, stage, rate, 0.4)
    expected = farmers_by_arrays(key, n_real, day_first_acquired, stage, rate, 0.4)
    np.testing.assert_array_equal(farmers, expected[0])
    np.testing.assert_array_equal(codes, expected[1])
    np.testing.assert_array_equal(never, expected[2])
    if rate == 1e6 and share_customers > 0:
        assert farmers.size == np.count_nonzero(day_first_acquired[:n_real] == NEVER)


def test_a_persons_draw_does_not_depend_on_who_else_may_join() -> None:
    """Common random numbers: whether person i joins depends on others only through p = rate / n_e.

    With p = 1 (everyone eligible joins), u / p = u: each farmer's pick and never-buy share come from
    their own uniform, whichever other people are eligible.
    """
    n = 3000
    rng = np.random.default_rng(8)
    stage = np.where(rng.random(n) < 0.3, Stage.CUSTOMER, Stage.UNAWARE).astype(np.int8)
    many = np.where(rng.random(n) < 0.2, 3, NEVER).astype(np.int32)
    few = np.where(rng.random(n) < 0.9, 3, many).astype(np.int32)  # a subset of the same people eligible
    key = draw_key(stream_key(stream(4, "fraud")), 2, 0)
    farmers_many, codes_many, never_many = _find_farmers(key, n, many, stage, 1e9, 0.4)
    farmers_few, codes_few, never_few = _find_farmers(key, n, few, stage, 1e9, 0.4)
    assert 0 < farmers_few.size < farmers_many.size
    shared = np.isin(farmers_many, farmers_few)
    np.testing.assert_array_equal(farmers_many[shared], farmers_few)
    np.testing.assert_array_equal(codes_many[shared], codes_few)
    np.testing.assert_array_equal(never_many[shared], never_few)


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
