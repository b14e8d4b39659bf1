"""Turning a day's word-of-mouth hazard into referred customers; shared by the rules that share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.compiled import kernel
from sim.world.graph import pick_by_positive_weight
from sim.world.population import Channel

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["convert_referred"]


def convert_referred(
    model: Market,
    exposed: np.ndarray,
    hazard: np.ndarray,
    u_exposed: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Acquire the ``exposed`` people whose uniform falls under ``1 − e^(−hazard)``; return the referrers.

    Args:
        model: the market (its graph picks referrers; ``acquire`` records the new customers).
        exposed: candidates (sorted int64 ids), each with today's ``hazard`` (per day) and uniform;
            the sharing kernels list only those whose uniform is under the hazard (1 − e^(−h) ≤ h,
            with a margin for rounding), so the exact probability is computed for them alone.
        hazard: float64 conversion hazard of each candidate today.
        u_exposed: float64 uniform of each candidate today.
        weights: float64 of length n: how much each person weighs in the referrer pick; those with
            weight > 0 are today's sharers, the only people who may be named.

    Given u < p, u / p is again uniform on [0, 1): it picks the referrer without another full-length
    draw, and stays tied to the person (common random numbers). The probability is NumPy's ``expm1``
    (a compiled one can differ by an ulp), on these few candidates only.
    """
    if exposed.size == 0:
        return exposed
    p_convert = -np.expm1(-hazard)
    graph = model.graph
    if graph.complete:
        hit = u_exposed < p_convert
        converted = exposed[hit]
        if converted.size == 0:
            return converted
        referrers = graph.pick_neighbour(converted, weights > 0.0, weights, u_exposed[hit] / p_convert[hit])
    else:
        assert graph.indptr is not None and graph.indices is not None
        converted, referrers = _referred(exposed, u_exposed, p_convert, graph.indptr, graph.indices, weights)
        if converted.size == 0:
            return converted
    model.acquire(converted, Channel.SHARING, referrers=referrers)
    return referrers


@kernel
def _referred(
    exposed: np.ndarray,
    uniforms: np.ndarray,
    p_convert: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Who of ``exposed`` converts (uniform < ``p_convert``) and, on a CSR graph, who referred them.

    Returns the converting ids (int64, in the order of ``exposed``) and each one's referrer
    (:func:`~sim.world.graph.pick_by_positive_weight` with uniform ``u / p``).
    """
    converted = np.empty(exposed.shape[0], dtype=np.int64)
    u_referrer = np.empty(exposed.shape[0])
    found = 0
    for k in range(exposed.shape[0]):
        if uniforms[k] < p_convert[k]:
            converted[found] = exposed[k]
            u_referrer[found] = uniforms[k] / p_convert[k]
            found += 1
    converted = converted[:found]
    return converted, pick_by_positive_weight(indptr, indices, weights, converted, u_referrer[:found])
