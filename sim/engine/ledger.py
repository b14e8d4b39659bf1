"""The ledger: every unit of money spent or earned, by day, channel and purpose."""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

__all__ = ["Ledger", "LedgerError"]

#: Channels whose spend buys customers (marketing), as opposed to running the business.
MARKETING_CHANNELS: frozenset[str] = frozenset({"ads", "sharing", "organic", "seed", "field"})
#: Channels whose spend keeps customers (retention offers, win-back, loyalty): not acquisition
#: spend, but a cost that profit subtracts.
RETENTION_CHANNELS: frozenset[str] = frozenset({"retention", "winback", "loyalty"})


class LedgerError(ValueError):
    """A posting that would make the books wrong (negative or non-finite money)."""


class Ledger:
    """Append-only money lines. Amounts are non-negative, in the scenario's currency.

    ``flow`` is ``"spend"`` (money out) or ``"earn"`` (money in). Today's totals are kept as lines
    are posted, so closing a day never scans the lines.
    """

    def __init__(self) -> None:
        self.day = 0
        self._lines: list[tuple[int, str, str, str, float]] = []
        self._today: dict[tuple[str, str], float] = defaultdict(float)

    def _post(self, flow: str, channel: str, purpose: str, amount: float) -> None:
        if not math.isfinite(amount) or amount < 0:
            raise LedgerError(f"{flow} {channel}/{purpose}: amount must be finite and ≥ 0; got {amount}")
        if amount == 0:
            return
        self._lines.append((self.day, channel, purpose, flow, float(amount)))
        self._today[(flow, channel)] += amount

    def spend(self, channel: str, purpose: str, amount: float) -> None:
        """Record money out (currency)."""
        self._post("spend", channel, purpose, amount)

    def earn(self, channel: str, purpose: str, amount: float) -> None:
        """Record money in (currency)."""
        self._post("earn", channel, purpose, amount)

    def start_day(self, day: int) -> None:
        """Lines posted from now on belong to ``day``."""
        self.day = day
        self._today.clear()

    def today(self, flow: str, channel: str | None = None) -> float:
        """Sum of ``flow`` lines posted today, for one channel or all."""
        return sum(v for (f, c), v in self._today.items() if f == flow and channel in (None, c))

    def marketing_spend_today(self) -> float:
        """Money spent today to acquire customers, net of money taken back today, currency.

        Money in on a marketing channel (a referral reward clawed back or recovered after fraud
        detection) reverses marketing spend, so it is subtracted here.
        """
        spent = sum(v for (f, c), v in self._today.items() if f == "spend" and c in MARKETING_CHANNELS)
        returned = sum(v for (f, c), v in self._today.items() if f == "earn" and c in MARKETING_CHANNELS)
        return spent - returned

    def to_frame(self) -> pd.DataFrame:
        """All lines: day, channel, purpose, flow, amount."""
        return pd.DataFrame(self._lines, columns=["day", "channel", "purpose", "flow", "amount"])

    def __len__(self) -> int:
        return len(self._lines)
