"""Hostile and mistaken YAML: every scenario or experiment file is read by one hardened reader.

Real inputs users tried are in tests/data (alias bomb, duplicate keys, ``yes`` as a number).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sim.scenario import (
    ScenarioError,
    load_scenario,
    parse_override,
    parse_yaml,
    scenario_from_text,
    scenario_to_yaml,
)
from sim.scenario.errors import Problem, given_text
from sim.scenario.overrides import apply_overrides
from sim.scenario.yaml_io import MAX_ALIAS_NODES, MAX_DEPTH, dump_yaml
from sim.sweep.spec import experiment_from_dict, load_experiment
from tests.conftest import SCENARIOS

DATA = Path(__file__).parent / "data"


def _problems(exc: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [str(problem) for problem in exc.value.problems]


# ------------------------------------------------------------------------ aliases and nesting


def test_the_alias_bomb_case_is_refused_at_once_in_one_line():
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(DATA / "22-yaml-alias-bomb.yaml")
    assert time.perf_counter() - started < 0.5  # not a timed test: the bomb expands for minutes
    (line,) = _problems(exc)
    assert f"aliases (*name) may repeat at most {MAX_ALIAS_NODES:,} nodes" in line
    assert "435,848,068" in line  # how far it would have expanded
    assert len(line) < 200


def test_aliases_within_the_budget_still_work():
    text = (
        "loyalty:\n  membership: open\n  tiers:\n    - &base {name: member, threshold: 0}\n"
        "    - {<<: *base, name: silver, threshold: 300}\n"
    )
    scenario = scenario_from_text(text)
    assert [t.name for t in scenario.loyalty.tiers] == ["member", "silver"]
    assert scenario.loyalty.tiers[1].threshold == 300


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [*x]",  # a list that contains itself
        "a: &x {b: *x}",  # a mapping that contains itself
    ],
)
def test_a_recursive_alias_is_refused(text):
    with pytest.raises(ScenarioError, match="must not refer to a node that contains it"):
        parse_yaml(text)


@pytest.mark.parametrize(
    "text",
    [
        "network: " + "[" * 600 + "]" * 600,  # flow nesting (a RecursionError before)
        "network:\n"
        + "".join("  " * (i + 1) + "a:\n" for i in range(MAX_DEPTH + 5))
        + "    " * 50
        + "b: 1\n",
        "- " * 5_000 + "x\n",
    ],
)
def test_deep_nesting_is_a_clean_error(text):
    with pytest.raises(ScenarioError) as exc:
        scenario_from_text(text)
    assert any("nest" in line or "nesting" in line for line in _problems(exc))


def test_nesting_up_to_the_limit_is_read():
    text = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    value = parse_yaml(text)
    for _ in range(MAX_DEPTH - 2):
        (value,) = value
    assert value == []


# ------------------------------------------------------------------------ numbers and words


def test_a_whole_number_of_thousands_of_digits_is_a_clean_error():
    with pytest.raises(ScenarioError) as exc:
        scenario_from_text("days: " + "9" * 5000)
    (line,) = _problems(exc)
    assert "a whole number may have at most 100 digits" in line and "5,000 digits" in line
    with pytest.raises(ScenarioError) as exc:  # long enough to read, then out of range: a short message
        scenario_from_text("days: " + "9" * 60)
    (line,) = _problems(exc)
    assert line.startswith("days: must be ≤ 36500; got <a whole number of about 60 digits>")


def test_yes_and_on_where_a_number_is_expected_are_type_errors():
    with pytest.raises(ScenarioError) as exc:
        load_scenario(DATA / "24-yaml-yes-as-number.yaml")
    assert _problems(exc) == [
        "ads.p_purchase: must be a number; got 'yes'",
        "sharing.p_convert: must be a number; got 'on'",
    ]


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("true", "must be a number"),  # a boolean is not 1.0
        ('"0.5"', "must be a number"),  # a quoted number is text
        ("[0.5]", "must be a number"),
    ],
)
def test_numbers_are_strict(value, allowed):
    with pytest.raises(ScenarioError) as exc:
        scenario_from_text(f"ads:\n  p_aware: {value}\n")
    assert allowed in _problems(exc)[0]


def test_whole_number_fields_refuse_booleans_and_fractions_but_numbers_take_whole_numbers():
    for text in ("days: true", "days: 30.5", "network: {n: yes}"):
        with pytest.raises(ScenarioError, match="must be a whole number"):
            scenario_from_text(text)
    assert scenario_from_text("ads: {daily_budget: 500}").ads.daily_budget == 500.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("days: 010", 10),  # YAML 1.1 read this as octal 8
        ("days: 1_000", 1000),
        ("ads: {daily_budget: 1e5}", 100_000.0),  # YAML 1.1 read this as the text "1e5"
    ],
)
def test_yaml_1_2_numbers(text, expected):
    scenario = scenario_from_text(text)
    assert expected in (scenario.days, scenario.ads.daily_budget)


def test_sexagesimal_and_dates_stay_text():
    with pytest.raises(ScenarioError, match="days: must be a whole number; got '1:30'"):
        scenario_from_text("days: 1:30")  # YAML 1.1: 90
    assert scenario_from_text("name: 2024-01-01").name == "2024-01-01"


def test_the_words_the_docs_use_work_in_files_and_on_the_command_line_alike():
    text = "loyalty: {membership: off}\nads: {frequency_cap: none}\nincentives: {enabled: yes}\n"
    from_file = scenario_from_text(text)
    from_set = scenario_from_text(
        "", ["loyalty.membership=off", "ads.frequency_cap=none", "incentives.enabled=yes"]
    )
    for scenario in (from_file, from_set):
        assert scenario.loyalty.membership == "off"
        assert scenario.ads.frequency_cap is None
        assert scenario.incentives.enabled is True
    assert scenario_from_text("loyalty: {downgrade: none}").loyalty.downgrade == "none"  # a word there
    assert scenario_from_text("ads: {frequency_cap: NULL}").ads.frequency_cap is None
    for switch in ("on", "On", "true", "yes"):
        assert scenario_from_text(f"defences: {{ring_detection: {switch}}}").defences.ring_detection is True
    with pytest.raises(ScenarioError, match=r"incentives\.enabled: must be true or false; got 1"):
        scenario_from_text("incentives: {enabled: 1}")


def test_what_the_writer_writes_the_reader_reads_back_equal():
    scenario = scenario_from_text(
        "name: '1e5'\ndescription: 'off'\nloyalty: {membership: off, downgrade: none}\n"
        "economics: {currency: 'null'}\n"
    )
    again = scenario_from_text(scenario_to_yaml(scenario))
    assert again == scenario
    assert again.name == "1e5" and again.description == "off" and again.economics.currency == "null"
    assert parse_yaml(dump_yaml({"a": "yes", "b": "010", "c": "1:30", "d": 1e300})) == {
        "a": "yes",
        "b": "010",
        "c": "1:30",
        "d": 1e300,
    }


# ------------------------------------------------------------------------ duplicate keys


def test_duplicate_keys_are_an_error_naming_both_lines():
    with pytest.raises(ScenarioError) as exc:
        load_scenario(DATA / "09-yaml-duplicate-keys.yaml")
    (line,) = _problems(exc)
    assert line.startswith("ads: is given twice (lines 5 and 10)")


def test_a_duplicate_key_inside_a_section_is_named_by_its_path():
    with pytest.raises(ScenarioError) as exc:
        scenario_from_text("days: 30\nads:\n  cpm: 5\n  daily_budget: 10\n  cpm: 6\n")
    assert _problems(exc)[0].startswith("ads.cpm: is given twice (lines 3 and 5)")
    with pytest.raises(ScenarioError, match="days: is given twice"):
        scenario_from_text("days: 30\ndays: 3650\n")


def test_an_experiment_file_gets_the_same_reader(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("name: x\nreplications: 2\nreplications: 3\n")
    with pytest.raises(ScenarioError, match="replications: is given twice"):
        load_experiment(path)
    path.write_text((DATA / "22-yaml-alias-bomb.yaml").read_text().replace("name: alias-bomb", "name: x"))
    with pytest.raises(ScenarioError, match="aliases"):
        load_experiment(path)


# ------------------------------------------------------------------------ bounded messages


def test_messages_never_quote_an_unbounded_value():
    huge_key = "k" * 50_000  # an explicit key (?): YAML's plain keys stop at 1,024 characters
    kol_ids = ",".join(["-1"] * 10)
    text = f'? "{huge_key}"\n: 1\nname: "{"n" * 100_000}"\nroles: {{kol_ids: [{kol_ids}]}}\n'
    with pytest.raises(ScenarioError) as exc:
        scenario_from_text(text)
    lines = _problems(exc)
    assert any(line.startswith("kkkk") and "unknown key" in line for line in lines)
    assert any(line.startswith("name: must have at most 80 characters") for line in lines)
    for line in lines:
        assert len(line) < 700, line[:200]
    assert len(str(exc.value)) < 20_000


def test_given_text_is_bounded_for_any_value():
    nested: list = []
    for _ in range(10_000):
        nested = [nested]
    for value in (10**5000, "x" * 10**6, list(range(10**6)), nested, {i: i for i in range(10**5)}):
        text = given_text(value)
        assert len(text) <= 80, text


def test_a_problem_cuts_every_part_and_an_error_lists_at_most_fifty():
    problem = Problem("p" * 10_000, "a" * 10_000, "g" * 10_000)
    assert len(str(problem)) < 700
    many = ScenarioError([Problem(f"k{i}", "unknown key", "") for i in range(10_000)])
    assert len(many.problems) == 51 and "9950 more problem(s)" in str(many.problems[-1])


def test_thousands_of_unknown_keys_are_refused_quickly_and_briefly():
    text = "\n".join(f"key{i}: {{a: [1, 2, 3]}}" for i in range(20_000))
    with pytest.raises(ScenarioError) as exc:
        scenario_from_text(text, ["ads.cpm=5"])
    assert len(exc.value.problems) <= 51
    assert exc.value.problems[0].allowed.startswith("unknown key")


def test_overrides_copy_only_the_path_they_change():
    data = {"ads": {"cpm": 5.0}, "big": {"list": list(range(10))}}
    changed = apply_overrides(data, {"ads.daily_budget": 1.0, "network.n": 2000})
    assert changed["big"] is data["big"]  # shared, never deep-copied
    assert data == {"ads": {"cpm": 5.0}, "big": {"list": list(range(10))}}  # untouched
    assert changed["ads"] == {"cpm": 5.0, "daily_budget": 1.0} and changed["network"] == {"n": 2000}


# ------------------------------------------------------------------------ overrides on defaults


def test_set_network_n_works_on_a_file_without_a_network_section():
    scenario = scenario_from_text("days: 30\n", ["network.n=2000"])
    assert scenario.network.kind == "barabasi_albert" and scenario.network.n == 2000
    assert scenario_from_text("network: {n: 300, m: 2}").network.m == 2
    with pytest.raises(ScenarioError, match="needs a 'kind'"):  # keys of another kind: say which kind
        scenario_from_text("network: {n: 300, mean_degree: 4}")


def test_an_override_value_is_read_like_a_file_value():
    assert parse_override("ads.daily_budget=1e3") == ("ads.daily_budget", 1000.0)
    assert parse_override("loyalty.membership=off") == ("loyalty.membership", "off")
    assert parse_override("name=a: b: c") == ("name", "a: b: c")  # not YAML: kept as the text given
    bomb = "x=" + (DATA / "22-yaml-alias-bomb.yaml").read_text().split("kol_ids: ")[1]
    key, value = parse_override(bomb)  # refused as YAML, so it stays text (and is then not a list)
    assert key == "x" and isinstance(value, str)


def test_experiment_points_and_names_in_messages_are_bounded(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        experiment_from_dict(
            {
                "name": "x",
                "factors": {"name": {"values": ["n" * 10_000]}},
                "plot": {"x": "y" * 10_000},
            },
            base_dir=SCENARIOS,
        )
    for line in _problems(exc):
        assert len(line) < 700
