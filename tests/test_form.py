"""sim.ui.form: the editor's fields come from the schema, and edits become valid --set overrides."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field

from sim import load_scenario
from sim.scenario import parse_override, scenario_from_dict
from sim.scenario.section import Probability, Section
from sim.ui.form import (
    changed_overrides,
    field_label,
    field_unit,
    form_sections,
    get_path,
    initial_value,
    off_sections,
    parse_text,
    path_label,
    plain_schedule,
    removed_paths,
    section_title,
    set_paths,
    switch_variant,
    widget_text,
)
from tests.conftest import SCENARIOS, make_scenario


def _leaves(data: object, prefix: str = "") -> set[str]:
    if isinstance(data, dict) and data:
        out: set[str] = set()
        for key, value in data.items():
            out |= _leaves(value, f"{prefix}.{key}" if prefix else key)
        return out
    return {prefix}


def _form_paths(data: dict) -> set[str]:
    paths = set()
    for section in form_sections(data):
        paths |= {field.path for field in section.fields}
        if section.variant_path:
            paths.add(section.variant_path)
    return paths


@pytest.mark.parametrize(
    "kind", ["complete", "erdos_renyi", "barabasi_albert", "watts_strogatz", "communities"]
)
def test_every_setting_of_the_scenario_has_a_field(kind: str) -> None:
    """Driven by the schema: a section added later shows up here without editor code."""
    scenario = load_scenario(SCENARIOS / "hybrid.yaml")
    data = switch_variant(scenario.model_dump(mode="json", exclude={"base_dir"}), "network", kind)
    data = scenario_from_dict(data).model_dump(mode="json", exclude={"base_dir"})
    assert _form_paths(data) == _leaves(data)


def test_fields_carry_description_range_and_widget_kind() -> None:
    data = load_scenario(SCENARIOS / "hybrid.yaml").model_dump(mode="json")
    fields = {f.path: f for s in form_sections(data) for f in s.fields}
    budget = fields["ads.daily_budget"]  # a number, or a schedule over time
    assert budget.kind == "schedule" and budget.low == 0.0 and budget.allowed == "[0.0, 1e+12]"
    assert "currency per day" in budget.description
    assert fields["ads.p_aware"].allowed == "[0.0, 1.0]" and fields["ads.p_aware"].high == 1.0
    assert fields["ads.cpm"].low_open
    assert fields["ads.target"].kind == "choice" and fields["ads.target"].options == ("everyone", "prospects")
    assert fields["ads.frequency_cap"].optional and fields["ads.frequency_cap"].kind == "int"
    assert fields["days"].kind == "int" and fields["name"].kind == "text"
    assert fields["description"].multiline and not fields["name"].multiline
    assert fields["network.m"].default == 5
    sections = {s.path: s for s in form_sections(data)}
    assert sections["network"].variant_path == "network.kind"
    assert "barabasi_albert" in sections["network"].variants
    assert "Preferential attachment" in sections["network"].description
    assert "base_dir" not in fields


class _Tier(BaseModel):
    name: str = "gold"
    min_spend: float = Field(0.0, ge=0.0)


class _Nested(Section):
    """A section inside a section."""

    p_open: Probability = Field(0.5, description="Chance (per day).")
    enabled: bool = False


class _Future(Section):
    """A section a later issue might add."""

    mode: Literal["a", "b"] = "a"
    cap: float | None = Field(None, gt=0.0, description="Cap (currency); none = no cap.")
    tiers: list[_Tier] = Field(default_factory=lambda: [_Tier()], description="Tiers, lowest first.")
    inner: _Nested = Field(default_factory=_Nested)


class _Model(BaseModel):
    future: _Future = Field(default_factory=_Future)


def test_unknown_shapes_fall_back_to_sensible_widgets() -> None:
    sections = {s.path: s for s in form_sections({}, model=_Model)}
    assert list(sections) == ["future", "future.inner"]
    fields = {f.path: f for f in sections["future"].fields}
    assert fields["future.mode"].kind == "choice"
    assert fields["future.cap"].kind == "float" and fields["future.cap"].optional
    assert fields["future.tiers"].kind == "yaml"
    assert fields["future.tiers"].default == [{"name": "gold", "min_spend": 0.0}]
    inner = {f.path: f for f in sections["future.inner"].fields}
    assert inner["future.inner.enabled"].kind == "bool"
    assert inner["future.inner.p_open"].allowed == "[0.0, 1.0]"
    assert sections["future.inner"].description == "A section inside a section."


def test_text_boxes_round_trip() -> None:
    fields = {f.path: f for s in form_sections({}, model=_Model) for f in s.fields}
    tiers, cap = fields["future.tiers"], fields["future.cap"]
    value = [{"name": "silver", "min_spend": 10.0}, {"name": "gold", "min_spend": 100.0}]
    assert parse_text(tiers, widget_text(tiers, value)) == value
    assert parse_text(cap, widget_text(cap, None)) is None
    assert parse_text(cap, " 12.5 ") == 12.5
    assert parse_text(cap, "") is None
    with pytest.raises(ValueError, match="must be valid YAML"):
        parse_text(tiers, "- [unclosed")


def test_initial_value_prefers_the_scenario_then_the_default() -> None:
    fields = {f.path: f for s in form_sections({}, model=_Model) for f in s.fields}
    assert initial_value(fields["future.mode"], {"future": {"mode": "b"}}) == "b"
    assert initial_value(fields["future.mode"], {}) == "a"
    assert initial_value(fields["future.cap"], {"future": {"cap": None}}) is None
    assert get_path({"a": {"b": 1}}, "a.c", "missing") == "missing"


def test_changed_overrides_replay_the_edit_on_the_command_line() -> None:
    base = load_scenario(SCENARIOS / "hybrid.yaml")
    before = base.model_dump(mode="json", exclude={"base_dir"})
    after = set_paths(
        before,
        {"ads.daily_budget": 250.5, "ads.frequency_cap": None, "name": "my plan", "ads.target": "everyone"},
    )
    lines = changed_overrides(before, after)
    assert lines == [
        "ads.daily_budget=250.5",
        "ads.frequency_cap=null",
        "ads.target=everyone",
        "name=my plan",
    ]
    replayed = base.with_overrides(dict(parse_override(line) for line in lines))
    assert replayed.model_dump(exclude={"base_dir"}) == scenario_from_dict(after).model_dump(
        exclude={"base_dir"}
    )
    assert changed_overrides(before, before) == []
    assert changed_overrides({"x": 1}, {"x": 1.0}) == []  # same number, different type


def test_switching_the_network_kind_keeps_shared_values() -> None:
    base = load_scenario(SCENARIOS / "hybrid.yaml").model_dump(mode="json")
    switched = switch_variant(base, "network", "watts_strogatz")
    assert switched["network"] == {"kind": "watts_strogatz", "n": base["network"]["n"]}
    assert switch_variant(base, "network", "barabasi_albert") == base
    assert removed_paths(base, switched) == ["network.m"]
    lines = changed_overrides(base, scenario_from_dict(switched).model_dump(mode="json"))
    assert lines[0] == "network.kind=watts_strogatz"  # the kind first, so the CLI applies it first


def test_labels_are_words_with_units_from_the_schema() -> None:
    from sim.ui.form import field_label, section_title

    fields = {f.path: f for s in form_sections(make_scenario().model_dump(mode="json")) for f in s.fields}
    assert field_label(fields["ads.daily_budget"], "USD") == "Daily budget (USD/day)"
    assert field_label(fields["ads.cpm"], "EUR") == "CPM (EUR)"
    assert field_label(fields["ads.p_aware"]) == "Aware probability (0–1)"
    assert field_label(fields["customers.rel_churn"]) == "Churn multiplier (×)"
    assert field_label(fields["ads.days_frequency_window"]) == "Frequency window (days)"
    assert field_label(fields["fraud.n_attackers"]) == "Number of attackers"
    assert field_label(fields["population.share_initial_customers"]) == "Share of initial customers (0–1)"
    for field in fields.values():
        label = field_label(field, "USD")
        assert ("_" not in label.split(" (")[0] and label[:1].isupper()) or len(
            field.path.rsplit(".")[-1]
        ) == 1
    sections = form_sections(make_scenario().model_dump(mode="json"))
    assert [section_title(s) for s in sections][:2] == ["General", "Network"]


def test_switched_off_sections_come_from_the_rules() -> None:
    from sim.ui.form import off_sections

    quiet = make_scenario({"ads.daily_budget": 0.0}).model_dump(mode="json")
    assert {"ads", "loyalty", "fraud", "incentives"} <= off_sections(quiet)
    busy = make_scenario({"ads.daily_budget": 5.0, "loyalty.membership": "open"}).model_dump(mode="json")
    assert "ads" not in off_sections(busy) and "loyalty" not in off_sections(busy)
    assert "customers" not in off_sections(quiet)  # purchases always run


def test_text_boxes_and_set_lines_read_values_as_scenario_files_do() -> None:
    """The editor's boxes and its `--set` lines go through the same YAML reader as files."""
    data = load_scenario(SCENARIOS / "hybrid.yaml").model_dump(mode="json")
    fields = {f.path: f for s in form_sections(data) for f in s.fields}
    tiers = fields["loyalty.tiers"]
    assert parse_text(tiers, "[{name: off, threshold: 1e3}]") == [{"name": "off", "threshold": 1000.0}]
    with pytest.raises(ValueError, match="must be valid YAML"):
        parse_text(tiers, "a: &x [*x]")
    for value in ("1e5", "off", "010", "yes", 1e300, None):
        line = changed_overrides({"name": "x"}, {"name": value})[0]
        assert parse_override(line) == ("name", value)


def test_a_schedule_equal_to_a_number_is_no_change() -> None:
    """Ticking "vary over time" turns 12 into ``{value: 12}``: the same budget, so no override."""
    before = {"ads": {"daily_budget": 12.0}}
    for same in (
        {"value": 12.0},
        {"value": 12, "periods": [], "weekly": None, "yearly": []},
        {"value": 12.0, "periods": [{"start": 1, "end": 5, "value": 12.0}], "weekly": [1] * 7},
    ):
        after = {"ads": {"daily_budget": same}}
        assert changed_overrides(before, after) == [] and removed_paths(before, after) == []
        assert plain_schedule(same) == 12.0
    weekend = {"value": 12.0, "weekly": [1, 1, 1, 1, 1, 0, 0]}
    after = {"ads": {"daily_budget": weekend}}
    assert changed_overrides(before, after) == [
        "ads.daily_budget={value: 12.0, weekly: [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]}"
    ]
    assert removed_paths(before, after) == []
    # back from a schedule to the number it was: no change either way round
    assert changed_overrides({"ads": {"daily_budget": {"value": 3.0}}}, {"ads": {"daily_budget": 3}}) == []
    assert plain_schedule({"value": 1, "other": 2}) == {"value": 1, "other": 2}  # not a schedule


def _all_sections():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = load_scenario(path).model_dump(mode="json", exclude={"base_dir"})
        yield path.stem, data, form_sections(data)


def test_no_two_fields_of_a_section_read_alike() -> None:
    """Loyalty had "Window" and "Window (days)": two fields that looked the same. The kind: within a
    section, labels differ even without their units, and a label never repeats its unit."""
    for name, _data, sections in _all_sections():
        for section in sections:
            labels = [field_label(f, "USD") for f in section.fields]
            words = [label.split(" (")[0].lower() for label in labels]
            assert len(set(words)) == len(words), (name, section.path, labels)
            for label in labels:
                head, _, unit = label.partition(" (")
                assert unit.rstrip(")").lower() != head.lower(), label


def test_rates_and_money_per_unit_say_their_unit() -> None:
    """ "Points per currency" had no unit. The kind: a field named ``x_per_y`` always has one."""
    for _name, _data, sections in _all_sections():
        for field in (f for s in sections for f in s.fields if "_per_" in f.path.rsplit(".", 1)[-1]):
            if field.kind in ("int", "float", "schedule"):
                assert field_unit(field, "USD"), field.path
    fields = {f.path: f for s in form_sections() for f in s.fields}
    assert field_label(fields["loyalty.points_per_currency"], "EUR") == "Points earned (points/EUR)"
    assert field_label(fields["loyalty.window"]) == "Window kind"
    assert field_label(fields["loyalty.days_window"]) == "Window length (days)"


def test_a_section_inside_one_that_is_off_is_off() -> None:
    """ "Rival › Ads" was not marked off while Rival was off."""
    data = load_scenario(SCENARIOS / "hybrid.yaml").model_dump(mode="json")
    assert "rival" in off_sections(data) and "rival.ads" in off_sections(data)
    titles = {section_title(s) for s in form_sections(data) if s.path in off_sections(data)}
    assert "Rival › Ads" in titles


def test_a_field_found_by_its_path_reads_in_words() -> None:
    assert path_label("ads.daily_budget", "USD") == "Ads › Daily budget (USD/day)"
    assert path_label("rival.ads.daily_budget", "EUR") == "Rival › Ads › Daily budget (EUR/day)"
    assert path_label("days") == "Days"
    assert path_label("no.such.field") == "no.such.field"
