"""Where new customers come from over time: the field-to-word-of-mouth hand-over."""

from __future__ import annotations

import pandas as pd

from sim.analysis.metrics import ACQUISITION_CHANNELS

__all__ = ["new_customer_shares"]


def new_customer_shares(steps: pd.DataFrame, period_days: int = 30) -> pd.DataFrame:
    """First-time customers by channel in periods of ``period_days``, and each channel's share.

    Args:
        steps: a run's step table (``RunResult.steps``); day 0 is left out.
        period_days: length of a period (days, ≥ 1).

    Returns:
        One row per period and channel: ``period_start`` (first day), ``channel``, ``new_customers``
        (people) and ``share`` (of the period's new customers; NaN in a period with none).
    """
    if period_days < 1:
        raise ValueError(f"period_days must be at least 1; got {period_days}")
    run_steps = steps[steps["day"] > 0]
    period_start = (run_steps["day"] - 1) // period_days * period_days + 1
    counts = run_steps[[f"new_{c}" for c in ACQUISITION_CHANNELS]].groupby(period_start.to_numpy()).sum()
    counts.columns = pd.Index(ACQUISITION_CHANNELS)
    counts.index.name = "period_start"
    frame = counts.reset_index().melt(id_vars="period_start", var_name="channel", value_name="new_customers")
    frame = frame.sort_values("period_start", kind="stable", ignore_index=True)
    total = frame.groupby("period_start")["new_customers"].transform("sum")
    frame["share"] = frame["new_customers"] / total.where(total > 0)
    return frame
