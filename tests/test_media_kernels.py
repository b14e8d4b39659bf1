"""The compiled paid-channel day and funnel moves against plain NumPy versions of the same passes.

The reference below is the channel's day written as whole-array NumPy passes (the form the kernels
replaced), on the same counter-based uniforms computed for everyone up front
(``sim.engine.counter.uniforms``): for every mix of frequency cap, wear-out, saturation, carryover,
audience, rate and bound, the compiled day, which computes a uniform only where it is used, must
give the same people, counts, effective impressions and uniforms to the last bit, and leave the
same state behind.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from sim.engine.counter import draw_key, stream_key, uniforms
from sim.engine.random import (
    _by_table,
    poisson_cdf,
    poisson_step_count,
    poisson_steps,
    poisson_with_residual,
    poisson_zero,
    stream,
)
from sim.rules import rival as rival_rules
from sim.rules._media import STOCK_FLOOR, PaidChannel, hill, rate_max
from sim.scenario import AdChannelSpec
from sim.world.population import Stage

N = 3003  # not a whole number of 8-byte words
N_REAL = 2900  # the rest are fake accounts: never an audience


class _ReferenceChannel:
    """A paid channel's day in whole-array NumPy passes (the same algorithm, uncompiled)."""

    def __init__(self, spec: AdChannelSpec, rng: np.random.Generator, n: int) -> None:
        self.spec, self.key = spec, stream_key(rng)
        self.window: list[tuple[np.ndarray, np.ndarray]] = []
        self.window_count = np.zeros(n, dtype=np.int64)
        half_life = spec.wearout_half_life_exposures
        self.decay = 0.5 ** (1.0 / half_life) if half_life is not None else 1.0
        self.impressions = int(spec.daily_budget / spec.cpm * 1000.0)
        adstock = spec.days_adstock_half_life
        self.retention = 0.5 ** (1.0 / adstock) if adstock is not None else 0.0
        self.stock = np.zeros(n) if adstock is not None else None
        self.uses_window = spec.frequency_cap is not None or half_life is not None

    def expose(self, audience: np.ndarray, bound_rate: float, day: int) -> dict[str, Any]:
        u = uniforms(draw_key(self.key, day, 0), audience.size)  # everyone's, used or not
        start = float(uniforms(draw_key(self.key, day, 1), 1)[0])  # the budget's starting point
        while len(self.window) >= self.spec.days_frequency_window:
            old_shown, old_count = self.window.pop(0)
            self.window_count[old_shown] -= old_count
        budget, n_audience = self.impressions, int(np.count_nonzero(audience))
        p_zero = None
        drawn, count, residual = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        if budget and n_audience:
            lam = budget / n_audience
            p_zero = float(np.exp(-lam))
            drawn = np.flatnonzero(audience & (u >= p_zero))
            count, residual = poisson_with_residual(u[drawn], lam)
            if self.spec.frequency_cap is not None:
                room = np.maximum(self.spec.frequency_cap - self.window_count[drawn], 0)
                capped = np.flatnonzero(count >= room)
                below = poisson_cdf(room[capped] - 1.0, lam)
                tail = (u[drawn[capped]] - below) / np.maximum(1.0 - below, 1e-300)
                residual[capped] = np.clip(tail, 0.0, np.nextafter(1.0, 0.0))
                count[capped] = room[capped]
            if int(count.sum()) > budget:
                order = np.roll(np.arange(drawn.size), -int(start * drawn.size))
                cumulative = np.cumsum(count[order])
                count[order] = np.clip(budget - (cumulative - count[order]), 0, count[order])
        else:
            n_audience = 0 if not budget else n_audience
        served = count > 0
        shown, shown_count, u_advance = drawn[served], count[served], residual[served]
        if self.uses_window:
            self.window.append((shown, shown_count))
            self.window_count[shown] += shown_count
        reach = shown.size / n_audience if n_audience else 0.0
        if self.decay < 1.0:
            in_window = (self.window_count[shown] - shown_count).astype(np.float64)
            effective = self.decay**in_window * (1.0 - self.decay**shown_count) / (1.0 - self.decay)
        else:
            effective = shown_count.astype(np.float64)
        half = self.spec.saturation_half_reach
        if half is not None and shown.size:
            effective *= half * hill(reach, half, self.spec.saturation_slope) / reach
        bound = bound_rate * (1.0 + 1e-9) if math.isfinite(bound_rate) else math.inf
        if self.stock is None:
            keep = u_advance < effective * bound if math.isfinite(bound) else np.ones(shown.size, dtype=bool)
            people, act, uniform = shown[keep], effective[keep], u_advance[keep]
        else:
            self.stock *= self.retention
            self.stock[shown] += (1.0 - self.retention) * effective
            people = np.flatnonzero(self.stock >= STOCK_FLOOR)
            uniform = u[people]
            if p_zero is not None:
                zero_step = audience[people] & (uniform < p_zero)
                uniform[zero_step] /= p_zero
                where = np.searchsorted(drawn, people)
                holds = (where < drawn.size) & (drawn[np.minimum(where, max(drawn.size - 1, 0))] == people)
                uniform[holds] = residual[where[holds]]
            np.clip(uniform, 0.0, np.nextafter(1.0, 0.0), out=uniform)
            act = self.stock[people]
            if math.isfinite(bound):
                keep = uniform < act * bound
                people, act, uniform = people[keep], act[keep], uniform[keep]
        impressions = int(shown_count.sum())
        return {
            "shown": shown,
            "count": shown_count,
            "impressions": impressions,
            "reach": reach,
            "people": people,
            "effective": act,
            "uniform": uniform,
        }


def _spec(**fields: Any) -> AdChannelSpec:
    return AdChannelSpec.model_validate({"name": "test", "daily_budget": 20.0, "cpm": 8.0, **fields})


def _model(stage: np.ndarray, community: np.ndarray, day: int) -> Any:
    population = SimpleNamespace(stage=stage, community=community, n=stage.size)
    return SimpleNamespace(population=population, n_real=N_REAL, day=day)


def _audience(spec: AdChannelSpec, stage: np.ndarray, community: np.ndarray, not_prospect: int) -> np.ndarray:
    audience = np.ones(stage.size, dtype=bool) if spec.target == "everyone" else stage != not_prospect
    if spec.target_community is not None:
        audience &= community == spec.target_community
    audience[N_REAL:] = False
    return audience


CASES: dict[str, dict[str, Any]] = {
    "plain": {},
    "no_cap": {"frequency_cap": None, "daily_budget": 60.0},
    "cap_and_wearout": {"frequency_cap": 3, "days_frequency_window": 7, "wearout_half_life_exposures": 2.0},
    "tight_cap_everyone": {"frequency_cap": 1, "days_frequency_window": 3, "target": "everyone"},
    "saturation": {"saturation_half_reach": 0.05, "saturation_slope": 1.7},
    "adstock": {"days_adstock_half_life": 7, "target": "everyone"},
    "adstock_cap_community": {"days_adstock_half_life": 3, "frequency_cap": 2, "target_community": 1},
    "budget_trim": {"daily_budget": 2000.0, "frequency_cap": 2},
    "wearout_grows_its_table": {
        "daily_budget": 100.0,
        "frequency_cap": None,
        "wearout_half_life_exposures": 1.0,
        "days_frequency_window": 30,
    },
    "rate_above_the_table": {"daily_budget": 500_000.0, "days_adstock_half_life": 2, "frequency_cap": 50},
    "huge_cap_above_the_table": {
        "daily_budget": 900_000.0,
        "frequency_cap": 10**12,
        "wearout_half_life_exposures": None,
    },
    "huge_cap": {"daily_budget": 90.0, "frequency_cap": 10**12},
    "window_counts_past_a_million": {"daily_budget": 3e7, "frequency_cap": None, "days_frequency_window": 3},
    "nobody_in_the_audience": {"target_community": 7},
    # A rate under 0.003 a person: the draw screens blocks of people and passes most over whole.
    "low_rate": {"daily_budget": 0.02},
    "low_rate_adstock": {"daily_budget": 0.05, "days_adstock_half_life": 7, "target": "everyone"},
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("bound_p", [None, 0.02, 1.0])
def test_the_compiled_day_is_the_numpy_day_to_the_bit(case: str, bound_p: float | None) -> None:
    spec = _spec(**CASES[case])
    bound_rate = math.inf if bound_p is None else rate_max(bound_p)
    compiled = PaidChannel(spec, stream(3, "ads"), N, 40, not_prospect=Stage.CUSTOMER)
    reference = _ReferenceChannel(spec, stream(3, "ads"), N)
    state = np.random.default_rng(11)
    stage = state.integers(0, 6, N).astype(np.int8)
    community = state.integers(0, 3, N).astype(np.int32)
    for day in range(1, 41):
        # Stages move between days, so the prospects' audience (and the rate) changes.
        moved = state.random(N) < 0.05
        stage[moved] = state.integers(0, 6, int(moved.sum()))
        got = compiled.expose(_model(stage, community, day), bound_rate)
        want = reference.expose(_audience(spec, stage, community, Stage.CUSTOMER), bound_rate, day)
        for field in ("shown", "count", "people", "effective", "uniform"):
            np.testing.assert_array_equal(getattr(got, field), want[field], err_msg=f"{field} on day {day}")
        assert got.impressions == want["impressions"]
        assert got.reach == want["reach"]
        assert got.unspent == max(0.0, spec.daily_budget - want["impressions"] * spec.cpm / 1000.0)
    np.testing.assert_array_equal(compiled._window_count, reference.window_count)
    if reference.stock is not None:
        np.testing.assert_array_equal(compiled._stock, reference.stock)
        assert compiled.stock_total() == float(reference.stock.sum())
    if case == "nobody_in_the_audience":
        assert got.impressions == 0 and got.shown.size == 0 and got.reach == 0.0
    if case == "wearout_grows_its_table":
        assert compiled._powers.size > 64  # a window count outgrew the first table


def test_a_channel_with_everyone_in_its_audience_shows_the_budget_and_everyone_can_act() -> None:
    spec = _spec(target="everyone", daily_budget=80.0, frequency_cap=None)  # 10,000 impressions, 2,900 people
    channel = PaidChannel(spec, stream(5, "ads"), N, 10, not_prospect=Stage.CUSTOMER)
    stage = np.full(N, Stage.CUSTOMER, dtype=np.int8)
    exposure = channel.expose(_model(stage, np.zeros(N, dtype=np.int32), 1))
    # Poisson counts at 10,000 / 2,900 a person add up to 10,000 ± 100: trimmed to the budget if over.
    assert 9_600 < exposure.impressions <= 10_000
    assert exposure.shown.size > 0.9 * N_REAL
    assert exposure.shown.max() < N_REAL  # fake accounts are never shown ads
    np.testing.assert_array_equal(exposure.people, exposure.shown)  # no bound: all shown may act
    assert np.all((exposure.uniform >= 0.0) & (exposure.uniform < 1.0))


def test_prospects_of_a_brand_leave_out_its_own_customers() -> None:
    spec = _spec(daily_budget=80.0)
    stage = np.full(N, Stage.CUSTOMER, dtype=np.int8)
    stage[::2] = Stage.AWARE
    ours = PaidChannel(spec, stream(5, "ads"), N, 10, not_prospect=Stage.CUSTOMER)
    exposure = ours.expose(_model(stage, np.zeros(N, dtype=np.int32), 1))
    assert exposure.shown.size and np.all(stage[exposure.shown] == Stage.AWARE)
    assert exposure.reach == exposure.shown.size / (N_REAL // 2)
    everyone_customer = np.full(N, Stage.CUSTOMER, dtype=np.int8)
    nobody = ours.expose(_model(everyone_customer, np.zeros(N, dtype=np.int32), 2))
    assert nobody.impressions == 0 and nobody.people.size == 0 and nobody.unspent == spec.daily_budget


def test_a_persons_draw_is_the_same_whoever_else_is_in_the_audience() -> None:
    """Counter-based uniforms: a person's count and deciding uniform depend on nobody else's eligibility.

    Two worlds on the same stream: in the second, half of everyone else are our customers (out of the
    prospects' audience), and the budget is halved so that the rate per person is the same (2). A cap
    of 2 keeps the impressions under the budget, so no trim from a random start moves anyone.
    """
    kept = np.arange(0, N_REAL, 3)  # in the audience in both worlds
    stage_all = np.full(N, Stage.UNAWARE, dtype=np.int8)
    stage_fewer = stage_all.copy()
    others = np.setdiff1d(np.arange(N_REAL), kept)
    stage_fewer[others[::2]] = Stage.CUSTOMER
    n_all, n_fewer = N_REAL, N_REAL - others[::2].size
    cpm = 8.0
    exposures = []
    for stage, n_audience in ((stage_all, n_all), (stage_fewer, n_fewer)):
        spec = _spec(daily_budget=2 * n_audience * cpm / 1000.0, cpm=cpm, frequency_cap=2)
        channel = PaidChannel(spec, stream(9, "ads"), N, 10, not_prospect=Stage.CUSTOMER)
        rng_state = channel.rng.bit_generator.state
        exposure = channel.expose(_model(stage, np.zeros(N, dtype=np.int32), 4))
        assert channel.rng.bit_generator.state == rng_state  # the generator is never drawn from
        assert exposure.unspent > 0.0  # under the budget: nothing trimmed
        exposures.append(exposure)
    drawn = []
    for exposure in exposures:
        count = np.zeros(N, dtype=np.int64)
        count[exposure.shown] = exposure.count
        uniform = np.full(N, -1.0)
        uniform[exposure.people] = exposure.uniform
        drawn.append((count[kept], uniform[kept]))
    assert drawn[0][0].sum() > kept.size  # most of them are shown ads
    np.testing.assert_array_equal(drawn[0][0], drawn[1][0])
    np.testing.assert_array_equal(drawn[0][1], drawn[1][1])


def test_the_days_draws_are_the_counter_uniforms_of_the_channels_key() -> None:
    """Who is shown, and the uniform deciding their move, come from their own uniform of the day.

    With a cap of one impression everyone whose uniform u passes P(X = 0) is shown one (about 1,680
    impressions of the 2,500 bought: nothing trimmed), and decides on u's position in the tail.
    """
    spec = _spec(target="everyone", daily_budget=20.0, frequency_cap=1)  # 2,500 impressions
    channel = PaidChannel(spec, stream(5, "ads"), N, 10, not_prospect=Stage.CUSTOMER)
    day = 6
    exposure = channel.expose(_model(np.zeros(N, dtype=np.int8), np.zeros(N, dtype=np.int32), day))
    u = uniforms(draw_key(stream_key(stream(5, "ads")), day, 0), N_REAL)
    p_zero = math.exp(-2500 / N_REAL)
    np.testing.assert_array_equal(exposure.shown, np.flatnonzero(u >= p_zero))
    assert np.all(exposure.count == 1) and exposure.unspent > 0.0
    tail = (u[exposure.shown] - p_zero) / (1.0 - p_zero)
    np.testing.assert_allclose(exposure.uniform, tail, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rate", [1e-6, 0.01, 0.19, 1.0, 2.5, 7.0, 29.9, 30.0])
def test_the_compiled_lookup_gives_the_tables_counts_and_residuals(rate: float) -> None:
    below, step, last = poisson_steps(rate)
    edges = below[1:-1]
    draws = np.concatenate(
        [
            np.random.default_rng(1).random(5000),
            edges,  # exactly on a CDF step: the count above it
            np.nextafter(edges, 0.0),
            np.nextafter(edges, 1.0),
            [0.0, np.nextafter(1.0, 0.0)],
        ]
    )
    draws = draws[(draws >= 0.0) & (draws < 1.0)]
    counts, residuals = _by_table(draws, rate)
    looked_up = [poisson_step_count(u, below, step, last) for u in draws]
    np.testing.assert_array_equal([count for count, _ in looked_up], counts)
    np.testing.assert_array_equal([residual for _, residual in looked_up], residuals)


def test_the_rivals_switching_factor_in_the_kernel_is_switch_to_rival() -> None:
    """Our customers move to the rival exactly when their uniform is under the NumPy probability."""
    from sim.rules._brands import switch_to_rival

    n = 400
    state = np.random.default_rng(2)
    pop = SimpleNamespace(
        day_offer_ends=state.integers(0, 20, n).astype(np.int32),
        rel_churn_offer=state.uniform(0.2, 1.5, n).astype(np.float32),
        rel_churn_loyalty=state.uniform(0.5, 1.2, n).astype(np.float32),
    )
    rival = SimpleNamespace(rel_switch=0.6, rel_switch_offer=1.5)
    model = SimpleNamespace(population=pop, day=10, scenario_config=SimpleNamespace(rival=rival))
    people = np.arange(n, dtype=np.int64)
    effective = state.uniform(0.1, 3.0, n)
    p_purchase = 0.3
    p_step = p_purchase * switch_to_rival(model, people)
    p_advance = -np.expm1(effective * np.log1p(-np.minimum(p_step, 1.0 - 1e-12)))
    # Uniforms a hair below and above each probability: the kernel must split them the same way.
    below = np.nextafter(np.nextafter(p_advance, 0.0), 0.0)
    above = np.nextafter(np.nextafter(p_advance, 1.0), 1.0)
    for uniform, expected in ((below, n), (above, 0)):
        stage = np.full(n, Stage.CUSTOMER, dtype=np.int8)
        rival_stage = np.full(n, Stage.UNAWARE, dtype=np.int8)
        converts = np.empty(n, dtype=np.int64)
        moved = rival_rules._rival_advance(
            people,
            effective,
            uniform,
            stage,
            rival_stage,
            np.zeros(6),
            np.zeros(6, dtype=bool),
            False,
            p_purchase,
            rival.rel_switch * rival.rel_switch_offer,
            model.day,
            pop.day_offer_ends,
            pop.rel_churn_offer,
            pop.rel_churn_loyalty,
            converts,
        )
        assert moved == expected


def test_the_rivals_funnel_moves_by_rival_stage_and_never_moves_its_customers() -> None:
    people = np.arange(6, dtype=np.int64)
    stage = np.array([Stage.UNAWARE, Stage.AWARE, Stage.CONSIDERING, Stage.RIVAL, Stage.CHURNED, Stage.AWARE])
    rival_stage = np.array(
        [Stage.UNAWARE, Stage.AWARE, Stage.CONSIDERING, Stage.CUSTOMER, Stage.AWARE, Stage.CHURNED],
        dtype=np.int8,
    )
    p = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    converts = np.empty(6, dtype=np.int64)
    moved = rival_rules._rival_advance(
        people,
        np.ones(6),
        np.full(6, 0.5),
        stage.astype(np.int8),
        rival_stage,
        np.log1p(-np.minimum(p, 1.0 - 1e-12)),
        p >= 1.0,
        False,
        0.0,
        1.0,
        0,
        np.zeros(6, dtype=np.int32),
        np.ones(6, dtype=np.float32),
        np.ones(6, dtype=np.float32),
        converts,
    )
    # Considering (2) and left-the-rival (5) join; unaware/aware step up; the rival's customer stays.
    np.testing.assert_array_equal(converts[:moved], [2, 5])
    np.testing.assert_array_equal(
        rival_stage,
        [Stage.AWARE, Stage.CONSIDERING, Stage.CONSIDERING, Stage.CUSTOMER, Stage.CONSIDERING, Stage.CHURNED],
    )


@pytest.mark.parametrize("cap", [4, 10**12])
@pytest.mark.parametrize("lam", [1e-4, 0.19, 3.0, 29.0, 31.0, 800.0])
def test_the_days_rate_constants_are_numpys(lam: float, cap: int) -> None:
    """P(X = 0) both ways the NumPy passes computed it, the CDF steps, and P(X < room) by room."""
    channel = PaidChannel(_spec(frequency_cap=cap), stream(1, "ads"), 10, 5, not_prospect=Stage.CUSTOMER)
    assert channel._rate_constants(lam) == (float(np.exp(-lam)), poisson_zero(lam))
    if lam > 30.0:
        return  # beyond the table: counts from the incomplete gamma function, capped in NumPy
    below, step, last = poisson_steps(lam)
    assert channel._last == last
    np.testing.assert_array_equal(channel._below[: last + 2], below)
    np.testing.assert_array_equal(channel._step[: last + 1], step)
    # Rooms a count can reach: up to the cap and the last step (a huge cap costs nothing).
    rooms = min(cap, last)
    np.testing.assert_array_equal(channel._cap_below, poisson_cdf(np.arange(rooms + 1) - 1.0, lam))
