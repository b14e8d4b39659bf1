"""Small compiled helpers shared by the rules' kernels: listing the people at a stage, a stable sort."""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import kernel

__all__ = ["list_at_stage", "stable_order"]


@kernel
def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` (int64 positions) for a 1-D array: a bottom-up merge sort.

    Written out because numba's own sorts take seconds to compile.
    """
    n = keys.size
    order = np.arange(n)
    spare = np.empty(n, dtype=np.int64)
    width = 1
    while width < n:
        for start in range(0, n, 2 * width):
            middle = min(start + width, n)
            end = min(start + 2 * width, n)
            i, j, k = start, middle, start
            while i < middle and j < end:
                if keys[order[j]] < keys[order[i]]:  # ties keep the left (earlier) one first
                    spare[k] = order[j]
                    j += 1
                else:
                    spare[k] = order[i]
                    i += 1
                k += 1
            while i < middle:
                spare[k] = order[i]
                i += 1
                k += 1
            while j < end:
                spare[k] = order[j]
                j += 1
                k += 1
        order, spare = spare, order
        width *= 2
    return order


@kernel
def list_at_stage(stage: np.ndarray, value: int, out: np.ndarray) -> int:
    """Write the ids ``i`` with ``stage[i] == value`` into ``out`` in id order; return how many.

    A tight scan of one column first, so that the per-person work after it reads the other columns
    only for those listed (in passes the processor can run ahead on).
    """
    m = 0
    for i in range(stage.size):
        if stage[i] == value:
            out[m] = i
            m += 1
    return m
