"""Choosing a budgeted number of people from candidates, reproducibly from one uniform per person."""

from __future__ import annotations

import numpy as np

__all__ = ["BudgetCounter", "pick_lowest", "pick_top"]


def pick_lowest(candidates: np.ndarray, uniforms: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the smallest uniforms: a uniform random sample (common random numbers).

    Complexity: O(len(candidates)) with ``argpartition``.
    """
    if k <= 0 or candidates.size == 0:
        return candidates[:0]
    if k >= candidates.size:
        return candidates
    return candidates[np.argpartition(uniforms[candidates], k - 1)[:k]]


def pick_top(candidates: np.ndarray, score: np.ndarray, uniforms: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the highest ``score`` (one per candidate); ties broken by the uniforms."""
    if k <= 0 or candidates.size == 0:
        return candidates[:0]
    if k >= candidates.size:
        return candidates
    # lexsort sorts by the last key first: descending score, then ascending uniform.
    order = np.lexsort((uniforms[candidates], -score))
    return candidates[order[:k]]


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
