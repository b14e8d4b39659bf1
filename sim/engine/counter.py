"""Counter-based uniforms: a person's random number is a hash of (stream key, day, draw, person).

A rule that needs one uniform per person for some of the people (the customers who may order, the
people a share reaches) would, with a sequential generator, still draw one for *everyone*, so that
each person gets the same number in every strategy of a comparison whatever the others do (common
random numbers). A counter-based generator gives the same guarantee without the full-length draw:
person ``i``'s uniform is a pure function of the rule's key, the day, the draw site and ``i``, so it
is computed only where it is used, in any order, at about a tenth of the cost of a sequential draw.

The hash is SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators",
OOPSLA; the generator Java's ``SplittableRandom`` uses): the uniform of ``i`` under key ``k`` is the
``(i + 1)``-th output of the SplitMix64 sequence seeded with ``k``, i.e. its finaliser applied to
``k + (i + 1)·γ``, top 53 bits scaled to [0, 1). Each draw site of each day gets its own key,
derived by the same finaliser from the rule's key, so sites and days are independent streams.
A rule's key comes from its NumPy generator's seed sequence (a child of it, never its state), so
it depends only on the run seed and the rule's name: adding a rule shifts no other rule's numbers.

Kernels call :func:`uniform` per person; NumPy code calls :func:`uniforms`.

A scan that keeps only the few people whose uniform is under a threshold (a hazard's bound) marks
everyone in one branch-free pass (:func:`flag_at_least`, or a rule's own marking loop), which the
compiler vectorises (several hashes per instruction), then lists the marked eight marks at a time
(:func:`list_flagged`, :func:`flagged_uniforms`): the same people in the same order as a plain
scan, at about a third of its cost.
"""

from __future__ import annotations

import numpy as np
from numba import uint64

from sim.engine.compiled import kernel
from sim.engine.random import child_seed

__all__ = [
    "draw_key",
    "flag_at_least",
    "flag_below",
    "flag_buffer",
    "flagged_uniforms",
    "list_flagged",
    "new_flags",
    "stream_key",
    "uniform",
    "uniforms",
]

_GAMMA = 0x9E3779B97F4A7C15
_MIX_1 = 0xBF58476D1CE4E5B9
_MIX_2 = 0x94D049BB133111EB
#: 2^-53: the top 53 bits of a 64-bit word, scaled to a float64 in [0, 1).
_TO_UNIT = 1.0 / 9007199254740992.0
_DAY_SALT = 0xD1B54A32D192ED03
_SITE_SALT = 0x8CB92BA72F3D8DD7


@kernel
def _finalise(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser (a bijection of 64-bit words with full avalanche)."""
    z = (z ^ (z >> uint64(30))) * uint64(_MIX_1)
    z = (z ^ (z >> uint64(27))) * uint64(_MIX_2)
    return z ^ (z >> uint64(31))


@kernel
def uniform(key: np.uint64, person: int) -> float:
    """The uniform on [0, 1) of ``person`` (an id ≥ 0) under a draw ``key`` (from :func:`draw_key`)."""
    z = _finalise(uint64(key) + uint64(person + 1) * uint64(_GAMMA))
    return float(z >> uint64(11)) * _TO_UNIT


@kernel
def list_flagged(flags: np.ndarray, n: int, out: np.ndarray) -> int:
    """Write the ids ``i < n`` with ``flags[i]`` set into ``out`` (int64), ascending; return how many.

    ``flags`` (uint8, a whole number of 8-byte words, at least ``n``) is read eight at a time, so
    a scan where few are set costs about one test per eight people.
    """
    words = flags.view(np.uint64)
    m = 0
    for word in range(min(words.size, -(-n // 8))):
        if words[word] == 0:
            continue
        for i in range(8 * word, min(8 * word + 8, n)):
            if flags[i]:
                out[m] = i
                m += 1
    return m


@kernel
def flag_at_least(key: np.uint64, n: int, threshold: float, flags: np.ndarray) -> None:
    """``flags[i]`` = whether person i's uniform under ``key`` is at least ``threshold``, for i < n.

    One branch-free pass (the compiler vectorises it); :func:`list_flagged` then lists them.
    """
    marks = flags[:n]  # (indexed from 0: vectorised)
    for i in range(marks.size):
        marks[i] = uniform(key, i) >= threshold


@kernel
def flag_below(key: np.uint64, n: int, threshold: float, flags: np.ndarray) -> None:
    """``flags[i]`` = whether person i's uniform under ``key`` is under ``threshold``, for i < n."""
    marks = flags[:n]  # (indexed from 0: vectorised)
    for i in range(marks.size):
        marks[i] = uniform(key, i) < threshold


@kernel
def new_flags(n: int) -> np.ndarray:
    """An unset-but-unread uint8 buffer for ``n`` people's marks (a whole number of 8-byte words).

    For a kernel's own scratch: the marks of people ``0 … n − 1`` are to be written before
    :func:`list_flagged` or :func:`flagged_uniforms` reads them (the bytes past ``n`` are never read
    as marks).
    """
    return np.empty(-(-n // 8) * 8, dtype=np.uint8)


@kernel
def flagged_uniforms(key: np.uint64, flags: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ids ``i < n`` with ``flags[i]`` set (sorted int64) and their uniforms under ``key`` (float64).

    Sized exactly: the marks are counted first (a vectorised sum), then listed eight at a time.
    """
    marks = flags[:n]
    m = 0
    for k in range(marks.size):
        m += marks[k] != 0
    ids = np.empty(m, dtype=np.int64)
    uniforms = np.empty(m)
    words = flags.view(np.uint64)
    j = 0
    for word in range(-(-n // 8)):
        if words[word] == 0:
            continue
        for i in range(8 * word, min(8 * word + 8, n)):
            if flags[i]:
                ids[j] = i
                uniforms[j] = uniform(key, i)
                j += 1
    return ids, uniforms


def flag_buffer(n: int) -> np.ndarray:
    """A uint8 buffer for :func:`list_flagged` covering ``n`` people (a whole number of words, zeroed)."""
    return np.zeros(-(-n // 8) * 8, dtype=np.uint8)


@kernel
def _draw_key(key: np.uint64, day: int, site: int) -> np.uint64:
    k = _finalise(uint64(key) ^ (uint64(day + 1) * uint64(_DAY_SALT)))
    return _finalise(k ^ (uint64(site + 1) * uint64(_SITE_SALT)))


@kernel
def _fill(key: np.uint64, people: np.ndarray, out: np.ndarray) -> None:
    for j in range(people.size):
        out[j] = uniform(key, people[j])


@kernel
def _fill_range(key: np.uint64, out: np.ndarray) -> None:
    for i in range(out.size):
        out[i] = uniform(key, i)


def stream_key(rng: np.random.Generator, name: str = "uniforms") -> np.uint64:
    """The 64-bit key of the counter-based stream ``name`` belonging to a rule's generator ``rng``.

    Derived from a child of ``rng``'s seed sequence (:func:`sim.engine.random.child_seed`, as
    :func:`sim.engine.random.substream` uses), never from its state: drawing from ``rng``
    does not move it, and it is unrelated to ``rng``'s own numbers.

    Raises:
        TypeError: ``rng`` was not seeded from a :class:`numpy.random.SeedSequence`.
    """
    child = child_seed(rng, name)
    return np.uint64(child.generate_state(1, dtype=np.uint64)[0])


def draw_key(key: np.uint64, day: int, site: int = 0) -> np.uint64:
    """The key of draw ``site`` (0, 1, … within a rule) on ``day``: each is an independent stream."""
    return np.uint64(_draw_key(np.uint64(key), day, site))


def uniforms(key: np.uint64, people: np.ndarray | int) -> np.ndarray:
    """The uniforms of ``people`` (an array of ids ≥ 0, or ``n`` for ids 0 … n − 1) under draw ``key``.

    Returns a float64 array shaped like ``people`` (length ``n``): entry ``j`` is
    ``uniform(key, people[j])``, the same number whichever other ids are asked for.
    """
    if isinstance(people, (int, np.integer)):
        out = np.empty(int(people))
        _fill_range(np.uint64(key), out)
        return out
    ids = np.asarray(people, dtype=np.int64)
    out = np.empty(ids.shape)
    _fill(np.uint64(key), ids.ravel(), out.reshape(-1))
    return out
