"""Choosing a budgeted number of people from candidates, reproducibly from one uniform per person."""

from __future__ import annotations

import numpy as np

__all__ = ["BudgetCounter", "pick_lowest", "pick_top"]


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
    """Turns a budget per day into whole units per day, carrying the fraction to the next day."""

    def __init__(self, units_per_day: float) -> None:
        self.units_per_day = units_per_day
        self._carry = 0.0

    def take(self) -> int:
        """Whole units available today (the fractional remainder carries over)."""
        available = self._carry + self.units_per_day
        whole = int(available + 1e-9)
        self._carry = max(available - whole, 0.0)
        return whole
