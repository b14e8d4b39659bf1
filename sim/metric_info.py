"""What a headline metric means; shared by :mod:`sim.metrics` and rules that report their own metrics."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MetricInfo"]


@dataclass(frozen=True)
class MetricInfo:
    """What a headline metric means: its unit and which direction is better."""

    unit: str
    description: str
    higher_is_better: bool = True
