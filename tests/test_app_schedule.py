"""The scenario editor with a budget that changes over time, as a person uses it (Streamlit AppTest)."""

from __future__ import annotations

import json

import pyarrow as pa

from tests.apptest_support import no_traceback, texts
from tests.test_app import _open

KEY = "ed:funnel_heavy:ads.daily_budget"
LAUNCH = "value: 10\nperiods:\n  - {start: 1, end: 14, value: 40}\nweekly: [1, 1, 1, 1, 1, 0, 0]\n"


def _schedule_on(app):
    app.checkbox(key=KEY + ":over_time").check().run()
    no_traceback(app)
    return app


def test_a_budget_can_vary_over_time_with_a_table_and_a_chart():
    app = _schedule_on(_open("editor"))
    box = app.text_area(key=KEY + ":schedule")
    assert box.value.strip() == "value: 25.0"  # the number it was, as a schedule
    box.set_value(LAUNCH).run()
    no_traceback(app)
    assert "Valid scenario." in texts(app.success)
    table = next(t.value for t in app.table if "part" in t.value.columns)  # static: nothing clipped
    assert table["part"].tolist() == ["otherwise", "period", *["weekly"] * 7]
    assert list(table.columns) == ["part", "days", "value (USD/day)", "multiplier"]
    assert "None" not in table.to_numpy().ravel().tolist()
    assert "Days count from 1, the first simulated day" in texts(app.caption)
    (chart,) = app.get("vega_lite_chart")  # the schedule's values over the horizon, as a line
    spec = json.loads(chart.proto.spec)
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["scale"]["domain"] == [1, 365]  # the horizon, not 400
    assert spec["encoding"]["y"]["title"] == "USD/day"  # the unit, short enough for a short chart
    data = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().to_pandas()
    assert data["day"].tolist() == list(range(1, 366))  # funnel_heavy's horizon
    assert data["value"].iloc[:14].tolist() == [40.0] * 5 + [0.0] * 2 + [40.0] * 5 + [0.0] * 2
    assert data["value"].iloc[14] == 10.0
    code = app.code[0].value  # the schedule is one setting: one --set line with the whole schedule
    assert "--set 'ads.daily_budget={value: 10.0, periods: [{start: 1, end: 14, value: 40.0}]" in code
    assert "weekly: [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]}'" in code
    # Twice in a row: a second edit replaces the first (a constant schedule is its number).
    app.text_area(key=KEY + ":schedule").set_value("value: 12\n").run()
    no_traceback(app)
    assert "--set 'ads.daily_budget=12.0'" in app.code[0].value


def test_a_bad_schedule_is_shown_under_the_field_and_cannot_be_saved():
    app = _schedule_on(_open("editor"))
    app.text_area(key=KEY + ":schedule").set_value("periods:\n  - {start: 5, end: 2, value: 1}\n").run()
    no_traceback(app)
    errors = [e.value for e in app.error]
    assert any("end must be ≥ start" in e for e in errors)
    assert app.button(key="ed_save").disabled


def test_switching_back_to_a_number_keeps_the_number_box():
    app = _schedule_on(_open("editor"))
    app.checkbox(key=KEY + ":over_time").uncheck().run()
    no_traceback(app)
    assert app.number_input(key=KEY).value == 25.0
    assert "Valid scenario. No changes yet." in texts(app.success)


def test_leaving_the_editor_with_a_schedule_and_coming_back_shows_no_error():
    app = _schedule_on(_open("editor"))
    app.text_area(key=KEY + ":schedule").set_value(LAUNCH).run()
    app.switch_page("app_pages/compare.py").run()
    no_traceback(app)
    app.switch_page("app_pages/editor.py").run()
    no_traceback(app)
    assert "Valid scenario." in texts(app.success)


ADS = "_ed_open:ed:funnel_heavy:ads"


def _ads_section(app):
    (section,) = [e for e in app.expander if e.label.split("  ·  ")[0] == "Ads"]
    return section


def test_switching_a_budget_to_a_schedule_changes_nothing_and_keeps_its_section_open():
    """A schedule equal to the number it replaces is no edit; the section being worked in stays open.

    The kind: no edit made inside a section (switching to a schedule, switching the section off)
    shuts it, and no edit reports a change that leaves the scenario as it was.
    """
    app = _open("editor")
    assert _ads_section(app).proto.expanded is False
    app.session_state[ADS] = True  # the user opens Ads
    app.run()
    label = _ads_section(app).label
    assert _ads_section(app).proto.expanded is True
    _schedule_on(app)
    assert "Valid scenario. No changes yet." in texts(app.success)
    assert not app.warning and not app.code  # no "Unsaved edits", no --set lines
    assert _ads_section(app).label == label and _ads_section(app).proto.expanded is True
    # The same schedule written out in full is still no change; a real one is one.
    app.text_area(key=KEY + ":schedule").set_value(
        "value: 25\nperiods: []\nweekly: [1, 1, 1, 1, 1, 1, 1]\n"
    ).run()
    assert "No changes yet." in texts(app.success) and not app.warning
    app.text_area(key=KEY + ":schedule").set_value("value: 25\nweekly: [1, 1, 1, 1, 1, 2, 2]\n").run()
    assert "1 setting(s) changed" in texts(app.warning)
    assert _ads_section(app).proto.expanded is True
    # Switching the section off (its label changes) keeps it open too, and so does switching back.
    app.checkbox(key=KEY + ":over_time").uncheck().run()
    app.number_input(key=KEY).set_value(0.0).run()
    no_traceback(app)
    assert _ads_section(app).label.endswith("off") and _ads_section(app).proto.expanded is True
    app.number_input(key=KEY).set_value(25.0).run()
    assert _ads_section(app).label == label and _ads_section(app).proto.expanded is True
    # A section the user never opened stays as it was.
    assert not next(e for e in app.expander if e.label == "Sharing").proto.expanded
