"""One paid channel's day: budget → impressions → who sees how many → wear-out, saturation, carryover.

Shared by our ads (rule ``ads``) and the rival's (rule ``rival_ads``): a brand's rule asks a
:class:`PaidChannel` for today's exposure and decides itself what an exposure does to a person (its
own stages and acquisitions).

The media transformations follow the marketing-mix literature as pymc-marketing implements it
(docs/science.md §9): carryover is its geometric adstock with ``normalize=True`` (weights α^l over
lags l = 0, 1, …, summing to 1), per person and without a maximum lag; saturation is its Hill
function ``H(x) = x^s / (κ^s + x^s)`` of the day's reach.

A channel's day runs in compiled kernels (:func:`_channel_day`). Its random numbers are counter-based
(:mod:`sim.engine.counter`): a person's uniform on a day is a hash of the channel's key, the day and
the person, computed in the kernel only for its audience (and for those whose carried-over awareness
may act), never stored for everyone. The kernels keep the float operations of the NumPy passes they
replaced, in order. NumPy computes exp and power with its own vectorised code, which can
differ from the C library's in the last bit, so those values come from NumPy: e^(−λ) per day and a
table of wear-out's decay^k. (The rules' move probability ``−expm1(E·ln(1 − p))`` is per person
and uses the C library in their kernels: an outcome could change only if a uniform fell within that
last bit of it.)
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from sim.engine.compiled import kernel
from sim.engine.counter import (
    _draw_key,
    draw_key,
    flag_at_least,
    flag_buffer,
    list_flagged,
    stream_key,
    uniforms,
)
from sim.engine.counter import uniform as counter_uniform
from sim.engine.random import (
    STEPS_LENGTHS,
    SUMMING_MAX_RATE,
    poisson_cdf,
    poisson_step_count,
    poisson_steps_into,
    poisson_with_residual,
)
from sim.scenario import AdChannelSpec, daily_values

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["MAX_EXPOSURES", "STOCK_FLOOR", "ChannelScratch", "Exposure", "PaidChannel", "hill", "rate_max"]

#: The lifetime exposure count is an int32 column: it stops at its largest value instead of wrapping.
MAX_EXPOSURES = int(np.iinfo(np.int32).max)
#: Carried-over awareness below this many effective impressions is too small to act: such people are
#: skipped (the chance it would move them is below p_stage / 10,000) though their stock still decays.
STOCK_FLOOR = 1e-4


def hill(reach: float, half: float, slope: float) -> float:
    """pymc-marketing's Hill function ``H(r) = r^s / (κ^s + r^s)`` (κ = ``half``, s = ``slope``)."""
    if reach <= 0.0:
        return 0.0
    return reach**slope / (half**slope + reach**slope)


#: :func:`hill` compiled, for the channel's kernel (numba's ``**`` is C's ``pow``, as Python's is).
_hill = kernel(hill)


def rate_max(p_max: float) -> float:
    """``−ln(1 − p_max)``: the hazard per effective impression of the likeliest move (∞ at p ≥ 1).

    The bound :meth:`PaidChannel.expose` takes: ``1 − (1 − p)^E ≤ E × rate_max(p_max)`` for p ≤ p_max.
    """
    return math.inf if p_max >= 1.0 else float(-np.log1p(-min(p_max, 1.0 - 1e-12)))


@dataclass
class Exposure:
    """What a channel did today.

    The arrays are views into the channel's scratch (:class:`ChannelScratch`): valid until the next
    :meth:`PaidChannel.expose` of any channel sharing it.

    Attributes:
        shown: people shown at least one impression today (sorted ids).
        count: impressions each of them was shown.
        impressions: impressions served in all (bought: spend = impressions × CPM / 1000).
        reach: people shown, ÷ people in the channel's audience today (0 with no audience).
        people: the people whose exposure can act today (sorted ids): those shown, and with
            carryover everyone whose carried-over awareness is at least :data:`STOCK_FLOOR`; with a
            ``rate_max`` only those among them whose uniform is below ``rate_max × effective``.
        effective: the exposure of each of ``people`` today, in effective impressions (after
            wear-out, saturation and carryover): a person moves on with ``1 − (1 − p_stage)^effective``.
        uniform: the uniform deciding each of ``people``'s move, independent of their impression count
            (the residual of the count's draw).
        unspent: the day's budget that bought nothing (currency): mostly because the frequency cap
            left too few people to show ads to, so a bigger budget changes nothing.
    """

    shown: np.ndarray
    count: np.ndarray
    impressions: int
    reach: float
    people: np.ndarray
    effective: np.ndarray
    uniform: np.ndarray
    unspent: float = 0.0


class ChannelScratch:
    """Per-person working arrays for one channel's day, shared by a brand's channels (one at a time).

    Allocated once (``np.empty``: a page costs memory only once a day has written to it) and reused
    every day, so a day allocates no full-length temporaries. No uniform is stored for everyone (they
    are counter-based, computed where used): ``ids`` and ``counts`` hold the people drawn and their
    impressions (then, compacted, those shown), ``uniform`` first their residuals; ``people``,
    ``effective`` and ``uniform`` then the day's :attr:`Exposure.people` and its columns.
    """

    def __init__(self, n: int) -> None:
        self.ids = np.empty(n, dtype=np.int64)
        self.counts = np.empty(n, dtype=np.int64)
        self.people = np.empty(n, dtype=np.int64)
        self.effective = np.empty(n)
        self.uniform = np.empty(n)
        self.flags = flag_buffer(n)


class PaidChannel:
    """A channel's state across days: its budget by day, frequency window and carried-over awareness.

    Each day (:meth:`expose`) ``floor(budget(t) / cpm × 1000)`` impressions are spread over the
    audience (Poisson per person by inverse CDF at one counter-based uniform each, exact at any number of
    impressions per person), cut to the room under the frequency cap in the rolling window, and
    trimmed to the budget from a random starting person; the budget left unbought is reported.
    The k-th impression in the window counts ``0.5^((k−1)/h)`` (wear-out). With saturation each
    impression then counts ``κ·H(r)/r`` for the day's reach r, so the day's total effect is κ·H(r)
    (a Hill curve of reach). With carryover a person's awareness stock is ``A_t = α·A_{t−1} +
    (1 − α)·E_t`` (E_t today's effective impressions, α = 0.5^(1/half-life)); the stock, not E_t, is
    what acts today.

    The audience is every real person (``target: everyone``) or everyone but those at stage
    ``not_prospect`` (``prospects``: our active customers for our ads, the rival's for its ads),
    within ``target_community`` if one is set. A day is two compiled passes (:func:`_channel_day`;
    a third, :func:`_count_audience`, when the audience is not everyone) over the people. Person i's
    uniform on day t is ``uniform(draw_key(key, t, 0), i)`` (:mod:`sim.engine.counter`, ``key`` from
    ``rng``'s seed sequence): the same in every strategy whatever anyone else does, and computed only
    for the audience and for those whose carried-over awareness may act. The budget's random
    starting person comes from draw site 1. ``rng`` itself is never drawn from.
    """

    def __init__(
        self,
        spec: AdChannelSpec,
        rng: np.random.Generator,
        n: int,
        days: int,
        not_prospect: int,
        scratch: ChannelScratch | None = None,
    ) -> None:
        self.spec = spec
        self.rng = rng
        #: The channel's counter-based stream: day t's uniforms are keyed by draw_key(_key, t, site).
        self._key = stream_key(rng)
        self._scratch = scratch if scratch is not None else ChannelScratch(n)
        self._exclude = -1 if spec.target == "everyone" else int(not_prospect)
        self._community = -1 if spec.target_community is None else int(spec.target_community)
        self._window_days = spec.days_frequency_window
        self._uses_window = spec.frequency_cap is not None or spec.wearout_half_life_exposures is not None
        # The window is kept sparse: for each day in it, who was shown ads and how many. Only a
        # minority sees an ad on a given day, so this is far cheaper than a dense days × people grid.
        self._window: deque[tuple[np.ndarray, np.ndarray]] = deque()
        self._window_count = np.zeros(n, dtype=np.int64)
        self._cap = -1 if spec.frequency_cap is None else int(spec.frequency_cap)
        half_life = spec.wearout_half_life_exposures
        self._decay = 0.5 ** (1.0 / half_life) if half_life is not None else 1.0
        # decay^k for k = 0, 1, …: NumPy's power, looked up by the kernel (grown when a window count
        # outgrows it), so wear-out is NumPy's to the last bit.
        self._powers = self._decay ** np.arange(64, dtype=np.float64)
        budget = spec.daily_budget
        if isinstance(budget, (int, float)):
            self._budget: np.ndarray | float = float(budget)
            self._impressions: np.ndarray | int = int(budget / spec.cpm * 1000.0)
        else:
            self._budget = daily_values(budget, days)
            self._impressions = np.floor(self._budget / spec.cpm * 1000.0).astype(np.int64)
        adstock = spec.days_adstock_half_life
        self._retention = 0.5 ** (1.0 / adstock) if adstock is not None else 0.0
        self._stock = np.zeros(n) if adstock is not None else _NO_FLOATS
        # 1 for everyone ever shown (whose stock can be above 0): the carryover pass skips the rest.
        # (A whole number of 8-byte words, so the kernel can skip eight at a time.)
        self._held = np.zeros(-(-n // 8) * 8 if adstock is not None else 0, dtype=np.int8)
        self._half = -1.0 if spec.saturation_half_reach is None else float(spec.saturation_half_reach)
        self._slope = float(spec.saturation_slope)
        # The day's rate and its constants (see _rate_constants).
        self._lam, self._p_zero, self._pmf_zero = -1.0, 0.0, 1.0
        self._minus_lam = np.zeros(1)
        # Poisson(λ)'s CDF steps (sim.engine.random.poisson_steps) and P(X < room) by room.
        self._below, self._step = np.empty(STEPS_LENGTHS[0]), np.empty(STEPS_LENGTHS[1])
        self._last = 0
        self._cap_below = _NO_FLOATS

    @property
    def idle(self) -> bool:
        """Whether the channel never buys an impression (a zero budget every day)."""
        return not np.any(np.asarray(self._impressions) > 0)

    def impressions_on(self, day: int) -> int:
        """Impressions the budget buys on ``day``."""
        if isinstance(self._impressions, np.ndarray):
            return int(self._impressions[min(day, self._impressions.size - 1)])
        return self._impressions

    def budget_on(self, day: int) -> float:
        """The channel's budget on ``day`` (currency)."""
        if isinstance(self._budget, np.ndarray):
            return float(self._budget[min(day, self._budget.size - 1)])
        return self._budget

    def stock_total(self) -> float:
        """The channel's total carried-over awareness after today (effective impressions; 0 without)."""
        return float(self._stock.sum()) if self._stock.size else 0.0

    def expose(self, model: Market, rate_max: float = math.inf) -> Exposure:
        """Serve today's impressions to the channel's audience and return the exposure.

        ``rate_max`` is the largest ``−ln(1 − p_stage)`` of anyone today: a person with E effective
        impressions moves on with ``1 − (1 − p)^E ≤ E × rate_max``, so people whose uniform is at or
        above that bound cannot move and are left out of ``Exposure.people`` (the rule need not look at
        them; the outcome is the same). Infinite (the default): nobody is left out.
        """
        pop = model.population
        scratch = self._scratch
        # Person i's uniform today is a hash of (key, day, i), the same in every strategy on the same
        # world. It sets the impression count, and its position inside the count's CDF step (again
        # uniform, independent of the count) decides whether the person moves on.
        forget_ids, forget_counts = self._forget_old_days()
        budget = self.impressions_on(model.day)
        n_real = model.n_real
        if budget == 0:
            n_audience = 0
        elif self._exclude < 0 and self._community < 0:
            n_audience = n_real
        else:
            n_audience = _count_audience(pop.stage, self._exclude, pop.community, self._community, n_real)
        lam, p_zero, cap = 0.0, 0.0, self._cap
        given_count, given_residual = _NO_IDS, _NO_FLOATS
        if n_audience:
            # Everyone in the audience shares one rate: only those whose uniform passes P(X = 0) are
            # shown anything, and their count is the exact inverse CDF (any number per person).
            lam = budget / n_audience
            p_zero = self._rate_constants(lam)[0]
            if lam > SUMMING_MAX_RATE:
                # Beyond the table's rates the counts come from the incomplete gamma function, for
                # those the kernel will find drawn, in the same order, already capped and forgotten.
                given_count, given_residual = self._counts_beyond_the_table(
                    model, lam, p_zero, forget_ids, forget_counts
                )
                forget_ids, forget_counts, cap = _NO_IDS, _NO_IDS, -1
        # A margin over the bound keeps it above the exact probability despite rounding.
        bound = rate_max * (1.0 + 1e-9) if math.isfinite(rate_max) else math.inf
        n_drawn, n_shown, impressions, n_people, need = _channel_day(
            self._key,
            model.day,
            pop.stage,
            self._exclude,
            pop.community,
            self._community,
            n_real,
            p_zero,
            self._below,
            self._step,
            self._last,
            given_count,
            given_residual,
            cap,
            self._cap_below,
            self._window_count,
            self._uses_window,
            forget_ids,
            forget_counts,
            budget,
            scratch.ids,
            scratch.counts,
            n_audience,
            self._powers,
            self._decay,
            self._half,
            self._slope,
            self._stock,
            self._held,
            self._retention,
            bound,
            scratch.people,
            scratch.effective,
            scratch.uniform,
            scratch.flags,
        )
        if need:
            # A window count outgrew the wear-out table (only without a cap): grow it, then act; past
            # a million, NumPy's powers for those drawn alone (as the NumPy passes computed them).
            drawn_powers = _NO_POWERS
            if need <= _MAX_POWERS:
                self._powers = self._decay ** np.arange(max(need, 2 * self._powers.size), dtype=np.float64)
            else:
                drawn, drawn_count = scratch.ids[:n_drawn], scratch.counts[:n_drawn]
                in_window = (self._window_count[drawn] - drawn_count).astype(np.float64)
                drawn_powers = np.stack([self._decay**in_window, self._decay**drawn_count])
            n_people = _act(
                draw_key(self._key, model.day, _SITE_COUNT),
                pop.stage,
                self._exclude,
                pop.community,
                self._community,
                n_real,
                p_zero,
                scratch.ids,
                scratch.counts,
                n_drawn,
                n_shown,
                n_audience,
                self._window_count,
                self._powers,
                drawn_powers,
                self._decay,
                self._half,
                self._slope,
                self._stock,
                self._held,
                self._retention,
                bound,
                scratch.people,
                scratch.effective,
                scratch.uniform,
            )
        shown, count = scratch.ids[:n_shown], scratch.counts[:n_shown]
        if self._uses_window:
            self._window.append((shown.copy(), count.copy()))
        unspent = max(0.0, self.budget_on(model.day) - impressions * self.spec.cpm / 1000.0)
        return Exposure(
            shown,
            count,
            impressions,
            n_shown / n_audience if n_audience else 0.0,
            scratch.people[:n_people],
            scratch.effective[:n_people],
            scratch.uniform[:n_people],
            unspent,
        )

    def _counts_beyond_the_table(
        self, model: Market, lam: float, p_zero: float, forget_ids: np.ndarray, forget_counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Counts and residuals of those drawn (in drawing order) at a rate beyond the CDF table's.

        They come from the incomplete gamma function (NumPy/SciPy), then are cut to the room under
        the cap as the kernel cuts them (the tail's start computed for the rooms reached only). The
        window first forgets the day leaving it.
        """
        pop, ids = model.population, self._scratch.ids
        key = draw_key(self._key, model.day, _SITE_COUNT)
        if forget_ids.size:
            self._window_count[forget_ids] -= forget_counts
        m = _select(key, pop.stage, self._exclude, pop.community, self._community, model.n_real, p_zero, ids)
        drawn = ids[:m]
        u = uniforms(key, drawn)
        count, residual = poisson_with_residual(u, lam)
        if self._cap >= 0:
            room = np.maximum(self._cap - self._window_count[drawn], 0)
            capped = np.flatnonzero(count >= room)
            if capped.size:
                # Everyone whose draw reaches the room left is served exactly the room: decide on the
                # uniform's position in the tail P(X ≥ room) (see _serve).
                below = poisson_cdf(room[capped] - 1.0, lam)
                tail = (u[capped] - below) / np.maximum(1.0 - below, 1e-300)
                residual[capped] = np.clip(tail, 0.0, _BELOW_ONE)
                count[capped] = room[capped]
        return count, residual

    def _rate_constants(self, lam: float) -> tuple[float, float]:
        """P(X = 0) as the day's threshold and as the CDF's first step; the CDF steps and P(X < room).

        Recomputed only when the rate changes (a channel whose audience does not change has one rate).
        The steps, and P(X < room) for each room a count can reach (up to the last step and the cap),
        only at rates up to :data:`~sim.engine.random.SUMMING_MAX_RATE`.
        """
        if lam != self._lam:
            self._lam = lam
            # NumPy's exp, as ever: of the rate for the threshold, of a one-element array for the
            # CDF steps (sim.engine.random.poisson_zero), as the NumPy passes computed them.
            self._p_zero = float(np.exp(-lam))
            self._minus_lam[0] = -lam  # poisson_zero(lam), without its allocations
            self._pmf_zero = float(np.exp(self._minus_lam, out=self._minus_lam)[0])
            if lam <= SUMMING_MAX_RATE:
                self._last = poisson_steps_into(self._pmf_zero, lam, self._below, self._step)
                if self._cap >= 0:
                    # P(X ≤ room − 1) = pdtr(room − 1, λ) for rooms 1 … (no count passes the last
                    # step), room 0: 0, as sim.engine.random.poisson_cdf computes it.
                    rooms = min(self._cap, self._last)
                    self._cap_below = np.zeros(rooms + 1)
                    special.pdtr(np.arange(rooms, dtype=np.float64), lam, out=self._cap_below[1:])
        return self._p_zero, self._pmf_zero

    def _forget_old_days(self) -> tuple[np.ndarray, np.ndarray]:
        """Keep the previous ``days_frequency_window − 1`` days; returns the day leaving the window."""
        leaving_ids, leaving_counts = _NO_IDS, _NO_IDS
        while len(self._window) >= self._window_days:
            if leaving_ids.size:
                self._window_count[leaving_ids] -= leaving_counts
            leaving_ids, leaving_counts = self._window.popleft()
        return leaving_ids, leaving_counts


_NO_IDS = np.zeros(0, dtype=np.int64)
_NO_FLOATS = np.zeros(0)
_BELOW_ONE = float(np.nextafter(1.0, 0.0))
#: People per block of the carryover pass (a multiple of 8: whole words of marks).
_CARRY_BLOCK = 256
_NO_POWERS = np.zeros((2, 0))
#: Draw sites of a channel's day (sim.engine.counter.draw_key): each person's count (and its residual),
#: and the budget's random starting person (person 0's uniform at that site).
_SITE_COUNT, _SITE_START = 0, 1
#: The largest wear-out table kept (decay^k for k below it): window counts past it are rare (huge
#: budgets with no cap), and their powers are computed for those drawn alone.
_MAX_POWERS = 1 << 20


@kernel
def _count_audience(
    stage: np.ndarray, exclude: int, community: np.ndarray, target_community: int, n_real: int
) -> int:
    """The audience's size among the ``n_real`` real people: not at stage ``exclude``, in the community."""
    size = 0
    for i in range(n_real):
        # In the audience: not at stage ``exclude`` (−1: none), in the target community (−1: any).
        # (Spelled out in each loop: a call to a compiled helper here keeps numba from optimising it.)
        if (exclude < 0 or stage[i] != exclude) and (
            target_community < 0 or community[i] == target_community
        ):
            size += 1
    return size


@kernel
def _select(
    key: np.uint64,
    stage: np.ndarray,
    exclude: int,
    community: np.ndarray,
    target_community: int,
    n_real: int,
    p_zero: float,
    ids: np.ndarray,
) -> int:
    """Write into ``ids`` the audience whose uniform under draw ``key`` is at least ``p_zero``; how many."""
    m = 0
    for i in range(n_real):
        if counter_uniform(key, i) < p_zero or (exclude >= 0 and stage[i] == exclude):
            continue
        if target_community < 0 or community[i] == target_community:
            ids[m] = i
            m += 1
    return m


@kernel
def _serve(
    key: np.uint64,
    start_key: np.uint64,
    stage: np.ndarray,
    exclude: int,
    community: np.ndarray,
    target_community: int,
    n_real: int,
    p_zero: float,
    below: np.ndarray,
    step: np.ndarray,
    last: int,
    given_count: np.ndarray,
    given_residual: np.ndarray,
    cap: int,
    cap_below: np.ndarray,
    window_count: np.ndarray,
    uses_window: bool,
    budget: int,
    ids: np.ndarray,
    counts: np.ndarray,
    residuals: np.ndarray,
    flags: np.ndarray,
) -> tuple[int, int, int, int]:
    """Serve the day's impressions (Poisson at one rate per person of the audience): who draws how many.

    Everyone in the audience whose uniform under draw ``key`` (person i's: ``uniform(key, i)``) is at
    least ``p_zero`` = P(X = 0) is drawn: their count and its residual come from the CDF steps of the
    day's Poisson rate (``below``/``step``/``last``, :func:`~sim.engine.random.poisson_steps`), or from
    ``given_count``/``given_residual`` (in drawing order) when those are not
    empty. A count reaching the room under the ``cap`` (−1: none) in the window is cut to the room,
    and the residual becomes the uniform's position in the tail P(X ≥ room) (``cap_below[room]`` =
    P(X < room)). Counts over the ``budget`` (impressions) are dropped, walking from a random drawn
    person (``uniform(start_key, 0)`` × the number drawn). With ``uses_window`` today's counts are
    added to ``window_count`` (per person). ``flags`` (uint8, :func:`~sim.engine.counter.flag_buffer`
    of at least ``n_real``) is scratch for marking who passes P(X = 0).

    Returns the number drawn (their ids, counts, some 0, and residuals in ``ids``/``counts``/``residuals``,
    sorted by id), the number
    shown (count > 0), the impressions served, and the largest window count among those shown.
    """
    counted = given_count.size > 0
    # Most people draw nothing: find those whose uniform passes P(X = 0) without a branch per person
    # (a mispredicted branch costs more than the rest of the test), then look at them alone.
    # Most people draw nothing: those whose uniform passes P(X = 0) are marked in one vectorised
    # pass and listed eight marks at a time, then looked at alone.
    flag_at_least(key, n_real, p_zero, flags)
    n_passing = list_flagged(flags, n_real, ids)
    m = 0
    total = 0
    for passing in range(n_passing):
        i = ids[passing]
        # In the audience: not at stage ``exclude`` (−1: none), in the target community (−1: any).
        # (Spelled out in each loop: a call to a small compiled helper here slows the loop tenfold.)
        if (exclude >= 0 and stage[i] == exclude) or (
            target_community >= 0 and community[i] != target_community
        ):
            continue
        ui = counter_uniform(key, i)
        if counted:
            count, residual = given_count[m], given_residual[m]
        else:
            count, residual = poisson_step_count(ui, below, step, last)
        if cap >= 0:
            room = max(cap - window_count[i], 0)
            if count >= room:
                # Everyone whose draw reaches the room left is served exactly the room: decide on the
                # uniform's position in the tail P(X ≥ room) (uniform there, and the same however far
                # past the cap the draw went), so budget the cap cannot spend changes nothing.
                tail_start = cap_below[room]
                tail = (ui - tail_start) / max(1.0 - tail_start, 1e-300)
                residual = min(max(tail, 0.0), _BELOW_ONE)
                count = room
        residuals[m] = residual
        ids[m] = i
        counts[m] = count
        total += count
        m += 1
    if total > budget:
        # Drop impressions past the budget, starting from a random person, so spend ≤ budget.
        start = int(counter_uniform(start_key, 0) * m)
        before = 0
        for t in range(m):
            j = start + t
            if j >= m:
                j -= m
            count = counts[j]
            counts[j] = min(max(budget - before, 0), count)
            before += count
    shown = 0
    impressions = 0
    largest = 0
    for j in range(m):
        count = counts[j]
        if count > 0:
            shown += 1
            impressions += count
            if uses_window:
                i = ids[j]
                window_count[i] += count
                largest = max(largest, window_count[i])
    return m, shown, impressions, largest


@kernel
def _act(
    key: np.uint64,
    stage: np.ndarray,
    exclude: int,
    community: np.ndarray,
    target_community: int,
    n_real: int,
    p_zero: float,
    ids: np.ndarray,
    counts: np.ndarray,
    n_drawn: int,
    n_shown: int,
    n_audience: int,
    window_count: np.ndarray,
    powers: np.ndarray,
    drawn_powers: np.ndarray,
    decay: float,
    half: float,
    slope: float,
    stock: np.ndarray,
    held: np.ndarray,
    retention: float,
    bound: float,
    people: np.ndarray,
    effective: np.ndarray,
    uniform: np.ndarray,
) -> int:
    """Who can act today, with their effective impressions and deciding uniforms; returns how many.

    The first ``n_drawn`` of ``ids``/``counts`` were drawn (:func:`_serve`; the first ``n_drawn`` of
    ``uniform`` hold their residuals), ``n_shown`` of them with a count above 0; ``window_count``
    includes today. Each shown person's effective impressions: with wear-out (``decay`` < 1) the sum
    of decay^(k−1) over their window's k = w+1 … w+count (``powers[k] = decay^k``; or, when given,
    ``drawn_powers[:, j]`` = decay^w, decay^count for drawn entry j), else the count; with
    saturation (``half`` > 0, ``slope``) times κ·H(r)/r at reach r = shown ÷ ``n_audience``.
    Without carryover (``stock`` empty) those shown act; with it every person's stock (per person)
    decays by ``retention`` and gains (1 − retention) × today's (``held``, per person: 1 for
    everyone ever shown, the only stocks above 0), and everyone whose stock is at least
    :data:`STOCK_FLOOR` acts with the stock as their effective impressions, deciding on their
    residual if drawn, on u / P(X = 0) (``p_zero``; 0 on a day nothing was served) if in the
    audience (``exclude``, ``target_community``), else on u (u = ``uniform(key, i)``, the day's
    counter-based uniform of person i, computed only for them). Those whose uniform is at or above
    effective × ``bound`` cannot move and are left out. Writes ``people`` (sorted ids),
    ``effective`` and ``uniform``, then compacts ``ids``/``counts`` to those shown.
    """
    factor = 1.0
    saturating = half > 0.0 and n_shown > 0
    if saturating:
        reach = n_shown / n_audience
        # The day's total effect is κ·H(r), a Hill curve of reach r: each impression counts κ·H(r)/r.
        factor = half * _hill(reach, half, slope) / reach
    wearing = decay < 1.0
    given_powers = drawn_powers.shape[1] > 0
    bounded = bound < math.inf
    one_minus_decay = 1.0 - decay
    acting = 0
    if stock.size == 0:
        for j in range(n_drawn):
            count = counts[j]
            if count == 0:
                continue
            i = ids[j]
            if wearing:
                # Sum of decay^(k-1) for k = w+1 .. w+count, w = impressions already in the window
                # before today (a geometric series).
                if given_powers:
                    e = drawn_powers[0, j] * (1.0 - drawn_powers[1, j]) / one_minus_decay
                else:
                    e = powers[window_count[i] - count] * (1.0 - powers[count]) / one_minus_decay
            else:
                e = float(count)
            if saturating:
                e *= factor
            residual = uniform[j]
            # (In place: acting ≤ j, so no residual is overwritten before it is read.)
            if not bounded or residual < e * bound:
                people[acting] = i
                effective[acting] = e
                uniform[acting] = residual
                acting += 1
    else:
        # Only people ever shown have a stock above 0 (0 × retention stays 0), so the pass skips the
        # rest on a one-byte mark: ``held`` is 1 for them, 2 for those shown today (already updated),
        # 3 for those drawn but shown nothing today (cut by the cap or the budget): both 2 and 3
        # decide on their residual, not on u.
        fresh = 1.0 - retention
        for j in range(n_drawn):
            count = counts[j]
            i = ids[j]
            if count == 0:
                if held[i] == 1:
                    held[i] = 3
            else:
                if wearing and given_powers:
                    e = drawn_powers[0, j] * (1.0 - drawn_powers[1, j]) / one_minus_decay
                elif wearing:
                    e = powers[window_count[i] - count] * (1.0 - powers[count]) / one_minus_decay
                else:
                    e = float(count)
                if saturating:
                    e *= factor
                stock[i] = stock[i] * retention + fresh * e
                held[i] = 2
        # The residuals move to the end of ``uniform`` (highest first): the j-th drawn id is at most
        # n − n_drawn + j, and the output written at ``acting`` ≤ the current id, so a residual is
        # never overwritten before its person is reached.
        tail = uniform.size - n_drawn
        for j in range(n_drawn - 1, -1, -1):
            uniform[tail + j] = uniform[j]
        # Who may act: stock at least the floor and either drawn today (deciding on their residual)
        # or, with a bound, u under it (a deciding uniform of someone not drawn is at least u:
        # u / P(X = 0) ≥ u). The people not drawn are found block by block with branch-free
        # (vectorised) passes, then merged with those drawn (both sorted).
        n = stock.size
        words = held.view(np.uint64)  # eight marks at a time: mostly 0 while few were ever shown
        n_found = 0
        for first_word in range(0, words.size, _CARRY_BLOCK // 8):
            last_word = min(first_word + _CARRY_BLOCK // 8, words.size)
            marked = 0
            for word in range(first_word, last_word):
                marked |= words[word]
            if marked == 0:
                continue
            start, stop = 8 * first_word, min(8 * last_word, n)
            # (Slices indexed from 0: the compiler vectorises these loops, not ones offset by start.)
            block_stock, block_held = stock[start:stop], held[start:stop]
            # A stock × 0 stays 0 and today's is not decayed again: the same floats as decaying
            # the held ones alone.
            for k in range(block_stock.size):
                block_stock[k] = block_stock[k] * (1.0 if block_held[k] == 2 else retention)
            hits = 0
            for k in range(block_stock.size):
                level = block_stock[k]
                hits += (
                    (level >= STOCK_FLOOR)
                    & (block_held[k] < 2)
                    & ((not bounded) | (counter_uniform(key, start + k) < level * bound))
                )
            if hits > 0:
                for k in range(block_stock.size):
                    level = block_stock[k]
                    people[n_found] = start + k
                    n_found += (
                        (level >= STOCK_FLOOR)
                        & (block_held[k] < 2)
                        & ((not bounded) | (counter_uniform(key, start + k) < level * bound))
                    )
            for k in range(block_held.size):
                block_held[k] = min(block_held[k], 1)
        # Merge those drawn (sorted ``ids``) whose stock reaches the floor into the found, from the end.
        n_passing = n_found
        for j in range(n_drawn):
            n_passing += stock[ids[j]] >= STOCK_FLOOR
        found, drawn, out = n_found - 1, n_drawn - 1, n_passing - 1
        while drawn >= 0:
            i = ids[drawn]
            if stock[i] < STOCK_FLOOR:
                drawn -= 1
            elif found >= 0 and people[found] > i:
                people[out] = people[found]
                found -= 1
                out -= 1
            else:
                people[out] = i
                drawn -= 1
                out -= 1
        j = 0
        for passing in range(n_passing):
            i = people[passing]
            while j < n_drawn and ids[j] < i:
                j += 1
            if j < n_drawn and ids[j] == i:
                ui = uniform[tail + j]  # the residual of those drawn
            else:
                ui = counter_uniform(key, i)
                if (
                    ui < p_zero
                    and i < n_real
                    and (exclude < 0 or stage[i] != exclude)
                    and (target_community < 0 or community[i] == target_community)
                ):
                    # In the audience but not drawn: the uniform's position inside the zero step.
                    ui = min(ui / p_zero, _BELOW_ONE)
            if bounded and ui >= stock[i] * bound:
                continue
            people[acting] = i
            effective[acting] = stock[i]
            uniform[acting] = ui
            acting += 1
    shown = 0
    for j in range(n_drawn):
        if counts[j] > 0:
            ids[shown] = ids[j]
            counts[shown] = counts[j]
            shown += 1
    return acting


@kernel
def _channel_day(
    channel_key: np.uint64,
    day: int,
    stage: np.ndarray,
    exclude: int,
    community: np.ndarray,
    target_community: int,
    n_real: int,
    p_zero: float,
    below: np.ndarray,
    step: np.ndarray,
    last: int,
    given_count: np.ndarray,
    given_residual: np.ndarray,
    cap: int,
    cap_below: np.ndarray,
    window_count: np.ndarray,
    uses_window: bool,
    forget_ids: np.ndarray,
    forget_counts: np.ndarray,
    budget: int,
    ids: np.ndarray,
    counts: np.ndarray,
    n_audience: int,
    powers: np.ndarray,
    decay: float,
    half: float,
    slope: float,
    stock: np.ndarray,
    held: np.ndarray,
    retention: float,
    bound: float,
    people: np.ndarray,
    effective: np.ndarray,
    uniform: np.ndarray,
    flags: np.ndarray,
) -> tuple[int, int, int, int, int]:
    """A channel's day in one call: :func:`_serve` (unless ``n_audience`` is 0), then :func:`_act`.

    The day's uniforms are keyed by ``_draw_key(channel_key, day, site)`` (``_SITE_COUNT``,
    ``_SITE_START``). First the day leaving the window (``forget_ids``/``forget_counts``) leaves
    ``window_count``.

    Returns the number drawn, the number shown, the impressions served, the number who can act, and
    0; or, when a window count outgrew ``powers`` (wear-out's decay^k table), the size it needs in
    place of acting (the caller grows the table and calls :func:`_act`).
    """
    for j in range(forget_ids.size):
        window_count[forget_ids[j]] -= forget_counts[j]
    key = _draw_key(channel_key, day, _SITE_COUNT)
    n_drawn, n_shown, impressions, largest = 0, 0, 0, 0
    if n_audience > 0:
        n_drawn, n_shown, impressions, largest = _serve(
            key,
            _draw_key(channel_key, day, _SITE_START),
            stage,
            exclude,
            community,
            target_community,
            n_real,
            p_zero,
            below,
            step,
            last,
            given_count,
            given_residual,
            cap,
            cap_below,
            window_count,
            uses_window,
            budget,
            ids,
            counts,
            uniform,
            flags,
        )
    if decay < 1.0 and largest >= powers.size:
        return n_drawn, n_shown, impressions, 0, largest + 1
    acting = _act(
        key,
        stage,
        exclude,
        community,
        target_community,
        n_real,
        p_zero,
        ids,
        counts,
        n_drawn,
        n_shown,
        n_audience,
        window_count,
        powers,
        _NO_POWERS,
        decay,
        half,
        slope,
        stock,
        held,
        retention,
        bound,
        people,
        effective,
        uniform,
    )
    return n_drawn, n_shown, impressions, acting, 0
