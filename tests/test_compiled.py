"""Kernels draw the very numbers NumPy would: compiling a pass changes no seeded result."""

from __future__ import annotations

import math

import numpy as np

from sim.engine.compiled import kernel
from sim.engine.random import stream


@kernel
def _draw_below(rng: np.random.Generator, limits: np.ndarray, out: np.ndarray) -> int:
    hits = 0
    for i in range(limits.size):
        u = rng.random()
        out[i] = u
        if u < limits[i]:
            hits += 1
    return hits


def test_a_kernel_draws_numpys_stream_and_leaves_the_generator_where_numpy_would() -> None:
    limits = np.linspace(0.0, 1.0, 1001)
    compiled_rng, numpy_rng = stream(7, "purchases"), stream(7, "purchases")
    drawn = np.empty(limits.size)
    hits = _draw_below(compiled_rng, limits, drawn)
    expected = numpy_rng.random(limits.size)
    np.testing.assert_array_equal(drawn, expected)
    assert hits == int(np.count_nonzero(expected < limits))
    # The next draw continues the same stream in both.
    assert compiled_rng.random() == numpy_rng.random()


@kernel
def _ratio(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for i in range(a.size):
        out[i] = a[i] / b[i]


def test_a_kernel_divides_by_zero_as_numpy_does() -> None:
    a, b = np.array([1.0, -1.0, 0.0, 2.0]), np.array([0.0, 0.0, 0.0, 4.0])
    out = np.empty(4)
    _ratio(a, b, out)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(out, a / b)


def test_the_warm_up_runs_every_rule_small_and_reports_its_time() -> None:
    from sim.analysis.warmup import WARM_PEOPLE, compile_kernels, main
    from sim.scenario import load_scenario
    from tests.conftest import ROOT

    every_rule = ROOT / "benchmarks" / "all_rules.yaml"
    assert compile_kernels(load_scenario(every_rule)) > 0.0
    assert WARM_PEOPLE < 1000
    assert main([str(every_rule)]) == 0
    assert main([]) == 2


def test_the_shared_stable_sort_orders_as_numpys_stable_argsort() -> None:
    from sim.rules._kernels import stable_order

    rng = np.random.default_rng(5)
    for keys in (np.zeros(0, dtype=np.int64), rng.integers(0, 7, 1001), rng.integers(-50, 50, 64)):
        np.testing.assert_array_equal(stable_order(keys), np.argsort(keys, kind="stable"))


def test_the_largest_float32_is_numpys_whatever_the_values() -> None:
    """Compared as int32 bits where that is exact (no negative value, no NaN), else as floats."""
    from sim.rules._kernels import largest_non_negative

    rng = np.random.default_rng(3)
    cases = [
        rng.random(1000).astype(np.float32) * 3.0,
        np.array([0.0, 0.0], np.float32),
        np.array([np.inf, 2.0, 1e-45], np.float32),  # (1e-45: the smallest subnormal)
        np.array([1.0, -2.0, 0.5], np.float32),
        np.array([-3.0, -2.0], np.float32),
        np.array([7.0], np.float32),
    ]
    for values in cases:
        assert largest_non_negative(values) == float(values.max())
    assert largest_non_negative(np.empty(0, np.float32)) == 1.0
    assert math.isnan(largest_non_negative(np.array([np.nan, 1.0], np.float32)))


def test_a_blocks_count_of_a_value_is_numpys() -> None:
    from sim.rules._kernels import count_equal

    rng = np.random.default_rng(8)
    values = rng.integers(0, 4, 1000).astype(np.int8)
    for start, stop in ((0, 0), (0, 64), (5, 69), (990, 1000), (0, 1000)):
        for value in (0, 3, 9):
            assert count_equal(values, start, stop, value) == int((values[start:stop] == value).sum())
