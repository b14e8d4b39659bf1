"""The ripple: customers pass the brand to their friends, most right after they join."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.counter import draw_key, flagged_uniforms, new_flags, stream_key, uniform
from sim.rules._brands import stage_factor_at, switch_to_us
from sim.rules._kernels import count_equal, largest_non_negative
from sim.rules._referral import convert_referred
from sim.rules.base import ACQUISITION_COLUMNS, Phase, Rule
from sim.scenario import SharingSpec
from sim.world.graph import add_from_rows, sums_at
from sim.world.population import Stage

if TYPE_CHECKING:
    from sim.engine.market import Market
    from sim.world.graph import SocialGraph

__all__ = ["Sharing", "expected_lifetime_shares"]

# fades, budget, scale, top_stage, winback, switch, rival, fraction, mean_degree (Sharing._run_constants)
_Constants = tuple[bool, float, float, float, float, float, bool, bool, float]


def expected_lifetime_shares(spec: SharingSpec, days: int | None = None) -> float:
    """Expected shares of one customer over ``days`` days of sharing (the whole spell if None), at rel 1.

    The k-th sharing day has rate ``rate_share_per_day × x^(k−1)``, x = 0.5^(1/half-life), so the
    sum is ``rate × (1 − x^days) / (1 − x)``, capped at ``max_shares_per_customer``; without fading
    it is ``rate × days`` (infinite without a horizon or a cap).
    """
    rate = spec.rate_share_per_day
    half_life = spec.days_share_half_life
    if half_life is None:
        total = rate * days if days is not None else (np.inf if rate > 0 else 0.0)
    else:
        x = 0.5 ** (1.0 / half_life)
        reach = 1.0 - x**days if days is not None else 1.0
        total = rate * reach / (1.0 - x)
    if spec.max_shares_per_customer is not None:
        total = min(total, spec.max_shares_per_customer)
    return float(total)


class Sharing(Rule):
    """Customers who have bought share the brand with friends; a share converts with ``p_convert``.

    A sharer is a real active customer who has placed a first order and was acquired before today
    (someone who joins today starts tomorrow; a sign-up who never orders never shares). Word of mouth
    is strongest right after the purchase and fades (Berger & Schwartz 2011, docs/science.md §3): on
    their k-th day of sharing in a spell a customer shares at ``rate_share_per_day × rel_share ×
    0.5^((k−1)/days_share_half_life)``, and, with ``max_shares_per_customer``, stops once their
    expected shares in the spell reach it. So every customer makes a finite expected number of
    shares, and with no churn one paid customer brings ``1/(1 − K)`` customers in all.

    A non-customer's daily hazard of converting is ``p_convert × pressure``, the pressure following
    ``normalisation`` (docs/science.md §1) over the sharers' weights w (their rate today):

    - ``fraction``: Σ w over sharing friends / friends (Rand & Rust 2011). Every sparse graph is
      slower than the complete graph under this rule.
    - ``count``: Σ w / the graph's mean degree. People with many friends hear more and hubs adopt
      early.

    On the complete graph without fading both give the Bass model with ``q = rate_share_per_day ×
    p_convert`` per day. A churned person converts at ``customers.rel_winback`` times the hazard, the
    rival's customer at ``rival.rel_switch × rival.rel_churn`` times it. The
    new customer's referrer is one of their sharing friends, chosen with weight w.

    Incentives act through two columns other rules write: ``rel_share`` (the referral programme's
    uplift, weak ties, denied rewards) and a friend's conversion × ``rel_referred_convert`` (larger
    friend rewards pull in lower-value friends). Fake accounts (rows after ``model.n_real``) never
    share or convert here: only the attack (rule ``fraud``) activates them.

    Each open person's daily uniform is counter-based (:mod:`sim.engine.counter`): a function of the
    seed, the day and the person, computed only for the people a bound of the hazard lets convert.
    """

    name = "sharing"
    phase = Phase.SHARING
    section = "sharing"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"stage", "day_acquired", "day_first_order", "rel_share", "rel_referred_convert"}
    )
    writes: ClassVar[frozenset[str]] = ACQUISITION_COLUMNS
    zero_intensity: ClassVar[dict[str, object]] = {"sharing.rate_share_per_day": 0.0}

    params: SharingSpec
    _buffer: np.ndarray | None = None  # today's weights (float64, length n), reused every day
    _sharers: np.ndarray | None = None  # ids of the sharers with a positive weight in _buffer (int32)
    _n_sharers = 0
    _tables: tuple[np.ndarray, np.ndarray] | None = None  # see _age_tables
    _constants: _Constants | None = None
    _heard: np.ndarray | None = None  # friends' weights pushed from the sharers (zeros between days)
    _degree_squared: float | None = None
    _key: np.uint64 | None = None  # the counter-based stream's key (sim.engine.counter)

    def step(self, model: Market) -> None:
        """Convert friends of today's sharers and record who referred whom."""
        pop = model.population
        graph = model.graph
        p = self.params
        if p.rate_share_per_day * p.p_convert <= 0.0:
            return  # counter-based uniforms: skipping a day shifts no later number
        if self._key is None:
            self._key = stream_key(self.rng)
        key = draw_key(self._key, model.day)
        weights, sharers = self._buffer, self._sharers
        if weights is None or sharers is None or weights.shape[0] != pop.n:
            # Zeros but at the sharers listed in the first _n_sharers entries of _sharers.
            weights, sharers = self._buffer, self._sharers = np.zeros(pop.n), np.empty(pop.n, np.int32)
            self._n_sharers = 0
        constants = self._constants
        if constants is None:
            constants = self._constants = self._run_constants(model)
        today_by_age, shared_by_age = self._age_tables(model.day)
        weighing = (
            pop.stage, pop.day_acquired, pop.day_first_order, pop.rel_share, model.day, model.n_real,
            float(p.rate_share_per_day), constants[0], constants[1], today_by_age, shared_by_age, weights,
            pop.rel_referred_convert,
        )  # fmt: skip
        hazard = constants[2:]
        if graph.complete:
            # Σ over everyone but oneself: the total is NumPy's sum, as in sum_over_neighbours.
            w_max, rel_max, _, _, self._n_sharers = _sharer_weights(
                *weighing, graph.degree, sharers, self._n_sharers
            )
            ids, hazards, uniforms = _exposed(
                key, pop.stage, pop.rel_referred_convert, model.n_real, weights, w_max, rel_max,
                _NO_ROWS, _NO_COLUMNS, graph.degree, True, float(weights.sum()), _NO_AGES, *hazard,
            )  # fmt: skip
        else:
            assert graph.indptr is not None and graph.indices is not None
            heard = self._heard
            if heard is None or heard.shape[0] != pop.n:
                heard = self._heard = np.zeros(pop.n)  # zero pages cost nothing until pushed to
            ids, hazards, uniforms, self._n_sharers = _sharing_day(
                key, *weighing, graph.indptr, graph.indices, graph.degree, *hazard, sharers,
                self._n_sharers, heard, self._sum_degree_squared(graph), -1,
            )  # fmt: skip
        convert_referred(model, ids, hazards, uniforms, weights)

    def _run_constants(self, model: Market) -> _Constants:
        """What the kernels need from the scenario and the graph, fixed for the run.

        ``(fades, budget, scale, top_stage, winback, switch, rival, fraction, mean_degree)``: budget
        −1 for none; scale ``p_convert × rate_share_per_day``; top_stage the largest stage factor.
        """
        p = self.params
        scenario = model.scenario_config
        winback = scenario.customers.rel_winback
        switch = switch_to_us(scenario)
        return (
            p.days_share_half_life is not None,
            -1.0 if p.max_shares_per_customer is None else float(p.max_shares_per_customer),
            p.p_convert * p.rate_share_per_day,
            max(1.0, winback, switch),
            winback,
            switch,
            scenario.rival.enabled,
            p.normalisation == "fraction",
            max(model.graph.mean_degree, 1e-12),
        )

    def _sum_degree_squared(self, graph: SocialGraph) -> float:
        """Σ degree² over the graph (once per run): the expected cost of pulling in count mode."""
        if self._degree_squared is None:
            self._degree_squared = float(np.sum(graph.degree.astype(np.float64) ** 2))
        return self._degree_squared

    def _age_tables(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Each sharing age's rate today and shares so far at rate 1 (float64, indexed by age in days).

        Ages run from 0 (the first day after joining) to ``day − 1`` (a day-0 customer). Computed with
        NumPy once per run (and again if a run goes on longer), so the kernels read the very floats
        the array formulas give: ``0.5^(age/half-life)`` and ``Σ x^k for k < age``.
        """
        half_life = self.params.days_share_half_life
        if half_life is None:
            return _NO_AGES, _NO_AGES
        tables = self._tables
        if tables is None or tables[0].shape[0] < day + 1:
            age = np.arange(max(day + 1, self.scenario.days + 2), dtype=np.float64)
            x = 0.5 ** (1.0 / half_life)
            with np.errstate(over="ignore"):  # a half-life near 0: age/half-life is inf, today 0
                today = np.exp2(-age / half_life)
            tables = self._tables = (today, (1.0 - today) / (1.0 - x))
        return tables

    def _weights(self, model: Market, sharers: np.ndarray) -> np.ndarray | None:
        """Each sharer's share rate today relative to ``rate_share_per_day`` (0 elsewhere).

        None when every sharer has weight 1 (no incentive multipliers, no fading, no share budget).
        The daily step computes these very weights inside its kernel (:func:`_weight_today` for each
        sharer); this is that computation for a given mask of sharers.
        """
        pop = model.population
        p = self.params
        rel_share = pop.rel_share
        plain_rel = bool(rel_share.min() == 1.0 and rel_share.max() == 1.0)
        if plain_rel and p.days_share_half_life is None and p.max_shares_per_customer is None:
            return None
        today_by_age, shared_by_age = self._age_tables(model.day)
        budget = -1.0 if p.max_shares_per_customer is None else float(p.max_shares_per_customer)
        weights = np.zeros(pop.n)
        _weights_at(
            np.flatnonzero(sharers), rel_share, pop.day_acquired, model.day, float(p.rate_share_per_day),
            p.days_share_half_life is not None, budget, today_by_age, shared_by_age, weights,
        )  # fmt: skip
        return weights


_NO_AGES = np.empty(0)
#: People per block of the sharers' scan (a block without a customer is passed over whole).
_SHARER_BLOCK = 64
_NO_ROWS = np.zeros(1, dtype=np.int64)
_NO_COLUMNS = np.empty(0, dtype=np.int32)
_CUSTOMER = int(Stage.CUSTOMER)


@kernel
def _weight_today(
    rel: float,
    age: int,
    rate: float,
    fades: bool,
    budget: float,
    today_by_age: np.ndarray,
    shared_by_age: np.ndarray,
) -> float:
    """One sharer's share rate today relative to ``rate`` (shares a day per ``rate``).

    ``rel``: their ``rel_share``; ``age``: days their sharing has run before today (0 on the first
    day after joining); ``budget``: ``max_shares_per_customer``, or < 0 for none. With fading the
    rate is ``rel × 0.5^(age/half-life)`` (``today_by_age``); with a budget, today's shares are cut
    to what the spell's budget has left after ``rate × rel × shared_by_age[age]`` shares so far
    (without fading the shares so far are ``rate × rel × age``). The same operations in the same
    order as the array formulas they replace, so the same float.
    """
    if fades:
        today = today_by_age[age]
        shared = shared_by_age[age]
    else:
        today = 1.0
        shared = float(age)
    if budget >= 0.0:
        rate_today = rate * rel * today
        left = budget - rate * rel * shared
        room = left / rate_today if rate_today > 0.0 else 0.0  # a rate near 0: inf, clipped to 1
        if room < 0.0:
            room = 0.0
        elif room > 1.0:
            room = 1.0
        today = today * room
    return rel * today


@kernel
def _weights_at(
    ids: np.ndarray,
    rel_share: np.ndarray,
    day_acquired: np.ndarray,
    day: int,
    rate: float,
    fades: bool,
    budget: float,
    today_by_age: np.ndarray,
    shared_by_age: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[ids]`` = each listed sharer's :func:`_weight_today` (float64 ``out`` of length n)."""
    for i in ids:
        age = day - 1 - day_acquired[i]
        rel = np.float64(rel_share[i])
        out[i] = _weight_today(rel, age, rate, fades, budget, today_by_age, shared_by_age)


@kernel
def _sharer_weights(
    stage: np.ndarray,
    day_acquired: np.ndarray,
    first_order: np.ndarray,
    rel_share: np.ndarray,
    day: int,
    n_real: int,
    rate: float,
    fades: bool,
    budget: float,
    today_by_age: np.ndarray,
    shared_by_age: np.ndarray,
    weights: np.ndarray,
    rel_convert: np.ndarray,
    degree: np.ndarray,
    sharers: np.ndarray,
    n_previous: int,
) -> tuple[float, float, int, int, int]:
    """Set ``weights`` (float64, length n) to each sharer's weight today, 0 for everyone else.

    ``weights`` is kept all zeros but at the ``n_previous`` people listed in ``sharers`` (the last
    call's sharers with a positive weight): those are zeroed and today's written, so a day writes
    only its sharers' entries, not the whole column.

    A sharer is a real (row < ``n_real``) active customer acquired before ``day`` whose first order
    was placed before ``day`` (a customer's ``day_acquired`` is ≥ 0, so their age indexes the
    tables); their weight is :func:`_weight_today`. Returns the largest weight (0 when nobody
    shares), the largest ``rel_convert`` (``rel_referred_convert``, float32, length n), how many
    real people are not customers, Σ ``degree`` over the sharers with a positive weight, and how
    many those are; their ids are written, ascending, to the start of ``sharers`` (int32, length
    ≥ the real people).
    """
    for k in range(n_previous):
        weights[sharers[k]] = 0.0
    w_max = 0.0
    push_work = 0
    n_sharers = 0
    n = min(n_real, stage.shape[0])
    n_customers = 0
    for start in range(0, n, _SHARER_BLOCK):
        stop = min(start + _SHARER_BLOCK, n)
        in_block = count_equal(stage, start, stop, _CUSTOMER)
        if in_block == 0:
            continue  # a block without a customer has no sharer
        n_customers += in_block
        for i in range(start, stop):
            if stage[i] == _CUSTOMER and day_acquired[i] < day and 0 <= first_order[i] < day:
                age = day - 1 - day_acquired[i]
                w = _weight_today(
                    np.float64(rel_share[i]), age, rate, fades, budget, today_by_age, shared_by_age
                )
                w_max = max(w_max, w)
                if w > 0.0:
                    weights[i] = w
                    push_work += degree[i]
                    sharers[n_sharers] = i
                    n_sharers += 1
    return w_max, largest_non_negative(rel_convert), n - n_customers, push_work, n_sharers


@kernel
def _bound(scale: float, top_stage: float, rel_max: float, w_max: float) -> float:
    """An upper bound of anyone's hazard per unit of Σ w / friends: every factor at its largest."""
    return scale * top_stage * max(1.0, rel_max) * w_max * (1.0 + 1e-9)  # the margin covers rounding


@kernel
def _candidates(
    key: np.uint64,
    stage: np.ndarray,
    n_real: int,
    degree: np.ndarray,
    bound: float,
    fraction: bool,
    mean_degree: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The real non-customers whose uniform under ``key`` is under a bound of their hazard, and those.

    The bound is ``bound`` (``fraction``) or ``degree × bound / mean_degree``; person i's uniform is
    :func:`~sim.engine.counter.uniform` ``(key, i)``. Everyone is marked in one vectorised pass, then
    the marked are listed (:func:`~sim.engine.counter.flagged_uniforms`): sorted int64 ids and their
    float64 uniforms, sized by what they hold.
    """
    n = min(n_real, stage.shape[0])
    per_friend = bound / mean_degree
    flags = new_flags(n)
    marks, open_stage, friends = flags[:n], stage[:n], degree[:n]  # (indexed from 0: vectorised)
    if fraction:  # Σ w / friends ≤ w_max
        for k in range(marks.size):
            marks[k] = (uniform(key, k) < bound) & (open_stage[k] != _CUSTOMER)
    else:  # Σ w / mean degree ≤ friends × w_max / mean degree
        for k in range(marks.size):
            marks[k] = (uniform(key, k) < friends[k] * per_friend) & (open_stage[k] != _CUSTOMER)
    return flagged_uniforms(key, flags, n)


@kernel
def _heard_candidates(
    key: np.uint64,
    stage: np.ndarray,
    n_real: int,
    degree: np.ndarray,
    heard: np.ndarray,
    per_heard: float,
    fraction: bool,
    mean_degree: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_candidates` when friends' weights were pushed: each person's own bound, not the largest.

    Person i's hazard is at most ``per_heard × heard[i] / degree[i]`` (``fraction``) or
    ``per_heard × heard[i] / mean_degree`` (``heard``: float64, length n, what their friends pushed;
    compared as u × friends < heard × per_heard, without a division per person), with ``per_heard``
    every other factor at its largest and a margin. The real non-customers whose uniform is under
    it are returned (sorted int64 ids, float64 uniforms): a subset of :func:`_candidates`'s that
    keeps everyone the hazard can convert.
    """
    n = min(n_real, stage.shape[0])
    flags = new_flags(n)
    marks, open_stage, friends, pushed = flags[:n], stage[:n], degree[:n], heard[:n]  # (vectorised)
    if fraction:
        for k in range(marks.size):
            below = uniform(key, k) * np.float64(friends[k]) < pushed[k] * per_heard
            marks[k] = below & (open_stage[k] != _CUSTOMER)
    else:
        for k in range(marks.size):
            below = uniform(key, k) * mean_degree < pushed[k] * per_heard
            marks[k] = below & (open_stage[k] != _CUSTOMER)
    return flagged_uniforms(key, flags, n)


@kernel
def _exposed(
    key: np.uint64,
    stage: np.ndarray,
    rel_convert: np.ndarray,
    n_real: int,
    weights: np.ndarray,
    w_max: float,
    rel_max: float,
    indptr: np.ndarray,
    indices: np.ndarray,
    degree: np.ndarray,
    complete: bool,
    total: float,
    heard: np.ndarray,
    scale: float,
    top_stage: float,
    winback: float,
    switch: float,
    rival: bool,
    fraction: bool,
    mean_degree: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """List who may convert today and their hazard, from counter-based uniforms under ``key``.

    Person i (a real non-customer) hears ``Σ weights`` over their friends (a CSR row sum, or
    ``heard[i]`` when ``heard`` has length n: the sums pushed from the sharers by
    :func:`~sim.world.graph.add_from_rows`, or on the complete graph ``total − weights[i]``);
    their hazard is ``scale × Σ w / degree`` (``fraction``)
    or ``scale × Σ w / mean_degree``, × ``winback`` when churned, × ``switch`` when the rival's
    customer, × their ``rel_convert``. Only those whose uniform u is under a bound of that hazard
    have their friends summed (``top_stage`` is the largest stage factor); those with u < hazard
    (with a margin for rounding: 1 − e^(−h) ≤ h) are returned as sorted ids (int64), hazards and
    uniforms (float64), for :func:`~sim.rules._referral.convert_referred`.
    """
    bound = _bound(scale, top_stage, rel_max, w_max)
    pushed = heard.shape[0] == stage.shape[0]
    # Three simple loops rather than one: the uniforms list the candidates, then their friends'
    # sums and their hazards are read in loops without unpredictable branches between the memory
    # reads, so the processor overlaps the cache misses.
    if pushed:
        # Each person's bound from what they heard: far fewer candidates than under the largest bound.
        per_heard = scale * top_stage * max(1.0, rel_max) * (1.0 + 1e-6)  # (a margin for rounding)
        ids, uniforms = _heard_candidates(key, stage, n_real, degree, heard, per_heard, fraction, mean_degree)
    else:
        ids, uniforms = _candidates(key, stage, n_real, degree, bound, fraction, mean_degree)
    m = ids.shape[0]
    hazards = sums_at(ids, indptr, indices, weights, complete, total, heard)  # (Σ w, then the hazard)
    found = 0  # the listed are written over the candidates, in order (found ≤ k)
    for k in range(m):
        friends = hazards[k]
        if not friends > 0.0:
            continue
        i = ids[k]
        hazard = scale * (friends / degree[i] if fraction else friends / mean_degree)
        hazard *= stage_factor_at(stage[i], winback, switch, rival)
        hazard *= np.float64(rel_convert[i])
        if uniforms[k] < hazard * (1.0 + 1e-9):
            ids[found], hazards[found], uniforms[found] = i, hazard, uniforms[k]
            found += 1
    return ids[:found], hazards[:found], uniforms[:found]


@kernel
def _sharing_day(
    key: np.uint64,
    stage: np.ndarray,
    day_acquired: np.ndarray,
    first_order: np.ndarray,
    rel_share: np.ndarray,
    day: int,
    n_real: int,
    rate: float,
    fades: bool,
    budget: float,
    today_by_age: np.ndarray,
    shared_by_age: np.ndarray,
    weights: np.ndarray,
    rel_convert: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    degree: np.ndarray,
    scale: float,
    top_stage: float,
    winback: float,
    switch: float,
    rival: bool,
    fraction: bool,
    mean_degree: float,
    sharers: np.ndarray,
    n_previous: int,
    heard: np.ndarray,
    sum_degree_squared: float,
    strategy: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A day of sharing on a CSR graph in one call: :func:`_sharer_weights`, then :func:`_exposed`.

    Returns :func:`_exposed`'s lists and how many sharers ``sharers`` now lists (the next day's
    ``n_previous``).

    Friends' weights are summed where needed either by pulling (a row sum for each person whose
    uniform passes the bound) or by pushing (each sharer adds their weight to their friends'
    entries of ``heard``, float64 of length n, all zeros, left all zeros): ``strategy`` 0 pulls, 1
    pushes, −1 takes the one that reads fewer CSR entries (expected: the bound × the open people's
    degrees, against the sharers' degrees). Both give the same floats.
    """
    w_max, rel_max, n_open, push_work, n_sharers = _sharer_weights(
        stage, day_acquired, first_order, rel_share, day, n_real, rate, fades, budget,
        today_by_age, shared_by_age, weights, rel_convert, degree, sharers, n_previous,
    )  # fmt: skip
    bound = _bound(scale, top_stage, rel_max, w_max)
    if fraction:  # each open person is pulled with probability ≤ bound
        pull_work = bound * n_open * mean_degree
    else:  # ... with probability degree × bound / mean degree
        pull_work = bound / mean_degree * sum_degree_squared * n_open / max(stage.shape[0], 1)
    push = strategy == 1 or (strategy == -1 and push_work < pull_work)
    if push:
        add_from_rows(indptr, indices, weights, sharers[:n_sharers], heard)
    ids, hazards, uniforms = _exposed(
        key, stage, rel_convert, n_real, weights, w_max, rel_max, indptr, indices, degree, False, 0.0,
        heard if push else heard[:0], scale, top_stage, winback, switch, rival, fraction, mean_degree,
    )  # fmt: skip
    if push:
        heard[:] = 0.0  # a sequential fill: far cheaper than undoing the scattered adds
    return ids, hazards, uniforms, n_sharers
