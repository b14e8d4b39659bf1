"""The referral programme: rewards earned, held, checked, capped, paced, paid and taken back.

This rule is the one referral programme of a scenario (the ``incentives`` section): referrer,
friend and employee rewards, with the behavioural response that makes the reward change who shares
and who converts. Taking back: clawback when a friend churns inside ``days_clawback_window``, and
recovery when the defences flag or block an account; a held reward is cancelled, a paid reversible
one (store credit, points) is reversed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.rules.base import Budget, MetricInfo, Phase, Rule
from sim.scenario import DefencesSpec, IncentivesSpec, Schedule, daily_values
from sim.world.population import NEVER, AccountStatus, Channel, FraudKind, Role, Stage

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


def _fraudulent(fraud_kind: np.ndarray, friends: np.ndarray, referrers: np.ndarray) -> np.ndarray:
    """Referrals that are fraud: the friend is a fake account or a coupon farmer, or a fake referred.

    An attacker's own real account referring a real friend is an honest referral.
    """
    friend_kind = fraud_kind[friends]
    return (
        (friend_kind == FraudKind.FAKE_ACCOUNT)
        | (friend_kind == FraudKind.COUPON_FARMER)
        | (fraud_kind[referrers] == FraudKind.FAKE_ACCOUNT)
    )


def _detected(status: np.ndarray) -> np.ndarray:
    """Accounts a defence flagged or blocked: they lose held rewards and reversible paid ones."""
    return (status == AccountStatus.BLOCKED) | (status == AccountStatus.FLAGGED)


def _rank_in_group(groups: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries (input order) share its group."""
    return _grouped_cumsum_before(groups, np.ones(groups.size)).astype(np.int64)


def _weak_tie_factor(graph: SocialGraph, n_real: int, emphasis: float) -> np.ndarray:
    """How much more a reward moves each real person's sharing because their ties are weak.

    With tie strengths from a graph file, a person's ties are as weak as their mean strength s is
    low against the mean over all people s̄: the factor is ``1 − e + 2e·s̄/(s + s̄)``. Without them,
    a person with many friends is taken to have weaker ties (degree d against the mean d̄):
    ``1 − e + 2e·d/(d + d̄)``. Either way the factor is 1 for the typical person, between 1 − e and
    1 + e, for e = ``weak_tie_emphasis``.
    """
    strength = graph.mean_tie_strength
    if strength is not None:
        s = strength[:n_real]
        known = np.isfinite(s)
        typical = float(s[known].mean()) if known.any() else 1.0
        weakness = np.where(known, typical / (np.where(known, s, typical) + typical), 0.5)
    else:
        degree = graph.degree[:n_real].astype(np.float64)
        mean_degree = max(float(degree.mean()), 1e-12)
        weakness = degree / (degree + mean_degree)
    return 1.0 - emphasis + 2.0 * emphasis * weakness


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
        self._pending: dict[str, np.ndarray] = {
            "friend": np.zeros(0, dtype=np.int64),
            "referrer": np.zeros(0, dtype=np.int64),
            "amount_referrer": np.zeros(0),
            "amount_friend": np.zeros(0),
            "employee": np.zeros(0, dtype=bool),
            "earned": np.zeros(0, dtype=np.int64),
            "due": np.zeros(0, dtype=np.int64),
        }
        # Paid rewards that can still be taken back (reversible kinds only): one entry per payment.
        self._paid: dict[str, np.ndarray] = {
            "friend": np.zeros(0, dtype=np.int64),
            "referrer": np.zeros(0, dtype=np.int64),
            "face_referrer": np.zeros(0),
            "cost": np.zeros(0),
            "earned": np.zeros(0, dtype=np.int64),
        }
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
        # Behaviour is set on the first day, after every rule's setup: roles (employees) are assigned
        # by another rule's setup, and the order of setups is not this rule's business.
        self._behaviour_set = False

    def _referrer_multiplier(self, model: Market, referrers: np.ndarray) -> np.ndarray:
        """Personalised multiplier: the referrer's spend so far over the mean customer's, clipped."""
        spec = self.params
        if not spec.personalised:
            return np.ones(referrers.size)
        pop = model.real_population()
        ever = pop.n_orders > 0
        mean_spend = float(pop.revenue[ever].mean()) if ever.any() else 0.0
        if mean_spend <= 0:
            return np.ones(referrers.size)
        ratio = model.population.revenue[referrers] / mean_spend
        return np.clip(ratio, spec.personal_min, spec.personal_max)

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
            reward = np.full(n_real, friend_reward)
            if referrer_side:
                if spec.personalised:
                    # Expected spend (order value × orders a year) stands in for spend history here.
                    expected = pop.order_value[:n_real].astype(np.float64) * pop.rate_purchase[:n_real] * 365
                    mean_expected = max(float(expected.mean()), 1e-12)
                    multiplier = np.clip(expected / mean_expected, spec.personal_min, spec.personal_max)
                else:
                    multiplier = np.ones(n_real)
                reward += spec.amount_referrer * multiplier + on_order
            employees = pop.role[:n_real] == Role.EMPLOYEE
            reward[employees] = friend_reward + spec.amount_employee
            if np.any(reward > 0):
                weak_tie = _weak_tie_factor(model.graph, n_real, spec.weak_tie_emphasis)
                uplift = spec.share_uplift_max * -np.expm1(-reward / spec.reward_scale) * weak_tie
                pop.rel_share[:n_real] = (1.0 + uplift).astype(np.float32)
        if spec.low_value_pull > 0 and friend_reward > 0:
            g = -np.expm1(-friend_reward / spec.reward_scale)
            value = pop.order_value[:n_real].astype(np.float64) / max(mean_value, 1e-12)
            pull = np.maximum(0.0, 1.0 + spec.low_value_pull * g * (1.0 - value))
            pop.rel_referred_convert[:n_real] = pull.astype(np.float32)

    # -------------------------------------------------------------------------------- step

    def step(self, model: Market) -> None:
        """Take back what clawback and detection can, earn today's rewards, and pay what is due."""
        if not self.params.enabled:
            return  # the programme is off for the whole run: no draws needed
        pop = model.population
        u_check = self.rng.random(pop.n, dtype=np.float32)
        if not self._behaviour_set:
            self._set_behaviour(model)
            self._behaviour_set = True
        self._churn_while_referrer_active(model)
        self._take_back(model)
        self._earn(model, u_check)
        self._settle_pending(model)
        self._pay(model)
        model.tally("programme_spend_cumulative", self._spent)
        plan = self._plan(model.day)
        if plan is not None:
            model.tally("programme_plan_cumulative", plan)

    def _plan(self, day: int) -> float | None:
        """The budget's plan to date: budget × day / days, or the money a schedule has released."""
        if self._released is not None:
            return float(self._released[min(day, self._released.size - 1)])
        budget = self._budget_total
        return None if budget is None else budget * min(1.0, day / self.scenario.days)

    def _churn_while_referrer_active(self, model: Market) -> None:
        rel = self.params.rel_churn_referrer_active
        if rel == 1.0:
            return
        pop = model.population
        referred = np.flatnonzero(
            (pop.referrer[: model.n_real] != NEVER) & (pop.stage[: model.n_real] == Stage.CUSTOMER)
        )
        active_referrer = pop.stage[pop.referrer[referred]] == Stage.CUSTOMER
        pop.rel_churn_referred[: model.n_real] = 1.0
        pop.rel_churn_referred[referred[active_referrer]] = rel

    def _deny(self, model: Market, friends: np.ndarray, referrers: np.ndarray) -> None:
        """Record denied rewards; an honest referrer shares less after each."""
        pop = model.population
        honest = ~_fraudulent(pop.fraud_kind, friends, referrers)
        honest_referrers = referrers[honest]
        np.add.at(pop.n_rewards_denied, honest_referrers, 1)
        factor = self._defences.rel_share_after_denial
        if factor < 1.0 and honest_referrers.size:
            penalty = np.ones(pop.n, dtype=np.float32)
            np.multiply.at(penalty, honest_referrers, np.float32(factor))
            pop.rel_share[:] *= penalty
        model.tally("rewards_denied_honest", int(honest.sum()))
        model.tally("rewards_denied_fraud", int((~honest).sum()))

    def _referrals_today(self, model: Market) -> np.ndarray:
        """The friends whose referral earns a reward today (sorted ids), by the trigger."""
        pop = model.population
        if self.params.trigger == "sign_up":
            joined = np.flatnonzero(pop.day_first_acquired == model.day)
        else:
            # The programme sees an order in the next day's books (purchases run after incentives).
            joined = np.flatnonzero(pop.day_first_order == model.day - 1)
        return joined[(pop.acquired_via[joined] == Channel.SHARING) & (pop.referrer[joined] != NEVER)]

    def _earn(self, model: Market, u_check: np.ndarray) -> None:
        spec = self.params
        defences = self._defences
        pop = model.population
        day = model.day
        friends = self._referrals_today(model)
        if friends.size == 0:
            return
        referrers = pop.referrer[friends].astype(np.int64)
        on_order = spec.share_of_first_order * pop.order_value[friends].astype(np.float64)
        if spec.who in ("friend", "both"):
            friend_amount = spec.amount_friend + on_order
        else:
            friend_amount = np.zeros(friends.size)
        # Employees earn the employee reward instead of the referrer reward (whatever ``who`` says).
        employee = pop.role[referrers] == Role.EMPLOYEE
        if spec.who in ("referrer", "both"):
            referrer_amount = spec.amount_referrer * self._referrer_multiplier(model, referrers) + on_order
        else:
            referrer_amount = np.zeros(friends.size)
        referrer_amount = np.where(employee, spec.amount_employee, referrer_amount)
        has_reward = (referrer_amount + friend_amount) > 0
        friends, referrers, employee = friends[has_reward], referrers[has_reward], employee[has_reward]
        referrer_amount, friend_amount = referrer_amount[has_reward], friend_amount[has_reward]
        if friends.size == 0:
            return

        # Sign-up checks (defences): identity match, then velocity and per-referrer limits.
        fake = pop.role[friends] == Role.FAKE
        p_flag = np.where(fake, defences.p_identity_detect, defences.p_identity_false_positive)
        denied = u_check[friends] < p_flag
        pop.account_status[friends[denied]] = AccountStatus.BLOCKED
        if defences.max_referrals_per_day is not None:
            rank_today = _rank_in_group(np.where(denied, -1, referrers))
            denied |= ~denied & (rank_today >= defences.max_referrals_per_day)
        if defences.max_rewarded_referrals is not None:
            rank = self._n_rewarded[referrers] + _rank_in_group(np.where(denied, -1, referrers))
            denied |= ~denied & (rank >= defences.max_rewarded_referrals)
        if denied.any():
            self._deny(model, friends[denied], referrers[denied])
        keep = ~denied
        friends, referrers = friends[keep], referrers[keep]
        np.add.at(self._n_rewarded, referrers, 1)
        model.tally("rewards_earned", float((referrer_amount[keep] + friend_amount[keep]).sum()))
        new = {
            "friend": friends,
            "referrer": referrers,
            "amount_referrer": referrer_amount[keep],
            "amount_friend": friend_amount[keep],
            "employee": employee[keep],
            "earned": np.full(friends.size, day, dtype=np.int64),
            "due": np.full(friends.size, day + spec.days_holding, dtype=np.int64),
        }
        self._pending = {key: np.concatenate([self._pending[key], new[key]]) for key in new}

    def _churned_within(self, model: Market, friend: np.ndarray, earned: np.ndarray, days: int) -> np.ndarray:
        """Whether each friend churned on or after ``earned`` and within ``days`` days of it."""
        churned_day = model.population.day_churned[friend].astype(np.int64)
        return (churned_day != NEVER) & (churned_day >= earned) & (churned_day <= earned + days)

    def _settle_pending(self, model: Market) -> None:
        """Cancel held rewards of flagged or blocked accounts and of friends who churned too soon."""
        spec = self.params
        pop = model.population
        book = self._pending
        if book["friend"].size == 0:
            return
        friend, referrer, earned = book["friend"], book["referrer"], book["earned"]
        detected = _detected(pop.account_status[friend]) | _detected(pop.account_status[referrer])
        cancelled = detected.copy()
        if spec.days_clawback_window is not None:
            cancelled |= self._churned_within(model, friend, earned, spec.days_clawback_window)
        if spec.trigger == "active_after_days" and spec.days_active_required > 0:
            cancelled |= self._churned_within(model, friend, earned, spec.days_active_required - 1)
        if detected.any():
            self._deny(model, friend[detected], referrer[detected])
        if cancelled.any():
            self._pending = {key: values[~cancelled] for key, values in book.items()}

    def _pay(self, model: Market) -> None:
        spec = self.params
        pop = model.population
        day = model.day
        book = self._pending
        due = np.flatnonzero(book["due"] <= day)
        if due.size == 0:
            return
        amount_referrer = book["amount_referrer"][due].copy()
        amount_friend = book["amount_friend"][due]
        who = book["referrer"][due]
        employee = book["employee"][due]
        # Caps on what one referrer is paid: for life, and within a rolling period.
        before = _grouped_cumsum_before(who, amount_referrer)
        if spec.cap_per_referrer is not None:
            room = np.maximum(0.0, spec.cap_per_referrer - pop.reward_paid[who] - before)
            amount_referrer = np.minimum(amount_referrer, room)
            before = _grouped_cumsum_before(who, amount_referrer)
        if spec.cap_per_referrer_period is not None:
            in_period = self._paid_in_period(pop.n, day)[who]
            room = np.maximum(0.0, spec.cap_per_referrer_period - in_period - before)
            amount_referrer = np.minimum(amount_referrer, room)
        referrer_factor = np.where(employee, self._employee_factor, self._cost_factor)
        cost_referrer = amount_referrer * referrer_factor
        cost_friend = amount_friend * self._cost_factor
        cost = cost_referrer + cost_friend
        # Budget and pace: pay the oldest first while the allowance lasts; the rest wait.
        order = np.argsort(book["earned"][due], kind="stable")
        allowance = math.inf
        if self._budget_total is not None:
            allowance = self._budget_total - self._spent
            plan = self._plan(day)
            assert plan is not None
            if spec.pacing_tolerance is not None:
                allowance = min(allowance, plan * (1.0 + spec.pacing_tolerance) - self._spent)
            elif self._released is not None:  # a schedule is the pace: spend stays within its release
                allowance = min(allowance, plan - self._spent)
        within = np.cumsum(cost[order]) <= allowance + 1e-9
        paid = np.zeros(due.size, dtype=bool)
        paid[order[within]] = True
        if paid.any():
            reversible_referrer = np.where(employee, self._employee_reversible, self._reversible)
            self._record_payment(
                model,
                due[paid],
                amount_referrer[paid],
                cost_referrer[paid],
                cost_friend[paid],
                employee[paid],
                reversible_referrer[paid],
            )
            settled = np.zeros(book["due"].size, dtype=bool)
            settled[due[paid]] = True
            self._pending = {key: values[~settled] for key, values in book.items()}

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

    def _record_payment(
        self,
        model: Market,
        items: np.ndarray,
        amount_referrer: np.ndarray,
        cost_referrer: np.ndarray,
        cost_friend: np.ndarray,
        employee: np.ndarray,
        reversible_referrer: np.ndarray,
    ) -> None:
        pop = model.population
        book = self._pending
        friend = book["friend"][items]
        referrer = book["referrer"][items]
        np.add.at(pop.reward_paid, referrer, amount_referrer)
        if self.params.cap_per_referrer_period is not None:
            self._history_day.append(model.day)
            self._history_referrer.append(referrer)
            self._history_amount.append(amount_referrer)
        cost = cost_referrer + cost_friend
        employee_cost = float(cost_referrer[employee].sum())
        total = float(cost.sum())
        fraud = _fraudulent(pop.fraud_kind, friend, referrer)
        self._spent += total
        self._n_paid += int(items.size)
        model.ledger.spend(LEDGER_CHANNEL, "incentive_rewards", total - employee_cost)
        model.ledger.spend(LEDGER_CHANNEL, "employee_rewards", employee_cost)
        model.tally("rewards_paid", total)
        model.tally("employee_rewards_paid", employee_cost)
        model.tally("rewards_paid_fraud", float(cost[fraud].sum()))
        # What can be taken back later: the reversible sides of what was just paid.
        if self.params.days_clawback_window is None and not self._late_detection:
            return  # nothing could ever take them back
        reversible_cost = np.where(reversible_referrer, cost_referrer, 0.0)
        if self._reversible:
            reversible_cost = reversible_cost + cost_friend
        keep = reversible_cost > 0
        if keep.any():
            new = {
                "friend": friend[keep],
                "referrer": referrer[keep],
                "face_referrer": np.where(reversible_referrer, amount_referrer, 0.0)[keep],
                "cost": reversible_cost[keep],
                "earned": book["earned"][items][keep],
            }
            self._paid = {key: np.concatenate([self._paid[key], new[key]]) for key in new}

    def _take_back(self, model: Market) -> None:
        """Reverse paid reversible rewards: recovered after detection, clawed back after an early churn."""
        book = self._paid
        if book["friend"].size == 0:
            return
        pop = model.population
        friend, referrer = book["friend"], book["referrer"]
        detected = _detected(pop.account_status[friend]) | _detected(pop.account_status[referrer])
        window = self.params.days_clawback_window
        clawed = np.zeros(friend.size, dtype=bool)
        if window is not None:
            clawed = ~detected & self._churned_within(model, friend, book["earned"], window)
        reversed_ = detected | clawed
        if not self._late_detection and window is not None:
            # Past its window an entry can no longer be taken back: drop it with the reversed ones.
            expired = book["earned"] + window < model.day
            if not reversed_.any():
                if expired.any():
                    self._paid = {key: values[~expired] for key, values in book.items()}
                return
        else:
            expired = np.zeros(friend.size, dtype=bool)
        if not reversed_.any():
            return
        recovered = float(book["cost"][detected].sum())
        clawed_back = float(book["cost"][clawed].sum())
        np.subtract.at(pop.reward_paid, referrer[reversed_], book["face_referrer"][reversed_])
        losers = referrer[reversed_]
        pop.reward_paid[losers] = np.maximum(pop.reward_paid[losers], 0.0)  # no rounding below zero
        model.ledger.earn(LEDGER_CHANNEL, "recovered", recovered)
        model.ledger.earn(LEDGER_CHANNEL, "clawback", clawed_back)
        model.tally("rewards_recovered", recovered)
        model.tally("rewards_clawed_back", clawed_back)
        self._paid = {key: values[~(reversed_ | expired)] for key, values in book.items()}

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
