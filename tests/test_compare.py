"""sim.analysis.compare: one world per replication, intervals, and paired differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import compare, load_scenario, run
from sim.analysis.compare import mean_interval, replication_seeds, world_of
from sim.scenario import ScenarioError
from sim.world.build import build_real_world, build_world
from tests.conftest import SCENARIOS


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
    with pytest.raises(ScenarioError, match="must share one market") as caught:
        compare([small_hybrid, other], replications=1)
    # The message names which strategy has which value.
    assert "'hybrid (2)' has n=2500, 'hybrid' has n=2000" in str(caught.value)


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


def _fraud_pair() -> tuple:
    small = {"network.n": 1500, "days": 60}
    honest = load_scenario(SCENARIOS / "two_sided_credit.yaml", small)
    attack = load_scenario(SCENARIOS / "coupon_farming_attack.yaml", small)
    return honest, attack


def test_an_attack_adds_fake_accounts_to_the_same_real_people():
    honest, attack = _fraud_pair()
    real = build_real_world(honest, 7)
    attacked = world_of(attack, 7, real)
    built = build_world(attack, 7)
    n = attack.network.n
    assert attacked.graph.n == built.graph.n == n + attack.fraud.n_fake_accounts
    assert np.array_equal(attacked.graph.indptr, built.graph.indptr)
    assert np.array_equal(attacked.graph.indices, built.graph.indices)
    assert world_of(honest, 7, real) is real
    # Ties among real people are unchanged; the attack only adds ties from real people to fakes.
    for person in range(0, n, 97):
        before = set(real.graph.indices[real.graph.indptr[person] : real.graph.indptr[person + 1]])
        after = set(attacked.graph.indices[attacked.graph.indptr[person] : attacked.graph.indptr[person + 1]])
        assert before == {friend for friend in after if friend < n}
    gained = sum(
        int((attacked.graph.indices[attacked.graph.indptr[p] : attacked.graph.indptr[p + 1]] >= n).any())
        for p in range(n)
    )
    assert gained > 0
    for column in ("order_value", "rate_purchase", "p_churn_base"):
        assert np.array_equal(real.population.column(column), attacked.population.column(column)[:n])


def test_strategies_that_differ_in_the_attack_are_paired_on_the_real_people():
    honest, attack = _fraud_pair()
    both = compare({"honest": honest, "attack": attack}, replications=2, seed=3)
    alone = compare({"honest": honest}, replications=2, seed=3)
    # The honest strategy ran on the same world as when it is compared alone ...
    pd.testing.assert_frame_equal(
        both.runs[both.runs["strategy"] == "honest"].reset_index(drop=True), alone.runs
    )
    # ... and the attacked one on the world build_world makes for it.
    seed = both.seeds[0]
    single = run(attack, seed, world=build_world(attack, seed))
    first = both.runs[(both.runs["strategy"] == "attack") & (both.runs["replication"] == 0)].iloc[0]
    assert first["profit"] == pytest.approx(single.summary["profit"])
    paid = both.summary.set_index(["strategy", "metric"])["mean"]
    assert paid[("attack", "rewards_paid_fraud")] > 0 == paid[("honest", "rewards_paid_fraud")]
    pooled = compare({"honest": honest, "attack": attack}, replications=2, seed=3, workers=2)
    pd.testing.assert_frame_equal(both.runs, pooled.runs)


@pytest.mark.parametrize("workers", [1, 2])
def test_raising_from_on_run_stops_the_comparison(small_hybrid, workers):
    class StopError(Exception):
        pass

    calls: list[int] = []

    def stop_after_two(done: int, total: int) -> None:
        calls.append(done)
        if done == 2:
            raise StopError

    with pytest.raises(StopError):
        compare([small_hybrid, small_hybrid], replications=4, seed=1, on_run=stop_after_two, workers=workers)
    assert calls == [1, 2]
