"""Choosing a budgeted number of people from candidates, reproducibly from one uniform per person."""

from __future__ import annotations

import numpy as np

__all__ = ["BudgetCounter", "pick_lowest", "pick_lowest_in", "pick_top"]


def pick_lowest(candidates: np.ndarray, uniforms: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the smallest uniforms: a uniform random sample (common random numbers).

    Complexity: O(len(candidates)). Only candidates below a cut-off that keeps about 2k of them are
    partitioned (the k smallest are below it whenever at least k are), so a small sample from a large
    crowd does not pay for partitioning the crowd.
    """
    if k <= 0 or candidates.size == 0:
        return candidates[:0]
    if k >= candidates.size:
        return candidates
    u = uniforms[candidates]
    cut = (2.0 * k + 32.0) / candidates.size
    if cut < 0.5:
        below = np.flatnonzero(u < cut)
        if below.size >= k:
            return candidates[below[np.argpartition(u[below], k - 1)[:k]]]
    return candidates[np.argpartition(u, k - 1)[:k]]


def pick_lowest_in(mask: np.ndarray, uniforms: np.ndarray, k: int) -> np.ndarray:
    """:func:`pick_lowest` of ``np.flatnonzero(mask)``, the same ids in the same order, computed cheaper.

    When the candidates are many, the cut-off test runs on the mask and the uniforms at full length,
    so the crowd's ids are never listed nor their uniforms gathered.
    """
    if k <= 0:
        return np.flatnonzero(mask)[:0]
    n_candidates = int(np.count_nonzero(mask))
    if k < n_candidates:
        cut = (2.0 * k + 32.0) / n_candidates
        if cut < 0.5:
            below = np.flatnonzero(mask & (uniforms < cut))
            if below.size >= k:
                return below[np.argpartition(uniforms[below], k - 1)[:k]]
    return pick_lowest(np.flatnonzero(mask), uniforms, k)


def pick_top(candidates: np.ndarray, score: np.ndarray, uniforms: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the highest ``score`` (one per candidate); ties broken by the uniforms.

    Complexity: O(len(candidates)): a partition finds the k-th highest score; only ties at it are
    decided by the uniforms.
    """
    if k <= 0 or candidates.size == 0:
        return candidates[:0]
    if k >= candidates.size:
        return candidates
    kth = np.partition(score, candidates.size - k)[candidates.size - k]
    above = candidates[score > kth]
    tied = candidates[score == kth]
    return np.concatenate([above, pick_lowest(tied, uniforms, k - above.size)])


class BudgetCounter:
    """Turns a budget per day into whole units per day, carrying the fraction to the next day.

    ``units_per_day`` is one number (every day alike) or an array indexed by day (a schedule, see
    :func:`sim.scenario.daily_values`); then :meth:`take` needs the day.
    """

    def __init__(self, units_per_day: float | np.ndarray) -> None:
        self.units_per_day = units_per_day
        self._carry = 0.0

    @property
    def idle(self) -> bool:
        """Whether no unit is ever available (a zero budget every day)."""
        return not np.any(np.asarray(self.units_per_day) > 0)

    def take(self, day: int | None = None) -> int:
        """Whole units available today (the fractional remainder carries over)."""
        units = self.units_per_day
        if isinstance(units, np.ndarray):
            if day is None:
                raise ValueError("a scheduled budget needs the day: take(day)")
            units = float(units[min(day, units.size - 1)])
        available = self._carry + units
        whole = int(available + 1e-9)
        self._carry = max(available - whole, 0.0)
        return whole
