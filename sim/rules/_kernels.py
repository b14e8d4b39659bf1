"""Small compiled helpers shared by the rules' kernels: listing the people at a stage, a stable sort."""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import kernel

__all__ = ["count_equal", "largest_non_negative", "list_at_stage", "stable_order"]

#: The bits of float32 +∞: every non-negative float32 but NaN has bits at most this.
_FLOAT32_INF_BITS = 0x7F800000


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


@kernel
def largest_non_negative(values: np.ndarray) -> float:
    """The largest of float32 ``values`` (1.0 when there are none), as a float.

    Non-negative float32s order as their bit patterns do as int32s, and an integer maximum is
    vectorised (a float one is not: NaN rules fix its order), so the bits are compared; with a
    negative value or a NaN among them the floats themselves are, in order.
    """
    if values.size == 0:
        return 1.0
    bits = values.view(np.int32)
    top = bits[0]
    low = bits[0]
    for k in range(bits.size):
        top = max(top, bits[k])
        low = min(low, bits[k])
    if low >= 0 and top <= _FLOAT32_INF_BITS:
        holder = np.empty(1, dtype=np.int32)
        holder[0] = top
        return float(holder.view(np.float32)[0])
    largest = values[0]
    for k in range(values.size):
        largest = max(largest, values[k])
    return float(largest)


@kernel
def count_equal(values: np.ndarray, start: int, stop: int, value: int) -> int:
    """How many of ``values[start:stop]`` equal ``value`` (a vectorised count: a block's screen)."""
    block = values[start:stop]  # (indexed from 0: the compiler vectorises the count)
    found = 0
    for k in range(block.size):
        found += block[k] == value
    return found
