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


def test_poisson_is_exact_at_any_rate():
    """Rates far past where e^-rate underflows (745) or a summed table stops: the law, the mean and
    the variance hold, and every count is the exact inverse CDF at its uniform."""
    u = np.random.default_rng(5).random(N)
    for lam in (29.0, 31.0, 255.0, 1_000.0, 1e6, 1e12, 5e14):
        counts, residual = poisson_with_residual(u, lam)
        sample = slice(0, 3_000)
        below = stats.poisson.cdf(counts[sample] - 1, lam)
        upto = stats.poisson.cdf(counts[sample], lam)
        # F(k-1) ≤ u < F(k), to the precision scipy's own CDF has at these rates.
        assert (below <= u[sample] + 1e-9).all() and (u[sample] < upto + 1e-9).all(), lam
        se = np.sqrt(lam / N)
        assert abs(counts.mean() - lam) < 5 * se, lam
        assert abs(counts.var() / lam - 1.0) < 5 * np.sqrt(2.0 / N), lam
        assert ((residual >= 0) & (residual < 1)).all()
        assert stats.kstest(residual, "uniform").pvalue > 1e-4, lam


def test_more_rate_never_means_fewer_events_across_fourteen_orders_of_magnitude():
    u = np.random.default_rng(6).random(20_000)
    previous = np.zeros(u.size, dtype=np.int64)
    for lam in np.geomspace(1e-3, 1e14, 120):
        counts = poisson_from_uniform(u, lam)
        assert (counts >= previous).all(), lam
        previous = counts


def test_per_person_rates_mixing_small_and_huge_are_each_exact():
    u = np.random.default_rng(7).random(N)
    rates = np.where(np.arange(N) % 2 == 0, 0.05, 5_000.0)
    counts = poisson_from_uniform(u, rates)
    small, large = counts[0::2], counts[1::2]
    assert chi_square_p(small, stats.poisson.pmf(np.arange(10), 0.05)) > 1e-4
    assert abs(large.mean() - 5_000.0) < 5 * np.sqrt(5_000.0 / large.size)
    # The same uniform gives the same count whether its rate is alone or mixed with others.
    assert (large == poisson_from_uniform(u[1::2], 5_000.0)).all()


def test_one_shared_rate_gives_exactly_the_per_person_result():
    """The shared-rate lookup table and the per-person summing loop give bit-identical draws."""
    rng = np.random.default_rng(11)
    for lam in (1e-9, 0.01, 0.15, 1.0, 4.2, 29.99, 30.0):
        u = rng.random(50_000)
        u[:3] = [0.0, np.nextafter(1.0, 0.0), 0.5]
        shared = poisson_with_residual(u, lam)
        per_person = poisson_with_residual(u, np.full(u.size, lam))
        assert np.array_equal(shared[0], per_person[0]), lam
        assert np.array_equal(shared[1], per_person[1]), lam
