"""The ripple's layers: seed users on the first day, and employees and KOLs who share more."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, flagged_uniforms, new_flags, stream_key, uniform, uniforms
from sim.rules._brands import stage_factor_at, switch_to_us
from sim.rules._kernels import count_equal
from sim.rules._pick import pick_lowest, pick_top
from sim.rules._referral import convert_referred
from sim.rules.base import ACQUISITION_COLUMNS, Budget, MetricInfo, Phase, Rule
from sim.scenario import RolesSpec, SeedingSpec
from sim.world.graph import add_from_rows, sums_at
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
    seeded, so each person has one role. "At random" is by counter-based uniforms (day 1, site 0),
    computed for the eligible people only.
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
            return  # seeding happens once
        if self.params.budget <= 0:
            return
        n_seeds = int(self.params.budget / self.params.cost_per_seed + 1e-9)
        # Seeds are nobody's customers: the rival's are not given our product.
        eligible = (pop.stage != Stage.CUSTOMER) & (pop.stage != Stage.RIVAL) & (pop.role == Role.ORDINARY)
        if self.params.selection == "community":
            eligible &= pop.community == self.params.community
        candidates = np.flatnonzero(eligible)
        seeds = _pick(
            candidates, model.graph.degree if self.params.selection == "hubs" else None,
            draw_key(stream_key(self.rng), model.day), n_seeds,
        )  # fmt: skip
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

    Each open person's daily uniform is counter-based (:mod:`sim.engine.counter`): a function of the
    seed, the day and the person, computed only for the people a bound of the hazard lets convert.
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
        key = stream_key(self.rng, "roles")  # the roles are drawn once, before day 1 (day 0)
        rate = np.zeros(pop.n)
        reach = np.ones(pop.n)
        if p.kol_selection == "assigned":
            kols = np.unique(np.asarray(p.kol_ids, dtype=np.int64))
        else:
            ordinary = np.flatnonzero(pop.role == Role.ORDINARY)
            degree = graph.degree if p.kol_selection == "degree" else None
            kols = _pick(ordinary, degree, draw_key(key, 0, 1), p.n_kols)
        pop.role[kols] = Role.KOL
        employees = _pick(np.flatnonzero(pop.role == Role.ORDINARY), None, draw_key(key, 0, 0), p.n_employees)
        pop.role[employees] = Role.EMPLOYEE
        rate[employees] = p.employee_rate_share_per_day
        rate[kols] = p.kol_rate_share_per_day
        reach[kols] = p.kol_friends_per_share
        self._n_kols = int(kols.size)
        self._base_weight = rate * np.minimum(1.0, reach / np.maximum(graph.degree.astype(np.float64), 1.0))
        self._base_ids = np.flatnonzero(self._base_weight)  # the only people with a base weight
        self._any_roles = bool(rate.any())
        self._sharers: np.ndarray | None = None  # ids of the sharers with a positive weight (int32, length n)
        self._n_sharers = 0
        self._is_employee = np.zeros(pop.n, dtype=bool)
        self._is_employee[employees] = True
        self._buffer: np.ndarray | None = None  # today's weights (float64, length n), reused every day
        self._heard: np.ndarray | None = None  # shares pushed from the sharers (zeros between days)
        self._degree_squared: float | None = None  # Σ degree²: the expected cost of pulling
        self._key = stream_key(self.rng)
        scenario = model.scenario_config
        self._members = scenario.loyalty.membership != "off"  # loyalty members with a share benefit
        # p_convert, then the stage factors: churned people's and the rival's customers'.
        self._hazard = (
            float(p.p_convert),
            scenario.customers.rel_winback,
            switch_to_us(scenario),
            scenario.rival.enabled,
        )

    def step(self, model: Market) -> None:
        """Convert friends of today's role sharers, pay rewards and fees, count referrals by role."""
        pop = model.population
        # Counter-based uniforms: a day without role sharers computes none and shifts no later one.
        if self._any_roles or self._members:
            self._share(model)
        if self._n_kols and self.params.kol_fee_per_day > 0:
            fee = self._n_kols * self.params.kol_fee_per_day
            model.ledger.spend("sharing", "kol_fees", fee)
            model.tally("spend_roles", fee)
        by_role = _referred_today(pop.day_acquired, pop.referrer, pop.role, model.day, len(Role))
        for name, count in zip(ROLE_NAMES, by_role.tolist(), strict=True):
            if count:
                model.tally(f"referred_by_{name}", count)

    def _share(self, model: Market) -> None:
        pop = model.population
        graph = model.graph
        weights, sharers = self._buffer, self._sharers
        if weights is None or sharers is None or weights.shape[0] != pop.n:
            # Zeros but at the sharers listed in the first _n_sharers entries of _sharers.
            weights, sharers = self._buffer, self._sharers = np.zeros(pop.n), np.empty(pop.n, np.int32)
            self._n_sharers = 0
        args = (
            self._base_weight, self._base_ids, self._is_employee, pop.rel_share, self._members,
            pop.rate_share_extra, pop.stage, pop.day_acquired, model.day, graph.degree, weights,
        )  # fmt: skip
        rules = (model.n_real, *self._hazard)
        key = draw_key(self._key, model.day)
        if graph.complete:
            # Σ over everyone but oneself: the total is NumPy's sum, as in sum_over_neighbours.
            w_max, _, _, self._n_sharers = _role_weights(*args, model.n_real, sharers, self._n_sharers)
            total = float(weights.sum())
            found = _role_exposed(key, pop.stage, weights, w_max, _NO_ROWS, _NO_COLUMNS, graph.degree,
                                  True, total, _NO_VALUES, *rules)  # fmt: skip
        else:
            assert graph.indptr is not None and graph.indices is not None
            heard = self._heard
            if heard is None or heard.shape[0] != pop.n:
                heard = self._heard = np.zeros(pop.n)  # zero pages cost nothing until pushed to
            if self._degree_squared is None:
                self._degree_squared = float(np.sum(graph.degree.astype(np.float64) ** 2))
            ids, hazards, u_found, self._n_sharers = _role_day(
                key, *args, graph.indptr, graph.indices, graph.degree, *rules, heard, self._degree_squared,
                -1, sharers, self._n_sharers,
            )  # fmt: skip
            found = (ids, hazards, u_found)
        convert_referred(model, *found, weights)

    def summarise(self, model: Market, steps: pd.DataFrame) -> dict[str, float]:
        """Referred customers by the referrer's role, and the KOL fees."""
        summary = {f"referred_by_{name}": float(steps[f"referred_by_{name}"].sum()) for name in ROLE_NAMES}
        summary["roles_spend"] = float(steps["spend_roles"].sum())
        return summary


def _pick(candidates: np.ndarray, degree: np.ndarray | None, key: np.uint64, k: int) -> np.ndarray:
    """``k`` of ``candidates`` (int64 ids): at random, or the most friends first (``degree``), ties at random.

    "At random" is :func:`~sim.rules._pick.pick_lowest` of the candidates' counter-based uniforms
    under ``key``, computed for the candidates alone.
    """
    positions = np.arange(candidates.size)
    u = uniforms(key, candidates)
    if degree is None:
        return candidates[pick_lowest(positions, u, k)]
    return candidates[pick_top(positions, degree[candidates].astype(np.float64), u, k)]


_NO_ROWS = np.zeros(1, dtype=np.int64)
#: People per block of the weights' scan (a block without a base weight or an extra is passed over).
_WEIGHT_BLOCK = 64
_NO_VALUES = np.empty(0)
_NO_COLUMNS = np.empty(0, dtype=np.int32)
_CUSTOMER = int(Stage.CUSTOMER)


@kernel
def _role_weights(
    base_weight: np.ndarray,
    base_ids: np.ndarray,
    is_employee: np.ndarray,
    rel_share: np.ndarray,
    members: bool,
    extra: np.ndarray,
    stage: np.ndarray,
    day_acquired: np.ndarray,
    day: int,
    degree: np.ndarray,
    weights: np.ndarray,
    n_real: int,
    sharers: np.ndarray,
    n_previous: int,
) -> tuple[float, int, float, int]:
    """Set ``weights`` (float64, length n) to the shares each person's friends hear from them today.

    ``base_weight`` (rate × min(1, reach / degree), float64; positive at the sorted ``base_ids``
    alone) × ``rel_share`` for an employee (the employee reward's response), plus, when loyalty
    ``members`` share, ``extra / max(degree, 1)`` for an active customer acquired before ``day`` with
    a ``rate_share_extra`` (``degree``: int). ``weights`` is kept all zeros but at the ``n_previous``
    people listed in ``sharers`` (the last call's, with a positive weight): those are zeroed, then
    only blocks holding a base id or a positive ``extra`` are looked at, person by person.
    Returns the largest weight, how many real people are not customers, Σ ``degree`` over the
    people with a positive weight (the cost of pushing their weights to their friends) and how many
    those are; their ids are written, ascending, to the start of ``sharers`` (int32, length n).
    """
    for k in range(n_previous):
        weights[sharers[k]] = 0.0
    n_real = min(n_real, stage.shape[0])
    real_stage = stage[:n_real]  # (indexed from 0: the compiler vectorises the count)
    n_customers = 0
    for k in range(real_stage.size):
        n_customers += real_stage[k] == _CUSTOMER
    w_max = 0.0
    push_work = 0.0
    n_sharers = 0
    n = weights.shape[0]
    next_base = 0
    for start in range(0, n, _WEIGHT_BLOCK):
        stop = min(start + _WEIGHT_BLOCK, n)
        if not (next_base < base_ids.size and base_ids[next_base] < stop):
            if not members:
                continue
            block_extra = extra[start:stop]
            hits = 0
            for k in range(block_extra.size):
                hits += block_extra[k] > 0
            if hits == 0:
                continue  # everyone's weight is 0, and so is their entry
        for i in range(start, stop):
            w = base_weight[i]
            if is_employee[i]:
                w = w * np.float64(rel_share[i])
            if members and extra[i] > 0 and stage[i] == _CUSTOMER and day_acquired[i] < day:
                w = w + np.float64(extra[i]) / max(degree[i], 1)
            weights[i] = w
            w_max = max(w_max, w)
            if w > 0.0:
                push_work += degree[i]
                sharers[n_sharers] = i
                n_sharers += 1
        while next_base < base_ids.size and base_ids[next_base] < stop:
            next_base += 1
    return w_max, n_real - n_customers, push_work, n_sharers


@kernel
def _role_exposed(
    key: np.uint64,
    stage: np.ndarray,
    weights: np.ndarray,
    w_max: float,
    indptr: np.ndarray,
    indices: np.ndarray,
    degree: np.ndarray,
    complete: bool,
    total: float,
    heard: np.ndarray,
    n_real: int,
    p_convert: float,
    winback: float,
    switch: float,
    rival: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """List who may convert today and their hazard, from counter-based uniforms under ``key``.

    Person i (a real non-customer) hears the shares ``Σ weights`` over their friends (a CSR row sum;
    ``heard[i]`` when ``heard`` has length n: the sums pushed by
    :func:`~sim.world.graph.add_from_rows`; on the complete graph ``total − weights[i]``);
    their hazard is ``p_convert`` × that, ×
    ``winback`` when churned, × ``switch`` when the rival's customer. A row is summed only when the
    uniform u is under a bound of the hazard (friends × ``w_max``, the largest factor); those with
    u < hazard (1 − e^(−h) ≤ h, with a margin for rounding) are returned as sorted ids (int64),
    hazards and uniforms (float64), for :func:`~sim.rules._referral.convert_referred`.

    Person i's uniform is :func:`~sim.engine.counter.uniform` ``(key, i)``.
    """
    top = p_convert * max(1.0, winback, switch) * (1.0 + 1e-9)
    # Σ of deg terms each ≤ w_max exceeds deg × w_max by rounding at most: a wider margin covers it.
    per_friend = top * w_max * (1.0 + 1e-6)
    pushed = heard.shape[0] == stage.shape[0]
    # Everyone open is marked in one vectorised pass by their bound (what they heard × top, or pulling,
    # friends × the bound per friend), then the marked are listed; pulled row sums are read in a loop
    # of their own, without unpredictable branches between the memory reads (the processor overlaps
    # the cache misses).
    n = min(n_real, stage.shape[0])
    flags = new_flags(n)
    marks, open_stage, friends = flags[:n], stage[:n], degree[:n]  # (indexed from 0: vectorised)
    if complete or pushed:
        heard_by = weights[:n] if complete else heard[:n]
        for k in range(marks.size):
            heard_k = total - heard_by[k] if complete else heard_by[k]
            below = (heard_k > 0.0) & (uniform(key, k) < heard_k * top)
            marks[k] = below & (open_stage[k] != _CUSTOMER)
    else:
        for k in range(marks.size):
            marks[k] = (uniform(key, k) < friends[k] * per_friend) & (open_stage[k] != _CUSTOMER)
    ids, uniforms = flagged_uniforms(key, flags, n)
    m = ids.size
    shares = sums_at(ids, indptr, indices, weights, complete, total, heard)
    hazards = shares
    found = 0  # the listed are written over the candidates, in order (found ≤ k)
    for k in range(m):
        heard_k = shares[k]
        if not (heard_k > 0.0 and uniforms[k] < heard_k * top):
            continue
        i = ids[k]
        hazard = p_convert * heard_k
        hazard *= stage_factor_at(stage[i], winback, switch, rival)
        if uniforms[k] < hazard * (1.0 + 1e-9):
            ids[found], hazards[found], uniforms[found] = i, hazard, uniforms[k]
            found += 1
    return ids[:found], hazards[:found], uniforms[:found]


@kernel
def _role_day(
    key: np.uint64,
    base_weight: np.ndarray,
    base_ids: np.ndarray,
    is_employee: np.ndarray,
    rel_share: np.ndarray,
    members: bool,
    extra: np.ndarray,
    stage: np.ndarray,
    day_acquired: np.ndarray,
    day: int,
    degree_for_weights: np.ndarray,
    weights: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    degree: np.ndarray,
    n_real: int,
    p_convert: float,
    winback: float,
    switch: float,
    rival: bool,
    heard: np.ndarray,
    sum_degree_squared: float,
    strategy: int,
    sharers: np.ndarray,
    n_previous: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A day of role sharing on a CSR graph in one call: :func:`_role_weights`, then :func:`_role_exposed`.

    The shares heard are pulled (a row sum for each person whose uniform passes the bound) or pushed
    from the people who share (into ``heard``, float64 of length n, all zeros, left all zeros):
    ``strategy`` 0 pulls, 1 pushes, −1 takes the one that reads fewer CSR entries (expected: the
    bound × Σ degree², against the sharers' degrees). Both give the same floats. ``sharers`` (int32,
    length n) and ``n_previous`` are :func:`_role_weights`'s; returns :func:`_role_exposed`'s lists
    and how many sharers ``sharers`` now lists (the next day's ``n_previous``).
    """
    w_max, n_open, push_work, n_sharers = _role_weights(
        base_weight, base_ids, is_employee, rel_share, members, extra, stage, day_acquired, day,
        degree_for_weights, weights, n_real, sharers, n_previous,
    )  # fmt: skip
    per_friend = p_convert * max(1.0, winback, switch) * w_max
    pull_work = per_friend * sum_degree_squared * n_open / max(stage.shape[0], 1)
    push = strategy == 1 or (strategy == -1 and push_work < pull_work)
    if push:
        add_from_rows(indptr, indices, weights, sharers[:n_sharers], heard)
    found = _role_exposed(
        key, stage, weights, w_max, indptr, indices, degree, False, 0.0, heard if push else heard[:0],
        n_real, p_convert, winback, switch, rival,
    )  # fmt: skip
    if push:
        heard[:] = 0.0  # a sequential fill: far cheaper than undoing the scattered adds
    ids, hazards, uniforms = found
    return ids, hazards, uniforms, n_sharers


@kernel
def _referred_today(
    day_acquired: np.ndarray, referrer: np.ndarray, role: np.ndarray, day: int, n_roles: int
) -> np.ndarray:
    """How many people acquired on ``day`` were referred by someone of each role (int64, ``n_roles``)."""
    counts = np.zeros(n_roles, dtype=np.int64)
    n = day_acquired.shape[0]
    for start in range(0, n, _WEIGHT_BLOCK):
        stop = min(start + _WEIGHT_BLOCK, n)
        if count_equal(day_acquired, start, stop, day) == 0:
            continue  # few join on a day: a block is looked at only if someone in it did
        for i in range(start, stop):
            if day_acquired[i] == day and referrer[i] != NEVER:
                counts[role[referrer[i]]] += 1
    return counts
