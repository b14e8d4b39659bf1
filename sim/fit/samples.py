"""Sample input files, one per kind of fit: what the app offers for download and the docs show."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SAMPLE_NAMES", "sample_csv"]

#: The file name the app offers for each kind's sample.
SAMPLE_NAMES = {
    "series": "sample_sales_series.csv",
    "cohorts": "sample_cohort_table.csv",
    "transactions": "sample_transaction_log.csv",
}

# Yearly US VCR unit sales (thousands), years 1–10: a classic diffusion series.
_VCR = (840, 1470, 2110, 4000, 7590, 10950, 10530, 9470, 7790, 5890)
# Fader & Hardie (2007): customers still active by year of a "regular" cohort of 1,000.
_REGULAR = (1000, 631, 468, 382, 326, 289, 262, 241)


def _transactions(customers: int = 400, seed: int = 7) -> pd.DataFrame:
    """A small synthetic log in a Pareto/NBD world.

    Customers join in 2024's first quarter and buy at Gamma-distributed Poisson rates until an
    exponential dropout, at log-normal amounts.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    end_day = 365
    rows = []
    for customer in range(1, customers + 1):
        first = int(rng.integers(0, 90))
        rate = rng.gamma(2.0, 0.03 / 2.0)  # purchases per day while alive
        life = rng.exponential(1 / rng.gamma(1.0, 1 / 200.0))  # days alive
        mean_spend = rng.lognormal(np.log(35.0), 0.5)
        day = float(first)
        while day <= min(first + life, end_day):
            rows.append(
                (
                    f"C{customer:04d}",
                    (start + pd.Timedelta(days=int(day))).date().isoformat(),
                    round(mean_spend * rng.gamma(8.0, 1 / 8.0), 2),
                )
            )
            day += rng.exponential(1 / rate) if rate > 0 else end_day + 1
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def sample_csv(kind: str) -> str:
    """The sample file of ``kind`` (``series``, ``cohorts`` or ``transactions``) as CSV text."""
    if kind == "series":
        return pd.DataFrame({"year": range(1, len(_VCR) + 1), "sales_thousands": _VCR}).to_csv(index=False)
    if kind == "cohorts":
        return pd.DataFrame({"year": range(len(_REGULAR)), "active": _REGULAR}).to_csv(index=False)
    if kind == "transactions":
        return _transactions().to_csv(index=False)
    raise ValueError(f"kind must be one of {', '.join(SAMPLE_NAMES)}; got {kind!r}")
