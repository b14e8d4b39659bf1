"""The ripple's layers: seed users on the first day, and employees and KOLs who share more."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.rules._brands import switch_to_us
from sim.rules._pick import pick_lowest, pick_top
from sim.rules._referral import convert_referred
from sim.rules.base import ACQUISITION_COLUMNS, Budget, MetricInfo, Phase, Rule
from sim.scenario import RolesSpec, SeedingSpec
from sim.world.population import NEVER, Channel, Role, Stage

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["ROLE_NAMES", "RoleSharing", "Seeding"]

#: Role names in :class:`Role` order, as used in step columns and metric names.
ROLE_NAMES: tuple[str, ...] = tuple(role.name.lower() for role in Role)


class Seeding(Rule):
    """On day 1, ``budget / cost_per_seed`` non-customers become customers (channel ``seed``, role SEED).

    Selection: at random; hubs (the most friends first, ties at random), which spreads further near the
    spreading threshold (docs/science.md §2); or at random inside one community. Only ordinary people are
    seeded, so each person has one role.
    """

    name = "seeding"
    phase = Phase.EXPOSURE
    section = "seeding"
    reads: ClassVar[frozenset[str]] = frozenset({"stage", "role", "community"})
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS | {"role"}
    zero_intensity: ClassVar[dict[str, object]] = {"seeding.budget": 0.0}
    budgets: ClassVar[dict[str, Budget]] = {"seeding.budget": Budget("seed", ("seed_users",), "run")}
    step_columns: ClassVar[tuple[str, ...]] = ("spend_seed",)
    metrics: ClassVar[dict[str, MetricInfo]] = {
        "seeding_spend": MetricInfo("currency", "Spend on seed users.", higher_is_better=False),
    }

    params: SeedingSpec

    def step(self, model: Market) -> None:
        """Seed on the first day; nothing afterwards."""
        pop = model.population
        if model.day != 1:
            return  # seeding happens once: later days draw nothing (day 1's draw is the common one)
        u_pick = self.rng.random(pop.n)
        if self.params.budget <= 0:
            return
        n_seeds = int(self.params.budget / self.params.cost_per_seed + 1e-9)
        # Seeds are nobody's customers: the rival's are not given our product.
        eligible = (pop.stage != Stage.CUSTOMER) & (pop.stage != Stage.RIVAL) & (pop.role == Role.ORDINARY)
        if self.params.selection == "community":
            eligible &= pop.community == self.params.community
        candidates = np.flatnonzero(eligible)
        if self.params.selection == "hubs":
            seeds = pick_top(candidates, model.graph.degree[candidates].astype(np.float64), u_pick, n_seeds)
        else:
            seeds = pick_lowest(candidates, u_pick, n_seeds)
        if seeds.size == 0:
            return
        pop.role[seeds] = Role.SEED
        model.acquire(seeds, Channel.SEED)
        cost = seeds.size * self.params.cost_per_seed
        model.ledger.spend("seed", "seed_users", cost)
        model.tally("spend_seed", cost)

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Seeding spend."""
        return {"seeding_spend": float(steps["spend_seed"].sum())}


class RoleSharing(Rule):
    """Employees, KOLs and loyalty members with a share benefit pass the brand on beyond ordinary sharing.

    Setup picks ``n_employees`` ordinary people at random as employees and ``n_kols`` KOLs (most friends
    first, at random, or the listed ``kol_ids``). Employees make ``employee_rate_share_per_day`` shares
    a day and KOLs ``kol_rate_share_per_day`` posts, customers or not (it is their job); an employee's
    share reaches one friend, a KOL's post ``kol_friends_per_share`` friends. Active customers with a
    ``rate_share_extra`` (a loyalty tier's share benefit) add that many one-friend shares a day.

    So friend ``i`` of sharer ``j`` hears ``rate_j × min(1, reach_j / degree_j)`` shares a day, and a
    non-customer's daily hazard of converting is ``p_convert`` × the shares they hear (× ``rel_winback``
    for churned people). The referral programme rewards employees per referral
    (``incentives.amount_employee``, paid by the incentives rule) and raises their rate by its
    behavioural response: an employee's rate is × ``rel_share`` (the column the incentives rule
    writes). The referrer is one of their sharing friends, weighted by shares heard. Each KOL is
    paid ``kol_fee_per_day``.

    Every day this rule also counts today's referred acquisitions by the referrer's role (step columns
    ``referred_by_<role>``), whichever rule made them.
    """

    name = "roles"
    phase = Phase.SHARING
    section = "roles"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"stage", "role", "rate_share_extra", "day_acquired", "referrer", "rel_share"}
    )
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS | {"role"}
    zero_intensity: ClassVar[dict[str, object]] = {
        "roles.n_employees": 0,
        "roles.n_kols": 0,
        "loyalty.membership": "off",
    }
    step_columns: ClassVar[tuple[str, ...]] = (
        *(f"referred_by_{name}" for name in ROLE_NAMES),
        "spend_roles",
    )
    metrics: ClassVar[dict[str, MetricInfo]] = {
        **{
            f"referred_by_{name}": MetricInfo(
                "people",
                f"Customers acquired (new or won back) through a share by a person with role {name}.",
            )
            for name in ROLE_NAMES
        },
        "roles_spend": MetricInfo("currency", "KOL fees.", higher_is_better=False),
    }

    params: RolesSpec

    def setup(self, model: Market) -> None:
        """Assign the EMPLOYEE and KOL roles and each role's share rate and reach."""
        pop = model.population
        graph = model.graph
        p = self.params
        u_employee, u_kol = self.rng.random((2, pop.n))
        self._rate = np.zeros(pop.n)
        self._reach = np.ones(pop.n)
        if p.kol_selection == "assigned":
            kols = np.unique(np.asarray(p.kol_ids, dtype=np.int64))
        else:
            ordinary = np.flatnonzero(pop.role == Role.ORDINARY)
            if p.kol_selection == "degree":
                kols = pick_top(ordinary, graph.degree[ordinary].astype(np.float64), u_kol, p.n_kols)
            else:
                kols = pick_lowest(ordinary, u_kol, p.n_kols)
        pop.role[kols] = Role.KOL
        employees = pick_lowest(np.flatnonzero(pop.role == Role.ORDINARY), u_employee, p.n_employees)
        pop.role[employees] = Role.EMPLOYEE
        self._rate[employees] = p.employee_rate_share_per_day
        self._employees = employees
        self._rate[kols] = p.kol_rate_share_per_day
        self._reach[kols] = p.kol_friends_per_share
        self._n_kols = int(kols.size)
        self._degree = np.maximum(graph.degree.astype(np.float64), 1.0)
        self._base_weight = self._rate * np.minimum(1.0, self._reach / self._degree)
        self._any_roles = bool(self._rate.any())

    def step(self, model: Market) -> None:
        """Convert friends of today's role sharers, pay rewards and fees, count referrals by role."""
        pop = model.population
        # Whether anyone shares through this rule is fixed for the run, so skipping the draw when
        # no one does keeps every run's stream aligned with itself.
        if self._any_roles or model.scenario_config.loyalty.membership != "off":
            self._share(model, self.rng.random(pop.n))
        if self._n_kols and self.params.kol_fee_per_day > 0:
            fee = self._n_kols * self.params.kol_fee_per_day
            model.ledger.spend("sharing", "kol_fees", fee)
            model.tally("spend_roles", fee)
        today = np.flatnonzero((pop.day_acquired == model.day) & (pop.referrer != NEVER))
        if today.size:
            by_role = np.bincount(pop.role[pop.referrer[today]], minlength=len(Role))
            for name, count in zip(ROLE_NAMES, by_role.tolist(), strict=True):
                if count:
                    model.tally(f"referred_by_{name}", count)

    def _share(self, model: Market, u_convert: np.ndarray) -> None:
        pop = model.population
        graph = model.graph
        stage = pop.stage
        weight = self._base_weight
        employees = self._employees
        if employees.size:
            uplift = pop.rel_share[employees]  # the employee reward's response (incentives rule)
            if np.any(uplift != 1.0):
                weight = weight.copy()
                weight[employees] *= uplift
        extra = pop.rate_share_extra
        if model.scenario_config.loyalty.membership != "off":
            members_sharing = np.flatnonzero(
                (extra > 0) & (stage == Stage.CUSTOMER) & (pop.day_acquired < model.day)
            )
            if members_sharing.size:
                weight = weight.copy() if weight is self._base_weight else weight
                weight[members_sharing] += extra[members_sharing] / self._degree[members_sharing]
        elif not self._any_roles:
            return
        heard = graph.sum_over_neighbours(weight)
        scenario = model.scenario_config
        winback = scenario.customers.rel_winback
        switch = switch_to_us(scenario)
        # Only those whose uniform is under a bound of their hazard (1 − e^(−h) ≤ h, the largest
        # factor) can convert: the exact hazard is computed for them alone, with the same outcome.
        n_real = model.n_real
        top = self.params.p_convert * max(1.0, winback, switch) * (1.0 + 1e-9)
        maybe = (heard[:n_real] > 0) & (stage[:n_real] != Stage.CUSTOMER)
        maybe &= u_convert[:n_real] < heard[:n_real] * top
        exposed = np.flatnonzero(maybe)
        if exposed.size == 0:
            return
        hazard = self.params.p_convert * heard[exposed]
        exposed_stage = stage[exposed]
        hazard[exposed_stage == Stage.CHURNED] *= winback
        if scenario.rival.enabled:  # the rival's customers switch at a lower rate
            hazard[exposed_stage == Stage.RIVAL] *= switch
        convert_referred(model, exposed, hazard, u_convert[exposed], weight > 0, weight)

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Referred customers by the referrer's role, and the KOL fees."""
        summary = {f"referred_by_{name}": float(steps[f"referred_by_{name}"].sum()) for name in ROLE_NAMES}
        summary["roles_spend"] = float(steps["spend_roles"].sum())
        return summary
