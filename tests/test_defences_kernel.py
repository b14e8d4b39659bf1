"""Ring detection's compiled pass finds exactly the accounts the matrix version finds."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sim.rules.defences import _recent_rings, dense_referral_clusters
from sim.world.population import NEVER, Channel


def random_graph(n: int, n_edges: int, seed: int) -> sp.csr_array:
    """A symmetric float32 CSR adjacency of ones with no loops or repeated ties, plus a dense ring."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n - 6, n_edges), rng.integers(0, n - 6, n_edges)
    ring = np.arange(n - 6, n)  # a farm: everybody tied to everybody, and to nobody else
    ra, rb = np.meshgrid(ring, ring)
    a, b = np.concatenate([a, ra.ravel()]), np.concatenate([b, rb.ravel()])
    keep = a != b
    matrix = sp.coo_array(
        (np.ones(int(keep.sum()), dtype=np.float32), (a[keep], b[keep])), shape=(n, n)
    ).tocsr()
    matrix = ((matrix + matrix.T) > 0).astype(np.float32)
    matrix.sort_indices()
    return sp.csr_array(matrix)


def referrals(n: int, n_referred: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Population columns where ``n_referred`` people (and the farm, referring in a cycle) signed up."""
    rng = np.random.default_rng(seed + 1)
    day_first_acquired = np.full(n, NEVER, dtype=np.int32)
    acquired_via = np.zeros(n, dtype=np.int8)
    referrer = np.full(n, NEVER, dtype=np.int32)
    referred = rng.choice(n - 6, n_referred, replace=False)
    day_first_acquired[referred] = rng.integers(0, 40, n_referred)
    acquired_via[referred] = np.where(rng.random(n_referred) < 0.8, Channel.SHARING, Channel.ADS)
    referrer[referred] = rng.integers(0, n - 6, n_referred)
    farm = np.arange(n - 5, n)
    day_first_acquired[farm] = 35
    acquired_via[farm] = Channel.SHARING
    referrer[farm] = farm - 1
    return day_first_acquired, acquired_via, referrer


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("min_size", "min_share"), [(4, 0.6), (2, 0.3), (3, 0.0), (500, 0.6)])
def test_the_compiled_pass_finds_the_matrix_versions_rings(
    seed: int, min_size: int, min_share: float
) -> None:
    n = 300
    adjacency = random_graph(n, 150 + 100 * seed, seed)
    degree = np.diff(adjacency.indptr).astype(np.int64)
    day_first_acquired, acquired_via, referrer = referrals(n, 40 + 10 * seed, seed)
    first_day = 20
    recent = np.flatnonzero(
        (day_first_acquired >= first_day) & (acquired_via == Channel.SHARING) & (referrer != NEVER)
    )
    expected = dense_referral_clusters(
        adjacency, degree, recent, referrer[recent].astype(np.int64), min_size, min_share
    )
    position = np.full(n, -1, dtype=np.int32)
    found = _recent_rings(
        day_first_acquired,
        acquired_via,
        referrer,
        first_day,
        adjacency.indptr.astype(np.int64),
        adjacency.indices.astype(np.int32),
        degree,
        min_size,
        min_share,
        position,
    )
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(position, -1)  # the scratch row comes back as it went in
    if (min_size, min_share) == (4, 0.6):
        assert set(range(n - 6, n)) <= set(found.tolist())  # the farm is caught


def test_nobody_recently_referred_is_nobody_found() -> None:
    n = 50
    adjacency = random_graph(n, 100, 1)
    never = np.full(n, NEVER, dtype=np.int32)
    found = _recent_rings(
        never,
        np.zeros(n, dtype=np.int8),
        never,
        0,
        adjacency.indptr.astype(np.int64),
        adjacency.indices.astype(np.int32),
        np.diff(adjacency.indptr).astype(np.int64),
        2,
        0.0,
        np.full(n, -1, dtype=np.int32),
    )
    assert found.size == 0
