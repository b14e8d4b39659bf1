"""Named random streams and inverse-CDF draws that keep common random numbers.

Every rule draws from its own stream, seeded from the run seed and a stable hash of the rule's name
(``zlib.crc32``; Python's ``hash()`` changes between interpreter runs). Adding a rule therefore never
shifts another rule's numbers.

Counts (orders, impressions, bad experiences) are drawn by inverting the CDF at a uniform drawn for
*every* person. The same person then gets the same uniform in two strategies compared on one world,
and a larger rate gives each person at least as many events: comparisons are paired and monotone.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["binomial_from_uniform", "poisson_from_uniform", "stream", "stream_seed"]


def stream_seed(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of stream ``name`` under run seed ``seed``."""
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode("utf-8"))])


def stream(seed: int, name: str) -> np.random.Generator:
    """A generator for stream ``name``, independent of every other name under the same seed."""
    return np.random.Generator(np.random.PCG64(stream_seed(seed, name)))


def poisson_from_uniform(uniforms: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    """Poisson(``lam``) counts, each the inverse CDF at the matching uniform.

    Exact. Cost is O(len × largest count): one vectorised pass per possible count, which is a few
    passes for the small daily rates used here.
    """
    u = np.asarray(uniforms, dtype=np.float64)
    rate = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    pmf = np.exp(-rate)
    cdf = pmf.copy()
    counts = np.zeros(u.shape, dtype=np.int64)
    above = u >= cdf
    k = 0
    # Stop when every uniform is below its CDF, or the remaining mass is below float resolution.
    while above.any() and k < 10_000:
        counts += above
        k += 1
        pmf = pmf * rate / k
        cdf = cdf + pmf
        above &= (u >= cdf) & (pmf > 0)
    return counts


def binomial_from_uniform(
    uniforms: np.ndarray, trials: np.ndarray, p: float
) -> np.ndarray:
    """Binomial(``trials``, ``p``) counts by inverse CDF at the matching uniforms (exact)."""
    u = np.asarray(uniforms, dtype=np.float64)
    n = np.asarray(trials, dtype=np.int64)
    counts = np.zeros(u.shape, dtype=np.int64)
    if p <= 0.0 or u.size == 0:
        return counts
    if p >= 1.0:
        return n.copy()
    odds = p / (1.0 - p)
    pmf = (1.0 - p) ** n
    cdf = pmf.copy()
    above = u >= cdf
    k = 0
    while above.any():
        counts += above
        pmf = pmf * (n - k) / (k + 1) * odds
        k += 1
        cdf = cdf + pmf
        above &= (u >= cdf) & (counts < n)
    return counts
