"""Turning a day's word-of-mouth hazard into referred customers; shared by the rules that share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.world.population import Channel

if TYPE_CHECKING:
    from sim.engine.market import Market

__all__ = ["convert_referred"]


def convert_referred(
    model: Market,
    exposed: np.ndarray,
    hazard: np.ndarray,
    u_exposed: np.ndarray,
    sharers: np.ndarray,
    weights: np.ndarray | None,
) -> np.ndarray:
    """Acquire the ``exposed`` people whose uniform falls under ``1 − e^(−hazard)``; return the referrers.

    Args:
        model: the market (its graph picks referrers; ``acquire`` records the new customers).
        exposed: candidates (sorted ids), each with today's ``hazard`` (per day) and uniform.
        hazard: conversion hazard of each candidate today.
        u_exposed: each candidate's uniform for today.
        sharers: mask of people who may be named as referrer.
        weights: how much each sharer weighs in the pick (None: equally).

    Given u < p, u / p is again uniform on [0, 1): it picks the referrer without another full-length
    draw, and stays tied to the person (common random numbers).
    """
    # 1 − e^(−h) ≤ h: only those whose uniform is under the hazard (with a margin for rounding) can
    # convert, so the exact probability is computed for them alone; the same people convert.
    maybe = np.flatnonzero(u_exposed < hazard * (1.0 + 1e-9))
    p_convert = -np.expm1(-hazard[maybe])
    hit = u_exposed[maybe] < p_convert
    converts = maybe[hit]
    converted = exposed[converts]
    if converted.size == 0:
        return converted
    u_referrer = u_exposed[converts] / p_convert[hit]
    referrers = model.graph.pick_neighbour(converted, sharers, weights, u_referrer)
    model.acquire(converted, Channel.SHARING, referrers=referrers)
    return referrers
