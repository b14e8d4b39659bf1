"""Where 8:1 holds: the measured acquisition-to-retention cost ratio over a grid of markets.

Two market conditions decide which lever is cheaper: how mature the market is (the share of people
already customers on day 0, ``population.share_initial_customers``) and how fast customers leave
(``customers.rel_churn``, a multiplier on every customer's churn hazard). Each cell of the grid is
the scenario under those two conditions, measured as :func:`sim.analysis.lesson.measure_runs` does:
the split, the split without ads and the split without offers, on common random numbers. The grid
is an ordinary experiment (:class:`~sim.sweep.spec.Experiment`) run by :func:`sim.sweep.sweep` into
a store, so it runs in this process, on a local Dask cluster or on a remote one like any sweep.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import contourpy
import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import betaln

from sim.analysis.lesson import (
    ADS_BUDGET,
    EIGHT,
    OFFERS_BUDGET,
    RUN_METRICS,
    measure_runs,
    split_budgets,
)
from sim.scenario import PopulationSpec, Problem, Scenario, ScenarioError
from sim.sweep.runner import sweep
from sim.sweep.spec import Experiment, experiment_from_dict

__all__ = [
    "CHURN",
    "DEFAULT_CHURN",
    "DEFAULT_MATURITY",
    "MATURITY",
    "EightToOneMap",
    "annual_churn",
    "eight_to_one_experiment",
    "eight_to_one_map",
]

#: The market-maturity axis: share of people already customers on day 0.
MATURITY = "population.share_initial_customers"
#: The churn axis is set through this multiplier on every customer's churn hazard.
CHURN = "customers.rel_churn"
#: Default maturities (share of the market already reached at the start).
DEFAULT_MATURITY: tuple[float, ...] = (0.01, 0.1, 0.3, 0.6, 0.9)
#: Default churn: the expected share of customers lost in a year (before experiences and levers).
DEFAULT_CHURN: tuple[float, ...] = (0.1, 0.3, 0.6, 0.9)
#: Ratios drawn as lines on the map: break-even (1:1) and the folklore (8:1).
LEVELS: tuple[float, ...] = (1.0, EIGHT)
#: log10 of the ratio is clipped to ± this for colours and contours (∞ when a lever bought nothing).
LOG_CLIP = 3.0


def annual_churn(population: PopulationSpec, rel_churn: float = 1.0) -> float:
    """Expected share of customers lost in a year at churn multiplier ``rel_churn`` (before levers).

    A customer's churn per period θ ~ Beta(α, β) over ``days_churn_period`` days, and the churn rule
    multiplies the hazard by ``rel_churn``, so a year's survival is ``(1 − θ)^(365·k/P)`` and its mean
    is ``B(α, β + 365·k/P) / B(α, β)`` (the shifted-beta-geometric survival, docs/science.md §4).
    Bad experiences and retention levers change it further during a run.
    """
    periods = 365.0 * rel_churn / population.days_churn_period
    alpha, beta = population.churn_alpha, population.churn_beta
    return float(1.0 - math.exp(betaln(alpha, beta + periods) - betaln(alpha, beta)))


def rel_churn_for(population: PopulationSpec, share_lost_per_year: float) -> float:
    """The ``customers.rel_churn`` at which :func:`annual_churn` is ``share_lost_per_year`` (in (0, 1)).

    Raises:
        ScenarioError: for a share outside (0, 1).
    """
    if not 0.0 < share_lost_per_year < 1.0:
        raise ScenarioError(
            [Problem("annual churn", "must be strictly between 0 and 1", repr(share_lost_per_year))]
        )
    # annual_churn rises from 0 (k → 0) towards 1 (k → ∞): bracket the root, then solve.
    high = 1.0
    while annual_churn(population, high) < share_lost_per_year and high < 1e9:
        high *= 4.0
    return float(brentq(lambda k: annual_churn(population, k) - share_lost_per_year, 0.0, high, xtol=1e-10))


def _share(scenario: Scenario) -> float:
    """The scenario's own split (offers' share of ads + offers), or one half with no split to keep."""
    total = scenario.ads.daily_budget + scenario.retention_offers.daily_budget
    share = scenario.retention_offers.daily_budget / total if total > 0 else 0.5
    return share if 0.0 < share < 1.0 else 0.5


def eight_to_one_experiment(
    scenario: Scenario,
    total_daily_budget: float,
    share_to_retention: float,
    maturities: Sequence[float] = DEFAULT_MATURITY,
    churns: Sequence[float] = DEFAULT_CHURN,
    replications: int = 1,
    seed: int | None = None,
) -> Experiment:
    """The map as an experiment: maturity × churn × the three budget pairs of the split, on a grid.

    ``churns`` are shares of customers lost in a year; each becomes the ``customers.rel_churn`` that
    gives it with the scenario's churn distribution (:func:`rel_churn_for`). The budget pairs
    (:func:`sim.analysis.lesson.split_budgets`) move together as one axis, so each replication of a
    cell runs the split and the split without each lever on one world and seed.

    Raises:
        ScenarioError: for a split without both levers, or an invalid grid value.
    """
    if not 0.0 < share_to_retention < 1.0:
        raise ScenarioError(
            [
                Problem(
                    "share_to_retention",
                    "must be strictly between 0 and 1 (both levers on)",
                    repr(share_to_retention),
                )
            ]
        )
    budgets = split_budgets(total_daily_budget, share_to_retention)
    roles = ("split", "no_ads", "no_offers")
    data = {
        "name": "eight_to_one_map",
        "question": "Where does 8:1 hold? Acquisition against retention cost over market maturity and churn.",
        "scenario": scenario.model_dump(mode="json", exclude={"base_dir"}),
        "factors": {
            MATURITY: {"values": [float(m) for m in maturities]},
            CHURN: {"values": [rel_churn_for(scenario.population, float(c)) for c in churns]},
            ADS_BUDGET: {"values": [budgets[role][0] for role in roles]},
            OFFERS_BUDGET: {"values": [budgets[role][1] for role in roles]},
        },
        "design": {"kind": "grid", "together": [[ADS_BUDGET, OFFERS_BUDGET]]},
        "replications": replications,
        "seed": scenario.seed if seed is None else seed,
        "metrics": list(RUN_METRICS),
    }
    return experiment_from_dict(data, base_dir=scenario.base_dir)


@dataclass(frozen=True)
class EightToOneMap:
    """The measured 8:1 over market maturity and churn.

    Attributes:
        cells: one row per (maturity, churn): ``maturity``, ``annual_churn`` (share of customers
            lost a year, :func:`annual_churn`), ``rel_churn`` (the multiplier that gives it),
            ``cost_ratio`` with ``cost_ratio_low`` / ``cost_ratio_high`` (95%; NaN with one
            replication), ``status``, ``log10_ratio`` (clipped to ±:data:`LOG_CLIP`), ``cheaper``
            (``retention``, ``acquisition`` or ``unknown``), ``holds`` (ratio ≥ 8) and the cell's
            grid position ``x``, ``y`` (column and row numbers) with its edges ``x0``, ``x1``,
            ``y0``, ``y1`` for drawing as equal tiles.
        contours: the 1:1 and 8:1 lines: ``level``, ``line`` (one id per piece), ``order``, grid
            coordinates ``x``, ``y`` and the ``maturity`` and ``annual_churn`` they stand for.
        share_to_retention: the split measured in every cell.
        total_daily_budget: currency per day split between the levers.
        scenario_maturity: the scenario's own maturity (its marker on the map).
        scenario_annual_churn: the scenario's own annual churn.
        scenario_x: the marker's position in grid coordinates (between cell numbers).
        scenario_y: the same, vertically.
        runs: every run (the sweep store's table).
    """

    cells: pd.DataFrame
    contours: pd.DataFrame
    share_to_retention: float
    total_daily_budget: float
    scenario_maturity: float
    scenario_annual_churn: float
    scenario_x: float
    scenario_y: float
    runs: pd.DataFrame = field(repr=False)

    def crossings(self, level: float) -> pd.DataFrame:
        """For each churn: the maturity where the ratio first reaches ``level`` (log-linear in between).

        Columns ``rel_churn``, ``annual_churn``, ``maturity`` (NaN when the row never crosses; the
        lowest maturity when the whole row is at or above ``level``).
        """
        rows = []
        target = math.log10(level)
        for rel, row in self.cells.sort_values("maturity").groupby("rel_churn", sort=True):
            x = row["maturity"].to_numpy(dtype=float)
            z = row["log10_ratio"].to_numpy(dtype=float) - target
            where = math.nan
            if z.size and np.isfinite(z[0]) and z[0] >= 0:
                where = float(x[0])
            else:
                for i in range(len(x) - 1):
                    if np.isfinite(z[i]) and np.isfinite(z[i + 1]) and z[i] < 0 <= z[i + 1]:
                        where = float(x[i] + (x[i + 1] - x[i]) * (-z[i]) / (z[i + 1] - z[i]))
                        break
            rows.append(
                {"rel_churn": rel, "annual_churn": float(row["annual_churn"].iloc[0]), "maturity": where}
            )
        return pd.DataFrame(rows, columns=["rel_churn", "annual_churn", "maturity"])


def _log10_ratio(ratio: float) -> float:
    """log10 of the ratio clipped to ±LOG_CLIP (∞ and 0 included); NaN when there is no ratio."""
    if ratio == math.inf:
        return LOG_CLIP
    if ratio == 0.0:
        return -LOG_CLIP
    if math.isfinite(ratio) and ratio > 0:
        return max(-LOG_CLIP, min(LOG_CLIP, math.log10(ratio)))
    return math.nan


def _contours(cells: pd.DataFrame) -> pd.DataFrame:
    """The 1:1 and 8:1 lines of the log ratio, by marching squares on the grid of cells.

    Lines are traced in grid coordinates (``x``, ``y``: the cells' column and row numbers, as drawn)
    and carried back to maturity and annual churn by linear interpolation between grid values.
    """
    columns = ["level", "line", "order", "x", "y", "maturity", "annual_churn"]
    table = cells.pivot(index="y", columns="x", values="log10_ratio").sort_index().sort_index(axis=1)
    if table.shape[0] < 2 or table.shape[1] < 2:
        return pd.DataFrame(columns=columns)
    maturities = cells.groupby("x")["maturity"].first().sort_index().to_numpy(dtype=float)
    churns = cells.groupby("y")["annual_churn"].first().sort_index().to_numpy(dtype=float)
    z = np.ma.masked_invalid(table.to_numpy(dtype=float))
    x = table.columns.to_numpy(dtype=float)
    y = table.index.to_numpy(dtype=float)
    generator = contourpy.contour_generator(x, y, z, line_type=contourpy.LineType.Separate)
    rows = []
    line = 0
    for level in LEVELS:
        for piece in generator.lines(math.log10(level)):
            for order, (px, py) in enumerate(np.asarray(piece)):
                rows.append(
                    {
                        "level": level,
                        "line": line,
                        "order": order,
                        "x": px,
                        "y": py,
                        "maturity": float(np.interp(px, x, maturities)),
                        "annual_churn": float(np.interp(py, y, churns)),
                    }
                )
            line += 1
    return pd.DataFrame(rows, columns=columns)


def _grid_position(value: float, grid: np.ndarray) -> float:
    """Where ``value`` sits among the sorted ``grid`` values, in cell numbers (linear in between).

    Beyond the ends the first or last step is extended, up to half a cell (the edge of the map).
    """
    if grid.size == 1:
        return 0.0
    if value < grid[0]:
        position = (value - grid[0]) / (grid[1] - grid[0])
    elif value > grid[-1]:
        position = grid.size - 1 + (value - grid[-1]) / (grid[-1] - grid[-2])
    else:
        position = float(np.interp(value, grid, np.arange(grid.size)))
    return float(np.clip(position, -0.5, grid.size - 0.5))


def eight_to_one_map(
    scenario: Scenario,
    total_daily_budget: float | None = None,
    share_to_retention: float | None = None,
    maturities: Sequence[float] = DEFAULT_MATURITY,
    churns: Sequence[float] = DEFAULT_CHURN,
    replications: int = 1,
    seed: int | None = None,
    out: str | Path | None = None,
    workers: int | None = 1,
    on_run: Callable[[int, int], None] | None = None,
) -> EightToOneMap:
    """Measure the 8:1 in every cell of maturity × churn, through the sweep machinery.

    Args:
        scenario: the market and strategy; each cell overrides its maturity and churn.
        total_daily_budget: currency per day to split (default: the scenario's ads + offers).
        share_to_retention: the split measured (default: the scenario's own, or one half).
        maturities: shares of the market already customers on day 0.
        churns: expected shares of customers lost in a year (before experiences and levers).
        replications: paired replications per cell (1 draws the map; ≥ 2 adds intervals).
        seed: root seed of the replications (default: the scenario's).
        out: keep the sweep store here (default: a temporary folder, removed afterwards).
        workers: 1 = in this process (the default); N = a local Dask cluster (see :func:`sim.sweep.sweep`).
        on_run: called as ``on_run(done, total)`` as runs finish (a progress bar).

    Raises:
        ScenarioError: for an invalid grid value or split.
    """
    total = (
        scenario.ads.daily_budget + scenario.retention_offers.daily_budget
        if total_daily_budget is None
        else float(total_daily_budget)
    )
    share = _share(scenario) if share_to_retention is None else float(share_to_retention)
    experiment = eight_to_one_experiment(scenario, total, share, maturities, churns, replications, seed)
    if out is None:
        with tempfile.TemporaryDirectory(prefix="ripple-8to1-") as folder:
            runs = sweep(
                experiment, out=Path(folder) / "store", workers=workers, progress=False, on_run=on_run
            ).runs()
    else:
        runs = sweep(experiment, out=out, workers=workers, progress=False, on_run=on_run, resume=True).runs()
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"{len(failed)} runs of the map failed; the first: {failed['error'].iloc[0]}")

    rows = []
    cost = scenario.retention_offers.cost_per_offer
    churn_of = {rel_churn_for(scenario.population, float(c)): float(c) for c in churns}
    for keys, cell in runs.groupby([MATURITY, CHURN], sort=True):
        maturity, rel = (float(key) for key in cast(tuple[float, float], keys))
        measured = measure_runs(cell, total, share, scenario.days, cost)
        ratio = measured.cost_ratio
        log10 = _log10_ratio(ratio)
        rows.append(
            {
                "maturity": maturity,
                "rel_churn": rel,
                "annual_churn": churn_of.get(rel, annual_churn(scenario.population, rel)),
                "cost_ratio": ratio,
                "cost_ratio_low": measured.cost_ratio_low,
                "cost_ratio_high": measured.cost_ratio_high,
                "status": measured.status,
                "log10_ratio": log10,
                "cheaper": "unknown"
                if not math.isfinite(log10)
                else "retention"
                if log10 > 0
                else "acquisition",
                "holds": bool(math.isfinite(log10) and ratio >= EIGHT),
            }
        )
    cells = pd.DataFrame(rows)
    # Cells are drawn as equal tiles, one per grid value, whatever the spacing of the values.
    grids = {}
    for axis, name in (("maturity", "x"), ("annual_churn", "y")):
        values = np.sort(cells[axis].unique())
        grids[name] = values
        cells[name] = cells[axis].map({value: float(i) for i, value in enumerate(values)})
        cells[f"{name}0"], cells[f"{name}1"] = cells[name] - 0.5, cells[name] + 0.5
    own_maturity = scenario.population.share_initial_customers
    own_churn = annual_churn(scenario.population, scenario.customers.rel_churn)
    return EightToOneMap(
        cells=cells,
        contours=_contours(cells),
        share_to_retention=share,
        total_daily_budget=total,
        scenario_maturity=own_maturity,
        scenario_annual_churn=own_churn,
        scenario_x=_grid_position(own_maturity, grids["x"]),
        scenario_y=_grid_position(own_churn, grids["y"]),
        runs=runs,
    )
