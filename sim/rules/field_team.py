"""The field team (地推): reps who sign people up in person."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.rules._brands import switch_to_us
from sim.rules._pick import BudgetCounter, pick_lowest_in
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

    def step(self, model: Market) -> None:
        """Contact, sign up, and pay salaries and commissions."""
        pop = model.population
        p = self.params
        if self._off:
            return  # no team for the whole run: no draws (the stream is this rule's own)
        working = p.days_active is None or model.day <= p.days_active
        if working:
            # Drawn every working day whatever happens (common random numbers); once the team has
            # stopped no uniform is used again, so none is drawn.
            u_pick = self.rng.random(pop.n)
            u_convert = self.rng.random(pop.n)
        cost = 0.0
        if p.commission == "per_retained" and p.commission_amount > 0 and model.day > p.days_retained:
            retained = np.count_nonzero(
                (pop.day_acquired == model.day - p.days_retained)
                & (pop.acquired_via == Channel.FIELD)
                & (pop.stage == Stage.CUSTOMER)
            )
            cost += retained * p.commission_amount
            model.ledger.spend("field", "commission", retained * p.commission_amount)
        if working:
            reps = float(self._reps[model.day]) if isinstance(self._reps, np.ndarray) else self._reps
            salaries = reps * p.salary_per_rep_per_day
            model.ledger.spend("field", "salaries", salaries)
            cost += salaries
            cost += self._contact(model, u_pick, u_convert)
        if cost:
            model.tally("spend_field", cost)

    def _contact(self, model: Market, u_pick: np.ndarray, u_convert: np.ndarray) -> float:
        pop = model.population
        p = self.params
        n_contacts = self._contacts.take(model.day)
        open_to = pop.stage != Stage.CUSTOMER
        open_to[model.n_real :] = False  # fake accounts are not prospects
        if p.community is not None:
            open_to &= pop.community == p.community
        contacted = pick_lowest_in(open_to, u_pick, n_contacts)
        if contacted.size == 0:
            return 0.0
        model.tally("field_contacts", int(contacted.size))
        push = p.rel_convert_signup_push if p.commission == "per_signup" else 1.0
        p_signup = np.full(contacted.size, p.p_convert)
        p_signup[pop.stage[contacted] == Stage.CHURNED] *= model.scenario_config.customers.rel_winback
        if model.scenario_config.rival.enabled:  # the rival's customers switch at a lower rate
            p_signup[pop.stage[contacted] == Stage.RIVAL] *= switch_to_us(model.scenario_config)
        u = u_convert[contacted]
        signs = u < np.minimum(p_signup * push, 1.0)
        pushed = signs & (u >= p_signup)
        pushed_people = contacted[pushed]
        if pushed_people.size:
            pop.rel_churn_fit[pushed_people] = p.rel_churn_signup_push
            model.tally("field_pushed", int(pushed_people.size))
        signed = contacted[signs]
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
