"""The referral programme's kernels against the array expressions they replace, and their edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.counter import draw_key, stream_key, uniforms
from sim.engine.random import stream
from sim.rules.incentives import (
    P_AMOUNT_FRIEND,
    P_AMOUNT_REFERRER,
    P_DUE,
    P_EARNED,
    P_FRIEND,
    P_REFERRER,
    Q_COST,
    Q_FRIEND,
    _deny,
    _grouped_cumsum_before,
    _grouped_sum_before,
    _programme_day,
    _scan_people,
    _sum,
    _Terms,
)
from sim.world.population import NEVER, AccountStatus, Channel, FraudKind, Role, Stage


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 300, 1000, 9000, 20000])
def test_sums_add_exactly_as_numpy_does(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.random(n) * 10.0 ** rng.uniform(-3, 6, n)
    assert _sum(values) == values.sum()


@pytest.mark.parametrize(
    "groups",
    [
        np.zeros(0, dtype=np.int64),
        np.array([4], dtype=np.int64),
        np.array([4, 2, 9], dtype=np.int64),  # every group alone
        np.full(50, 3, dtype=np.int64),  # one group
        np.random.default_rng(1).integers(0, 20, 500),
    ],
)
def test_grouped_sums_before_match_the_array_version_bit_for_bit(groups: np.ndarray) -> None:
    values = np.random.default_rng(2).random(groups.size) * 37.0
    np.testing.assert_array_equal(_grouped_sum_before(groups, values), _grouped_cumsum_before(groups, values))


def scan(
    n: int, referred: np.ndarray, day_trigger: np.ndarray, stage: np.ndarray, set_churn: bool = True
) -> tuple[int, np.ndarray, np.ndarray]:
    """Run the scan on ``n`` people (the last two fake) whose ``referred`` were referred by the next one.

    The friends' buffer starts with room for one, so every scan that finds several must grow it.
    """
    referrer = np.full(n, NEVER, dtype=np.int32)
    referrer[referred] = (referred + 1) % n
    acquired_via = np.full(n, Channel.SHARING, dtype=np.int8)
    rel = np.full(n, 7.0, dtype=np.float32)
    friends, found = _scan_people(
        n - 2, stage, referrer, acquired_via, day_trigger, 3, set_churn, 0.8, rel, np.zeros(1, dtype=np.int64)
    )
    return found, friends[:found], rel


def test_the_scan_finds_todays_referrals_and_sets_the_churn_effect() -> None:
    n = 500
    referred = np.arange(0, n, 3)
    day_trigger = np.where(np.arange(n) % 2 == 0, 3, 2).astype(np.int32)
    stage = np.where(np.arange(n) % 5 == 0, Stage.CHURNED, Stage.CUSTOMER).astype(np.int8)
    _, friends, rel = scan(n, referred, day_trigger, stage)
    today = referred[day_trigger[referred] == 3]
    assert today.size > 64  # more than the buffer's first growth holds
    np.testing.assert_array_equal(friends, today)
    referrer = (referred + 1) % n
    active = referred[(stage[referred] == Stage.CUSTOMER) & (stage[referrer] == Stage.CUSTOMER)]
    expected_rel = np.ones(n, dtype=np.float32)
    expected_rel[active] = np.float32(0.8)
    expected_rel[n - 2 :] = 7.0  # fake accounts are left alone
    np.testing.assert_array_equal(rel, expected_rel)


def test_the_scan_finds_nobody_or_everybody() -> None:
    n = 20
    stage = np.full(n, Stage.CUSTOMER, dtype=np.int8)
    found, *_ = scan(n, np.zeros(0, dtype=np.int64), np.full(n, 3, dtype=np.int32), stage)
    assert found == 0
    _, friends, rel = scan(n, np.arange(n), np.full(n, 3, dtype=np.int32), stage, set_churn=False)
    np.testing.assert_array_equal(friends, np.arange(n))
    np.testing.assert_array_equal(rel, 7.0)  # without the churn effect the column is not touched


TERMS = _Terms(
    referrer_side=True,
    friend_side=True,
    amount_referrer=15.0,
    amount_friend=10.0,
    amount_employee=20.0,
    share_of_first_order=0.0,
    personal_min=0.5,
    personal_max=2.0,
    p_identity_detect=1.0,
    p_identity_false_positive=0.0,
    velocity_limit=True,
    max_referrals_per_day=1,
    lifetime_limit=False,
    max_rewarded_referrals=0,
    penalise=True,
    rel_share_after_denial=np.float32(0.7),
    days_holding=0,
    clawback=False,
    days_clawback_window=0,
    active_check=False,
    days_active_required=0,
    cap=True,
    cap_per_referrer=20.0,
    cap_period=False,
    cap_per_referrer_period=0.0,
    cost_factor=0.65,
    employee_factor=1.0,
    reversible=True,
    employee_reversible=False,
    keep_paid=True,
    late_detection=True,
)


def market(n: int) -> dict[str, np.ndarray]:
    """The population columns the programme's day reads and writes, in the kernel's order."""
    return {
        "referrer": np.full(n, NEVER, dtype=np.int32),
        "role": np.zeros(n, dtype=np.int8),
        "fraud_kind": np.zeros(n, dtype=np.int8),
        "account_status": np.zeros(n, dtype=np.int8),
        "day_churned": np.full(n, NEVER, dtype=np.int32),
        "order_value": np.full(n, 40.0, dtype=np.float32),
        "revenue": np.zeros(n),
        "reward_paid": np.zeros(n),
        "n_rewards_denied": np.zeros(n, dtype=np.int16),
        "rel_share": np.ones(n, dtype=np.float32),
        "n_rewarded": np.zeros(n, dtype=np.int32),
    }


#: The identity check's draw key of the tests' day.
KEY = draw_key(stream_key(stream(5, "incentives")), 10, 0)


def programme_day(
    cols: dict[str, np.ndarray], friends: np.ndarray, terms: _Terms = TERMS
) -> tuple[tuple, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One programme day on empty books (room for today's friends); the scratch rows must come back clean."""
    n = cols["referrer"].size
    room = max(16, friends.size)
    pending_int, pending_float = np.zeros((5, room), dtype=np.int64), np.zeros((2, room))
    paid_int, paid_float = np.zeros((3, room), dtype=np.int64), np.zeros((2, room))
    penalty, count = np.ones(n, dtype=np.float32), np.zeros(n, dtype=np.int32)
    columns: list = list(cols.values())
    result = _programme_day(  # type: ignore[call-arg]
        10, np.inf, 0.0, friends, KEY, *columns, np.zeros(0),
        pending_int, pending_float, 0, paid_int, paid_float, 0,
        np.zeros(room, dtype=np.int64), np.zeros(room), penalty, count, terms,
    )  # fmt: skip
    np.testing.assert_array_equal(penalty, 1.0)
    np.testing.assert_array_equal(count, 0)
    return result, pending_int, pending_float, paid_int, paid_float


def test_a_day_with_empty_books_and_no_referrals_does_nothing() -> None:
    cols = market(10)
    before = {key: value.copy() for key, value in cols.items()}
    result, *_ = programme_day(cols, np.zeros(0, dtype=np.int64))
    assert result == (0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    for key, value in cols.items():
        np.testing.assert_array_equal(value, before[key])


def test_checks_block_fakes_and_limit_a_referrer_and_the_rest_is_paid_at_once_within_the_cap() -> None:
    cols = market(10)
    friends = np.array([1, 2, 3, 4], dtype=np.int64)
    cols["referrer"][friends] = [0, 0, 5, 6]
    cols["reward_paid"][5] = 10.0  # room for 10 more under the cap of 20
    cols["role"][4] = Role.FAKE
    cols["fraud_kind"][4] = FraudKind.FAKE_ACCOUNT
    result, _, _, paid_int, paid_float = programme_day(cols, friends)  # p_identity_detect 1: caught
    n_pending, n_paid_book, n_items, _, honest, fraud, earning, _, _, earned, paid, _, fraud_paid = result
    assert (earning, honest, fraud) == (4, 1, 1)  # friend 2: referrer 0's second today; friend 4: fake
    assert cols["account_status"][4] == AccountStatus.BLOCKED
    assert cols["n_rewards_denied"][0] == 1
    assert cols["rel_share"][0] == np.float32(0.7)
    assert earned == 2 * 25.0
    assert (n_pending, n_items, n_paid_book) == (0, 2, 2)  # paid at once: no holding period
    np.testing.assert_array_equal(cols["reward_paid"][[0, 5]], [15.0, 20.0])
    costs = np.array([15.0 * 0.65 + 10.0 * 0.65, 10.0 * 0.65 + 10.0 * 0.65])
    assert paid == costs.sum()
    assert fraud_paid == 0.0
    np.testing.assert_array_equal(paid_int[Q_FRIEND, :2], [1, 3])
    np.testing.assert_array_equal(paid_float[Q_COST, :2], costs)  # store credit: both sides reversible


def test_everyone_denied_leaves_nothing_pending() -> None:
    cols = market(6)
    friends = np.arange(1, 6, dtype=np.int64)
    cols["referrer"][friends] = 0
    cols["role"][friends] = Role.FAKE
    result, *_ = programme_day(cols, friends)
    assert result[:7] == (0, 0, 0, 0, 5, 0, 5)  # honest: the fakes' referrer is a real person
    np.testing.assert_array_equal(cols["account_status"][friends], AccountStatus.BLOCKED)


def test_denials_multiply_a_referrers_share_rate_as_multiply_at_did() -> None:
    n = 6
    denied_rewards = np.zeros(n, dtype=np.int16)
    rel_share = np.full(n, 0.9, dtype=np.float32)
    penalty = np.ones(n, dtype=np.float32)
    referrers = np.array([2, 2, 2, 4], dtype=np.int64)
    friends = np.array([0, 1, 3, 5], dtype=np.int64)
    denied = np.ones(4, dtype=bool)
    honest, fraud = _deny(
        friends, referrers, denied, np.zeros(n, dtype=np.int8), denied_rewards, rel_share, penalty, TERMS
    )
    assert (honest, fraud) == (4, 0)
    expected_penalty = np.ones(n, dtype=np.float32)
    np.multiply.at(expected_penalty, referrers, np.float32(0.7))
    np.testing.assert_array_equal(rel_share, np.full(n, 0.9, dtype=np.float32) * expected_penalty)
    np.testing.assert_array_equal(denied_rewards, [0, 0, 3, 0, 1, 0])
    np.testing.assert_array_equal(penalty, 1.0)


def test_a_held_reward_waits_in_the_pending_book() -> None:
    cols = market(10)
    cols["referrer"][1] = 0
    friends = np.array([1], dtype=np.int64)
    result, pending_int, pending_float, _, _ = programme_day(cols, friends, TERMS._replace(days_holding=5))
    assert result[:3] == (1, 0, 0)
    assert pending_int[[P_FRIEND, P_REFERRER, P_EARNED, P_DUE], 0].tolist() == [1, 0, 10, 15]
    assert pending_float[[P_AMOUNT_REFERRER, P_AMOUNT_FRIEND], 0].tolist() == [15.0, 10.0]


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_the_identity_check_blocks_the_friends_whose_own_uniform_is_below_p(p: float) -> None:
    """Each friend's check uses their counter-based uniform of the day, whoever else is checked."""
    n = 400
    cols = market(n)
    friends = np.arange(1, n, 2, dtype=np.int64)
    cols["referrer"][friends] = friends - 1
    terms = TERMS._replace(p_identity_false_positive=p, velocity_limit=False, penalise=False)
    result, *_ = programme_day(cols, friends, terms)
    blocked = cols["account_status"] == AccountStatus.BLOCKED
    expected = np.zeros(n, dtype=bool)
    expected[friends] = uniforms(KEY, friends) < p
    np.testing.assert_array_equal(blocked, expected)
    assert result[4] == expected.sum()  # every one an honest referral denied
    # Half of the friends checked on the same day: each gets the same verdict as before.
    half = market(n)
    half["referrer"][friends[::2]] = friends[::2] - 1
    programme_day(half, friends[::2], terms)
    np.testing.assert_array_equal(
        half["account_status"] == AccountStatus.BLOCKED, expected & np.isin(np.arange(n), friends[::2])
    )
    if 0 < p < 1:
        assert 0 < expected.sum() < friends.size
