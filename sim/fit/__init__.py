"""Calibration from a user's own data: Bass, shifted-beta-geometric and buy-till-you-die fits.

- An adoption or sales series → Bass p, q and m (:func:`fit_bass`, scipy least squares).
- A cohort retention table → sBG α and β (:func:`fit_sbg`, scipy maximum likelihood).
- A transaction log → Pareto/NBD or BG/NBD and Gamma-Gamma spend (:func:`fit_btyd`, pymc-marketing's
  CLV module, an optional extra: ``pip install 'ripple-sim[fit]'``).

:func:`scenario_yaml` turns fits into a scenario file with a comment on every fitted value
(``ripple fit --write-scenario``); docs/calibration.md describes the formats and the mapping.
Every reader raises :class:`FitDataError`, one line naming the problem, for data it cannot use.

>>> from sim import fit
>>> bass = fit.fit_series_file("sales.csv")            # doctest: +SKIP
>>> print(bass.p, bass.q, bass.m)                      # doctest: +SKIP
"""

from sim.fit._stats import Estimate
from sim.fit.bass import BassFit, bass_share, fit_bass
from sim.fit.btyd import BTYD_MODELS, BtydFit, MissingFitLibraryError, fit_btyd, rfm_from_transactions
from sim.fit.files import fit_cohort_file, fit_series_file, fit_transaction_file
from sim.fit.io import (
    CohortTable,
    FitDataError,
    SalesSeries,
    read_cohorts,
    read_series,
    read_transactions,
)
from sim.fit.mapping import Fit, MappedValue, fitted_scenario, scenario_values, scenario_yaml
from sim.fit.sbg import SbgFit, fit_sbg, sbg_survival

__all__ = [
    "BTYD_MODELS",
    "BassFit",
    "BtydFit",
    "CohortTable",
    "Estimate",
    "Fit",
    "FitDataError",
    "MappedValue",
    "MissingFitLibraryError",
    "SalesSeries",
    "SbgFit",
    "bass_share",
    "fit_bass",
    "fit_btyd",
    "fit_cohort_file",
    "fit_sbg",
    "fit_series_file",
    "fit_transaction_file",
    "fitted_scenario",
    "read_cohorts",
    "read_series",
    "read_transactions",
    "rfm_from_transactions",
    "sbg_survival",
    "scenario_values",
    "scenario_yaml",
]
