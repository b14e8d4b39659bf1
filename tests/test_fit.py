"""Calibration (``sim.fit``, ``ripple fit``): published fits on the published data, bad files, mapping.

Reference values (docs/science.md §7):

- Fader & Hardie (2007), sBG: "regular" α = 0.704, β = 1.182; "high end" α = 0.668, β = 3.806.
- Fader, Hardie & Lee (2005a), BG/NBD on the CDNOW sample in weeks: r = 0.243, α = 4.414, a = 0.793,
  b = 2.426; Gamma-Gamma on the same sample (Fader & Hardie 2013): p = 6.25, q = 3.74, γ = 15.44.
- VCR sales, a textbook Bass fit: m ≈ 68,000, p ≈ 0.0066, q ≈ 0.638 (see the Bass test for why p is
  compared through its interval).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim import fit
from sim.analysis.results import run
from sim.cli import app
from sim.fit.bass import bass_share
from sim.scenario import load_scenario

DATA = Path(__file__).parent / "data"
VCR = DATA / "bass-vcr-sales.csv"
REGULAR = DATA / "sbg-regular-retention.csv"
HIGH_END = DATA / "sbg-highend-retention.csv"
CDNOW = DATA / "cdnow_transactions.csv"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


# ------------------------------------------------------------------------------- published fits


@pytest.mark.parametrize(
    ("path", "alpha", "beta"),
    [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)],
    ids=["regular", "high_end"],
)
def test_sbg_recovers_fader_and_hardies_published_fits(path: Path, alpha: float, beta: float) -> None:
    # The paper reports three decimals; the maximum is the same likelihood on the same counts, so the
    # refit must agree to the last reported digit (half a unit of the third decimal).
    fitted = fit.fit_cohort_file(path)
    assert fitted.alpha.value == pytest.approx(alpha, abs=5e-4)
    assert fitted.beta.value == pytest.approx(beta, abs=5e-4)
    assert fitted.alpha.covers(alpha) and fitted.beta.covers(beta)
    assert fitted.alpha.low < fitted.alpha.value < fitted.alpha.high
    # The fitted survival curve is the closed form, and retention rises with age (sorting effect).
    table = fitted.table
    assert np.allclose(
        table["fitted"], fit.sbg_survival(fitted.alpha.value, fitted.beta.value, table["period"])
    )
    assert np.all(np.diff(table["retention"].iloc[1:]) > 0)
    assert np.all(table["low"] <= table["fitted"] + 1e-12) and np.all(
        table["fitted"] <= table["high"] + 1e-12
    )


def test_sbg_intervals_narrow_with_bigger_cohorts() -> None:
    shares = pd.read_csv(HIGH_END)["share_still_subscribed"].to_numpy()
    small = fit.fit_sbg(np.round(shares * 1000))
    large = fit.fit_sbg(np.round(shares * 100_000))
    assert large.alpha.high - large.alpha.low < (small.alpha.high - small.alpha.low) / 5


def test_sbg_pools_several_cohorts_of_different_ages(tmp_path: Path) -> None:
    # Two cohorts drawn from the same sBG: one observed 6 periods, the other 3 (a triangle).
    alpha, beta = 0.8, 2.5
    s = fit.sbg_survival(alpha, beta, np.arange(7))
    text = "cohort,0,1,2,3,4,5,6\n2019,{}\n2022,{},,,\n".format(
        ",".join(str(round(v)) for v in 200_000 * s),
        ",".join(str(round(v)) for v in 100_000 * s[:4]),
    )
    (tmp_path / "triangle.csv").write_text(text)
    fitted = fit.fit_cohort_file(tmp_path / "triangle.csv")
    assert fitted.alpha.value == pytest.approx(alpha, rel=0.01)
    assert fitted.beta.value == pytest.approx(beta, rel=0.01)
    assert fitted.n_customers == 300_000


def test_bass_on_vcr_sales_matches_the_textbook_fit() -> None:
    """Tolerance: m and q within 2%, p through its interval.

    The textbook fit matches each year's sales to the Bass density at the year's end, m·f(t); ours
    matches them to what the model adopts within the year, m·(F(t) − F(t − 1)) (Srinivasan & Mason's
    discrete form, no half-period lag). The two differ in where inside a year the sales fall, which
    moves p, the parameter of the first years, by about a third (0.0088 vs 0.0066) but m and q by
    under 1%. So m and q must be within 2% of the textbook, and the textbook p inside our 95%
    interval (Jacobian, log scale, t with 7 degrees of freedom).
    """
    fitted = fit.fit_series_file(VCR)
    assert fitted.m.value == pytest.approx(68_000, rel=0.02)
    assert fitted.q.value == pytest.approx(0.638, rel=0.02)
    assert fitted.p.covers(0.0066) and fitted.m.covers(68_000) and fitted.q.covers(0.638)
    assert 0.0066 < fitted.p.value < 0.012
    # The fitted per-period sales are the discrete Bass model at the estimates.
    t = fitted.table["period"].to_numpy()
    expected = fitted.m.value * (
        bass_share(fitted.p.value, fitted.q.value, t) - bass_share(fitted.p.value, fitted.q.value, t - 1)
    )
    assert np.allclose(fitted.table["fitted"], expected)
    assert (fitted.table["low"] <= fitted.table["fitted"]).all() and (
        fitted.table["fitted"] <= fitted.table["high"]
    ).all()


def test_bass_reads_a_cumulative_series_as_the_same_fit(tmp_path: Path) -> None:
    sales = pd.read_csv(VCR)
    cumulative = sales.assign(cumulative_sales=sales["sales_thousands"].cumsum())[
        ["year", "cumulative_sales"]
    ]
    cumulative.to_csv(tmp_path / "cum.csv", index=False)
    per_period = fit.fit_series_file(VCR)
    from_total = fit.fit_series_file(tmp_path / "cum.csv")  # "cumul" in the header
    assert from_total.q.value == pytest.approx(per_period.q.value, rel=1e-6)
    cumulative.rename(columns={"cumulative_sales": "total"}).to_csv(tmp_path / "total.csv", index=False)
    assert fit.fit_series_file(tmp_path / "total.csv", cumulative=True).m.value == pytest.approx(
        per_period.m.value
    )


def test_bass_recovers_known_parameters_from_an_exact_curve_with_dated_periods(tmp_path: Path) -> None:
    p, q, m = 0.02, 0.5, 50_000.0
    t = np.arange(1, 13)
    sales = m * (bass_share(p, q, t) - bass_share(p, q, t - 1))
    dates = pd.date_range("2020-01-01", periods=12, freq="MS")
    pd.DataFrame({"month": dates.strftime("%Y-%m-%d"), "adopters": sales}).to_csv(
        tmp_path / "s.csv", index=False
    )
    fitted = fit.fit_series_file(tmp_path / "s.csv")
    assert fitted.period_days == pytest.approx(30.5, abs=0.6)  # monthly dates
    assert (fitted.p.value, fitted.q.value, fitted.m.value) == pytest.approx((p, q, m), rel=1e-4)


@pytest.mark.slow
def test_bg_nbd_and_gamma_gamma_recover_the_published_cdnow_fits() -> None:
    pytest.importorskip("pymc_marketing", reason="pymc-marketing is the 'fit' extra (make venv installs it)")
    fitted = fit.fit_transaction_file(
        CDNOW, model="bg_nbd", customer_col="id", amount_col="spent", observation_end="1997-09-30"
    )
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():  # reported to three decimals: agree to the last digit
        assert fitted.params[name].value == pytest.approx(value, abs=5e-4), name
        assert fitted.params[name].covers(value)
    assert fitted.n_customers == 2357
    assert fitted.spend is not None
    spend = {"p": 6.25, "q": 3.74, "v": 15.44}  # reported to two decimals
    for name, value in spend.items():
        assert fitted.spend[name].value == pytest.approx(value, abs=0.005 + 1e-9), name
    # The tracking table covers the 78 weeks of the log; the fit tracks the calibration period closely.
    table = fitted.table
    assert table["time"].iloc[-1] >= 77
    week39 = table[table["time"] == 39].iloc[0]
    assert week39["fitted"] == pytest.approx(week39["observed"], rel=0.05)


def test_the_summary_of_the_cdnow_log_is_the_published_summary() -> None:
    pytest.importorskip("pymc_marketing", reason="pymc-marketing is the 'fit' extra (make venv installs it)")
    log = fit.read_transactions(CDNOW, customer_col="id", amount_col="spent")
    summary = fit.rfm_from_transactions(log, observation_end="1997-09-30")
    assert len(summary) == 2357
    assert summary["frequency"].sum() == 2457  # repeat purchases in the calibration period (FHL 2005)
    first = summary.set_index("customer_id").loc["1"]
    assert (first["frequency"], round(first["recency"], 2), round(first["T"], 2)) == (2, 30.43, 38.86)


# -------------------------------------------------------------------------------- bad input


BAD_FILES: dict[str, bytes] = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "one_row": b"period,value\n1,5\n",
    "header_only": b"period,value\n",
}
SERIES_BAD: dict[str, bytes] = {
    **BAD_FILES,
    "missing_column": b"sales\n1\n2\n3\n4\n5\n",
    "negative": b"year,sales\n1,10\n2,-5\n3,20\n4,30\n5,10\n",
    "not_a_number": b"year,sales\n1,10\n2,lots\n3,20\n4,30\n5,10\n",
    "bad_date": b"month,sales\n2020-01-01,10\n2020-02-31,5\n2020-03-01,20\n2020-04-01,30\n2020-05-01,9\n",
    "all_zero": b"year,sales\n1,0\n2,0\n3,0\n4,0\n5,0\n",
}
COHORT_BAD: dict[str, bytes] = {
    **BAD_FILES,
    "missing_column": b"active\n1000\n600\n400\n",
    "negative": b"year,active\n0,1000\n1,-600\n2,400\n",
    "rising": b"year,active\n0,1000\n1,600\n2,700\n",
    "two_periods": b"year,active\n0,1000\n1,600\n",
    "nobody_leaves": b"year,active\n0,1000\n1,1000\n2,1000\n",
}
LOG_BAD: dict[str, bytes] = {
    **BAD_FILES,
    "missing_column": b"customer,amount\n1,10\n2,20\n",
    "bad_date": b"customer,date,amount\n1,2020-01-01,10\n2,yesterday,20\n",
    "negative": b"customer,date,amount\n1,2020-01-01,10\n2,2020-01-02,-20\n",
    "one_customer": b"customer,date,amount\n1,2020-01-01,10\n1,2020-01-05,20\n",
}
CASES = (
    [("--series", name, data) for name, data in SERIES_BAD.items()]
    + [("--cohorts", name, data) for name, data in COHORT_BAD.items()]
    + [("--transactions", name, data) for name, data in LOG_BAD.items()]
)


@pytest.mark.parametrize(("option", "name", "data"), CASES, ids=[f"{o[2:]}-{n}" for o, n, _ in CASES])
def test_a_bad_file_gives_one_clear_line_and_exit_code_2(
    tmp_path: Path, option: str, name: str, data: bytes
) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    result = invoke("fit", option, str(path))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), result.output
    assert "Traceback" not in result.output


def test_a_missing_file_and_no_input_are_one_line_each(tmp_path: Path) -> None:
    result = invoke("fit", "--series", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "the file must exist" in result.output
    result = invoke("fit")
    assert result.exit_code == 2 and "at least one of --series" in result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400) | st.text(max_size=300).map(lambda s: s.encode("utf-8")))
def test_any_bytes_either_read_or_fail_with_a_fit_data_error(data: bytes) -> None:
    for reader in (fit.read_series, fit.read_cohorts, fit.read_transactions):
        try:
            reader(data, "fuzz.csv")
        except fit.FitDataError as exc:
            assert "\n" not in str(exc) and str(exc).startswith("fuzz.csv: ")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=4, max_size=30))
def test_any_non_negative_series_fits_or_says_why(values: list[float]) -> None:
    try:
        fitted = fit.fit_bass(np.array(values))
    except fit.FitDataError:
        assert sum(values) == 0
        return
    assert fitted.p.value > 0 and fitted.q.value > 0 and fitted.m.value > 0
    assert np.all(np.isfinite(fitted.table["fitted"]))


def test_spreadsheet_exports_are_read(tmp_path: Path) -> None:
    rows = "year;sales\r\n" + "".join(
        f'"{i}";"{v}"\r\n' for i, v in enumerate([840, 1470, 2110, 4000, 7590, 10950], 1)
    )
    (tmp_path / "utf16.csv").write_bytes(rows.replace(";", "\t").encode("utf-16"))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + rows.encode("utf-8"))
    a = fit.fit_series_file(tmp_path / "utf16.csv")
    b = fit.fit_series_file(tmp_path / "bom.csv")
    assert a.q.value == pytest.approx(b.q.value)


def test_without_pymc_marketing_the_message_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pymc(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("pymc_marketing"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_pymc)
    result = invoke("fit", "--transactions", str(CDNOW), "--customer-col", "id", "--amount-col", "spent")
    assert result.exit_code == 2
    assert "pip install 'ripple-sim[fit]'" in result.output and "Traceback" not in result.output


# ------------------------------------------------------------------------ mapping and scenario


def test_the_written_scenario_loads_runs_and_comments_every_fitted_value(tmp_path: Path) -> None:
    out = tmp_path / "mine.yaml"
    result = invoke("fit", "--series", str(VCR), "--cohorts", str(HIGH_END), "--write-scenario", str(out))
    assert result.exit_code == 0, result.output
    assert "0.6422" in result.output  # q, with its interval, in the table
    text = out.read_text()
    scenario = load_scenario(out)
    bass = fit.fit_series_file(VCR)
    sbg = fit.fit_cohort_file(HIGH_END)
    values = fit.scenario_values([bass, sbg])
    for path in values:
        line = next(
            line for line in text.splitlines() if line.lstrip().startswith(path.rsplit(".", 1)[-1] + ":")
        )
        assert "  # " in line, path  # every fitted value carries its comment
    assert scenario.organic.rate_per_day == pytest.approx(bass.p.value / 365, rel=1e-5)
    assert scenario.sharing.rate_share_per_day * scenario.sharing.p_convert == pytest.approx(
        bass.q.value / 365, rel=1e-5
    )
    assert scenario.network.kind == "complete" and scenario.network.n == round(bass.m.value)
    assert (scenario.population.churn_alpha, scenario.population.churn_beta) == pytest.approx(
        (0.668, 3.806), abs=5e-4
    )
    assert scenario.population.days_churn_period == 365
    assert scenario.customers.rel_churn == 1.0  # churn comes from the cohort table, so it stays on
    small = load_scenario(out, {"network.n": 2000, "days": 365})
    assert run(small).summary["new_customers"] > 0


def test_a_bass_only_scenario_reproduces_the_fitted_curve(tmp_path: Path) -> None:
    # The mapping is the one science.md §1 tests: the written scenario's adoption follows F(t).
    p, q = 0.03, 0.6
    t = np.arange(1, 9)
    sales = 100_000 * (bass_share(p, q, t) - bass_share(p, q, t - 1))
    pd.DataFrame({"year": t, "sales": sales}).to_csv(tmp_path / "s.csv", index=False)
    out = tmp_path / "bass.yaml"
    assert (
        invoke(
            "fit", "--series", str(tmp_path / "s.csv"), "--people", "5000", "--write-scenario", str(out)
        ).exit_code
        == 0
    )
    scenario = load_scenario(out)
    assert scenario.customers.rel_churn == 0.0 and scenario.ads.daily_budget == 0.0
    steps = run(scenario, seed=3).steps
    share = steps["n_customer"].to_numpy() / 5000
    years = steps["day"].to_numpy() / 365
    # One run of 5,000 people: the binomial s.e. of a share is at most 0.007, so 0.03 is > 4 s.e.
    assert np.max(np.abs(share - bass_share(p, q, years))) < 0.03


def test_base_scenario_keeps_its_other_settings(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    base = Path(__file__).resolve().parents[1] / "scenarios" / "hybrid.yaml"
    assert (
        invoke("fit", "--cohorts", str(REGULAR), "--base", str(base), "--write-scenario", str(out)).exit_code
        == 0
    )
    scenario = load_scenario(out)
    hybrid = load_scenario(base)
    assert scenario.ads == hybrid.ads and scenario.network == hybrid.network
    assert scenario.population.churn_alpha == pytest.approx(0.704, abs=5e-4)


def test_transaction_mapping_turns_rates_into_days_and_spend_into_a_lognormal() -> None:
    est = fit.Estimate
    pareto = fit.BtydFit(
        model="pareto_nbd",
        params={
            "r": est(2.0, 1.5, 2.5),
            "alpha": est(14.0, 10, 20),
            "s": est(1.0, 0.8, 1.2),
            "beta": est(35.0, 20, 50),
        },
        spend={"p": est(6.0, 5, 7), "q": est(4.0, 3, 5), "v": est(15.0, 10, 20)},
        time_unit_days=7.0,
        n_customers=1000,
        n_repeat_customers=500,
        table=pd.DataFrame(),
    )
    values = fit.scenario_values([pareto])
    assert values["population.rate_purchase_per_day"].value == pytest.approx(2.0 / (14.0 * 7))
    assert values["population.purchase_rate_shape"].value == 2.0
    # s = 1: the Beta(1, b) per 30 days whose −ln(1 − θ)/30 is Gamma(1, β) per day exactly.
    assert values["population.churn_alpha"].value == pytest.approx(1.0, rel=1e-3)
    assert values["population.churn_beta"].value == pytest.approx(35.0 * 7 / 30, rel=1e-3)
    assert values["population.order_value_mean"].value == pytest.approx(6 * 15 / 3)
    assert values["population.order_value_sigma"].value == pytest.approx(np.sqrt(np.log(1.5)))
