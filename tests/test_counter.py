"""Counter-based uniforms: uniform, independent between people, days and draws, and the same
number for a person whichever other people are asked for (common random numbers)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from sim.engine.compiled import kernel
from sim.engine.counter import (
    draw_key,
    flag_at_least,
    flag_below,
    flag_buffer,
    flagged_uniforms,
    list_flagged,
    new_flags,
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


def test_marked_people_are_listed_in_order_whatever_the_marks() -> None:
    """Every pattern of marks (none, all, sparse, a ragged last word) lists exactly the marked ids, and
    the marks of those at least a threshold are the uniforms' own."""
    key = draw_key(stream_key(stream(2, "ads")), 3)
    rng = np.random.default_rng(4)
    for n in (0, 1, 7, 8, 9, 1001):
        u = uniforms(key, n)
        for density in (0.0, 0.002, 0.3, 1.0):
            flags = flag_buffer(n)
            flags[:n] = rng.random(n) < density
            out = np.empty(n, dtype=np.int64)
            m = list_flagged(flags, n, out)
            np.testing.assert_array_equal(out[:m], np.flatnonzero(flags[:n]))
            ids, u_ids = flagged_uniforms(key, flags, n)
            np.testing.assert_array_equal(ids, np.flatnonzero(flags[:n]))
            np.testing.assert_array_equal(u_ids, u[ids])
        for threshold in (0.0, 0.5, 0.999, 1.0):
            flags = new_flags(n)
            flag_at_least(key, n, threshold, flags)
            np.testing.assert_array_equal(flags[:n].astype(bool), u >= threshold)
            flag_below(key, n, threshold, flags)
            np.testing.assert_array_equal(flags[:n].astype(bool), u < threshold)
            assert flags.size % 8 == 0 and flags.size >= n
