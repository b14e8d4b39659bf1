"""Every page of the app under streamlit's AppTest: widgets, a small run, tables and error paths."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sim.analysis import report
from sim.analysis.metrics import METRICS
from tests.apptest_support import APP, no_traceback, open_app, texts
from tests.chart_checks import element_data, element_problems
from tests.chart_layout import INSIDE, legends
from tests.conftest import SCENARIOS
from tests.sweep_helpers import sobol_store

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
TIMEOUT = 120


def _open(page: str | None = None) -> AppTest:
    return open_app(page, timeout=TIMEOUT)


def _read(elements: object) -> str:
    """The elements' text as a reader sees it: Markdown's backslash escapes of quoted input removed."""
    return re.sub(r"\\(.)", r"\1", texts(elements))


SMALL = {"cmp_people": 1500, "cmp_days": 90, "cmp_reps": 2}


def _small_comparison(app: AppTest | None = None, **inputs: int) -> AppTest:
    app = app or _open()
    for key, value in {**SMALL, **inputs}.items():
        app.number_input(key=key).set_value(value)
    app.run()
    app.button(key="cmp_run").click().run()
    no_traceback(app)
    return app


def _charts_ok(app: AppTest) -> int:
    """Every chart on the page draws non-empty data through plain fields; returns how many."""
    charts = app.get("vega_lite_chart")
    for chart in charts:
        assert element_problems(chart) == []
    return len(charts)


def test_every_strategy_has_a_retention_curve_or_is_named_as_having_none() -> None:
    # At 1,500 people over 90 days funnel_heavy wins fewer than 20 customers through every channel,
    # while two_sided_credit's rewards bring more than 20 through sharing (at the page's seed).
    app = _open()
    app.multiselect(key="cmp_strategies").set_value(["funnel_heavy", "two_sided_credit"]).run()
    app = _small_comparison(app, cmp_people=1500, cmp_days=90)
    (retention,) = [c for c in app.get("vega_lite_chart") if "still a customer" in c.proto.spec]
    _, datasets = element_data(retention)
    drawn = {s for frame in datasets.values() if "strategy" in frame for s in frame["strategy"]}
    strategies = app.multiselect(key="cmp_strategies").value
    assert drawn and drawn <= set(strategies)
    said = texts(app.caption)
    assert drawn < set(strategies)  # the case this test is about: a strategy without a curve
    for name in set(strategies) - drawn:
        assert "No curve for" in said and name in said


def test_compare_page_defaults() -> None:
    app = _open()
    assert app.title[0].value == "Compare strategies"
    assert app.multiselect(key="cmp_strategies").value == ["funnel_heavy", "ripple_heavy", "hybrid"]
    assert app.number_input(key="cmp_reps").value == 5
    assert app.number_input(key="cmp_people").value == 10_000
    assert not app.dataframe and not app.metric  # nothing runs before the button


def test_compare_answers_first_then_cards_charts_and_tables() -> None:
    app = _small_comparison()
    headings = [h.value for h in app.subheader]
    assert headings[:3] == ["The answer", "Headline numbers", "Charts"]
    verdict = next(m.value for m in app.markdown if m.value.startswith("- "))
    assert " is the most profitable: " in verdict.splitlines()[0]
    # 1,500 people cannot absorb funnel_heavy's ad budget: the answer says how much was left and why.
    assert "funnel_heavy's ads could spend only " in texts(app.warning)
    assert "frequency cap" in texts(app.warning)
    assert sum("could spend only" in w.value for w in app.warning) == 1  # one box, a line a strategy
    # Cards: 4-6 numbers per strategy, the baseline without a difference, the others with one.
    cards = app.metric
    assert 3 * 4 <= len(cards) <= 3 * 6
    assert cards[0].label == "Profit" and not cards[0].delta
    assert any(card.delta and card.delta.endswith("vs funnel_heavy") for card in cards)
    assert not any("_" in card.label for card in cards)
    assert _charts_ok(app) >= 3
    # The table is in words, under an expander, with every metric on request.
    (table,) = app.dataframe
    assert list(table.value.columns[:4]) == ["Metric", "funnel_heavy", "ripple_heavy", "hybrid"]
    assert "Blended CAC (USD per customer)" in set(table.value["Metric"])
    assert "3 strategies × 2 replications, 1,500 people, 90 days" in texts(app.caption)
    app.radio(key="cmp_retention_by").set_value("cohort").run()
    no_traceback(app)
    _charts_ok(app)
    app.toggle(key="cmp_all_metrics").set_value(True).run()
    assert len(app.dataframe[0].value) == len(METRICS)
    # The command line and the YAML files that reproduce the run.
    command = next(c.value for c in app.code if c.value.startswith("ripple compare"))
    assert command.startswith(
        "ripple compare funnel_heavy.yaml ripple_heavy.yaml hybrid.yaml --replications 2"
    )
    labels = [b.proto.label for b in app.get("download_button")]
    assert {"runs.csv", "funnel_heavy.yaml", "scenarios + command (zip)"} <= set(labels)


def test_every_compare_flow_works_the_second_time_in_a_second_session_and_after_leaving() -> None:
    app = _small_comparison(cmp_seed=77)
    first = [m.value for m in app.metric]
    app.button(key="cmp_run").click().run()  # the same inputs again: the stored result, no replay error
    no_traceback(app)
    assert [m.value for m in app.metric] == first
    # A second session with the same settings draws the same result.
    other = _small_comparison(AppTest.from_file(APP, default_timeout=TIMEOUT), cmp_seed=77)
    assert [m.value for m in other.metric] == first
    # Leave the page and come back: inputs and results are still there.
    app.switch_page("app_pages/sweeps.py").run()
    app.switch_page("app_pages/compare.py").run()
    no_traceback(app)
    assert app.number_input(key="cmp_people").value == 1500
    assert app.number_input(key="cmp_seed").value == 77
    assert [m.value for m in app.metric] == first
    # The inputs are in the URL, and a new session opened from it starts from them.
    params = {key: value if isinstance(value, list) else [value] for key, value in app.query_params.items()}
    assert params["people"] == ["1500"] and params["seed"] == ["77"] and params["days"] == ["90"]
    assert params["s"] == ["funnel_heavy", "ripple_heavy", "hybrid"]
    linked = AppTest.from_file(APP, default_timeout=TIMEOUT)
    linked.query_params.update(
        {"s": ["hybrid", "funnel_heavy"], "people": "1500", "seed": "77", "days": "90"}
    )
    linked.run()
    assert linked.multiselect(key="cmp_strategies").value == ["hybrid", "funnel_heavy"]
    assert linked.number_input(key="cmp_people").value == 1500


def test_kept_results_outlive_a_source_reload_and_serve_a_link_in_a_new_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Streamlit's file watcher drops the app's modules from sys.modules when any source file changes
    (a merge on the server's checkout): the kept results went with them, and a link opened later
    simulated again although the page promises results are kept."""
    tiny = {"cmp_people": 300, "cmp_days": 20, "cmp_reps": 1}
    app = _small_comparison(cmp_seed=4242, **tiny)
    kept_job = app.session_state["cmp_shown"]
    for seed in (4243, 4244):  # more comparisons in between
        _small_comparison(app, cmp_seed=seed, **tiny)
        assert app.session_state["cmp_shown"] is not kept_job
    for name in [m for m in sys.modules if m.startswith(("sim.ui", "app_pages"))]:
        monkeypatch.delitem(sys.modules, name)  # what the watcher does on a change
    linked = AppTest.from_file(APP, default_timeout=TIMEOUT)
    linked.query_params.update(
        {"s": ["funnel_heavy", "ripple_heavy", "hybrid"], "reps": "1", "seed": "4242", "people": "300"}
    )
    linked.query_params.update({"days": "20"})
    linked.run()
    no_traceback(linked)
    assert linked.session_state["cmp_shown"] is kept_job  # drawn at once, not simulated again
    assert "3 strategies × 1 replications, 300 people, 20 days, seed 4242" in texts(linked.caption)


def test_every_bad_link_value_is_named_with_what_was_used_instead() -> None:
    """A link's bad values were replaced silently (only an unknown strategy was warned about)."""
    linked = AppTest.from_file(APP, default_timeout=TIMEOUT)
    linked.query_params.update(
        {"s": ["nonexistent", "hybrid"], "reps": "-5", "people": "abc", "days": "0", "seed": "x"}
    )
    linked.run()
    no_traceback(linked)
    warned = _read(linked.warning)
    assert "nonexistent" in warned
    reps, seed = linked.number_input(key="cmp_reps").value, linked.number_input(key="cmp_seed").value
    people = linked.number_input(key="cmp_people").value
    assert "- `reps`: '-5' is not a whole number from 1 to 100; used 1" in warned and reps == 1
    assert f"- `people`: 'abc' is not a whole number from 2 to 20,000,000; used {people:,}" in warned
    assert "- `days`: '0' is not a whole number from 1 to 3,650; used 1" in warned
    assert f"- `seed`: 'x' is not a whole number from 0 to {2**53 - 1:,}; used {seed}" in warned
    assert warned.count("\n- ") == 4  # one line each, nothing for the good values
    linked.run()  # said once: the inputs are now the page's own
    assert "were replaced" not in _read(linked.warning) and "each was replaced" not in _read(linked.warning)


def test_changed_inputs_keep_the_last_results_greyed_out() -> None:
    app = _small_comparison()
    app.number_input(key="cmp_days").set_value(60).run()
    no_traceback(app)
    assert any("results below are for earlier inputs" in w.value for w in app.warning)
    assert app.metric  # still shown, greyed out by the page's style
    stale = [b for b in app.main if getattr(b, "key", None) == "cmp_results_stale"]
    assert stale or "cmp_results_stale" in str(app.main)


def test_the_fraud_question_can_be_asked() -> None:
    app = _open()
    app.multiselect(key="cmp_strategies").set_value(["two_sided_credit", "coupon_farming_attack"]).run()
    no_traceback(app)
    assert not app.error
    (attack,) = [i.value for i in app.info if i.value.startswith("The attack differs")]
    assert (
        "coupon_farming_attack faces 30 attackers" in attack and "two_sided_credit faces no attack" in attack
    )
    app = _small_comparison(app, cmp_days=120)
    verdict = next(m.value for m in app.markdown if m.value.startswith("- ")).splitlines()
    assert verdict[1].startswith("- Fraud paid (rewards for fake referrals): 0 USD with two_sided_credit;")
    # Two referral costs are shown: each says what it counts, so they do not seem to contradict.
    (card, *_) = [m for m in app.metric if m.label == "Referral CAC per honest customer"]
    assert "honest first-time buyers" in card.help and "coupon farmers" in card.help
    assert "Not the CAC of sharing" in card.help
    note = next(c.value for c in app.caption if "The **sharing** bar" in c.value)
    assert "coupon farmers who placed an order count" in note and "honest first-time customers" in note


def test_a_rival_and_scheduled_budgets_are_charted_on_compare() -> None:
    """Against a rival the page draws market share over time, and spend by budget follows schedules."""
    app = _open()
    app.multiselect(key="cmp_strategies").set_value(["rival_funnel", "rival_ripple"]).run()
    no_traceback(app)
    app = _small_comparison(app, cmp_people=1500, cmp_days=60, cmp_reps=2)
    assert not app.error
    titles = {}
    for chart in app.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        titles[str(spec.get("title", ""))] = spec
    assert any(title.startswith("Market share against the rival") for title in titles)
    assert any(title.startswith("Spend by budget over time") for title in titles)
    assert _charts_ok(app) >= 5


def test_compare_explains_the_world_sharing_rule() -> None:
    app = _open()
    app.file_uploader(key="cmp_upload").set_value(
        (
            "other.yaml",
            (SCENARIOS / "hybrid.yaml").read_bytes().replace(b"m: 5", b"m: 3"),
            "application/x-yaml",
        )
    ).run()
    assert "Added other.yaml to the scenarios as **hybrid (2)**" in texts(app.success)
    app.multiselect(key="cmp_strategies").set_value(["funnel_heavy", "hybrid (2)"]).run()
    no_traceback(app)
    message = texts(app.error)
    assert "cannot be compared side by side" in message
    assert "hybrid (2) has network.m=3; funnel_heavy has network.m=5" in message


def test_compare_needs_two_strategies() -> None:
    app = _open()
    app.multiselect(key="cmp_strategies").set_value(["hybrid"]).run()
    assert "Choose at least two strategies" in texts(app.info)
    assert all(button.key != "cmp_run" for button in app.button)


def test_a_one_day_horizon_draws_sensible_charts() -> None:
    app = _small_comparison(cmp_days=1)
    assert _charts_ok(app) >= 1  # profit at least; curves without data say so instead of drawing nothing
    assert " over 1 day, " in next(m.value for m in app.markdown if m.value.startswith("- "))
    # The page never says nothing was spent beside cards of money spent.
    spent = [m.value for m in app.metric if m.label == "Marketing spend" and m.value != "0 USD"]
    captions = texts(app.caption)
    assert not spent or "No channel spent money" not in captions
    if spent and "there is no bar to draw" in captions:
        assert all(value in captions for value in spent)


def test_a_binary_upload_says_it_is_not_a_text_file() -> None:
    app = _open()
    # The uploader takes scenario and graph file types only; a binary file under such a name (a
    # picture renamed, a spreadsheet saved with the wrong extension) is explained in plain words.
    app.file_uploader(key="cmp_upload").set_value(
        ("photo.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x98\xff", "application/x-yaml")
    ).run()
    no_traceback(app)
    message = texts(app.error)
    assert "photo.yaml was not added: it is not a text scenario file" in message
    assert "#x" not in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"ads: [unclosed\n", "must be valid YAML"),
        (b"ads:\n  cpm: 0\n", "ads.cpm: must be > 0"),
        (b"", "must not be empty"),
        (b"hello", "a scenario must be a mapping"),
        # Real files users tried (tests/data): an alias bomb took the app past 60 s and 4 GiB.
        ((DATA / "22-yaml-alias-bomb.yaml").read_bytes(), "may repeat at most 10,000 nodes in total"),
        ((DATA / "09-yaml-duplicate-keys.yaml").read_bytes(), "ads: is given twice (lines 5 and 10)"),
        ((DATA / "24-yaml-yes-as-number.yaml").read_bytes(), "ads.p_purchase: must be a number; got 'yes'"),
        (b"ads: {cpm: '![x](http://example.com/x.png) :x:'}\n", "ads.cpm: must be a number; got '!"),
    ],
)
def test_bad_upload_is_explained_and_changes_nothing(content: bytes, expected: str) -> None:
    app = _open()
    before = dict(app.session_state["library"])
    app.file_uploader(key="cmp_upload").set_value(("bad.yaml", content, "application/x-yaml")).run()
    no_traceback(app)
    message = texts(app.error)
    assert "bad.yaml was not added" in message and expected in message
    assert app.session_state["library"] == before
    assert "![x](" not in message and ":x:" not in message  # quoted input is never Markdown


def test_editor_labels_sections_search_and_changed_only() -> None:
    app = _open("editor")
    assert app.title[0].value == "Scenario editor"
    assert app.selectbox(key="ed_base").value == "funnel_heavy"
    budget = app.number_input(key="ed:funnel_heavy:ads.daily_budget")
    assert budget.label == "Daily budget (USD/day)"  # words and unit, from the schema
    assert "currency per day" in budget.help and "ads.daily_budget" in budget.help
    assert "Valid scenario. No changes yet." in texts(app.success)
    titles = [e.label for e in app.expander]
    assert titles[:2] == ["General", "Network"] and "Ads" in titles
    assert "Loyalty  ·  off" in titles and "Fraud  ·  off" in titles  # switched-off features say so
    assert len([i for i in app.text_input if i.key.endswith(":name")]) == 1  # one name field
    budget.set_value(250.0).run()
    no_traceback(app)
    assert "--set 'ads.daily_budget=250.0'" in app.code[0].value
    assert "Unsaved edits" in texts(app.warning)
    app.text_input(key="ed_search").set_value("churn").run()
    shown = {e.label for e in app.expander}
    assert "Customers" in shown and "Ads" not in shown
    app.text_input(key="ed_search").set_value("").run()
    app.toggle(key="ed_changed_only").set_value(True).run()
    assert [e.label for e in app.expander] == ["Ads"]
    assert [n.label for n in app.number_input] == ["Daily budget (USD/day)"]


def test_editor_keeps_unsaved_edits_and_asks_before_replacing() -> None:
    app = _open("editor")
    app.number_input(key="ed:funnel_heavy:ads.daily_budget").set_value(250.0).run()
    app.switch_page("app_pages/network.py").run()
    app.switch_page("app_pages/editor.py").run()
    no_traceback(app)
    assert app.number_input(key="ed:funnel_heavy:ads.daily_budget").value == 250.0
    assert "Unsaved edits" in texts(app.warning)
    # The name is the scenario's own: saving under a name that exists asks first.
    app.button(key="ed_save").click().run()
    assert "already exists" in texts(app.warning)
    assert "daily_budget: 250.0" not in app.session_state["library"]["funnel_heavy"]
    app.button(key="ed_save_other").click().run()
    assert "daily_budget: 250.0" in app.session_state["library"]["funnel_heavy (2)"]
    # Saved: the editor is on the saved scenario, with nothing unsaved.
    assert app.selectbox(key="ed_base").value == "funnel_heavy (2)"
    assert "Saved as **funnel_heavy (2)**." in texts(app.caption) and not app.warning
    app.text_input(key="ed:funnel_heavy (2):name").set_value("bigger ads").run()
    app.button(key="ed_save").click().run()
    assert "name: bigger ads" in app.session_state["library"]["bigger ads"]
    assert app.selectbox(key="ed_base").value == "bigger ads"
    app.number_input(key="ed:bigger ads:ads.daily_budget").set_value(300.0).run()
    app.button(key="ed_save").click().run()
    app.button(key="ed_replace").click().run()
    assert "daily_budget: 300.0" in app.session_state["library"]["bigger ads"]
    assert "Valid scenario. No changes yet." in texts(app.success) and not app.warning
    # The scenario it started from opens as it is in the library: its saved edits are not left over.
    app.selectbox(key="ed_base").set_value("funnel_heavy").run()
    assert app.number_input(key="ed:funnel_heavy:ads.daily_budget").value == 25.0


def test_after_saving_the_editor_is_on_the_saved_scenario_with_no_unsaved_edits() -> None:
    """Removing a loyalty tier, renaming and saving used to leave "Unsaved edits to loyalty_tiers"
    beside "Saved as loyalty_no_gold". The kind: after any save (new name, replace, save as), the
    editor shows the saved scenario, unchanged, in the same session and after leaving and coming back.
    """
    app = _open("editor")
    app.selectbox(key="ed_base").set_value("loyalty_tiers").run()
    tiers = app.text_area(key="ed:loyalty_tiers:loyalty.tiers")
    kept_tiers = tiers.value.split("- name:")
    without_last = "- name:".join(kept_tiers[:-1])  # drop the top tier
    tiers.set_value(without_last).run()
    no_traceback(app)
    assert "Unsaved edits" in texts(app.warning)
    app.text_input(key="ed:loyalty_tiers:name").set_value("loyalty_no_gold").run()
    app.button(key="ed_save").click().run()
    no_traceback(app)
    assert app.selectbox(key="ed_base").value == "loyalty_no_gold"
    assert "Saved as **loyalty_no_gold**." in texts(app.caption)
    assert "Valid scenario. No changes yet." in texts(app.success)
    assert not app.warning and not app.code
    assert app.text_area(key="ed:loyalty_no_gold:loyalty.tiers").value.count("- name:") == len(kept_tiers) - 2
    app.switch_page("app_pages/network.py").run()
    app.switch_page("app_pages/editor.py").run()
    no_traceback(app)
    assert app.selectbox(key="ed_base").value == "loyalty_no_gold" and not app.warning
    app.selectbox(key="ed_base").set_value("loyalty_tiers").run()
    assert "No changes yet." in texts(app.success)  # the original, untouched


def test_editor_shows_invalid_values_inline_and_refuses_to_save() -> None:
    app = _open("editor")
    app.number_input(key="ed:funnel_heavy:ads.p_aware").set_value(1.5)
    app.number_input(key="ed:funnel_heavy:network.n").set_value(4).run()  # m = 5 needs n > 5
    no_traceback(app)
    errors = [e.value for e in app.error]
    assert "must be ≤ 1.0 (given: 1.5)" in errors  # under the field
    assert any("m must be less than n = 4; got 5" in e for e in errors)  # under the network section
    assert errors[0].startswith("**2 problems**")  # and in the summary, in words
    assert "Aware probability (0–1) (`ads.p_aware`)" in errors[0]
    # A field whose label is its path in words is not named twice ("Days (days)").
    app.number_input(key="ed:funnel_heavy:days").set_value(100_000).run()
    summary = app.error[0].value
    assert "- Days: must be ≤" in summary and "(`days`)" not in summary
    assert app.button(key="ed_save").disabled  # a person cannot save it
    (download,) = [b for b in app.get("download_button") if b.proto.label == "Download YAML"]
    assert download.proto.disabled and "Fix the problems" in download.proto.help  # visible, with the reason


def test_editor_switches_network_kind_and_yaml_fields() -> None:
    app = _open("editor")
    app.selectbox(key="ed:funnel_heavy:network.kind").set_value("watts_strogatz").run()
    no_traceback(app)
    assert app.number_input(key="ed:funnel_heavy:network.k").value == 10
    assert "network.kind=watts_strogatz" in app.code[0].value
    assert "`network.m`" in texts(app.caption)  # cannot be removed by --set: download instead
    app.text_input(key="ed:funnel_heavy:ads.frequency_cap").set_value("none").run()
    assert "ads.frequency_cap=null" in app.code[0].value
    app.text_input(key="ed:funnel_heavy:ads.frequency_cap").set_value("[oops").run()
    assert any("must be valid YAML" in e.value for e in app.error)


def test_network_page_draws_the_sample_and_steps_through_days() -> None:
    app = _open("network")
    app.number_input(key="net_people").set_value(400)
    app.number_input(key="net_days").set_value(40)
    app.number_input(key="net_shown").set_value(150).run()
    no_traceback(app)
    assert app.slider(key="net_day").value == 40
    assert _charts_ok(app) == 2
    # The stage counts' legend sits outside the plot (inside it, it covered the lines).
    specs = [json.loads(c.proto.spec) for c in app.get("vega_lite_chart")]
    (stages,) = [s for s in specs if "People in each stage" in json.dumps(s.get("title"))]
    assert legends(stages) and all(leg.get("orient") not in INSIDE for leg in legends(stages))
    # Below a narrow plot, six stages in one row ran past its edge: they wrap, at most 3 to a row.
    assert all(leg.get("orient") != "bottom" or 0 < leg.get("columns", 0) <= 3 for leg in legends(stages))
    roles = next(c.value for c in app.caption if c.value.startswith("Roles in the drawn sample"))
    counts = dict(
        part.split(": ")
        for part in roles.split(". ")[0].removeprefix("Roles in the drawn sample: ").split(", ")
    )
    assert sum(int(v.replace(",", "")) for v in counts.values()) == 150
    assert set(counts) == {"ordinary", "employee", "kol", "seed", "fake"}
    app.slider(key="net_day").set_value(10).run()
    app.select_slider(key="net_speed").set_value("8 days/s").run()
    app.button(key="net_step").click().run()  # go once: one frame of 2 days at 8 days/s
    no_traceback(app)
    assert app.slider(key="net_day").value == 12
    assert any(c.value.startswith("Day 12 of 40:") for c in app.caption)
    app.radio(key="net_colour").set_value("channel").run()
    _charts_ok(app)
    app.button(key="net_play").click().run()
    no_traceback(app)
    assert app.button(key="net_play").label == "Pause"
    app.button(key="net_play").click().run()
    assert app.button(key="net_play").label == "Play"
    # Buttons carry Material icons and plain words: "⏭" drew a missing-glyph box without emoji fonts.
    for button in app.button:
        assert button.label.isascii(), button.label
    assert app.button(key="net_step").proto.icon == ":material/skip_next:"
    # The sample's limit is the one the docs give (3,000 people drawn).
    assert app.number_input(key="net_shown").max == 3000
    assert "sample ≤ 3,000 people" in (ROOT / "docs" / "app.md").read_text()
    # Leave and come back: the same market and day.
    app.switch_page("app_pages/compare.py").run()
    app.switch_page("app_pages/network.py").run()
    assert app.number_input(key="net_people").value == 400
    assert app.slider(key="net_day").value == app.slider(key="net_day").value >= 12


def test_a_one_day_network_draws() -> None:
    app = _open("network")
    app.number_input(key="net_people").set_value(300)
    app.number_input(key="net_days").set_value(1).run()
    no_traceback(app)
    assert _charts_ok(app) == 2


def test_sweep_page_without_a_store(tmp_path: Path) -> None:
    app = _open("sweeps")
    assert app.title[0].value == "Sweep results"
    if importlib.util.find_spec("sim.sweep") is None:
        assert "not part of this build yet" in texts(app.info)
        return
    app.text_input(key="sw_folder").set_value(str(tmp_path / "nowhere")).run()
    no_traceback(app)
    assert "There is no result store" in texts(app.warning)
    app.text_input(key="sw_folder").set_value(str(tmp_path)).run()  # a folder that is not a store
    no_traceback(app)
    assert "is not a sweep result store and holds none" in texts(app.warning)


def test_sweep_page_plots_a_real_store(tmp_path: Path) -> None:
    sobol_store(tmp_path, "tiny")
    app = _open("sweeps")
    app.text_input(key="sw_folder").set_value(str(tmp_path)).run()  # a folder holding one store
    no_traceback(app)
    assert Path(app.selectbox(key="sw_store").value) == tmp_path / "tiny"
    assert "Experiment **tiny**" in texts(app.caption)
    assert _charts_ok(app) == 2  # the metric against a dotted factor, and Sobol indices
    assert [s.value for s in app.subheader] == ["Sensitivity"]
    # Axes in words with units: the run's currency and the field's label, never a raw path.
    metric = app.selectbox(key="sw_metric").value
    line = json.loads(app.get("vega_lite_chart")[0].proto.spec)
    titles = [line["layer"][1]["encoding"][axis]["title"] for axis in ("x", "y")]
    assert "." not in titles[0] and "(currency)" not in titles[1], titles
    assert titles[1].startswith(report.metric_label(metric))
    app.selectbox(key="sw_y").set_value("sharing.p_convert").run()  # heatmap of two factors
    no_traceback(app)
    assert _charts_ok(app) == 2
    heat = json.loads(app.get("vega_lite_chart")[0].proto.spec)
    assert heat["encoding"]["y"]["title"] == "Sharing › Convert probability (0–1)"
    assert "currency" not in heat["encoding"]["color"]["title"]
    app.switch_page("app_pages/compare.py").run()
    app.switch_page("app_pages/sweeps.py").run()
    assert app.selectbox(key="sw_y").value == "sharing.p_convert"  # kept while away


def test_editor_edits_sections_added_later_as_yaml() -> None:
    """Loyalty tiers (a list of models, added by another issue) are edited without editor code."""
    app = _open("editor")
    app.selectbox(key="ed_base").set_value("loyalty_tiers").run()
    no_traceback(app)
    tiers = app.text_area(key="ed:loyalty_tiers:loyalty.tiers")
    assert "name:" in tiers.value
    edited = tiers.value.replace("name:", "name: x", 1)  # rename the first tier
    tiers.set_value(edited).run()
    no_traceback(app)
    assert "--set 'loyalty.tiers=[" in app.code[0].value
    app.text_area(key="ed:loyalty_tiers:loyalty.tiers").set_value("- [broken").run()
    assert any("must be valid YAML" in e.value for e in app.error)
    assert app.button(key="ed_save").disabled


def _cached_functions() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted((ROOT / "app_pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                "cache_data" in ast.unparse(d) or "cache_resource" in ast.unparse(d)
                for d in node.decorator_list
            ):
                found.append((path.name, node))
    return found


def test_no_cached_function_touches_the_page() -> None:
    """A cached call replays the elements it created; outside its block that fails on a cache hit.

    The kind: no function under st.cache_data/st.cache_resource may call ``st.*`` or receive a
    callback (which could draw): they compute, the page draws.
    """
    cached = _cached_functions()
    assert cached, "the pages cache nothing: this test would pass vacuously"
    for filename, function in cached:
        body = ast.Module(body=function.body, type_ignores=[])
        calls = [ast.unparse(n.func) for n in ast.walk(body) if isinstance(n, ast.Call)]
        assert not [c for c in calls if c.startswith("st.")], (filename, function.name, calls)
        for arg in function.args.args:
            annotation = ast.unparse(arg.annotation) if arg.annotation else ""
            assert "Callable" not in annotation and "Any" not in annotation, (
                filename,
                function.name,
                arg.arg,
            )


def test_every_cached_action_runs_twice_and_in_two_sessions() -> None:
    """Each page whose work is cached: the same inputs twice in a session, then in a second session."""
    for _session in range(2):
        app = _open("network")
        for _ in range(2):
            app.number_input(key="net_people").set_value(300)
            app.number_input(key="net_days").set_value(20).run()
            no_traceback(app)
            assert _charts_ok(app) == 2
        lesson = _open("lesson")
        for _ in range(2):
            lesson.number_input(key="l_people").set_value(300)
            lesson.number_input(key="l_reps").set_value(1).run()
            no_traceback(lesson)
        compare = _small_comparison(cmp_people=600, cmp_days=30, cmp_reps=1)
        compare.button(key="cmp_run").click().run()
        no_traceback(compare)


# ------------------------------------------------------------- real graphs: uploads, small markets

KARATE_YAML = (SCENARIOS / "karate_club.yaml").read_bytes()
KARATE_TXT = (SCENARIOS / "karate_club.txt").read_bytes()
CASES = Path(__file__).resolve().parent / "data" / "cases"


def test_a_scenario_uploaded_with_its_edge_list_runs_on_compare() -> None:
    app = _open()
    more_sharing = KARATE_YAML.replace(b"name: karate-club", b"name: club-more-sharing").replace(
        b"rate_share_per_day: 0.2", b"rate_share_per_day: 0.4"
    )
    app.file_uploader(key="cmp_upload").set_value(
        [("club.yaml", more_sharing, "application/x-yaml"), ("karate_club.txt", KARATE_TXT, "text/plain")]
    ).run()
    no_traceback(app)
    assert "Added club.yaml to the scenarios as **club-more-sharing**" in _read(app.success)
    assert app.session_state["library_files"]["club-more-sharing"] == {"karate_club.txt": KARATE_TXT}
    app.multiselect(key="cmp_strategies").set_value(["karate_club", "club-more-sharing"]).run()
    no_traceback(app)
    people = app.number_input(key="cmp_people_from_file_34")
    assert people.value == 34 and people.disabled and "karate_club.txt" in people.help
    assert "Graph file **karate_club.txt**" in texts(app.caption)
    app.number_input(key="cmp_days").set_value(60)
    app.number_input(key="cmp_reps").set_value(2).run()
    app.button(key="cmp_run").click().run()
    no_traceback(app)
    assert not app.error
    assert "2 strategies × 2 replications, 34 people, 60 days" in texts(app.caption)
    (table,) = app.dataframe
    assert list(table.value.columns[:3]) == ["Metric", "karate_club", "club-more-sharing"]
    # The files that reproduce the run carry the graph file beside the scenarios.
    labels = [b.proto.label for b in app.get("download_button")]
    assert "scenarios + command (zip)" in labels
    # Leaving for the Network page and coming back keeps the upload and its file.
    app.switch_page("app_pages/network.py").run()
    app.switch_page("app_pages/compare.py").run()
    no_traceback(app)
    assert app.session_state["library_files"]["club-more-sharing"] == {"karate_club.txt": KARATE_TXT}


def test_each_uploaded_file_is_added_once_however_many_uploads_follow() -> None:
    """The uploader keeps earlier files in its list: each upload used to add them again, renamed."""
    app = _open()
    before = set(app.session_state["library"])
    a = ("a.yaml", (SCENARIOS / "funnel_heavy.yaml").read_bytes(), "application/x-yaml")
    b = [("club.yaml", KARATE_YAML, "application/x-yaml"), ("karate_club.txt", KARATE_TXT, "text/plain")]
    c = ("c.yaml", (SCENARIOS / "hybrid.yaml").read_bytes(), "application/x-yaml")
    for files in ([a], [a, *b], [a, *b, c]):  # as a browser's uploader lists them, one upload after another
        app.file_uploader(key="cmp_upload").set_value(files).run()
        no_traceback(app)
        assert not app.error
    added = set(app.session_state["library"]) - before
    assert added == {"funnel_heavy (2)", "karate-club", "hybrid (2)"}
    assert "c.yaml is already" not in _read(app.caption) and "a.yaml is already in the scenarios" in _read(
        app.caption
    )
    # The same content again, under another name and in a second upload, adds nothing and says so.
    app.file_uploader(key="cmp_upload").set_value([("again.yaml", a[1], "application/x-yaml")]).run()
    no_traceback(app)
    assert set(app.session_state["library"]) - before == added
    assert "again.yaml is already in the scenarios as **funnel_heavy (2)**" in _read(app.caption)


def test_an_uploaded_scenario_naming_a_server_file_is_refused_in_one_line() -> None:
    app = _open()
    before = dict(app.session_state["library"])
    app.file_uploader(key="cmp_upload").set_value(
        ("20-upload-path-etc.yaml", (CASES / "20-upload-path-etc.yaml").read_bytes(), "application/x-yaml")
    ).run()
    no_traceback(app)
    message = _read(app.error)
    assert "20-upload-path-etc.yaml was not added" in message
    assert "network.path: an uploaded scenario can only use files uploaded with it" in message
    assert message.count("\n- ") == 1  # one problem line
    assert app.session_state["library"] == before


def test_an_uploaded_scenario_with_a_bad_graph_file_is_explained() -> None:
    app = _open()
    app.file_uploader(key="cmp_upload").set_value(
        [("club.yaml", KARATE_YAML, "application/x-yaml"), ("karate_club.txt", b"1\n2\n3\n", "text/plain")]
    ).run()
    no_traceback(app)
    message = _read(app.error)
    assert "its graph file cannot be used" in message and "does not look like an edge list" in message


def test_a_graph_file_of_any_name_reaches_its_reader_which_says_why_it_is_refused() -> None:
    """blob.bin was dropped by the uploader's type filter, and the scenario then said it had not been
    uploaded; every file name now reaches the reader, which names the real problem."""
    app = _open()
    assert list(app.file_uploader(key="cmp_upload").proto.type) == []  # no extension filter
    blob = KARATE_YAML.replace(b"path: karate_club.txt", b"path: blob.bin")
    assert blob != KARATE_YAML
    app.file_uploader(key="cmp_upload").set_value(
        [
            ("karate_blob.yaml", blob, "application/x-yaml"),
            ("blob.bin", bytes(range(256)) * 8, "application/octet-stream"),
        ]
    ).run()
    no_traceback(app)
    message = _read(app.error)
    assert "karate_blob.yaml was not added" in message
    assert "blob.bin: is binary data, not a text edge list" in message
    assert "must name a file uploaded with the scenario" not in message


def test_compare_accepts_a_small_generated_market() -> None:
    app = _open()
    app.number_input(key="cmp_people").set_value(20)
    app.number_input(key="cmp_days").set_value(30)
    app.number_input(key="cmp_reps").set_value(2).run()
    no_traceback(app)
    app.button(key="cmp_run").click().run()
    no_traceback(app)
    assert "3 strategies × 2 replications, 20 people, 30 days" in texts(app.caption)


def test_network_page_draws_the_karate_club_whole() -> None:
    app = _open("network")
    app.selectbox(key="net_strategy").set_value("karate_club").run()
    no_traceback(app)
    people = app.number_input(key="net_people_from_file_34")
    assert people.value == 34 and people.disabled
    assert "Graph file **karate_club.txt**" in texts(app.caption)
    assert len(app.get("vega_lite_chart")) == 2
    roles = next(c.value for c in app.caption if c.value.startswith("Roles in the drawn sample"))
    counts = dict(
        part.split(": ")
        for part in roles.split(". ")[0].removeprefix("Roles in the drawn sample: ").split(", ")
    )
    assert sum(int(v.replace(",", "")) for v in counts.values()) == 34  # every member drawn
    assert int(counts["seed"]) == 2
    app.slider(key="net_day").set_value(5).run()
    no_traceback(app)
    app.selectbox(key="net_strategy").set_value("seeding_hubs").run()  # back to a generated market
    no_traceback(app)
    assert not app.number_input(key="net_people").disabled


def test_editing_a_scenario_with_a_graph_file_keeps_the_file() -> None:
    app = _open("editor")
    app.selectbox(key="ed_base").set_value("karate_club").run()
    no_traceback(app)
    assert "Valid scenario. No changes yet." in _read(app.success)
    app.number_input(key="ed:karate_club:sharing.rate_share_per_day").set_value(0.3).run()
    app.text_input(key="ed:karate_club:name").set_value("club, more sharing").run()
    app.button(key="ed_save").click().run()
    no_traceback(app)
    assert app.session_state["library_files"]["club, more sharing"] == {"karate_club.txt": KARATE_TXT}
    assert app.selectbox(key="ed_base").value == "club, more sharing"  # the saved one, with its file
    assert "Valid scenario. No changes yet." in _read(app.success)
    # A path the scenario was not given is refused under the field.
    app.text_input(key="ed:club, more sharing:network.path").set_value("/etc/passwd").run()
    no_traceback(app)
    assert any("only use files uploaded with it" in e.value for e in app.error)
    assert app.button(key="ed_save").disabled


def test_the_server_upload_cap_is_what_the_app_accepts() -> None:
    """Streamlit holds an upload in memory before the app sees it: the server's cap (one number, in
    .streamlit/config.toml) must cover the uploaders and stay far below Streamlit's 200 MB default."""
    import tomllib

    from app_pages.common import UPLOAD_MB
    from sim.scenario import MAX_SCENARIO_BYTES
    from sim.ui.library import MAX_GRAPH_UPLOAD_BYTES

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    cap = config["server"]["maxUploadSize"]
    assert max(MAX_SCENARIO_BYTES, MAX_GRAPH_UPLOAD_BYTES) <= UPLOAD_MB * 2**20 <= cap * 2**20
    assert cap < 200
