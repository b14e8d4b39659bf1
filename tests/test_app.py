"""Every page of the app under streamlit's AppTest: widgets, a small run, tables and error paths."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sim import sweep
from sim.analysis.metrics import METRICS
from sim.sweep.spec import experiment_from_dict
from tests.conftest import SCENARIOS

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120


def _open(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    if page is not None:
        app.switch_page(f"app_pages/{page}.py").run()
    _no_traceback(app)
    return app


def _no_traceback(app: AppTest) -> None:
    assert not app.exception, [e.message for e in app.exception]


def _texts(elements: object) -> str:
    return "\n".join(str(e.value) for e in elements)  # type: ignore[attr-defined]


def _small_comparison() -> AppTest:
    app = _open()
    app.number_input(key="cmp_people").set_value(3000)
    app.number_input(key="cmp_days").set_value(120)
    app.number_input(key="cmp_reps").set_value(3)
    app.run()
    app.button(key="cmp_run").click().run()
    _no_traceback(app)
    return app


def test_compare_page_defaults() -> None:
    app = _open()
    assert app.title[0].value == "Compare strategies"
    assert app.multiselect(key="cmp_strategies").value == ["funnel_heavy", "ripple_heavy", "hybrid"]
    assert app.number_input(key="cmp_reps").value == 5
    assert app.number_input(key="cmp_people").value == 10_000
    assert not app.dataframe  # nothing runs before the button


def test_compare_runs_and_shows_verdict_table_and_charts() -> None:
    app = _small_comparison()
    verdict = _texts(app.markdown)
    assert "ripple_heavy acquires" in verdict and "hybrid acquires" in verdict
    means, paired = app.dataframe[0].value, app.dataframe[1].value
    # Metrics of levers no preset uses are hidden until asked for.
    assert {"new_customers", "profit", "cac_blended"} <= set(means["metric"])
    assert "loyalty_breakage" not in set(means["metric"])
    assert set(means["metric"]) < set(METRICS)
    assert list(means.columns) == ["metric", "unit", "funnel_heavy", "ripple_heavy", "hybrid"]
    assert list(paired.columns) == [
        "metric",
        "unit",
        "Δ ripple_heavy − funnel_heavy",
        "Δ hybrid − funnel_heavy",
    ]
    assert len(app.get("vega_lite_chart")) == 4
    assert "3 strategies × 3 replications, 3,000 people, 120 days" in _texts(app.caption)
    # Results are kept across reruns (and cached by scenario + seed + replications).
    app.radio(key="cmp_retention_by").set_value("cohort").run()
    _no_traceback(app)
    assert len(app.dataframe) == 2
    app.toggle(key="cmp_all_metrics").set_value(True).run()
    assert app.dataframe[0].value["metric"].tolist() == list(METRICS)


def test_compare_needs_two_strategies() -> None:
    app = _open()
    app.multiselect(key="cmp_strategies").set_value(["hybrid"]).run()
    assert "Choose at least two strategies" in _texts(app.info)
    assert all(button.key != "cmp_run" for button in app.button)


def test_compare_explains_the_world_sharing_rule() -> None:
    app = _open()
    app.file_uploader(key="cmp_upload").set_value(
        (
            "other.yaml",
            (SCENARIOS / "hybrid.yaml").read_bytes().replace(b"m: 5", b"m: 3"),
            "application/x-yaml",
        )
    ).run()
    assert "Added other.yaml to the scenarios as **hybrid (2)**" in _texts(app.success)
    app.multiselect(key="cmp_strategies").set_value(["funnel_heavy", "hybrid (2)"]).run()
    _no_traceback(app)
    message = _texts(app.error)
    assert "cannot be compared side by side" in message
    assert "hybrid (2) differs from funnel_heavy in: network.m=3" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"ads: [unclosed\n", "must be valid YAML"),
        (b"ads:\n  cpm: 0\n", "ads.cpm: must be > 0"),
        (b"", "must not be empty"),
        (b"hello", "a scenario must be a mapping"),
    ],
)
def test_bad_upload_is_explained_and_changes_nothing(content: bytes, expected: str) -> None:
    app = _open()
    before = dict(app.session_state["library"])
    app.file_uploader(key="cmp_upload").set_value(("bad.yaml", content, "application/x-yaml")).run()
    _no_traceback(app)
    message = _texts(app.error)
    assert "bad.yaml was not added" in message and expected in message
    assert app.session_state["library"] == before


def test_editor_shows_fields_ranges_and_overrides() -> None:
    app = _open("editor")
    assert app.title[0].value == "Scenario editor"
    assert app.selectbox(key="ed_base").value == "funnel_heavy"
    budget = app.number_input(key="ed:funnel_heavy:ads.daily_budget")
    assert budget.label == "daily_budget  ·  ≥ 0.0"
    assert "currency per day" in budget.help
    assert "Valid scenario. No changes yet." in _texts(app.success)
    budget.set_value(250.0).run()
    _no_traceback(app)
    assert "--set 'ads.daily_budget=250.0'" in app.code[0].value
    app.text_input(key="ed_save_name").set_value("bigger ads").run()
    app.button(key="ed_save").click().run()
    assert "bigger ads" in app.session_state["library"]
    assert "daily_budget: 250.0" in app.session_state["library"]["bigger ads"]


def test_editor_shows_invalid_values_inline_and_refuses_to_save() -> None:
    app = _open("editor")
    app.number_input(key="ed:funnel_heavy:ads.p_aware").set_value(1.5)
    app.number_input(key="ed:funnel_heavy:network.n").set_value(4).run()  # m = 5 needs n > 5
    _no_traceback(app)
    errors = [e.value for e in app.error]
    assert "must be ≤ 1.0 (given: 1.5)" in errors  # under the field
    assert any("m must be less than n = 4; got 5" in e for e in errors)  # under the network section
    assert "2 problem(s)" in errors[0]  # and in the summary
    assert app.button(key="ed_save").disabled  # a person cannot save it
    assert not [b for b in app.get("download_button") if b.proto.label == "Download YAML"]


def test_editor_switches_network_kind_and_yaml_fields() -> None:
    app = _open("editor")
    app.selectbox(key="ed:funnel_heavy:network.kind").set_value("watts_strogatz").run()
    _no_traceback(app)
    assert app.number_input(key="ed:funnel_heavy:network.k").value == 10
    assert "network.kind=watts_strogatz" in app.code[0].value
    assert "`network.m`" in _texts(app.caption)  # cannot be removed by --set: download instead
    app.text_input(key="ed:funnel_heavy:ads.frequency_cap").set_value("none").run()
    assert "ads.frequency_cap=null" in app.code[0].value
    app.text_input(key="ed:funnel_heavy:ads.frequency_cap").set_value("[oops").run()
    assert any("must be valid YAML" in e.value for e in app.error)


def test_network_page_draws_the_sample_and_moves_through_days() -> None:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    app.switch_page("app_pages/network.py").run()
    app.number_input(key="net_people").set_value(400)
    app.number_input(key="net_days").set_value(40)
    app.number_input(key="net_shown").set_value(150).run()
    _no_traceback(app)
    assert app.slider(key="net_day").value == 40
    assert len(app.get("vega_lite_chart")) == 2
    roles = next(c.value for c in app.caption if c.value.startswith("Roles in the drawn sample"))
    counts = dict(
        part.split(": ")
        for part in roles.split(". ")[0].removeprefix("Roles in the drawn sample: ").split(", ")
    )
    assert sum(int(v.replace(",", "")) for v in counts.values()) == 150
    assert set(counts) == {"ordinary", "employee", "kol", "seed", "fake"}
    app.slider(key="net_day").set_value(10)
    app.radio(key="net_colour").set_value("channel").run()
    _no_traceback(app)
    app.button(key="net_play").click().run()
    _no_traceback(app)


def test_sweep_page_without_a_store(tmp_path: Path) -> None:
    app = _open("sweeps")
    assert app.title[0].value == "Sweep results"
    if importlib.util.find_spec("sim.sweep") is None:
        assert "not part of this build yet" in _texts(app.info)
        return
    app.text_input(key="sw_folder").set_value(str(tmp_path / "nowhere")).run()
    _no_traceback(app)
    assert "There is no result store" in _texts(app.warning)
    app.text_input(key="sw_folder").set_value(str(tmp_path)).run()  # a folder that is not a store
    _no_traceback(app)
    assert "is not a sweep result store and holds none" in _texts(app.warning)


def test_sweep_page_plots_a_real_store(tmp_path: Path) -> None:
    experiment = experiment_from_dict(
        {
            "name": "tiny",
            "base": str(SCENARIOS / "hybrid.yaml"),
            "scenario": {"network.n": 300, "days": 30},
            "factors": {
                "ads.daily_budget": {"low": 0.0, "high": 20.0},
                "sharing.p_convert": {"low": 0.02, "high": 0.08},
            },
            "design": {"kind": "sobol", "samples": 8, "seed": 1},
            "replications": 1,
            "seed": 1,
            "metrics": ["profit", "new_customers"],
        }
    )
    sweep(experiment, out=tmp_path / "tiny", workers=1, progress=False)
    app = _open("sweeps")
    app.text_input(key="sw_folder").set_value(str(tmp_path)).run()  # a folder holding one store
    _no_traceback(app)
    assert app.selectbox(key="sw_store").value == tmp_path / "tiny"
    assert "Experiment **tiny**" in _texts(app.caption)
    assert len(app.get("vega_lite_chart")) == 2  # the metric against a factor, and Sobol indices
    assert [s.value for s in app.subheader] == ["Sensitivity"]
    app.selectbox(key="sw_y").set_value("sharing.p_convert").run()  # heatmap of two factors
    _no_traceback(app)
    assert len(app.get("vega_lite_chart")) == 2


def test_editor_edits_sections_added_later_as_yaml() -> None:
    """Loyalty tiers (a list of models, added by another issue) are edited without editor code."""
    app = _open("editor")
    app.selectbox(key="ed_base").set_value("loyalty_tiers").run()
    _no_traceback(app)
    tiers = app.text_area(key="ed:loyalty_tiers:loyalty.tiers")
    assert "name:" in tiers.value
    edited = tiers.value.replace("name:", "name: x", 1)  # rename the first tier
    tiers.set_value(edited).run()
    _no_traceback(app)
    assert "--set 'loyalty.tiers=[" in app.code[0].value
    app.text_area(key="ed:loyalty_tiers:loyalty.tiers").set_value("- [broken").run()
    assert any("must be valid YAML" in e.value for e in app.error)
    assert app.button(key="ed_save").disabled
