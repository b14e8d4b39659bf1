"""Counter-based uniforms: uniform, independent between people, days and draws, and the same
number for a person whichever other people are asked for (common random numbers)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats

from sim.engine.compiled import kernel
from sim.engine.counter import (
    any_at_least,
    any_below,
    any_below_scaled,
    draw_key,
    screen_block,
    stream_key,
    uniform,
    uniforms,
)
from sim.engine.random import stream

N = 200_000


def test_uniforms_are_uniform_on_the_unit_interval() -> None:
    u = uniforms(draw_key(stream_key(stream(3, "purchases")), 1), N)
    assert u.min() >= 0.0 and u.max() < 1.0
    # Mean and variance within 4 standard errors of 1/2 and 1/12.
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / N)
    assert abs(u.var() - 1 / 12) < 4 * math.sqrt(1 / 180 / N)
    # 100 equal bins: chi-square at 99 degrees of freedom, refused only below p = 1e-4.
    counts = np.bincount((u * 100).astype(np.int64), minlength=100)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_neighbours_days_draws_and_rules_are_uncorrelated() -> None:
    key = stream_key(stream(3, "churn"))
    today = uniforms(draw_key(key, 10), N)
    pairs = {
        "next person": (today[:-1], today[1:]),
        "next day": (today, uniforms(draw_key(key, 11), N)),
        "another draw": (today, uniforms(draw_key(key, 10, site=1), N)),
        "another rule": (today, uniforms(draw_key(stream_key(stream(3, "purchases")), 10), N)),
        "another seed": (today, uniforms(draw_key(stream_key(stream(4, "churn")), 10), N)),
    }
    for what, (a, b) in pairs.items():
        r = np.corrcoef(a, b)[0, 1]
        assert abs(r) < 5 / math.sqrt(a.size), (what, r)  # 5 standard errors of a null correlation


def test_a_persons_uniform_does_not_depend_on_who_else_is_asked() -> None:
    key = draw_key(stream_key(stream(9, "sharing")), 3)
    everyone = uniforms(key, 1000)
    some = np.array([999, 0, 500, 500, 17])
    np.testing.assert_array_equal(uniforms(key, some), everyone[some])
    assert uniforms(key, np.zeros(0, dtype=np.int64)).shape == (0,)
    assert uniforms(key, 0).shape == (0,)


@kernel
def _uniforms_in_a_kernel(key: np.uint64, people: np.ndarray) -> np.ndarray:
    out = np.empty(people.size)
    for j in range(people.size):
        out[j] = uniform(key, people[j])
    return out


def test_kernels_and_numpy_code_get_the_same_numbers() -> None:
    key = draw_key(stream_key(stream(1, "organic")), 7)
    people = np.arange(0, 5000, 7)
    np.testing.assert_array_equal(_uniforms_in_a_kernel(key, people), uniforms(key, people))


def test_the_key_depends_on_seed_and_name_only_not_on_the_generators_state() -> None:
    rng = stream(5, "ads")
    before = stream_key(rng)
    rng.random(100)
    assert stream_key(rng) == before
    assert stream_key(stream(5, "ads")) == before
    assert stream_key(stream(5, "ads"), "other") != before
    assert stream_key(stream(6, "ads")) != before
    assert draw_key(before, 0) != draw_key(before, 1) != draw_key(before, 1, site=1)


def test_a_blocks_screen_finds_a_uniform_under_the_threshold_exactly_when_there_is_one() -> None:
    """The screens agree with the uniforms themselves on every block, at thresholds around the
    smallest and largest uniform of the block (so both answers occur)."""
    key = draw_key(stream_key(stream(2, "sharing")), 3)
    scale = np.random.default_rng(4).integers(0, 40, 2000).astype(np.int64)
    u = uniforms(key, 2000)
    checked = set()
    for start, stop in [(0, 1), (0, 32), (5, 37), (1990, 2000), (64, 64), (100, 356)]:
        block, block_scale = u[start:stop], scale[start:stop]
        edges = [0.0, 1.0] if block.size == 0 else [block.min(), block.max()]
        for t in [*edges, np.nextafter(edges[0], 2.0), np.nextafter(edges[1], -1.0), 0.5]:
            assert any_below(key, start, stop, t) == bool((block < t).any())
            assert any_at_least(key, start, stop, t) == bool((block >= t).any())
            per_friend = t / 20.0
            assert any_below_scaled(key, start, stop, scale, per_friend) == bool(
                (block < block_scale * per_friend).any()
            )
            checked.add(any_below(key, start, stop, t))
    assert checked == {True, False}


def test_blocks_are_larger_the_fewer_pass_and_not_screened_where_most_blocks_would_pass() -> None:
    thresholds = [0.0, 1e-6, 0.001, 0.0029, 0.003, 0.009, 0.01, 0.029, 0.03, 0.5, 1.0, math.inf, math.nan]
    sizes = [screen_block(t) for t in thresholds]
    assert sizes[:3] == [32, 32, 32] and sizes[-5:] == [0, 0, 0, 0, 0]
    assert all(a >= b for a, b in itertools.pairwise(sizes[:-1]))  # (NaN last: no order)
    # A screened block is looked at with probability 1 − (1 − t)^size: under a half where it screens.
    for t, size in zip(thresholds, sizes, strict=True):
        if size:
            assert 1.0 - (1.0 - t) ** size < 0.6
