"""Compiled kernels: the decorator every hot per-person loop is compiled with (numba).

A rule's step is a handful of whole-population passes. In NumPy each pass is several array
operations, each allocating a temporary and costing a few microseconds of Python overhead; a rule
written that way pays that overhead dozens of times a day. A kernel fuses such a pass into one
compiled loop: no temporaries, one call. Kernels are still vectorised work over the state columns
and the CSR graph; only the loop is compiled instead of spelled as array expressions.

Random numbers inside kernels are counter-based (:mod:`sim.engine.counter`): a person's uniform is a
hash of the rule's key, the day, the draw site and the person, computed where it is used.

Kernels are cached on disk (``cache=True``: next to the source, or in the user's cache folder when
that is read-only), so only the first run on a machine pays for compiling them. numba checks a cached
kernel against its own source file only, not against the files of the kernels it calls (and
inlines): after an edit to, say, :mod:`sim.engine.counter`, every kernel that calls it would load
stale code. So on import the kernels' sources are fingerprinted (paths, sizes and modification
times) and, when the fingerprint differs from the one the cache was built under, every cached kernel
of the package is dropped and compiled afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numba

__all__ = ["KERNEL_SOURCES", "PACKAGE", "drop_stale_kernels", "kernel", "source_fingerprint"]

#: The package whose kernels are cached next to its sources.
PACKAGE = Path(__file__).resolve().parents[1]
#: The subpackages that define kernels (a kernel elsewhere must be added here).
KERNEL_SOURCES = ("engine", "rules", "world")


def source_fingerprint(package: Path = PACKAGE) -> str:
    """A fingerprint of the kernels' sources (:data:`KERNEL_SOURCES`): path, size and mtime of each."""
    digest = hashlib.sha256()
    sources = [path for folder in KERNEL_SOURCES for path in (package / folder).rglob("*.py")]
    for path in sorted(sources):
        stat = path.stat()
        digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def drop_stale_kernels(package: Path = PACKAGE, record: Path | None = None) -> bool:
    """Delete the package's cached kernels if their sources changed since they were cached.

    ``record`` keeps the fingerprint they were cached under (``<package>/__pycache__``). Returns
    whether anything was dropped. A read-only install is left alone (its sources do not change in
    place).
    """
    record = record if record is not None else package / "__pycache__" / "kernels.fingerprint"
    fingerprint = source_fingerprint(package)
    try:
        if record.read_text() == fingerprint:
            return False
    except OSError:
        pass
    dropped = False
    try:
        for cached in [*package.rglob("__pycache__/*.nbi"), *package.rglob("__pycache__/*.nbc")]:
            cached.unlink(missing_ok=True)
            dropped = True
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(fingerprint)
    except OSError:
        return dropped
    return dropped


drop_stale_kernels()


def kernel[F: Callable[..., Any]](function: F) -> F:
    """Compile ``function`` with numba in nopython mode, cached on disk.

    ``error_model="numpy"``: a float division by zero gives ``inf``/``nan`` as in NumPy instead of
    raising, so a kernel computes what the array expression it replaces computed. ``nogil``: a kernel
    releases the GIL, so threads (the app's runs, Dask's threaded workers) can run kernels at once.
    """
    return cast(F, numba.njit(cache=True, error_model="numpy", nogil=True)(function))
