"""The field team (地推): reps who sign people up in person."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, flagged_uniforms, new_flags, stream_key, uniform
from sim.rules._brands import stage_factor_at, switch_to_us
from sim.rules._pick import BudgetCounter
from sim.rules.base import ACQUISITION_COLUMNS, MetricInfo, Phase, Rule
from sim.scenario import FieldTeamSpec, daily_values
from sim.world.population import Channel, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["FieldTeam"]


class FieldTeam(Rule):
    """Reps contact ``n_reps × contacts_per_rep_per_day`` non-customers a day, anywhere or in one community.

    A contact signs up with ``p_convert`` (× ``customers.rel_winback`` for churned people, ×
    ``rival.rel_switch × rival.rel_churn`` for the rival's customers), channel ``field``. Reps paid
    per sign-up push: a contact signs up with ``p_convert × rel_convert_signup_push`` and the sign-ups
    beyond ``p_convert`` (the marginal ones the push added, decided on the same uniform) are poor fits
    whose churn hazard is multiplied by ``rel_churn_signup_push`` (``rel_churn_fit``, read by the
    churn rule). Reps paid per retained customer do not push; their
    commission is paid ``days_retained`` days after a sign-up that is still an active field customer.
    Salaries are paid every working day; the team works the first ``days_active`` days. ``n_reps``
    may be a schedule (reps on duty each day; fractions are part-time): contacts and salaries follow it.

    Who is contacted and who signs up are decided by two counter-based uniforms per person and day
    (:mod:`sim.engine.counter`, draw sites 0 and 1), computed only for the open people and for the
    contacted: the same person gets the same numbers in every strategy.
    """

    name = "field_team"
    phase = Phase.EXPOSURE
    section = "field_team"
    reads: ClassVar[frozenset[str]] = frozenset({"stage", "community", "acquired_via", "day_acquired"})
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS | {"rel_churn_fit"}
    zero_intensity: ClassVar[dict[str, object]] = {"field_team.n_reps": 0}
    step_columns: ClassVar[tuple[str, ...]] = ("field_contacts", "field_pushed", "spend_field")
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "field_contacts": MetricInfo("contacts", "Field-rep contacts over the horizon."),
        "field_spend": MetricInfo("currency", "Field salaries and commissions.", higher_is_better=False),
        "field_pushed_share": MetricInfo(
            "share", "Share of field sign-ups that were pushed (poor fit, churn faster)."
        ),
    }

    params: FieldTeamSpec

    def setup(self, model: Market) -> None:
        """Turn reps × contacts into whole contacts per day (reps per day with a schedule)."""
        reps = self.params.n_reps
        if isinstance(reps, int):
            self._reps: float | np.ndarray = reps
            self._contacts = BudgetCounter(reps * self.params.contacts_per_rep_per_day)
        else:
            self._reps = daily_values(reps, self.scenario.days)
            self._contacts = BudgetCounter(self._reps * self.params.contacts_per_rep_per_day)
        self._off = not np.any(np.asarray(self._reps) > 0)
        self._key = stream_key(self.rng)

    def step(self, model: Market) -> None:
        """Contact, sign up, and pay salaries and commissions."""
        pop = model.population
        p = self.params
        if self._off:
            return  # no team for the whole run
        working = p.days_active is None or model.day <= p.days_active
        # Sign-ups of days_retained days ago still with us earn their commission today.
        count_retained = (
            p.commission == "per_retained" and p.commission_amount > 0 and model.day > p.days_retained
        )
        cost = 0.0
        if working:
            n_contacts = self._contacts.take(model.day)
            community = -1 if p.community is None else p.community
            ids, u_pick, n_open, retained = _field_day(
                draw_key(self._key, model.day, 0), pop.stage, pop.community, community, model.n_real,
                n_contacts, count_retained, model.day - p.days_retained, pop.day_acquired, pop.acquired_via,
            )  # fmt: skip
        elif count_retained:
            retained = _retained(pop.stage, pop.day_acquired, pop.acquired_via, model.day - p.days_retained)
        if count_retained:
            cost += retained * p.commission_amount
            model.ledger.spend("field", "commission", retained * p.commission_amount)
        if working:
            reps = float(self._reps[model.day]) if isinstance(self._reps, np.ndarray) else self._reps
            salaries = reps * p.salary_per_rep_per_day
            model.ledger.spend("field", "salaries", salaries)
            cost += salaries
            cost += self._contact(model, n_contacts, ids, u_pick, n_open)
        if cost:
            model.tally("spend_field", cost)

    def _contact(
        self,
        model: Market,
        n_contacts: int,
        ids: np.ndarray,
        u_pick: np.ndarray,
        n_open: int,
    ) -> float:
        """Contact the ``n_contacts`` open people with the lowest pick uniforms; sign up and pay.

        ``ids`` (sorted) are all ``n_open`` open people, or only those under the cut-off of
        :func:`~sim.rules._pick.pick_lowest_in` when that keeps enough; ``u_pick`` are their pick
        uniforms. The same people in the same order as :func:`pick_lowest_in` contacts; each
        contact's sign-up uniform is drawn at site 1 by :func:`_signups`.
        """
        pop = model.population
        p = self.params
        if n_contacts <= 0 or n_open == 0:
            return 0.0
        contacted = ids
        if n_contacts < n_open:
            contacted = ids[np.argpartition(u_pick, n_contacts - 1)[:n_contacts]]
        model.tally("field_contacts", int(contacted.size))
        push = p.rel_convert_signup_push if p.commission == "per_signup" else 1.0
        scenario = model.scenario_config
        signed, pushed_people = _signups(
            contacted, draw_key(self._key, model.day, 1), pop.stage, float(p.p_convert),
            scenario.customers.rel_winback, switch_to_us(scenario), scenario.rival.enabled, float(push),
        )  # fmt: skip
        if pushed_people.size:
            pop.rel_churn_fit[pushed_people] = p.rel_churn_signup_push
            model.tally("field_pushed", int(pushed_people.size))
        model.acquire(signed, Channel.FIELD)
        if p.commission == "per_signup" and p.commission_amount > 0 and signed.size:
            commission = signed.size * p.commission_amount
            model.ledger.spend("field", "commission", commission)
            return commission
        return 0.0

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Contacts, spend and the pushed share of sign-ups."""
        signups = float(steps["new_field"].sum() + steps["won_back_field"].sum())
        return {
            "field_contacts": float(steps["field_contacts"].sum()),
            "field_spend": float(steps["spend_field"].sum()),
            "field_pushed_share": float(steps["field_pushed"].sum()) / signups if signups else float("nan"),
        }


_CUSTOMER, _FIELD = int(Stage.CUSTOMER), int(Channel.FIELD)


@kernel
def _retained(stage: np.ndarray, day_acquired: np.ndarray, acquired_via: np.ndarray, day: int) -> int:
    """How many active customers were signed up by the field team on ``day``."""
    count = 0
    for i in range(stage.shape[0]):
        if day_acquired[i] == day and acquired_via[i] == _FIELD and stage[i] == _CUSTOMER:
            count += 1
    return count


@kernel
def _is_open(stage: np.ndarray, community: np.ndarray, within: int, i: int) -> bool:
    """Whether person i (a real row) may be contacted: not a customer, in community ``within`` (−1: any)."""
    return stage[i] != _CUSTOMER and (within < 0 or community[i] == within)


@kernel
def _field_day(
    key: np.uint64,
    stage: np.ndarray,
    community: np.ndarray,
    within: int,
    n_real: int,
    k: int,
    count_retained: bool,
    retained_day: int,
    day_acquired: np.ndarray,
    acquired_via: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A working day's pick: the open people worth looking at and their pick uniforms under ``key``.

    Open people are real non-customers (in community ``within`` unless it is −1); each one's pick
    uniform is :func:`~sim.engine.counter.uniform` ``(key, i)``. With
    ``n_open`` of them and ``k`` contacts, :func:`~sim.rules._pick.pick_lowest_in` looks only at
    those whose uniform is under ``(2k + 32) / n_open`` when that cut-off is under 0.5 and keeps at
    least k; else at every open person. Returns those ids (sorted int64), their pick uniforms
    (float64), ``n_open``, and (with ``count_retained``) :func:`_retained` of ``retained_day``.
    The open are marked, then listed (:func:`~sim.engine.counter.flagged_uniforms`): the lists are
    sized by what they hold (about 2k + 32 under the cut-off).
    """
    n = stage.shape[0]
    n_open = 0
    retained = 0
    for i in range(n):
        if i < n_real and _is_open(stage, community, within, i):
            n_open += 1
        if (
            count_retained
            and day_acquired[i] == retained_day
            and acquired_via[i] == _FIELD
            and stage[i] == _CUSTOMER
        ):
            retained += 1
    n_real = min(n_real, n)
    cut = (2.0 * k + 32.0) / n_open if 0 < k < n_open else 1.0
    flags = new_flags(n_real)
    if cut < 0.5:
        for i in range(n_real):
            flags[i] = _is_open(stage, community, within, i) and uniform(key, i) < cut
        ids, u_pick = flagged_uniforms(key, flags, n_real)
        if ids.size >= k:
            return ids, u_pick, n_open, retained
    # Every open person is looked at (too few under the cut-off, or no cut-off).
    for i in range(n_real):
        flags[i] = _is_open(stage, community, within, i)
    ids, u_pick = flagged_uniforms(key, flags, n_real)
    return ids, u_pick, n_open, retained


@kernel
def _signups(
    contacted: np.ndarray,
    key: np.uint64,
    stage: np.ndarray,
    p_convert: float,
    winback: float,
    switch: float,
    rival: bool,
    push: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Who of ``contacted`` signs up (uniform under min(p × ``push``, 1)) and who of them was pushed.

    A contact's uniform is :func:`~sim.engine.counter.uniform` ``(key, person)``. p is
    ``p_convert`` (× ``winback`` for churned people, × ``switch`` for the rival's customers);
    a sign-up with u ≥ p is one the push added. Both int64 arrays keep the order of ``contacted``.
    """
    signed = np.empty(contacted.shape[0], dtype=np.int64)
    pushed = np.empty(contacted.shape[0], dtype=np.int64)
    n_signed = n_pushed = 0
    for j in range(contacted.shape[0]):
        person = contacted[j]
        p = p_convert
        p *= stage_factor_at(stage[person], winback, switch, rival)
        u = uniform(key, person)
        if u < min(p * push, 1.0):
            signed[n_signed] = person
            n_signed += 1
            if u >= p:
                pushed[n_pushed] = person
                n_pushed += 1
    return signed[:n_signed], pushed[:n_pushed]
