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

__all__ = [
    "binomial_from_uniform",
    "geometric_with_residual",
    "poisson_from_uniform",
    "poisson_with_residual",
    "stream",
    "stream_seed",
    "substream",
]


_TINY = 1e-300
_BELOW_ONE = float(np.nextafter(1.0, 0.0))


def stream_seed(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of stream ``name`` under run seed ``seed``."""
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode("utf-8"))])


def stream(seed: int, name: str) -> np.random.Generator:
    """A generator for stream ``name``, independent of every other name under the same seed."""
    return np.random.Generator(np.random.PCG64(stream_seed(seed, name)))


def substream(rng: np.random.Generator, name: str) -> np.random.Generator:
    """A generator for the part ``name`` of a rule (one ad channel), independent of ``rng`` and its siblings.

    Derived from ``rng``'s seed sequence and ``zlib.crc32`` of ``name`` (never from its state), so a
    rule that adds a part, or draws more for one, shifts no other part's numbers.
    """
    seed_seq = rng.bit_generator.seed_seq
    if not isinstance(seed_seq, np.random.SeedSequence):
        raise TypeError("substream needs a generator seeded from a SeedSequence (sim.engine.random.stream)")
    child = np.random.SeedSequence(
        entropy=seed_seq.entropy,
        spawn_key=(*seed_seq.spawn_key, zlib.crc32(name.encode("utf-8"))),
        pool_size=seed_seq.pool_size,
    )
    return np.random.Generator(np.random.PCG64(child))


def poisson_from_uniform(uniforms: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    """Poisson(``lam``) counts, each the inverse CDF at the matching uniform.

    Exact. Each pass handles only the entries whose count is still rising, so the cost is
    O(len) plus O(entries with count ≥ k) for each k: a few cheap passes at small daily rates.
    """
    return poisson_with_residual(uniforms, lam)[0]


def poisson_with_residual(uniforms: np.ndarray, lam: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts by inverse CDF, plus each uniform's position inside its count's CDF step.

    The position ``(u − F(k−1)) / P(k)`` is again uniform on [0, 1) and independent of the count
    ``k``: a rule can use it for a second decision about the same person instead of drawing a second
    full-length array, and the decision stays tied to the person (common random numbers).
    """
    u = np.asarray(uniforms, dtype=np.float64)
    rate = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    counts = np.zeros(u.shape, dtype=np.int64)
    pmf = np.exp(-rate)
    # Floors keep the divisions finite where a probability underflows to 0 (rates above ~700).
    residual = u / np.maximum(pmf, _TINY)
    live = np.flatnonzero(u >= pmf)  # entries with at least one event
    pmf, cdf, rate_live, u_live = pmf[live], pmf[live], rate[live], u[live]
    k = 0
    # Stop when every uniform is below its CDF, or the remaining mass is below float resolution.
    while live.size and k < 10_000:
        counts[live] += 1
        k += 1
        below = cdf
        pmf = pmf * rate_live / k
        cdf = cdf + pmf
        residual[live] = (u_live - below) / np.maximum(pmf, _TINY)
        keep = (u_live >= cdf) & (pmf > 0)
        live, pmf, cdf, rate_live, u_live = live[keep], pmf[keep], cdf[keep], rate_live[keep], u_live[keep]
    np.clip(residual, 0.0, _BELOW_ONE, out=residual)
    return counts, residual


def geometric_with_residual(uniforms: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Geometric counts on 0, 1, 2, … (``P(k) = p (1 − p)^k``, mean ``(1 − p)/p``) by inverse CDF.

    Returns the counts and each uniform's position inside its count's CDF step (again uniform on
    [0, 1) and independent of the count; see :func:`poisson_with_residual`). ``p = 1`` gives 0.

    Raises:
        ValueError: if ``p`` is not in (0, 1].
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must be in (0, 1]; got {p}")
    u = np.asarray(uniforms, dtype=np.float64)
    if p == 1.0:
        return np.zeros(u.shape, dtype=np.int64), u.copy()
    log_q = np.log1p(-p)
    counts = np.floor(np.log1p(-u) / log_q).astype(np.int64)
    # F(k − 1) = 1 − q^k and P(k) = p q^k, so the position is (u − 1 + q^k) / (p q^k).
    q_k = np.exp(counts * log_q)
    residual = (u - 1.0 + q_k) / np.maximum(p * q_k, _TINY)
    np.clip(residual, 0.0, _BELOW_ONE, out=residual)
    return counts, residual


def binomial_from_uniform(uniforms: np.ndarray, trials: np.ndarray, p: float) -> np.ndarray:
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
    live = np.flatnonzero((u >= pmf) & (n > 0))
    pmf, cdf, n_live, u_live = pmf[live], pmf[live], n[live], u[live]
    k = 0
    while live.size:
        counts[live] += 1
        pmf = pmf * (n_live - k) / (k + 1) * odds
        k += 1
        cdf = cdf + pmf
        keep = (u_live >= cdf) & (k < n_live)
        live, pmf, cdf, n_live, u_live = live[keep], pmf[keep], cdf[keep], n_live[keep], u_live[keep]
    return counts
