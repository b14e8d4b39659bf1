"""Building blocks of every scenario section: the base class and the probability and share types.

Each module of this package defines its sections on :class:`Section`, and
:class:`sim.scenario.Scenario` adds one field per section.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Probability", "Section", "Share"]

#: A probability per event or per day, in [0, 1].
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
#: A share of a population or an amount, in [0, 1].
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
