"""Inverse-CDF draws: right distribution, monotone in the rate, residuals uniform."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.engine.random import binomial_from_uniform, poisson_from_uniform, poisson_with_residual

N = 200_000


def chi_square_p(counts: np.ndarray, pmf: np.ndarray) -> float:
    observed = np.bincount(counts, minlength=pmf.size)[: pmf.size].astype(float)
    expected = pmf * counts.size
    keep = expected > 20  # pool sparse cells into the last kept one
    observed_kept = np.append(observed[keep], counts.size - observed[keep].sum())
    expected_kept = np.append(expected[keep], counts.size - expected[keep].sum())
    return float(stats.chisquare(observed_kept, expected_kept).pvalue)


def test_poisson_counts_follow_the_poisson_law():
    u = np.random.default_rng(1).random(N)
    for lam in (0.03, 0.7, 4.0):
        counts = poisson_from_uniform(u, lam)
        assert chi_square_p(counts, stats.poisson.pmf(np.arange(40), lam)) > 1e-4


def test_binomial_counts_follow_the_binomial_law():
    u = np.random.default_rng(2).random(N)
    trials = np.full(N, 5)
    counts = binomial_from_uniform(u, trials, 0.3)
    assert chi_square_p(counts, stats.binom.pmf(np.arange(6), 5, 0.3)) > 1e-4
    assert (binomial_from_uniform(u, trials, 0.0) == 0).all()
    assert (binomial_from_uniform(u, trials, 1.0) == 5).all()


def test_a_larger_rate_never_gives_anyone_fewer_events():
    u = np.random.default_rng(3).random(N)
    assert (poisson_from_uniform(u, 0.5) >= poisson_from_uniform(u, 0.2)).all()


def test_residuals_are_uniform_and_independent_of_the_count():
    u = np.random.default_rng(4).random(N)
    counts, residual = poisson_with_residual(u, np.full(N, 0.8))
    assert ((residual >= 0) & (residual < 1)).all()
    for k in (0, 1, 2):
        sample = residual[counts == k]
        assert stats.kstest(sample, "uniform").pvalue > 1e-4, k
