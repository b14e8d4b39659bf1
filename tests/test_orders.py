"""The order log out (``sim.run(…, keep_orders=True)``, ``ripple run --orders``) and its round trip.

The round trip simulates a market whose purchase and churn processes are exactly Pareto/NBD's,
exports the log, fits Pareto/NBD with pymc-marketing and recovers the generating values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim import fit
from sim.analysis.orders import BYTES_PER_ORDER, order_log_estimate
from sim.analysis.results import run
from sim.cli import app
from sim.engine.model import MarketModel
from tests.conftest import SCENARIOS, make_scenario

runner = CliRunner()
ORDER_COLUMNS = ["customer_id", "day", "amount", "first_channel", "referrer"]


@pytest.fixture(scope="module")
def hybrid_with_orders():
    from sim import load_scenario

    scenario = load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 3000, "days": 90})
    return run(scenario, seed=5, keep_orders=True)


def test_the_log_holds_every_order_and_every_unit_of_revenue(hybrid_with_orders) -> None:
    result = hybrid_with_orders
    orders = result.orders
    assert list(orders.columns) == ORDER_COLUMNS
    assert len(orders) == result.steps["orders"].sum()
    assert orders["amount"].sum() == pytest.approx(result.steps["revenue"].sum(), rel=1e-9)
    per_day = orders.groupby("day").size().reindex(result.steps["day"], fill_value=0).to_numpy()
    assert np.array_equal(per_day, result.steps["orders"].to_numpy())
    assert (orders["day"] >= 1).all() and (orders["day"] <= 90).all()
    assert orders["day"].is_monotonic_increasing


def test_channels_and_referrers_are_those_of_the_acquisition() -> None:
    scenario = make_scenario(
        {"network.kind": "erdos_renyi", "network.n": 3000, "days": 60, "sharing.rate_share_per_day": 0.5}
    )
    model = MarketModel(scenario, keep_orders=True)
    model.run()
    orders = model.orders_frame()
    pop = model.population
    ids = orders["customer_id"].to_numpy()
    assert set(orders["first_channel"].cat.categories) >= {"ads", "sharing", "organic"}
    assert np.array_equal(orders["first_channel"].cat.codes.to_numpy(), pop.first_channel[ids])
    referred = orders[orders["referrer"].notna()]
    assert len(referred) > 0
    assert (referred["first_channel"] == "sharing").all()  # only shares record a referrer here
    assert orders.loc[orders["first_channel"] != "sharing", "referrer"].isna().all()


def test_off_by_default_and_then_no_order_is_kept() -> None:
    scenario = make_scenario({"network.kind": "erdos_renyi", "network.n": 500, "days": 20})
    result = run(scenario)
    assert result.orders is None and result.customers is None
    model = MarketModel(scenario)
    model.run()
    assert not model.keeps_orders and model._order_chunks is None
    with pytest.raises(RuntimeError, match="keep_orders=True"):
        model.orders_frame()


def test_keeping_orders_changes_nothing_else() -> None:
    scenario = make_scenario({"network.kind": "erdos_renyi", "network.n": 1500, "days": 40})
    plain, kept = run(scenario, seed=2), run(scenario, seed=2, keep_orders=True)
    pd.testing.assert_frame_equal(plain.steps, kept.steps)
    assert plain.summary == pytest.approx(kept.summary, nan_ok=True)


def test_customer_summary_is_pymc_marketings_rfm_summary(hybrid_with_orders) -> None:
    clv = pytest.importorskip(
        "pymc_marketing.clv", reason="pymc-marketing is the 'fit' extra (make venv installs it)"
    )
    orders = hybrid_with_orders.orders
    ours = hybrid_with_orders.customers
    log = orders.assign(date=pd.Timestamp("2000-01-01") + pd.to_timedelta(orders["day"], unit="D"))
    theirs = clv.rfm_summary(
        log,
        "customer_id",
        "date",
        "amount",
        observation_period_end=pd.Timestamp("2000-01-01") + pd.Timedelta(days=90),
    )
    theirs = theirs.sort_values("customer_id").reset_index(drop=True)
    assert list(ours.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert np.array_equal(ours["customer_id"].to_numpy(), theirs["customer_id"].to_numpy())
    for column in ("frequency", "recency", "T", "monetary_value"):
        assert np.allclose(ours[column], theirs[column]), column


def test_the_estimate_bounds_the_log_before_running() -> None:
    scenario = make_scenario({"network.kind": "erdos_renyi", "network.n": 2000, "days": 60})
    n_orders, n_bytes = order_log_estimate(scenario)
    result = run(scenario, keep_orders=True)
    assert len(result.orders) <= n_orders and n_bytes == n_orders * BYTES_PER_ORDER
    actual = result.orders.memory_usage(deep=True, index=False).sum()
    assert actual <= BYTES_PER_ORDER * len(result.orders) + 2000  # the category table is small


def test_cli_writes_the_log_and_says_its_size_first(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "run",
        str(SCENARIOS / "hybrid.yaml"),
        "--set",
        "network.n=1500",
        "--set",
        "days=30",
        "--orders",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "order log: at most about" in result.output and "MB in memory" in result.output
    orders = pd.read_parquet(out / "orders.parquet")
    customers = pd.read_parquet(out / "customers.parquet")
    assert list(orders.columns) == ORDER_COLUMNS
    assert customers["customer_id"].nunique() == orders["customer_id"].nunique()
    assert f"({len(orders):,} orders)" in result.output
    # The exported log is a transaction log ripple fit reads as it is.
    log = fit.read_transactions(out / "orders.parquet")
    assert len(log) == len(orders)


def test_orders_without_an_output_folder_is_one_line() -> None:
    result = runner.invoke(app, ["run", str(SCENARIOS / "hybrid.yaml"), "--orders"])
    assert result.exit_code == 2 and "give a folder with --out" in result.output


@pytest.mark.slow
def test_round_trip_recovers_the_generating_purchase_rate_and_churn() -> None:
    """Simulate, export, fit Pareto/NBD with pymc-marketing, recover the generating values within 15%.

    The market is built so that Pareto/NBD's assumptions hold: nobody is a customer on day 0 and
    organic discovery (the only channel) brings people in over time, each with a first order on the
    day they join (the model's time zero), independent of their traits, so the customers seen are a
    fair sample. While active, a customer orders Poisson(λ) a day, λ ~ Gamma(shape k, mean ρ)
    (``population.purchase_rate_shape``, ``rate_purchase_per_day``): Pareto/NBD's r = k and α = k/ρ
    (days). Churn: θ ~ Beta(1, b) per D days (``churn_alpha = 1``, ``churn_beta = b``,
    ``days_churn_period = D``) gives a daily hazard μ = −ln(1 − θ)/D, and −ln(1 − θ) is
    Exponential(b) when α = 1, so μ ~ Gamma(s = 1, β = b·D) exactly: Pareto/NBD's dropout. Every
    experience is good and nobody is won back, so nothing else moves the hazard. Left over: the log
    counts days with orders, not orders (a second order on a day, chance ρ/2 ≈ 1%, is merged), and
    time is in whole days; both are far inside 15%.

    Generating values: k = 3, ρ = 0.02 a day → r = 3, α = 150; b = 9, D = 30 → s = 1, β = 270.
    """
    pytest.importorskip("pymc_marketing", reason="pymc-marketing is the 'fit' extra (make venv installs it)")
    k, rho, b, period = 3.0, 0.02, 9.0, 30
    scenario = make_scenario(
        {
            "network.kind": "complete",
            "network.n": 20_000,
            "days": 730,
            "seed": 3,
            "organic.rate_per_day": 0.01,
            "ads.daily_budget": 0.0,
            "sharing.rate_share_per_day": 0.0,
            "population.rate_purchase_per_day": rho,
            "population.purchase_rate_shape": k,
            "population.churn_alpha": 1.0,
            "population.churn_beta": b,
            "population.days_churn_period": period,
            "customers.p_good_experience": 1.0,
            "customers.rel_winback": 0.0,
        }
    )
    result = run(scenario, keep_orders=True)
    assert result.customers is not None and len(result.customers) > 15_000
    fitted = fit.fit_btyd(summary=result.customers, model="pareto_nbd", time_unit_days=1.0, spend=False)
    truth = {"r": k, "alpha": k / rho, "s": 1.0, "beta": b * period}
    for name, value in truth.items():
        assert fitted.params[name].value == pytest.approx(value, rel=0.15), name
    # Mapped back onto the scenario, the fit gives the fields that generated the data.
    values = fit.scenario_values([fitted])
    assert values["population.rate_purchase_per_day"].value == pytest.approx(rho, rel=0.15)
    assert values["population.purchase_rate_shape"].value == pytest.approx(k, rel=0.15)
    assert values["population.churn_alpha"].value == pytest.approx(1.0, rel=0.15)
    assert values["population.churn_beta"].value == pytest.approx(b, rel=0.15)
    assert values["population.days_churn_period"].value == period
