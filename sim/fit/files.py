"""Read a user's file and fit it in one call: what ``ripple fit`` and the app page use."""

from __future__ import annotations

import pandas as pd

from sim.fit.bass import BassFit, fit_bass
from sim.fit.btyd import BtydFit, fit_btyd
from sim.fit.io import FitDataError, Source, read_cohorts, read_series, read_transactions
from sim.fit.sbg import SbgFit, fit_sbg

__all__ = ["fit_cohort_file", "fit_series_file", "fit_transaction_file"]


def fit_series_file(
    source: Source,
    name: str | None = None,
    *,
    cumulative: bool | None = None,
    period_days: float | None = None,
) -> BassFit:
    """Bass p, q and m from a series file (see :func:`sim.fit.io.read_series`).

    ``period_days`` defaults to the spacing of the file's dates, or 365 for numbered periods (a
    note says so).

    Raises:
        FitDataError: the file cannot be used (one line says why).
    """
    series = read_series(source, name, cumulative=cumulative)
    notes = []
    days = period_days if period_days is not None else series.period_days
    if days is None:
        days = 365.0
        notes.append(
            "periods are numbered, so each is taken as 365 days (set the period length to change it)"
        )
    if not days > 0:
        raise FitDataError(f"the period length must be above 0 days; got {days}", name)
    try:
        fit = fit_bass(series.sales, period_days=days, labels=series.periods, unit=series.unit)
    except FitDataError as exc:
        raise FitDataError(
            exc.message, name or (None if isinstance(source, bytes) else str(source))
        ) from None
    fit.notes[:0] = notes
    return fit


def fit_cohort_file(
    source: Source, name: str | None = None, *, period_days: float = 365.0, cohort_size: int | None = None
) -> SbgFit:
    """SBG α and β from a cohort table file (see :func:`sim.fit.io.read_cohorts`).

    Raises:
        FitDataError: the file cannot be used (one line says why).
    """
    table = read_cohorts(source, name, cohort_size=cohort_size)
    if not period_days > 0:
        raise FitDataError(f"the period length must be above 0 days; got {period_days}", name)
    try:
        fit = fit_sbg(table.survivors, period_days=period_days)
    except FitDataError as exc:
        raise FitDataError(
            exc.message, name or (None if isinstance(source, bytes) else str(source))
        ) from None
    if table.from_shares and cohort_size is None:
        fit.notes.insert(
            0,
            f"the file holds shares: intervals assume cohorts of {table.cohort_size:,} customers "
            "(set the cohort size)",
        )
    return fit


def fit_transaction_file(
    source: Source,
    name: str | None = None,
    *,
    model: str = "pareto_nbd",
    time_unit_days: float = 7.0,
    observation_end: str | None = None,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
) -> BtydFit:
    """A buy-till-you-die model and Gamma-Gamma spend from a transaction log file.

    Raises:
        FitDataError: the file cannot be used (one line says why).
        MissingFitLibraryError: pymc-marketing is not installed.
    """
    log = read_transactions(source, name, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    end = None
    if observation_end is not None:
        try:
            end = pd.Timestamp(observation_end)
        except ValueError:
            raise FitDataError(
                f"the observation end must be a date (YYYY-MM-DD); got {observation_end!r}", name
            ) from None
    if not time_unit_days > 0:
        raise FitDataError(f"the time unit must be above 0 days; got {time_unit_days}", name)
    try:
        return fit_btyd(log, model=model, time_unit_days=time_unit_days, observation_end=end)
    except FitDataError as exc:
        if type(exc) is not FitDataError:
            raise
        raise FitDataError(
            exc.message, name or (None if isinstance(source, bytes) else str(source))
        ) from None
