"""Reading a user's own data for calibration: a sales series, a cohort table, a transaction log.

Each reader takes a path or the bytes of an upload, accepts what spreadsheets and other tools
write (UTF-8 with or without a byte-order mark, UTF-16, comma, semicolon or tab separated, quoted
fields; Parquet for transaction logs) and returns plain arrays or a tidy frame. Anything it cannot
use raises :class:`FitDataError` with one line that names the file, the problem and the fix, never
a parser's traceback. The formats, with examples, are in docs/calibration.md.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "MAX_FIT_BYTES",
    "CohortTable",
    "FitDataError",
    "SalesSeries",
    "read_cohorts",
    "read_series",
    "read_table",
    "read_transactions",
]

#: Largest file the readers accept (bytes): calibration data is a table, not a data lake.
MAX_FIT_BYTES = 200_000_000

Source = str | Path | bytes

#: Column names tried, in order, when a transaction log's columns are not named explicitly.
CUSTOMER_NAMES = ("customer_id", "customer", "client_id", "user_id", "id")
DATE_NAMES = ("date", "datetime", "timestamp", "order_date", "day", "time")
AMOUNT_NAMES = ("amount", "monetary_value", "value", "revenue", "spend", "spent", "total", "price")


class FitDataError(ValueError):
    """A calibration input that cannot be used: ``str(error)`` is one line naming the fix."""

    def __init__(self, message: str, source: str | None = None) -> None:
        self.message = message
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


@dataclass(frozen=True)
class SalesSeries:
    """An adoption or sales series, one value per period.

    Attributes:
        periods: the period labels as given (numbers or dates), length T.
        sales: adoptions or sales in each period (per period, never cumulative), length T.
        period_days: length of one period in days when the labels are dates, else ``None``.
        unit: the value column's name (what the numbers count).
    """

    periods: list[str]
    sales: np.ndarray
    period_days: float | None
    unit: str


@dataclass(frozen=True)
class CohortTable:
    """Customers still active by age, one row per cohort.

    Attributes:
        survivors: shape (cohorts, periods); column t holds the customers still active after t
            periods (column 0 is the cohort's size); NaN where a cohort is too young to be observed.
        cohorts: a label per row.
        from_shares: True when the file held shares, turned into counts with ``cohort_size``.
        cohort_size: the size assumed for shares (``None`` when the file held counts).
    """

    survivors: np.ndarray
    cohorts: list[str]
    from_shares: bool
    cohort_size: int | None


# ------------------------------------------------------------------------------------- reading


def _name(source: Source, name: str | None) -> str:
    if name:
        return name
    return "upload" if isinstance(source, bytes) else str(source)


def _raw(source: Source, where: str) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise FitDataError("the file must exist", where)
        if path.stat().st_size > MAX_FIT_BYTES:
            raise FitDataError(f"the file must be at most {MAX_FIT_BYTES:,} bytes", where)
        data = path.read_bytes()
    if len(data) > MAX_FIT_BYTES:
        raise FitDataError(f"the data must be at most {MAX_FIT_BYTES:,} bytes", where)
    if not data.strip():
        raise FitDataError("the file is empty: it needs a header line and data rows", where)
    return data


def _decode(data: bytes, where: str) -> str:
    """Text of a CSV file: UTF-16 and UTF-8 byte-order marks are honoured; binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise FitDataError("is not a readable UTF-16 text file", where) from None
    if b"\x00" in data[:4096]:
        raise FitDataError("is binary data, not a CSV text file (save it as CSV, UTF-8)", where)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise FitDataError("is not a text CSV file (save it as CSV, UTF-8)", where) from None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if printable < 0.95 * len(text):
        raise FitDataError("is binary data, not a CSV text file (save it as CSV, UTF-8)", where)
    return text


def read_table(source: Source, name: str | None = None) -> pd.DataFrame:
    """A CSV (or, for a transaction log, Parquet) file as a frame of strings or typed columns.

    The separator (comma, semicolon, tab) is detected from the header line. Column names are
    stripped of spaces and quotes.

    Raises:
        FitDataError: missing, empty, binary or unparseable file, or no data rows.
    """
    where = _name(source, name)
    data = _raw(source, where)
    if data.startswith(b"PAR1"):
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise FitDataError(f"is not a readable Parquet file ({type(exc).__name__})", where) from None
    else:
        text = _decode(data, where)
        header = text.lstrip().splitlines()[0] if text.strip() else ""
        separator = max((",", ";", "\t"), key=header.count) if header else ","
        if header.count(separator) == 0:
            separator = r"\s+" if len(header.split()) > 1 else ","
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=separator,
                dtype=str,
                skipinitialspace=True,
                comment=None,
                engine="python" if separator == r"\s+" else "c",
                quoting=csv.QUOTE_MINIMAL,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FitDataError(f"is not a readable CSV file ({reason})", where) from None
    frame.columns = [str(c).strip().strip("\"'") for c in frame.columns]
    if frame.empty:
        raise FitDataError("has a header but no data rows", where)
    return frame


def _numbers(frame: pd.DataFrame, column: str, where: str) -> np.ndarray:
    """A column as floats; the first value that is not a number is named with its row."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.to_numpy(dtype=np.float64)
    else:
        text = raw.astype(str).str.strip().str.replace(r"[,\s]", "", regex=True)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(np.isnan(values) & raw.notna().to_numpy() & (text != "").to_numpy())
        if bad.size:
            row = int(bad[0])
            raise FitDataError(
                f"column {column!r}, row {row + 2}: {str(raw.iloc[row])[:40]!r} is not a number", where
            )
    if np.isinf(values).any():
        raise FitDataError(f"column {column!r} holds an infinite value", where)
    return values


def _no_negatives(values: np.ndarray, column: str, where: str) -> None:
    negative = np.flatnonzero(values < 0)
    if negative.size:
        row = int(negative[0])
        raise FitDataError(
            f"column {column!r} must not be negative; row {row + 2} holds {values[row]:g}", where
        )


def _parse_dates(raw: pd.Series, column: str, where: str) -> pd.Series:
    """Dates in any common form (ISO, 19970101, 1/31/1997, Excel's day numbers are refused)."""
    text = raw.astype(str).str.strip()
    if text.str.fullmatch(r"\d{8}").all():
        parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    else:
        parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise FitDataError(
            f"column {column!r}, row {row + 2}: {str(raw.iloc[row])[:40]!r} is not a date (use YYYY-MM-DD)",
            where,
        )
    return parsed


def _looks_like_dates(raw: pd.Series) -> bool:
    text = raw.astype(str).str.strip()
    return bool(text.str.contains(r"[-/.:]|[A-Za-z]", regex=True).any() or text.str.fullmatch(r"\d{8}").all())


# -------------------------------------------------------------------------------------- series


def read_series(
    source: Source, name: str | None = None, *, cumulative: bool | None = None, min_periods: int = 4
) -> SalesSeries:
    """Read an adoption or sales series: a period column, then a value column.

    The first column labels the periods (1, 2, 3 … or dates); the second holds adoptions or sales
    per period, or the running total when ``cumulative`` is true (``None``: true when the value
    column's name contains "cumul"). Periods are taken in file order.

    Raises:
        FitDataError: fewer than two columns, values that are not numbers or are negative, a
            running total that falls, dates that do not parse, or fewer than ``min_periods`` rows.
    """
    where = _name(source, name)
    frame = read_table(source, where)
    if frame.shape[1] < 2:
        raise FitDataError(
            f"needs two columns, a period and a value (e.g. 'year,sales'); found {list(frame.columns)}",
            where,
        )
    period_col, value_col = frame.columns[0], frame.columns[1]
    frame = frame.dropna(how="all")
    if len(frame) < min_periods:
        raise FitDataError(
            f"needs at least {min_periods} periods to fit p, q and m with intervals; got {len(frame)}", where
        )
    values = _numbers(frame, value_col, where)
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise FitDataError(f"column {value_col!r}, row {row + 2} is empty", where)
    _no_negatives(values, value_col, where)
    if cumulative is None:
        cumulative = "cumul" in value_col.lower()
    if cumulative:
        falls = np.flatnonzero(np.diff(values) < 0)
        if falls.size:
            row = int(falls[0]) + 1
            raise FitDataError(
                f"column {value_col!r} is a running total but falls at row {row + 2} "
                f"({values[row - 1]:g} → {values[row]:g}); pass per-period values instead",
                where,
            )
        values = np.diff(values, prepend=0.0)
    if values.sum() <= 0:
        raise FitDataError(f"column {value_col!r} is all zero: there is nothing to fit", where)
    labels = frame[period_col].astype(str).str.strip()
    period_days = None
    if _looks_like_dates(frame[period_col]):
        dates = _parse_dates(frame[period_col], period_col, where)
        steps = np.diff(dates.to_numpy()).astype("timedelta64[s]").astype(np.float64) / 86_400
        if (steps <= 0).any():
            raise FitDataError(f"column {period_col!r}: dates must increase down the file", where)
        period_days = float(np.median(steps))
    return SalesSeries(periods=labels.tolist(), sales=values, period_days=period_days, unit=value_col)


# -------------------------------------------------------------------------------------- cohorts


def read_cohorts(source: Source, name: str | None = None, *, cohort_size: int | None = None) -> CohortTable:
    """Read a cohort retention table, in one of two layouts.

    - **One cohort, long**: a period column (0, 1, 2 …) and a column of customers still active (a
      count, or a share that starts at 1).
    - **Several cohorts, wide**: a cohort label column, then one column per period (``0``, ``1`` …),
      blank where a cohort is too young.

    Shares are turned into counts with ``cohort_size`` (default 1,000); the point estimates do not
    depend on it, the intervals do.

    Raises:
        FitDataError: too few columns or periods, values that are not numbers, negative, rising
            with age, or a first period that is empty.
    """
    where = _name(source, name)
    frame = read_table(source, where).dropna(how="all")
    if frame.shape[1] < 2:
        raise FitDataError(
            "needs a period column and a survivors column (e.g. 'year,active'), or a cohort column "
            f"and one column per period; found {list(frame.columns)}",
            where,
        )
    numeric_header = [bool(re.fullmatch(r"\s*\d+\s*", str(c))) for c in frame.columns[1:]]
    if frame.shape[1] > 2 and all(numeric_header):
        labels = frame.iloc[:, 0].astype(str).tolist()
        table = np.column_stack([_numbers(frame, c, where) for c in frame.columns[1:]])
    elif frame.shape[1] == 2:
        labels = ["cohort"]
        table = _numbers(frame, frame.columns[1], where)[None, :]
        periods = _numbers(frame, frame.columns[0], where)
        if np.isnan(periods).any() or not np.array_equal(periods, np.arange(len(periods))):
            raise FitDataError(
                f"column {frame.columns[0]!r} must count periods 0, 1, 2 … in order "
                "(period 0 is the cohort's start)",
                where,
            )
    else:
        raise FitDataError(
            "has more than two columns, so it must be a wide table: a cohort column, then columns "
            f"named 0, 1, 2 …; found {list(frame.columns)}",
            where,
        )
    if table.shape[1] < 3:
        raise FitDataError(f"needs at least 3 periods (0, 1, 2) to fit α and β; got {table.shape[1]}", where)
    negative = np.argwhere(np.nan_to_num(table) < 0)
    if negative.size:
        row, col = (int(i) for i in negative[0])
        raise FitDataError(
            f"cohort {labels[row]!r}, period {col}: survivors must not be negative; got {table[row, col]:g}",
            where,
        )
    if np.isnan(table[:, 0]).any() or (table[:, 0] <= 0).any():
        raise FitDataError("every cohort needs a size above 0 in period 0", where)
    observed = ~np.isnan(table)
    gaps = observed[:, 1:] & ~observed[:, :-1]
    if gaps.any():
        row = int(np.flatnonzero(gaps.any(axis=1))[0])
        raise FitDataError(f"cohort {labels[row]!r} has a gap: leave only its last periods blank", where)
    rises = np.nan_to_num(np.diff(table, axis=1), nan=0.0) > 1e-9
    if rises.any():
        row, col = (int(i) for i in np.argwhere(rises)[0])
        raise FitDataError(
            f"cohort {labels[row]!r}: survivors rise from period {col} to {col + 1} "
            f"({table[row, col]:g} → {table[row, col + 1]:g}); a cohort can only shrink",
            where,
        )
    from_shares = bool(np.nanmax(table) <= 1.0 + 1e-9)
    size = None
    if from_shares:
        size = int(cohort_size or 1000)
        table = np.round(table / table[:, :1] * size)
    elif not np.allclose(table[observed], np.round(table[observed])):
        raise FitDataError(
            "survivors must be whole counts (or shares between 0 and 1 that start at 1)", where
        )
    return CohortTable(survivors=table, cohorts=labels, from_shares=from_shares, cohort_size=size)


# --------------------------------------------------------------------------------- transactions


def _pick(frame: pd.DataFrame, given: str | None, names: tuple[str, ...], what: str, where: str) -> str:
    columns = {c.lower(): c for c in frame.columns}
    if given is not None:
        if given not in frame.columns:
            raise FitDataError(
                f"has no column {given!r} for the {what}; columns: {list(frame.columns)}", where
            )
        return given
    for candidate in names:
        if candidate in columns:
            return columns[candidate]
    raise FitDataError(
        f"needs a {what} column (named one of {', '.join(names[:4])} …); columns: {list(frame.columns)}",
        where,
    )


def read_transactions(
    source: Source,
    name: str | None = None,
    *,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
) -> pd.DataFrame:
    """Read a transaction log: one row per order with a customer, a date and an amount.

    Columns are found by name (``customer_id``/``customer``/``id``, ``date``/``day``,
    ``amount``/``value``/``spent`` …) unless given. Dates may be calendar dates or whole day numbers
    (Ripple's own order log, ``ripple run --orders``, uses day numbers).

    Returns:
        A frame with columns ``customer_id`` (str), ``date`` (datetime64; day numbers count from
        2000-01-01) and ``amount`` (float, currency), in file order.

    Raises:
        FitDataError: a missing column, a date that does not parse, an amount that is not a number
            or is negative, or fewer than two customers.
    """
    where = _name(source, name)
    frame = read_table(source, where)
    customer = _pick(frame, customer_col, CUSTOMER_NAMES, "customer", where)
    date = _pick(frame, date_col, DATE_NAMES, "date", where)
    amount = _pick(frame, amount_col, AMOUNT_NAMES, "amount", where)
    raw_dates = frame[date]
    if pd.api.types.is_datetime64_any_dtype(raw_dates):
        dates = pd.DatetimeIndex(pd.to_datetime(raw_dates))
    elif pd.api.types.is_integer_dtype(raw_dates) or (
        not _looks_like_dates(raw_dates) and raw_dates.astype(str).str.fullmatch(r"\s*\d{1,6}\s*").all()
    ):
        days = _numbers(frame, date, where)
        dates = pd.DatetimeIndex(pd.Timestamp("2000-01-01") + pd.to_timedelta(days, unit="D"))
    else:
        dates = pd.DatetimeIndex(_parse_dates(raw_dates, date, where))
    values = _numbers(frame, amount, where)
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise FitDataError(f"column {amount!r}, row {row + 2} is empty", where)
    _no_negatives(values, amount, where)
    ids = frame[customer].astype(str).str.strip()
    if ids.nunique() < 2:
        raise FitDataError("needs orders from at least two customers", where)
    return pd.DataFrame({"customer_id": ids.to_numpy(), "date": pd.DatetimeIndex(dates), "amount": values})
