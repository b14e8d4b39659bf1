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
from scipy import special

from sim.engine.compiled import kernel

__all__ = [
    "STEPS_LENGTHS",
    "SUMMING_MAX_RATE",
    "binomial_from_uniform",
    "child_seed",
    "geometric_with_residual",
    "poisson_cdf",
    "poisson_from_uniform",
    "poisson_step_count",
    "poisson_steps",
    "poisson_steps_into",
    "poisson_with_residual",
    "poisson_zero",
    "stream",
    "stream_seed",
    "substream",
]


_TINY = 1e-300
_BELOW_ONE = float(np.nextafter(1.0, 0.0))
#: Probability below which a Poisson term cannot move a CDF near 1 (float64's resolution there).
_RESOLUTION = 1e-16


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
    return np.random.Generator(np.random.PCG64(child_seed(rng, name)))


def child_seed(rng: np.random.Generator, name: str) -> np.random.SeedSequence:
    """The seed sequence of part ``name`` of ``rng`` (its seed only, never its state).

    ``rng``'s own seed sequence with ``zlib.crc32(name)`` appended to its spawn key.

    Raises:
        TypeError: ``rng`` was not seeded from a :class:`numpy.random.SeedSequence`.
    """
    seed_seq = rng.bit_generator.seed_seq
    if not isinstance(seed_seq, np.random.SeedSequence):
        raise TypeError("needs a generator seeded from a SeedSequence (sim.engine.random.stream)")
    return np.random.SeedSequence(
        entropy=seed_seq.entropy,
        spawn_key=(*seed_seq.spawn_key, zlib.crc32(name.encode("utf-8"))),
        pool_size=seed_seq.pool_size,
    )


def poisson_from_uniform(uniforms: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    """Poisson(``lam``) counts, each the inverse CDF at the matching uniform (exact at any rate).

    See :func:`poisson_with_residual` for the method and its cost.
    """
    return poisson_with_residual(uniforms, lam)[0]


#: Rates above this are inverted through the regularised incomplete gamma function instead of
#: summing the probabilities term by term: the sum takes about rate + 10·√rate passes, and e^(−rate)
#: underflows to 0 above ~745, after which summing finds nothing.
SUMMING_MAX_RATE = 30.0


def poisson_cdf(k: np.ndarray | float, lam: np.ndarray | float) -> np.ndarray:
    """P(X ≤ k) for X ~ Poisson(``lam``), elementwise; 0 for k < 0 (``scipy.special.pdtr``)."""
    k_arr = np.asarray(k, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        cdf = special.pdtr(np.maximum(k_arr, 0.0), lam)
    return np.where(k_arr < 0, 0.0, cdf)


def poisson_with_residual(uniforms: np.ndarray, lam: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts by inverse CDF, plus each uniform's position inside its count's CDF step.

    The position ``(u − F(k−1)) / P(k)`` is again uniform on [0, 1) and independent of the count
    ``k``: a rule can use it for a second decision about the same person instead of drawing a second
    full-length array, and the decision stays tied to the person (common random numbers).

    Exact at any rate (the count is the k with F(k−1) ≤ u < F(k)). Rates up to
    :data:`SUMMING_MAX_RATE` sum the probabilities, each pass handling only the entries whose count
    is still rising: O(len) plus a few cheap passes at small daily rates. Larger rates start from the
    Cornish–Fisher approximation of the quantile and step to the exact count with the incomplete
    gamma function (a step or two), so a rate of a billion costs what a rate of a hundred does.
    """
    u = np.asarray(uniforms, dtype=np.float64)
    if np.ndim(lam) == 0 and float(lam) <= SUMMING_MAX_RATE and u.size:
        return _by_table(u, float(lam))
    rate = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    large = rate > SUMMING_MAX_RATE
    if not large.any():
        return _by_summing(u, rate)
    counts = np.zeros(u.shape, dtype=np.int64)
    residual = np.zeros(u.shape, dtype=np.float64)
    small = ~large
    if small.any():
        counts[small], residual[small] = _by_summing(u[small], rate[small])
    counts[large], residual[large] = _by_incomplete_gamma(u[large], rate[large])
    return counts, residual


def _by_summing(u: np.ndarray, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse CDF by summing Poisson probabilities (rates up to :data:`SUMMING_MAX_RATE`)."""
    counts = np.zeros(u.shape, dtype=np.int64)
    pmf = np.exp(-rate)
    # Floors keep the divisions finite where a probability underflows to 0.
    residual = u / np.maximum(pmf, _TINY)
    live = np.flatnonzero(u >= pmf)  # entries with at least one event
    pmf, cdf, rate_live, u_live = pmf[live], pmf[live], rate[live], u[live]
    k = 0
    # Stop when every uniform is below its CDF, or the next terms are below float resolution (a
    # uniform within 1e-16 of 1 would otherwise walk on until the terms underflow).
    while live.size and k < 10_000:
        counts[live] += 1
        k += 1
        below = cdf
        pmf = pmf * rate_live / k
        cdf = cdf + pmf
        residual[live] = (u_live - below) / np.maximum(pmf, _TINY)
        keep = (u_live >= cdf) & ((pmf > _RESOLUTION) | (k < rate_live))
        live, pmf, cdf, rate_live, u_live = live[keep], pmf[keep], cdf[keep], rate_live[keep], u_live[keep]
    np.clip(residual, 0.0, _BELOW_ONE, out=residual)
    return counts, residual


#: The summing loop's cap on terms (a uniform within float resolution of 1 stops there).
_MAX_TERMS = 10_000
#: Lengths of the ``below`` and ``step`` arrays :func:`poisson_steps_into` may fill.
STEPS_LENGTHS = (_MAX_TERMS + 2, _MAX_TERMS + 1)


def poisson_steps(rate: float) -> tuple[np.ndarray, np.ndarray, int]:
    """The CDF steps of Poisson(``rate``) as :func:`_by_summing` computes them, for looking counts up.

    Returns ``(below, step, last)``: ``below[k] = F(k − 1)`` for k = 0 … last + 1 (``F(−1) = 0``),
    ``step[k] = max(P(k), 1e-300)`` for k = 0 … last, and ``last``, the largest count the summing loop
    reaches (its stopping rule: the next terms are below float resolution). The count of a uniform
    u is the number of ``below[1 … last]`` at or below u (at most ``last``), its residual
    ``(u − below[k]) / step[k]`` clipped to [0, 1): :func:`poisson_step_count`.
    """
    below, step = np.empty(STEPS_LENGTHS[0]), np.empty(STEPS_LENGTHS[1])
    last = poisson_steps_into(poisson_zero(rate), rate, below, step)
    return below[: last + 2], step[: last + 1], last


def poisson_zero(rate: float) -> float:
    """e^(−``rate``) as the summing loop computes it (NumPy's exp of an array)."""
    return float(np.exp(-np.full(1, rate))[0])


@kernel
def poisson_steps_into(pmf_zero: float, rate: float, below: np.ndarray, step: np.ndarray) -> int:
    """:func:`poisson_steps` written into ``below``/``step`` (:data:`STEPS_LENGTHS` long); returns ``last``.

    ``pmf_zero`` is :func:`poisson_zero` of ``rate``. The very operations of the summing loop, in its
    order (IEEE products, quotients and sums), so the steps are bit-identical to its numbers.
    """
    pmf = pmf_zero
    cdf = pmf
    below[0] = 0.0  # F(−1)
    below[1] = cdf
    step[0] = max(pmf, _TINY)
    k = 0
    # The loop's stopping rule: after term k, go on only while its probability is above float
    # resolution or k is below the rate (see _by_summing).
    while k < _MAX_TERMS:
        k += 1
        pmf = pmf * rate / k
        cdf = cdf + pmf
        step[k] = max(pmf, _TINY)
        below[k + 1] = cdf
        if not (pmf > _RESOLUTION or k < rate):
            break
    return k


@kernel
def poisson_step_count(u: float, below: np.ndarray, step: np.ndarray, last: int) -> tuple[int, float]:
    """The count and residual of one uniform ``u`` from :func:`poisson_steps` (compiled; callable in kernels).

    Exactly what :func:`poisson_with_residual` gives at a rate up to :data:`SUMMING_MAX_RATE`: a
    search for the first ``below[1 + j] > u`` (NumPy's ``searchsorted(side="right")``): a step at a
    time over the first few counts (at the small rates of a day's ads the count is almost always
    0 or 1), then by halving.
    """
    lo, hi = 0, last
    while lo < hi and below[1 + lo] <= u:
        lo += 1
        if lo == 3:
            while lo < hi:
                mid = (lo + hi) // 2
                if below[1 + mid] <= u:
                    lo = mid + 1
                else:
                    hi = mid
    residual = (u - below[lo]) / step[lo]
    if residual < 0.0:
        residual = 0.0
    elif residual > _BELOW_ONE:
        residual = _BELOW_ONE
    return lo, residual


def _by_table(u: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_by_summing` for one shared rate: its CDF steps are computed once and looked up.

    The table (:func:`poisson_steps`) holds the very numbers the summing loop computes for each entry
    (the same operations in the same order), so counts and residuals are bit-identical; the cost is
    one binary search per entry instead of a few full passes.
    """
    below, step, k = poisson_steps(rate)
    # The count is the first k with u < F(k) among the loop's k; at its last k it stops regardless.
    counts = np.minimum(np.searchsorted(below[1:-1], u, side="right"), k)
    residual = (u - below[counts]) / step[counts]
    np.clip(residual, 0.0, _BELOW_ONE, out=residual)
    return counts.astype(np.int64, copy=False), residual


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


def _by_incomplete_gamma(u: np.ndarray, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse CDF at large rates: a Cornish–Fisher start, checked with F(k) = Q(k + 1, rate).

    The start λ + √λ·z + (z² − 1)/6 (z the normal quantile of u) is almost always the exact count;
    the few it misses (far tails, where the incomplete gamma function itself is least precise) are
    found by bisection for the smallest k with u < F(k), at most ~50 halvings.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        z = special.ndtri(u)
        start = np.floor(rate + np.sqrt(rate) * z + (z * z - 1.0) / 6.0 + 0.5)
    k = np.where(np.isfinite(start), np.maximum(start, 0.0), 0.0)
    lower = poisson_cdf(k - 1.0, rate)
    upper = poisson_cdf(k, rate)
    # u = 0 exactly (probability 2^-53) has count 0 (F(0) > 0 ≥ u) even where F(0) underflows.
    off = np.flatnonzero(((u >= upper) & (u > 0.0)) | ((u < lower) & (k > 0)))
    if off.size:
        u_off, rate_off = u[off], rate[off]
        lo = np.zeros(off.size)
        hi = k[off] + 40.0 * np.sqrt(rate_off) + 40.0
        for _ in range(64):  # widen until F(hi) > u (it almost always is at once)
            short = poisson_cdf(hi, rate_off) <= u_off
            if not short.any():
                break
            hi[short] = 2.0 * hi[short] + 1.0
        active = np.flatnonzero(lo < hi)
        while active.size:
            mid = np.floor((lo[active] + hi[active]) / 2.0)
            passed = u_off[active] >= poisson_cdf(mid, rate_off[active])
            lo[active] = np.where(passed, mid + 1.0, lo[active])
            hi[active] = np.where(passed, hi[active], mid)
            active = active[lo[active] < hi[active]]
        k[off] = lo
        lower[off] = poisson_cdf(lo - 1.0, rate_off)
        upper[off] = poisson_cdf(lo, rate_off)
    residual = (u - lower) / np.maximum(upper - lower, _TINY)
    np.clip(residual, 0.0, _BELOW_ONE, out=residual)
    return k.astype(np.int64), residual


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
