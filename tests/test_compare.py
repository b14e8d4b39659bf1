"""sim.analysis.compare: one world per replication, intervals, and paired differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import compare
from sim.analysis.compare import mean_interval, replication_seeds
from sim.scenario import ScenarioError


def test_mean_interval_is_the_t_interval():
    values = np.array([3.0, 5.0, 4.0, 8.0, np.nan])
    mean, low, high, n = mean_interval(values)
    finite = values[:4]
    expected = stats.t.interval(0.95, 3, loc=finite.mean(), scale=stats.sem(finite))
    assert n == 4 and mean == finite.mean()
    assert np.allclose((low, high), expected)


def test_replication_seeds_are_distinct_and_reproducible():
    seeds = replication_seeds(5, 10)
    assert len(set(seeds)) == 10 and seeds == replication_seeds(5, 10)
    assert all(0 <= seed < 2**63 for seed in seeds)


def test_strategies_on_different_worlds_are_refused(small_hybrid):
    other = small_hybrid.with_overrides({"network.n": 2500})
    with pytest.raises(ScenarioError, match="must share one world"):
        compare([small_hybrid, other], replications=1)


def test_the_paired_interval_is_narrower_than_the_strategies_own(small_hybrid):
    richer = small_hybrid.with_overrides({"ads.daily_budget": small_hybrid.ads.daily_budget * 2})
    result = compare({"base": small_hybrid, "richer": richer}, replications=6, seed=1)
    summary = result.summary.set_index(["strategy", "metric"])
    own = (
        summary.loc[("richer", "new_customers"), "ci_high"]
        - summary.loc[("richer", "new_customers"), "ci_low"]
    )
    paired = result.paired.set_index("metric").loc["new_customers"]
    assert paired["ci_high"] - paired["ci_low"] < own
    table = result.table()
    assert list(table.columns) == ["base", "richer"] and "cac_blended" in table.index


def test_a_process_pool_gives_the_same_comparison_as_one_process(small_hybrid):
    strategies = [small_hybrid, small_hybrid.with_overrides({"name": "no ads", "ads.daily_budget": 0.0})]
    progress: list[tuple[int, int]] = []
    serial = compare(strategies, replications=3, seed=11)
    pooled = compare(
        strategies, replications=3, seed=11, workers=2, on_run=lambda d, t: progress.append((d, t))
    )
    pd.testing.assert_frame_equal(serial.runs, pooled.runs)
    pd.testing.assert_frame_equal(serial.steps, pooled.steps)
    pd.testing.assert_frame_equal(serial.retention, pooled.retention)
    assert progress[-1] == (6, 6)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    with pytest.raises(ValueError, match="workers"):
        compare(strategies, replications=2, workers=0)
