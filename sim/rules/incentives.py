"""The referral programme: rewards earned, held, checked, capped, paced, paid and taken back.

This rule is the one referral programme of a scenario (the ``incentives`` section): referrer,
friend and employee rewards, with the behavioural response that makes the reward change who shares
and who converts. Taking back: clawback when a friend churns inside ``days_clawback_window``, and
recovery when the defences flag or block an account; a held reward is cancelled, a paid reversible
one (store credit, points) is reversed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, stream_key, uniform
from sim.rules._kernels import stable_order
from sim.rules.base import Budget, MetricInfo, Phase, Rule
from sim.scenario import DefencesSpec, IncentivesSpec, Schedule, daily_values
from sim.world.population import NEVER, AccountStatus, Channel, FraudKind, Population, Role, Stage

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine.market import Market
    from sim.world.graph import SocialGraph

__all__ = ["Incentives"]

#: Ledger channel of programme money (channel "sharing" counts as acquisition spend).
LEDGER_CHANNEL = "sharing"
#: Reward kinds the firm can take back after paying them (cash is gone once paid).
REVERSIBLE_KINDS = frozenset({"store_credit", "points"})


def _grouped_cumsum_before(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each entry, the sum of ``values`` over earlier entries of the same group (input order)."""
    before = np.zeros(groups.size, dtype=np.float64)
    if groups.size < 2:
        return before
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    v = values[order].astype(np.float64, copy=False)
    inclusive = np.cumsum(v)
    first_of_group = np.ones(g.size, dtype=bool)
    first_of_group[1:] = g[1:] != g[:-1]
    if first_of_group.all():  # every group has one entry: nothing comes before anything
        return before
    # Index of each entry's group start, carried forward.
    start = np.maximum.accumulate(np.where(first_of_group, np.arange(g.size), 0))
    before[order] = inclusive - v - (inclusive[start] - v[start])
    return before


# Rows of the books' tables (one column per entry; the books are kept in the order rewards were earned).
#: Pending book, integer rows: friend, referrer, employee (0/1), day earned, day due.
P_FRIEND, P_REFERRER, P_EMPLOYEE, P_EARNED, P_DUE = range(5)
#: Pending book, float rows: referrer-side and friend-side amounts (currency, face value).
P_AMOUNT_REFERRER, P_AMOUNT_FRIEND = range(2)
#: Paid book (reversible payments that can still be taken back), integer rows: friend, referrer, day earned.
Q_FRIEND, Q_REFERRER, Q_EARNED = range(3)
#: Paid book, float rows: referrer-side face value paid, and the reversible cost to the firm (currency).
Q_FACE_REFERRER, Q_COST = range(2)

_SHARING = int(Channel.SHARING)
_CUSTOMER = int(Stage.CUSTOMER)
_EMPLOYEE = int(Role.EMPLOYEE)
_FAKE = int(Role.FAKE)
_FAKE_ACCOUNT = int(FraudKind.FAKE_ACCOUNT)
_COUPON_FARMER = int(FraudKind.COUPON_FARMER)
_BLOCKED = int(AccountStatus.BLOCKED)
_FLAGGED = int(AccountStatus.FLAGGED)
#: Draw site of the identity check's uniforms (one per friend checked, on the day the referral earns).
_SITE_IDENTITY_CHECK = 0


class _Terms(NamedTuple):
    """The programme's and the sign-up checks' terms as the day's kernel reads them.

    Optional limits are given as a flag plus a value (the value is unused when the flag is off).
    """

    referrer_side: bool  # who ∈ {referrer, both}
    friend_side: bool  # who ∈ {friend, both}
    amount_referrer: float
    amount_friend: float
    amount_employee: float
    share_of_first_order: float
    personal_min: float
    personal_max: float
    p_identity_detect: float
    p_identity_false_positive: float
    velocity_limit: bool
    max_referrals_per_day: int
    lifetime_limit: bool
    max_rewarded_referrals: int
    penalise: bool  # rel_share_after_denial < 1
    rel_share_after_denial: np.float32
    days_holding: int
    clawback: bool
    days_clawback_window: int
    active_check: bool  # trigger active_after_days with days_active_required > 0
    days_active_required: int
    cap: bool
    cap_per_referrer: float
    cap_period: bool
    cap_per_referrer_period: float
    cost_factor: float
    employee_factor: float
    reversible: bool
    employee_reversible: bool
    keep_paid: bool  # a clawback window or a late detection can still take a payment back
    late_detection: bool


@kernel
def _block_sum(values: np.ndarray, start: int, n: int) -> float:
    """NumPy's sum of one block of at most 128 float64 entries: eight running partial sums."""
    if n < 8:
        total = -0.0
        for i in range(start, start + n):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[start], values[start + 1], values[start + 2], values[start + 3]
    r4, r5, r6, r7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
    i = 8
    whole = n - n % 8
    while i < whole:
        j = start + i
        r0 += values[j]
        r1 += values[j + 1]
        r2 += values[j + 2]
        r3 += values[j + 3]
        r4 += values[j + 4]
        r5 += values[j + 5]
        r6 += values[j + 6]
        r7 += values[j + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += values[start + i]
        i += 1
    return total


@kernel
def _pairwise_sum(values: np.ndarray, start: int, n: int) -> float:
    """``values[start:start + n].sum()`` added exactly as NumPy adds a float64 array (pairwise).

    NumPy sums blocks of up to 128 entries with eight running partial sums (:func:`_block_sum`)
    and splits a longer run in two (the first half rounded down to a multiple of 8), adding the
    halves' sums; copying that keeps a total bit-identical to ``ndarray.sum()``. The splitting is
    walked with an explicit stack (numba's cached functions must not recurse).
    """
    if n <= 128:
        return _block_sum(values, start, n)
    starts = np.empty(64, dtype=np.int64)  # runs halve, so the stack is at most ~log2(n) deep
    sizes = np.empty(64, dtype=np.int64)
    phase = np.empty(64, dtype=np.int64)  # 0: left half next, 1: right half next, 2: add them
    sums = np.empty(64)
    starts[0], sizes[0], phase[0] = start, n, 0
    top = 0
    n_sums = 0
    while top >= 0:
        size = sizes[top]
        if size <= 128:
            sums[n_sums] = _block_sum(values, starts[top], size)
            n_sums += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        if phase[top] == 0:
            phase[top] = 1
            starts[top + 1], sizes[top + 1], phase[top + 1] = starts[top], half, 0
            top += 1
        elif phase[top] == 1:
            phase[top] = 2
            starts[top + 1], sizes[top + 1], phase[top + 1] = starts[top] + half, size - half, 0
            top += 1
        else:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
            top -= 1
    return sums[0]


@kernel
def _sum(values: np.ndarray) -> float:
    """``float(values.sum())`` for a 1-D float64 array, bit-identical to NumPy's."""
    if values.size == 0:
        return 0.0
    return _pairwise_sum(values, 0, values.size)


@kernel
def _move_column(table_int: np.ndarray, table_float: np.ndarray, source: int, target: int) -> None:
    """Copy a book's entry from column ``source`` to column ``target`` (both tables)."""
    for row in range(table_int.shape[0]):
        table_int[row, target] = table_int[row, source]
    for row in range(table_float.shape[0]):
        table_float[row, target] = table_float[row, source]


@kernel
def _grouped_sum_before(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Compiled :func:`_grouped_cumsum_before`, with the same float operations in the same order."""
    n = groups.size
    before = np.zeros(n)
    if n < 2:
        return before
    order = stable_order(groups)
    inclusive = np.empty(n)
    running = 0.0
    for k in range(n):
        running += values[order[k]]
        inclusive[k] = running
    start = 0
    for k in range(n):
        if k > 0 and groups[order[k]] != groups[order[k - 1]]:
            start = k
        v = values[order[k]]
        before[order[k]] = inclusive[k] - v - (inclusive[start] - values[order[start]])
    return before


@kernel
def _scan_people(
    n_real: int,
    stage: np.ndarray,
    referrer: np.ndarray,
    acquired_via: np.ndarray,
    day_trigger: np.ndarray,
    trigger_day: int,
    set_churn: bool,
    rel_churn_referrer_active: float,
    rel_churn_referred: np.ndarray,
    friends: np.ndarray,
) -> tuple[np.ndarray, int]:
    """One pass over everybody: the referred churn multiplier and today's referrals.

    The friends whose referral earns a reward today are those acquired via sharing, with a
    referrer, and ``day_trigger`` (day of first sign-up or of first order) equal to ``trigger_day``.
    With ``set_churn``, a real referred customer whose referrer is a customer gets
    ``rel_churn_referred = rel_churn_referrer_active``, every other real person 1.

    Args are population columns (length n); ``friends`` (int64, any length) receives the friends
    (ascending ids) and is replaced by one twice as long whenever it is full, so it stays sized by
    the most referrals a day has brought.

    Returns:
        The friends' buffer (``friends`` or its replacement) and the number of friends written.
    """
    found = 0
    for i in range(stage.size):
        r = referrer[i]
        if set_churn and i < n_real:
            active = r != NEVER and stage[i] == _CUSTOMER and stage[r] == _CUSTOMER
            rel = np.float32(rel_churn_referrer_active) if active else np.float32(1.0)
            if rel_churn_referred[i] != rel:  # most stay as they were: reading is cheaper than writing
                rel_churn_referred[i] = rel
        if day_trigger[i] == trigger_day and acquired_via[i] == _SHARING and r != NEVER:
            if found == friends.size:
                grown = np.empty(max(64, 2 * friends.size), dtype=np.int64)
                grown[:found] = friends
                friends = grown
            friends[found] = i
            found += 1
    return friends, found


@kernel
def _fraudulent(fraud_kind: np.ndarray, friend: int, referrer: int) -> bool:
    """A fraudulent referral: the friend is a fake account or coupon farmer, or a fake referred.

    An attacker's own real account referring a real friend is an honest referral.
    """
    kind = int(fraud_kind[friend])
    return kind in (_FAKE_ACCOUNT, _COUPON_FARMER) or int(fraud_kind[referrer]) == _FAKE_ACCOUNT


@kernel
def _detected(account_status: np.ndarray, friend: int, referrer: int) -> bool:
    """Either account was flagged or blocked: held rewards and reversible paid ones are lost."""
    return int(account_status[friend]) in (_BLOCKED, _FLAGGED) or int(account_status[referrer]) in (
        _BLOCKED,
        _FLAGGED,
    )


@kernel
def _churned_within(day_churned: np.ndarray, friend: int, earned: int, days: int) -> bool:
    """Whether the friend churned on or after day ``earned`` and within ``days`` days of it."""
    churned = int(day_churned[friend])
    return churned != NEVER and earned <= churned <= earned + days


@kernel
def _deny(
    friends: np.ndarray,
    referrers: np.ndarray,
    denied: np.ndarray,
    fraud_kind: np.ndarray,
    n_rewards_denied: np.ndarray,
    rel_share: np.ndarray,
    penalty: np.ndarray,
    terms: _Terms,
) -> tuple[int, int]:
    """Record the denied rewards (``denied``) among referrals (``friends[k]``, ``referrers[k]``).

    Each honest one counts against its referrer, who then shares less: a referrer denied k times
    has ``rel_share`` × ``rel_share_after_denial``^k (float32,
    multiplied up first, as the array version's ``multiply.at`` into a row of ones did).
    ``penalty`` is a length-n float32 scratch row of ones, left all ones.

    Returns:
        (honest referrals denied, fraudulent referrals denied).
    """
    n_honest = 0
    n_fraud = 0
    for k in range(denied.size):
        if not denied[k]:
            continue
        r = referrers[k]
        if _fraudulent(fraud_kind, friends[k], r):
            n_fraud += 1
            continue
        n_honest += 1
        n_rewards_denied[r] += 1
        if terms.penalise:
            penalty[r] *= terms.rel_share_after_denial
    if terms.penalise:
        for k in range(denied.size):
            r = referrers[k]
            if denied[k] and penalty[r] != 1.0:
                rel_share[r] *= penalty[r]
                penalty[r] = 1.0
    return n_honest, n_fraud


@kernel
def _programme_day(
    day: int,
    allowance: float,
    mean_spend: float,
    friends: np.ndarray,
    check_key: np.uint64,
    referrer: np.ndarray,
    role: np.ndarray,
    fraud_kind: np.ndarray,
    account_status: np.ndarray,
    day_churned: np.ndarray,
    order_value: np.ndarray,
    revenue: np.ndarray,
    reward_paid: np.ndarray,
    n_rewards_denied: np.ndarray,
    rel_share: np.ndarray,
    n_rewarded: np.ndarray,
    in_period: np.ndarray,
    pending_int: np.ndarray,
    pending_float: np.ndarray,
    n_pending: int,
    paid_int: np.ndarray,
    paid_float: np.ndarray,
    n_paid: int,
    paid_referrers: np.ndarray,
    paid_amounts: np.ndarray,
    penalty: np.ndarray,
    count: np.ndarray,
    terms: _Terms,
) -> tuple[int, int, int, int, int, int, int, float, float, float, float, float, float]:
    """The programme's day after the scan: take back, earn, settle held rewards, pay what is due.

    In the order and with the float operations of the array version: (1) a paid reversible reward
    is recovered when either account is flagged or blocked, else clawed back when the friend churned
    within the clawback window; (2) today's ``friends`` earn their rewards, subject to the identity
    check (the friend's counter-based uniform under ``check_key``, from
    :func:`sim.engine.counter.draw_key`, below p: blocked; computed only where p > 0), the
    velocity limit and the per-referrer limit (denials feed :func:`_deny`); (3) a held reward is
    cancelled when an account is detected (denied) or the friend churned too soon; (4) due rewards
    are cut to the referrer caps and paid oldest first while the cumulative cost stays within
    ``allowance`` (currency; ``inf`` without a budget).

    The books are tables with one column per entry (rows ``P_*``/``Q_*``), their first
    ``n_pending``/``n_paid`` columns in use; they are compacted in place and must have room for
    today's new entries (``n_pending + friends.size`` and ``n_paid + n_pending + friends.size``).
    ``in_period`` (length n, or empty without a period cap) is each referrer's referrer-side pay
    within the cap period; ``paid_referrers``/``paid_amounts`` receive who was paid what today
    (referrer side, for that period's history). ``penalty`` (float32 ones) and ``count`` (int32
    zeros) are length-n scratch rows, left as they came. Totals are summed as NumPy sums.

    Returns:
        Counts: (pending entries, paid-book entries, rewards paid today, paid rewards taken back,
        honest referrals denied, fraudulent referrals denied, friends who earned a reward before the
        checks); then currency: (recovered, clawed back, rewards earned after the checks, cost paid,
        of it to employees, of it for fraudulent referrals).
    """
    recovered = 0.0
    clawed_back = 0.0
    n_reversed = 0
    # (1) Take back paid reversible rewards.
    if n_paid > 0:
        reversed_ = np.zeros(n_paid, dtype=np.bool_)
        drop = np.zeros(n_paid, dtype=np.bool_)
        detected_cost = np.empty(n_paid)
        clawed_cost = np.empty(n_paid)
        n_detected = 0
        n_clawed = 0
        n_expired = 0
        for k in range(n_paid):
            f, r, earned = paid_int[Q_FRIEND, k], paid_int[Q_REFERRER, k], paid_int[Q_EARNED, k]
            if _detected(account_status, f, r):
                reversed_[k] = True
                detected_cost[n_detected] = paid_float[Q_COST, k]
                n_detected += 1
            elif terms.clawback and _churned_within(day_churned, f, earned, terms.days_clawback_window):
                reversed_[k] = True
                clawed_cost[n_clawed] = paid_float[Q_COST, k]
                n_clawed += 1
            if not terms.late_detection and terms.clawback and earned + terms.days_clawback_window < day:
                drop[k] = True  # past its window: can no longer be taken back
                n_expired += 1
        n_reversed = n_detected + n_clawed
        if n_reversed > 0:
            recovered = _pairwise_sum(detected_cost, 0, n_detected) if n_detected else 0.0
            clawed_back = _pairwise_sum(clawed_cost, 0, n_clawed) if n_clawed else 0.0
            for k in range(n_paid):
                if reversed_[k]:
                    reward_paid[paid_int[Q_REFERRER, k]] -= paid_float[Q_FACE_REFERRER, k]
            for k in range(n_paid):
                if reversed_[k]:
                    r = paid_int[Q_REFERRER, k]
                    if reward_paid[r] < 0.0:
                        reward_paid[r] = 0.0  # no rounding below zero
        if n_reversed > 0 or n_expired > 0:
            kept = 0
            for k in range(n_paid):
                if not (reversed_[k] or drop[k]):
                    _move_column(paid_int, paid_float, k, kept)
                    kept += 1
            n_paid = kept

    # (2) Earn today's rewards.
    n_honest_denied = 0
    n_fraud_denied = 0
    rewards_earned = 0.0
    m = 0
    n_friends = friends.size
    if n_friends > 0:
        amount_r = np.empty(n_friends)
        amount_f = np.empty(n_friends)
        who = np.empty(n_friends, dtype=np.int64)
        friend = np.empty(n_friends, dtype=np.int64)
        employee = np.empty(n_friends, dtype=np.bool_)
        m = 0
        for k in range(n_friends):
            f = friends[k]
            r = np.int64(referrer[f])
            on_order = terms.share_of_first_order * np.float64(order_value[f])
            a_friend = terms.amount_friend + on_order if terms.friend_side else 0.0
            is_employee = role[r] == _EMPLOYEE
            a_referrer = 0.0
            if terms.referrer_side:
                multiplier = 1.0
                if mean_spend > 0:
                    multiplier = min(max(revenue[r] / mean_spend, terms.personal_min), terms.personal_max)
                a_referrer = terms.amount_referrer * multiplier + on_order
            if is_employee:
                a_referrer = terms.amount_employee
            if a_referrer + a_friend > 0:
                amount_r[m], amount_f[m], who[m], friend[m] = a_referrer, a_friend, r, f
                employee[m] = is_employee
                m += 1
        if m > 0:
            # Sign-up checks: identity match, then the velocity and per-referrer limits.
            denied = np.zeros(m, dtype=np.bool_)
            for k in range(m):
                p_flag = (
                    terms.p_identity_detect if role[friend[k]] == _FAKE else terms.p_identity_false_positive
                )
                if p_flag > 0.0 and uniform(check_key, friend[k]) < p_flag:
                    denied[k] = True
                    account_status[friend[k]] = _BLOCKED
            if terms.velocity_limit:
                for k in range(m):
                    if not denied[k]:
                        rank = count[who[k]]
                        count[who[k]] += 1
                        if rank >= terms.max_referrals_per_day:
                            denied[k] = True
                for k in range(m):
                    count[who[k]] = 0
            if terms.lifetime_limit:
                for k in range(m):
                    if not denied[k]:
                        rank = np.int64(n_rewarded[who[k]]) + count[who[k]]
                        count[who[k]] += 1
                        if rank >= terms.max_rewarded_referrals:
                            denied[k] = True
                for k in range(m):
                    count[who[k]] = 0
            n_denied = 0
            for k in range(m):
                if denied[k]:
                    n_denied += 1
            if n_denied > 0:
                honest, fraud = _deny(
                    friend[:m],
                    who[:m],
                    denied,
                    fraud_kind,
                    n_rewards_denied,
                    rel_share,
                    penalty,
                    terms,
                )
                n_honest_denied += honest
                n_fraud_denied += fraud
            earned_amounts = np.empty(m - n_denied)
            j = 0
            for k in range(m):
                if denied[k]:
                    continue
                n_rewarded[who[k]] += 1
                earned_amounts[j] = amount_r[k] + amount_f[k]
                j += 1
                c = n_pending
                pending_int[P_FRIEND, c] = friend[k]
                pending_int[P_REFERRER, c] = who[k]
                pending_int[P_EMPLOYEE, c] = employee[k]
                pending_int[P_EARNED, c] = day
                pending_int[P_DUE, c] = day + terms.days_holding
                pending_float[P_AMOUNT_REFERRER, c] = amount_r[k]
                pending_float[P_AMOUNT_FRIEND, c] = amount_f[k]
                n_pending += 1
            rewards_earned = _sum(earned_amounts)

    # (3) Settle held rewards: cancel those of detected accounts and of friends who churned too soon.
    if n_pending > 0:
        cancelled = np.zeros(n_pending, dtype=np.bool_)
        detected = np.zeros(n_pending, dtype=np.bool_)
        n_detected = 0
        n_cancelled = 0
        for k in range(n_pending):
            f, r, earned = pending_int[P_FRIEND, k], pending_int[P_REFERRER, k], pending_int[P_EARNED, k]
            if _detected(account_status, f, r):
                detected[k] = True
                n_detected += 1
                cancelled[k] = True
            if terms.clawback and _churned_within(day_churned, f, earned, terms.days_clawback_window):
                cancelled[k] = True
            if terms.active_check and _churned_within(day_churned, f, earned, terms.days_active_required - 1):
                cancelled[k] = True
            if cancelled[k]:
                n_cancelled += 1
        if n_detected > 0:
            honest, fraud = _deny(
                pending_int[P_FRIEND, :n_pending],
                pending_int[P_REFERRER, :n_pending],
                detected,
                fraud_kind,
                n_rewards_denied,
                rel_share,
                penalty,
                terms,
            )
            n_honest_denied += honest
            n_fraud_denied += fraud
        if n_cancelled > 0:
            kept = 0
            for k in range(n_pending):
                if not cancelled[k]:
                    _move_column(pending_int, pending_float, k, kept)
                    kept += 1
            n_pending = kept

    # (4) Pay what is due, oldest first (the book is in the order rewards were earned).
    n_due = 0
    for k in range(n_pending):
        if pending_int[P_DUE, k] <= day:
            n_due += 1
    n_items = 0
    total = 0.0
    employee_cost = 0.0
    fraud_cost = 0.0
    if n_due > 0:
        due = np.empty(n_due, dtype=np.int64)
        j = 0
        for k in range(n_pending):
            if pending_int[P_DUE, k] <= day:
                due[j] = k
                j += 1
        who = np.empty(n_due, dtype=np.int64)
        amount_r = np.empty(n_due)
        for k in range(n_due):
            who[k] = pending_int[P_REFERRER, due[k]]
            amount_r[k] = pending_float[P_AMOUNT_REFERRER, due[k]]
        # Caps on what one referrer is paid: for life, and within a rolling period.
        before = _grouped_sum_before(who, amount_r)
        if terms.cap:
            for k in range(n_due):
                room = max(0.0, terms.cap_per_referrer - reward_paid[who[k]] - before[k])
                amount_r[k] = min(amount_r[k], room)
            before = _grouped_sum_before(who, amount_r)
        if terms.cap_period:
            for k in range(n_due):
                room = max(0.0, terms.cap_per_referrer_period - in_period[who[k]] - before[k])
                amount_r[k] = min(amount_r[k], room)
        cost_r = np.empty(n_due)
        cost_f = np.empty(n_due)
        cost = np.empty(n_due)
        paid = np.zeros(n_due, dtype=np.bool_)
        running = 0.0
        for k in range(n_due):
            column = due[k]
            is_employee = pending_int[P_EMPLOYEE, column] != 0
            cost_r[k] = amount_r[k] * (terms.employee_factor if is_employee else terms.cost_factor)
            cost_f[k] = pending_float[P_AMOUNT_FRIEND, column] * terms.cost_factor
            cost[k] = cost_r[k] + cost_f[k]
            running += cost[k]
            if running <= allowance + 1e-9:
                paid[k] = True
                n_items += 1
        if n_items > 0:
            paid_cost = np.empty(n_items)
            paid_employee = np.empty(n_items)
            paid_fraud = np.empty(n_items)
            n_employee = 0
            n_fraud = 0
            j = 0
            for k in range(n_due):
                if not paid[k]:
                    continue
                column = due[k]
                f, r = pending_int[P_FRIEND, column], pending_int[P_REFERRER, column]
                is_employee = pending_int[P_EMPLOYEE, column] != 0
                reward_paid[r] += amount_r[k]
                paid_referrers[j] = r
                paid_amounts[j] = amount_r[k]
                paid_cost[j] = cost[k]
                j += 1
                if is_employee:
                    paid_employee[n_employee] = cost_r[k]
                    n_employee += 1
                if _fraudulent(fraud_kind, f, r):
                    paid_fraud[n_fraud] = cost[k]
                    n_fraud += 1
                if not terms.keep_paid:
                    continue  # nothing could ever take it back
                reversible_r = terms.employee_reversible if is_employee else terms.reversible
                reversible_cost = cost_r[k] if reversible_r else 0.0
                if terms.reversible:
                    reversible_cost = reversible_cost + cost_f[k]
                if reversible_cost > 0:
                    paid_int[Q_FRIEND, n_paid] = f
                    paid_int[Q_REFERRER, n_paid] = r
                    paid_int[Q_EARNED, n_paid] = pending_int[P_EARNED, column]
                    paid_float[Q_FACE_REFERRER, n_paid] = amount_r[k] if reversible_r else 0.0
                    paid_float[Q_COST, n_paid] = reversible_cost
                    n_paid += 1
            total = _sum(paid_cost)
            employee_cost = _pairwise_sum(paid_employee, 0, n_employee) if n_employee else 0.0
            fraud_cost = _pairwise_sum(paid_fraud, 0, n_fraud) if n_fraud else 0.0
            kept = 0
            j = 0
            for k in range(n_pending):
                if j < n_due and due[j] == k:
                    settled = paid[j]
                    j += 1
                    if settled:
                        continue
                _move_column(pending_int, pending_float, k, kept)
                kept += 1
            n_pending = kept
    return (
        n_pending,
        n_paid,
        n_items,
        n_reversed,
        n_honest_denied,
        n_fraud_denied,
        m,
        recovered,
        clawed_back,
        rewards_earned,
        total,
        employee_cost,
        fraud_cost,
    )


def _grown(table: np.ndarray, columns: int) -> np.ndarray:
    """A copy of ``table`` with room for at least ``columns`` columns (at least twice as many)."""
    grown = np.zeros((table.shape[0], max(columns, 2 * table.shape[1])), dtype=table.dtype)
    grown[:, : table.shape[1]] = table
    return grown


def _weak_tie_centre(graph: SocialGraph, n_real: int) -> float:
    """The typical tie strength s̄ over the real people, or without strengths their mean degree d̄.

    (d̄ is the integer sum of degrees over n: exactly the mean of the degrees as floats.)
    """
    strength = graph.mean_tie_strength
    if strength is not None:
        s = strength[:n_real]
        known = np.isfinite(s)
        return float(s[known].mean()) if known.any() else 1.0
    return max(float(graph.degree[:n_real].sum()) / max(n_real, 1), 1e-12)


def _weak_tie_factor(
    graph: SocialGraph, n_real: int, emphasis: float, start: int = 0, stop: int | None = None
) -> np.ndarray:
    """How much more a reward moves each real person's sharing because their ties are weak.

    With tie strengths from a graph file, a person's ties are as weak as their mean strength s is
    low against the mean over all people s̄: the factor is ``1 − e + 2e·s̄/(s + s̄)``. Without them,
    a person with many friends is taken to have weaker ties (degree d against the mean d̄):
    ``1 − e + 2e·d/(d + d̄)``. Either way the factor is 1 for the typical person, between 1 − e and
    1 + e, for e = ``weak_tie_emphasis``. For the real people ``start … stop − 1`` (float64).
    """
    stop = n_real if stop is None else stop
    centre = _weak_tie_centre(graph, n_real)
    strength = graph.mean_tie_strength
    if strength is not None:
        s = strength[start:stop]
        known = np.isfinite(s)
        weakness = np.where(known, centre / (np.where(known, s, centre) + centre), 0.5)
    else:
        degree = graph.degree[start:stop].astype(np.float64)
        weakness = degree / (degree + centre)
    return 1.0 - emphasis + 2.0 * emphasis * weakness


#: People per slice of the programme's first-day pass (its temporaries stay small at any size).
_SLICE = 1 << 16


class Incentives(Rule):
    """Referral rewards: earned on a trigger, held, paid within caps, budget and pace, and taken back.

    *Earning.* With ``trigger: sign_up`` a reward is earned the day a friend first signs up through a
    share (``referrer`` set); with ``first_purchase`` the day after the friend's first order (many
    sign-ups never order: ``customers.p_first_order``, and a share of coupon farmers never do:
    ``fraud.share_farmers_never_buy``); with ``active_after_days`` as with ``first_purchase``, but it
    is paid only if the friend is still active ``days_active_required`` days later. The referrer earns
    ``amount_referrer`` (× the personalised multiplier) and/or the friend ``amount_friend``, each plus
    ``share_of_first_order`` of the friend's order value; a referrer who is an employee
    (``Role.EMPLOYEE``) earns ``amount_employee`` instead, paid as ``employee_kind``.

    *Checks* (``defences`` section) run when a reward is earned: the identity match denies (and
    blocks) a fake account with ``p_identity_detect`` and an honest friend with
    ``p_identity_false_positive``; the velocity and per-referrer limits deny referrals beyond them.
    Each honest referral denied multiplies its referrer's share rate by ``rel_share_after_denial``.

    *Paying.* Earned rewards are held ``days_holding`` days. A held reward is cancelled as soon as
    either account is flagged or blocked (counted as denied), or, with a clawback window, the friend
    churns within ``days_clawback_window`` days of earning it (trigger ``active_after_days``: churns
    before ``days_active_required``). On the due day the referrer side is cut to the life and
    rolling-period caps; rewards are paid oldest first while the budget and the pace allow (every
    reward counts, employees' included: cumulative cost ≤ budget and ≤ plan × (1 + tolerance), plan
    = budget × day / days); the rest wait.

    *Taking back.* A paid reversible reward (store credit, points; cash is not) is reversed when the
    friend churns within the clawback window (clawed back), or whenever either account is later
    flagged or blocked (recovered). Both are booked as money in (ledger ``sharing/clawback`` and
    ``sharing/recovered``) and lower the net marketing spend.

    Cost to the firm: cash at face value, store credit at face × (1 − gross margin), points at face
    × ``points_cost_share``; booked on ledger channel ``sharing`` (``incentive_rewards``,
    ``employee_rewards``).

    *Behaviour* (set once on the first day, from the offer): each real person's share rate is × (1 +
    uplift), uplift = ``share_uplift_max`` × (1 − e^(−R/reward_scale)) × weak-tie factor, with R the
    reward on offer to them (both sides; for employees the friend's plus ``amount_employee``); the
    roles rule applies the same column to employees' job shares. A friend's conversion is × (1 +
    pull·g·(1 − v/v̄)); a referred customer's churn hazard is × ``rel_churn_referrer_active`` while
    their referrer is a customer.
    """

    name = "incentives"
    phase = Phase.INCENTIVES
    section = "incentives"
    reads: ClassVar[frozenset[str]] = frozenset(
        {
            "stage",
            "role",
            "acquired_via",
            "first_channel",
            "day_first_acquired",
            "day_first_order",
            "day_churned",
            "referrer",
            "revenue",
            "order_value",
            "rate_purchase",
            "fraud_kind",
            "account_status",
            "reward_paid",
        }
    )
    writes: ClassVar[frozenset[str]] = frozenset(
        {
            "account_status",
            "reward_paid",
            "n_rewards_denied",
            "rel_share",
            "rel_referred_convert",
            "rel_churn_referred",
        }
    )
    zero_intensity: ClassVar[dict[str, object]] = {"incentives.enabled": False}
    budgets: ClassVar[dict[str, Budget]] = {
        "incentives.budget": Budget(LEDGER_CHANNEL, ("incentive_rewards", "employee_rewards"), "run")
    }
    step_columns: ClassVar[tuple[str, ...]] = (
        "rewards_earned",
        "rewards_paid",
        "rewards_paid_fraud",
        "employee_rewards_paid",
        "rewards_clawed_back",
        "rewards_recovered",
        "rewards_denied_honest",
        "rewards_denied_fraud",
        "programme_spend_cumulative",
        "programme_plan_cumulative",
    )
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "rewards_paid": MetricInfo(
            "currency", "Referral programme cost paid (referrer, friend and employee rewards).", False
        ),
        "rewards_paid_honest": MetricInfo("currency", "Programme cost paid for honest referrals."),
        "rewards_paid_fraud": MetricInfo(
            "currency", "Programme cost paid for fraudulent referrals (fake accounts, coupon farmers).", False
        ),
        "rewards_clawed_back": MetricInfo(
            "currency", "Paid reversible rewards reversed because the friend churned inside the window."
        ),
        "rewards_recovered": MetricInfo(
            "currency", "Paid reversible rewards reversed because a defence flagged or blocked an account."
        ),
        "rewards_denied_honest": MetricInfo(
            "referrals", "Honest referrals whose reward a defence denied (false positives).", False
        ),
        "referrals_rewarded": MetricInfo("referrals", "Referrals whose reward was paid."),
        "referral_cac": MetricInfo(
            "currency per customer",
            "Net referral spend (rewards, fraud paid included, less what was clawed back or recovered) / "
            "honest first-time buyers acquired via sharing: coupon farmers and fake accounts are not "
            "counted, so under an attack this is what each honest referred customer cost. Not the CAC "
            "of sharing (the CAC-by-channel bar), which divides gross sharing spend by everyone "
            "acquired via sharing, won back and coupon farmers who ordered included.",
            False,
        ),
        "referral_cac_without_fraud": MetricInfo(
            "currency per customer",
            "Programme rewards for honest referrals / honest first-time buyers acquired via sharing.",
            False,
        ),
        "programme_roi": MetricInfo(
            "ratio", "(Gross margin of referred real customers − net programme cost) / net programme cost."
        ),
        "budget_used": MetricInfo("share", "Programme spend / programme budget (NaN without a budget)."),
        "employee_rewards_paid": MetricInfo(
            "currency", "Cost of the rewards paid to employees for referrals.", False
        ),
    }

    params: IncentivesSpec

    # ------------------------------------------------------------------------------- setup

    def setup(self, model: Market) -> None:
        """Pending and paid books, cost factors and the behavioural multipliers' flag."""
        spec = self.params
        self._defences: DefencesSpec = self.scenario.defences
        # The books: pending (earned, not yet paid or cancelled) and paid rewards that can still be
        # taken back (reversible kinds only), one column per entry, in the order they were earned.
        self._pending_int = np.zeros((5, 64), dtype=np.int64)
        self._pending_float = np.zeros((2, 64))
        self._n_pending = 0
        self._paid_int = np.zeros((3, 64), dtype=np.int64)
        self._paid_float = np.zeros((2, 64))
        self._n_paid_book = 0
        n = model.population.n
        # The identity check's uniforms: counter-based, computed only for the friends it checks.
        self._key = stream_key(self.rng)
        # Day scratch: today's friends (grown by the scan as needed), who was paid what, and rows
        # the kernels leave as they found them (ones, zeros).
        self._friends = np.zeros(64, dtype=np.int64)
        self._paid_referrers = np.zeros(64, dtype=np.int64)
        self._paid_amounts = np.zeros(64)
        self._penalty = np.ones(n, dtype=np.float32)
        self._count = np.zeros(n, dtype=np.int32)
        self._no_period = np.zeros(0)
        self._spent = 0.0
        self._n_paid = 0
        # The budget: a number is the horizon's total; a schedule releases money day by day, and the
        # money released so far is both a cap and the pacing plan.
        budget = spec.budget
        self._budget_total: float | None = None
        self._released: np.ndarray | None = None
        if isinstance(budget, Schedule):
            self._released = np.cumsum(daily_values(budget, self.scenario.days))
            self._released -= self._released[0]  # day 0 releases nothing
            self._budget_total = float(self._released[-1])
        elif budget is not None:
            self._budget_total = float(budget)
        self._n_rewarded = np.zeros(model.population.n, dtype=np.int32)
        self._history_referrer: list[np.ndarray] = []
        self._history_amount: list[np.ndarray] = []
        self._history_day: list[int] = []
        margin = self.scenario.economics.gross_margin
        factors = {"cash": 1.0, "store_credit": 1.0 - margin, "points": spec.points_cost_share}
        self._cost_factor = factors[spec.kind]
        self._employee_factor = factors[spec.employee_kind]
        self._reversible = spec.kind in REVERSIBLE_KINDS
        self._employee_reversible = spec.employee_kind in REVERSIBLE_KINDS
        # Without defences that flag or block accounts a paid reward can be taken back only inside
        # the clawback window, so the paid book keeps entries no longer than that.
        defences = self._defences
        self._late_detection = bool(
            defences.ring_detection
            or defences.p_identity_detect > 0
            or defences.p_identity_false_positive > 0
        )
        self._terms = _Terms(
            referrer_side=spec.who in ("referrer", "both"),
            friend_side=spec.who in ("friend", "both"),
            amount_referrer=float(spec.amount_referrer),
            amount_friend=float(spec.amount_friend),
            amount_employee=float(spec.amount_employee),
            share_of_first_order=float(spec.share_of_first_order),
            personal_min=float(spec.personal_min),
            personal_max=float(spec.personal_max),
            p_identity_detect=float(defences.p_identity_detect),
            p_identity_false_positive=float(defences.p_identity_false_positive),
            velocity_limit=defences.max_referrals_per_day is not None,
            max_referrals_per_day=int(defences.max_referrals_per_day or 0),
            lifetime_limit=defences.max_rewarded_referrals is not None,
            max_rewarded_referrals=int(defences.max_rewarded_referrals or 0),
            penalise=defences.rel_share_after_denial < 1.0,
            rel_share_after_denial=np.float32(defences.rel_share_after_denial),
            days_holding=int(spec.days_holding),
            clawback=spec.days_clawback_window is not None,
            days_clawback_window=int(spec.days_clawback_window or 0),
            active_check=spec.trigger == "active_after_days" and spec.days_active_required > 0,
            days_active_required=int(spec.days_active_required),
            cap=spec.cap_per_referrer is not None,
            cap_per_referrer=float(spec.cap_per_referrer or 0.0),
            cap_period=spec.cap_per_referrer_period is not None,
            cap_per_referrer_period=float(spec.cap_per_referrer_period or 0.0),
            cost_factor=float(self._cost_factor),
            employee_factor=float(self._employee_factor),
            reversible=self._reversible,
            employee_reversible=self._employee_reversible,
            keep_paid=spec.days_clawback_window is not None or self._late_detection,
            late_detection=self._late_detection,
        )
        # Behaviour is set on the first day, after every rule's setup: roles (employees) are assigned
        # by another rule's setup, and the order of setups is not this rule's business.
        self._behaviour_set = False

    def _mean_spend(self, model: Market) -> float:
        """Mean lifetime spend of real people who ever ordered (currency; 0 when nobody has).

        The personalised multiplier is a referrer's spend over this, clipped to the personal limits.
        """
        pop = model.real_population()
        ever = pop.n_orders > 0
        return float(pop.revenue[ever].mean()) if ever.any() else 0.0

    def _set_behaviour(self, model: Market) -> None:
        spec = self.params
        pop = model.population
        n_real = model.n_real
        mean_value = float(pop.order_value[:n_real].mean())
        on_order = spec.share_of_first_order * mean_value
        referrer_side = spec.who in ("referrer", "both")
        friend_side = spec.who in ("friend", "both")
        friend_reward = (spec.amount_friend + on_order) if friend_side else 0.0
        if spec.share_uplift_max > 0:
            # Slice by slice (the same elementwise operations): no full-length temporaries.
            expected = mean_expected = None
            if referrer_side and spec.personalised:
                # Expected spend (order value × orders a year) stands in for spend history here.
                expected = pop.order_value[:n_real].astype(np.float64) * pop.rate_purchase[:n_real] * 365
                mean_expected = max(float(expected.mean()), 1e-12)
            rewards = [self._reward_slice(pop, start, min(start + _SLICE, n_real), friend_reward, on_order,
                                          expected, mean_expected)
                       for start in range(0, n_real, _SLICE)]  # fmt: skip
            if any(bool(np.any(reward > 0)) for reward in rewards):
                for reward, start in zip(rewards, range(0, n_real, _SLICE), strict=True):
                    stop = start + reward.size
                    weak_tie = _weak_tie_factor(model.graph, n_real, spec.weak_tie_emphasis, start, stop)
                    uplift = spec.share_uplift_max * -np.expm1(-reward / spec.reward_scale) * weak_tie
                    pop.rel_share[start:stop] = (1.0 + uplift).astype(np.float32)
        if spec.low_value_pull > 0 and friend_reward > 0:
            g = -np.expm1(-friend_reward / spec.reward_scale)
            for start in range(0, n_real, _SLICE):
                stop = min(start + _SLICE, n_real)
                value = pop.order_value[start:stop].astype(np.float64) / max(mean_value, 1e-12)
                pull = np.maximum(0.0, 1.0 + spec.low_value_pull * g * (1.0 - value))
                pop.rel_referred_convert[start:stop] = pull.astype(np.float32)

    def _reward_slice(
        self,
        pop: Population,
        start: int,
        stop: int,
        friend_reward: float,
        on_order: float,
        expected: np.ndarray | None,
        mean_expected: float | None,
    ) -> np.ndarray:
        """Each of the real people ``start … stop − 1``'s reward for a referral (currency, float64)."""
        spec = self.params
        reward = np.full(stop - start, friend_reward)
        if spec.who in ("referrer", "both"):
            if expected is not None and mean_expected is not None:
                multiplier = np.clip(
                    expected[start:stop] / mean_expected, spec.personal_min, spec.personal_max
                )
            else:
                multiplier = np.ones(stop - start)
            reward += spec.amount_referrer * multiplier + on_order
        employees = pop.role[start:stop] == Role.EMPLOYEE
        reward[employees] = friend_reward + spec.amount_employee
        return reward

    # -------------------------------------------------------------------------------- step

    def step(self, model: Market) -> None:
        """Take back what clawback and detection can, earn today's rewards, and pay what is due."""
        spec = self.params
        if not spec.enabled:
            return  # the programme is off for the whole run: no draws needed
        pop = model.population
        day = model.day
        if not self._behaviour_set:
            self._set_behaviour(model)
            self._behaviour_set = True
        terms = self._terms
        sign_up = spec.trigger == "sign_up"
        # The programme sees an order in the next day's books (purchases run after incentives).
        self._friends, n_friends = _scan_people(
            model.n_real,
            pop.stage,
            pop.referrer,
            pop.acquired_via,
            pop.day_first_acquired if sign_up else pop.day_first_order,
            day if sign_up else day - 1,
            spec.rel_churn_referrer_active != 1.0,
            float(spec.rel_churn_referrer_active),
            pop.rel_churn_referred,
            self._friends,
        )
        self._make_room(n_friends)
        mean_spend = 0.0
        if spec.personalised and terms.referrer_side and n_friends:
            mean_spend = self._mean_spend(model)
        in_period = self._no_period
        if terms.cap_period and self._due_possible(day, n_friends):
            in_period = self._paid_in_period(pop.n, day)
        (
            self._n_pending,
            self._n_paid_book,
            n_items,
            n_reversed,
            n_denied_honest,
            n_denied_fraud,
            n_earning,
            recovered,
            clawed_back,
            earned,
            paid,
            employee_paid,
            fraud_paid,
        ) = _programme_day(
            day,
            self._allowance(day),
            mean_spend,
            self._friends[:n_friends],
            draw_key(self._key, day, _SITE_IDENTITY_CHECK),
            pop.referrer,
            pop.role,
            pop.fraud_kind,
            pop.account_status,
            pop.day_churned,
            pop.order_value,
            pop.revenue,
            pop.reward_paid,
            pop.n_rewards_denied,
            pop.rel_share,
            self._n_rewarded,
            in_period,
            self._pending_int,
            self._pending_float,
            self._n_pending,
            self._paid_int,
            self._paid_float,
            self._n_paid_book,
            self._paid_referrers,
            self._paid_amounts,
            self._penalty,
            self._count,
            terms,
        )
        if n_reversed:
            model.ledger.earn(LEDGER_CHANNEL, "recovered", recovered)
            model.ledger.earn(LEDGER_CHANNEL, "clawback", clawed_back)
            model.tally("rewards_recovered", recovered)
            model.tally("rewards_clawed_back", clawed_back)
        if n_denied_honest or n_denied_fraud:
            model.tally("rewards_denied_honest", n_denied_honest)
            model.tally("rewards_denied_fraud", n_denied_fraud)
        if n_earning:
            model.tally("rewards_earned", earned)
        if n_items:
            if terms.cap_period:
                self._history_day.append(day)
                self._history_referrer.append(self._paid_referrers[:n_items].copy())
                self._history_amount.append(self._paid_amounts[:n_items].copy())
            self._spent += paid
            self._n_paid += n_items
            model.ledger.spend(LEDGER_CHANNEL, "incentive_rewards", paid - employee_paid)
            model.ledger.spend(LEDGER_CHANNEL, "employee_rewards", employee_paid)
            model.tally("rewards_paid", paid)
            model.tally("employee_rewards_paid", employee_paid)
            model.tally("rewards_paid_fraud", fraud_paid)
        model.tally("programme_spend_cumulative", self._spent)
        plan = self._plan(day)
        if plan is not None:
            model.tally("programme_plan_cumulative", plan)

    def _make_room(self, n_friends: int) -> None:
        """Grow the books and the payment scratch so that today's new entries fit."""
        pending = self._n_pending + n_friends
        if pending > self._pending_int.shape[1]:
            self._pending_int = _grown(self._pending_int, pending)
            self._pending_float = _grown(self._pending_float, pending)
        if pending > self._paid_referrers.size:
            self._paid_referrers = np.zeros(2 * pending, dtype=np.int64)
            self._paid_amounts = np.zeros(2 * pending)
        paid = self._n_paid_book + pending
        if paid > self._paid_int.shape[1]:
            self._paid_int = _grown(self._paid_int, paid)
            self._paid_float = _grown(self._paid_float, paid)

    def _due_possible(self, day: int, n_friends: int) -> bool:
        """Whether a pending reward may fall due today (the book is in earning order, so due order)."""
        if self._n_pending and self._pending_int[P_DUE, 0] <= day:
            return True
        return bool(n_friends) and self.params.days_holding == 0

    def _allowance(self, day: int) -> float:
        """What the budget and the pace let the programme pay today (currency; inf without a budget)."""
        spec = self.params
        allowance = math.inf
        if self._budget_total is not None:
            allowance = self._budget_total - self._spent
            plan = self._plan(day)
            assert plan is not None
            if spec.pacing_tolerance is not None:
                allowance = min(allowance, plan * (1.0 + spec.pacing_tolerance) - self._spent)
            elif self._released is not None:  # a schedule is the pace: spend stays within its release
                allowance = min(allowance, plan - self._spent)
        return allowance

    def _plan(self, day: int) -> float | None:
        """The budget's plan to date: budget × day / days, or the money a schedule has released."""
        if self._released is not None:
            return float(self._released[min(day, self._released.size - 1)])
        budget = self._budget_total
        return None if budget is None else budget * min(1.0, day / self.scenario.days)

    def _paid_in_period(self, n: int, day: int) -> np.ndarray:
        """Referrer-side amounts paid to each person within the rolling cap period (currency)."""
        start = day - self.params.days_cap_period
        while self._history_day and self._history_day[0] <= start:
            self._history_day.pop(0)
            self._history_referrer.pop(0)
            self._history_amount.pop(0)
        if not self._history_day:
            return np.zeros(n)
        return np.bincount(
            np.concatenate(self._history_referrer), weights=np.concatenate(self._history_amount), minlength=n
        )

    # ------------------------------------------------------------------------------ report

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Programme cost split honest / fraudulent, what was taken back, referral CAC, ROI, budget use."""
        run = steps[steps["day"] > 0]
        paid = float(run["rewards_paid"].sum())
        fraud = float(run["rewards_paid_fraud"].sum())
        clawed = float(run["rewards_clawed_back"].sum())
        recovered = float(run["rewards_recovered"].sum())
        pop = model.real_population()
        referred = (
            (pop.first_channel == Channel.SHARING) & (pop.day_first_acquired > 0) & (pop.day_first_order >= 0)
        )
        honest_referred = referred & (pop.fraud_kind != FraudKind.COUPON_FARMER)
        spend_sharing = float(run["spend_sharing"].sum()) - clawed - recovered
        programme_cost = paid - clawed - recovered
        margin = self.scenario.economics.gross_margin
        referred_margin = float(pop.revenue[referred].sum()) * margin
        n_honest = int(honest_referred.sum())
        budget = self._budget_total
        return {
            "rewards_paid": paid,
            "rewards_paid_honest": paid - fraud,
            "rewards_paid_fraud": fraud,
            "rewards_clawed_back": clawed,
            "rewards_recovered": recovered,
            "rewards_denied_honest": float(run["rewards_denied_honest"].sum()),
            "referrals_rewarded": float(self._n_paid),
            "referral_cac": spend_sharing / n_honest if n_honest else math.nan,
            "referral_cac_without_fraud": (paid - fraud) / n_honest if n_honest else math.nan,
            "programme_roi": (referred_margin - programme_cost) / programme_cost
            if programme_cost > 0
            else math.nan,
            "budget_used": self._spent / budget if budget else math.nan,
            "employee_rewards_paid": float(run["employee_rewards_paid"].sum()),
        }
