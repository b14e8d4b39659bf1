"""The calibration page under Streamlit's AppTest: samples, uploads, the chart, bad files, the editor hook."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sim.fit.samples import sample_csv
from tests.apptest_support import no_traceback, open_app

DATA = Path(__file__).parent / "data"
TIMEOUT = 180


def _open() -> AppTest:
    return open_app("fit", timeout=TIMEOUT)


def _upload(app: AppTest, kind: str, name: str, content: bytes) -> AppTest:
    if app.radio(key="fit_kind").value != kind:
        app.radio(key="fit_kind").set_value(kind).run()
    app.file_uploader(key=f"fit_upload_{kind}").set_value((name, content, "text/csv")).run()
    no_traceback(app)
    return app


def _chart_layers(app: AppTest) -> list[dict]:
    charts = app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")
    assert len(charts) == 1
    import json

    spec = json.loads(charts[0].proto.spec)
    return spec["layer"]


def test_page_offers_a_sample_for_each_kind_and_waits_for_a_file() -> None:
    app = _open()
    assert app.title[0].value == "Calibrate from your data"
    for kind in ("series", "cohorts", "transactions"):
        app.radio(key="fit_kind").set_value(kind).run()
        no_traceback(app)
        assert app.get("download_button")  # the sample file
        assert "Upload a file to fit" in app.info[0].value
        assert not app.dataframe


def test_the_vcr_series_is_fitted_and_drawn_with_its_band_twice_in_a_row() -> None:
    app = _open()
    for _ in range(2):  # a second upload of the same file (the cache) gives the same page
        _upload(app, "series", "vcr.csv", (DATA / "bass-vcr-sales.csv").read_bytes())
        values = app.dataframe[0].value.set_index("parameter")
        assert values.loc["m", "value"] == pytest.approx(67_660, rel=0.01)
        assert values.loc["q", "95% low"] < values.loc["q", "value"] < values.loc["q", "95% high"]
        marks = [
            layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
            for layer in _chart_layers(app)
        ]
        assert marks == ["area", "line", "point"]  # band, fitted curve, the data
        mapping = app.dataframe[1].value
        assert {"organic.rate_per_day", "sharing.rate_share_per_day", "network.n"} <= set(mapping["field"])


def test_a_cohort_table_gives_fader_and_hardies_fit() -> None:
    app = _upload(_open(), "cohorts", "regular.csv", (DATA / "sbg-regular-retention.csv").read_bytes())
    values = app.dataframe[0].value.set_index("parameter")
    # The chart has a heading of its own below the table (its title used to be hidden under it).
    assert [h.value for h in app.subheader] == [
        "Fitted values",
        "Your data and the fit",
        "What this sets in a scenario",
    ]
    assert values.loc["alpha", "value"] == pytest.approx(0.704, abs=5e-4)
    assert values.loc["beta", "value"] == pytest.approx(1.182, abs=5e-4)


@pytest.mark.slow
def test_the_sample_transaction_log_fits_and_its_tracking_curve_is_drawn() -> None:
    pytest.importorskip("pymc_marketing", reason="pymc-marketing is the 'fit' extra (make venv installs it)")
    app = _upload(_open(), "transactions", "log.csv", sample_csv("transactions").encode())
    params = set(app.dataframe[0].value["parameter"])
    assert {"r", "alpha", "s", "beta", "p", "q", "v"} <= params
    marks = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        for layer in _chart_layers(app)
    ]
    assert marks == ["line", "point"]  # no band for the tracking curve


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        ("series", b"", "the file is empty"),
        ("series", b"year,sales\n1,5\n", "at least 4 periods"),
        ("series", bytes(range(256)), "binary data"),
        ("cohorts", b"year,active\n0,1000\n1,-5\n2,3\n", "must not be negative"),
        ("transactions", b"customer,date,amount\n1,2020-01-01,3\n2,someday,4\n", "is not a date"),
    ],
    ids=["empty", "one_row", "binary", "negative", "bad_date"],
)
def test_a_bad_file_is_one_error_and_no_exception(kind: str, content: bytes, expected: str) -> None:
    app = _upload(_open(), kind, "bad.csv", content)
    assert len(app.error) == 1 and expected in app.error[0].value
    assert not app.dataframe


def test_send_to_the_editor_opens_it_on_the_fitted_scenario_and_survives_coming_back() -> None:
    app = _upload(_open(), "cohorts", "highend.csv", (DATA / "sbg-highend-retention.csv").read_bytes())
    app.text_input(key="fit_name").set_value("my cohorts").run()
    app.button(key="fit_send").click().run()
    no_traceback(app)
    assert app.title[0].value == "Scenario editor"
    assert app.selectbox(key="ed_base").value == "my cohorts"
    assert app.number_input(key="ed:my cohorts:population.churn_alpha").value == pytest.approx(
        0.668081, abs=1e-5
    )
    assert app.number_input(key="ed:my cohorts:population.churn_beta").value == pytest.approx(
        3.8061, abs=1e-4
    )
    # The rest is the chosen base (hybrid): its ads budget is unchanged.
    assert app.number_input(key="ed:my cohorts:ads.daily_budget").value > 0
    # Leave and come back: the fitted scenario stays in the library, the fit page asks for a file again.
    app.switch_page("app_pages/fit.py").run()
    no_traceback(app)
    assert "Upload a file to fit" in app.info[0].value
    assert "my cohorts" in app.session_state["library"]
    app.switch_page("app_pages/compare.py").run()
    no_traceback(app)
    assert "my cohorts" in app.multiselect(key="cmp_strategies").options
