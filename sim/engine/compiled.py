"""Compiled kernels: the decorator every hot per-person loop is compiled with (numba).

A rule's step is a handful of whole-population passes. In NumPy each pass is several array
operations, each allocating a temporary and costing a few microseconds of Python overhead; a rule
written that way pays that overhead dozens of times a day. A kernel fuses such a pass into one
compiled loop: no temporaries, one call. Kernels are still vectorised work over the state columns
and the CSR graph; only the loop is compiled instead of spelled as array expressions.

Random numbers stay NumPy's: a kernel takes the rule's :class:`numpy.random.Generator` and draws
with ``rng.random()``, which numba implements with the generator's own bit generator, so drawing one
per person in index order inside a kernel yields exactly ``rng.random(n)`` and leaves the generator
in the same state. Common random numbers and every seeded result are unchanged by compiling.

Kernels are cached on disk (``cache=True``: next to the source, or in the user's cache folder when
that is read-only), so only the first run on a machine pays for compiling them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numba

__all__ = ["kernel"]


def kernel[F: Callable[..., Any]](function: F) -> F:
    """Compile ``function`` with numba in nopython mode, cached on disk.

    ``error_model="numpy"``: a float division by zero gives ``inf``/``nan`` as in NumPy instead of
    raising, so a kernel computes what the array expression it replaces computed. ``nogil``: a kernel
    releases the GIL, so threads (the app's runs, Dask's threaded workers) can run kernels at once.
    """
    return cast(F, numba.njit(cache=True, error_model="numpy", nogil=True)(function))
