"""Scenario files: presets validate and run; every bad value is reported with path, range and value."""

from __future__ import annotations

import pytest

from sim import load_scenario, run
from sim.rules import REGISTRY
from sim.scenario import (
    MARKET_SECTIONS,
    STRATEGY_SECTIONS,
    ScenarioError,
    parse_override,
    scenario_from_dict,
    scenario_to_yaml,
)
from sim.scenario import (
    load_scenario as load,
)
from tests.conftest import SCENARIOS

PRESETS = sorted(SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_every_scenario_file_validates_and_runs(path):
    scenario = load_scenario(path, {"days": 5})
    result = run(scenario)
    assert len(result.steps) == 6
    assert result.steps["n_customer"].iloc[-1] >= 0


def test_the_benchmark_scenario_switches_every_registered_rule_on():
    """``make bench`` measures every rule only if ``benchmarks/all_rules.yaml`` turns each one on."""
    scenario = load_scenario(SCENARIOS.parent / "benchmarks" / "all_rules.yaml")
    data = scenario.model_dump()
    for rule in REGISTRY:
        for path, off_value in rule.zero_intensity.items():
            value = data
            for key in path.split("."):
                value = value[key]
            assert value != off_value, f"{path} is off in benchmarks/all_rules.yaml ({rule.name})"


def test_the_three_presets_share_one_market_and_differ_in_strategy():
    presets = [
        load_scenario(SCENARIOS / f"{name}.yaml") for name in ("funnel_heavy", "ripple_heavy", "hybrid")
    ]
    markets = [p.market() for p in presets]
    assert markets[0] == markets[1] == markets[2]
    assert len({p.ads.daily_budget for p in presets}) == 3
    # One word of mouth: ripple_heavy's extra ripple comes from its referral programme, whose
    # reward raises sharing, not from a higher share rate of its own.
    funnel, ripple, hybrid = presets
    assert funnel.sharing == ripple.sharing == hybrid.sharing
    assert not funnel.incentives.enabled
    assert ripple.incentives.amount_referrer > hybrid.incentives.amount_referrer > 0
    assert ripple.incentives.share_uplift_max > 0
    assert set(MARKET_SECTIONS).isdisjoint(STRATEGY_SECTIONS)


def test_yaml_round_trip(tmp_path):
    scenario = load_scenario(SCENARIOS / "hybrid.yaml")
    path = tmp_path / "copy.yaml"
    path.write_text(scenario_to_yaml(scenario))
    assert load(path) == load(path) and load(path).model_dump() == scenario.model_dump()


def problems_of(data=None, overrides=None, text=None, tmp_path=None):
    with pytest.raises(ScenarioError) as caught:
        if text is not None:
            file = tmp_path / "bad.yaml"
            file.write_text(text)
            load_scenario(file, overrides)
        else:
            scenario_from_dict(data)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        ({"ads": {"p_aware": 1.5}}, "ads.p_aware", "must be ≤ 1.0; got 1.5"),
        ({"sharing": {"p_convert": -0.1}}, "sharing.p_convert", "must be ≥ 0.0; got -0.1"),
        ({"ads": {"daily_budget": -5}}, "ads.daily_budget", "must be ≥ 0.0; got -5"),
        ({"ads": {"cpm": 0}}, "ads.cpm", "must be > 0.0; got 0"),
        ({"network": {"kind": "erdos_renyi", "n": 1}}, "network.n", "must be ≥ 2; got 1"),
        ({"network": {"kind": "erdos_renyi", "n": 10, "mean_degree": 12}}, "network", "at most n - 1 = 9"),
        ({"network": {"kind": "barabasi_albert", "n": 5, "m": 5}}, "network", "less than n = 5"),
        ({"network": {"kind": "watts_strogatz", "n": 50, "k": 3}}, "network", "k must be even"),
        ({"network": {"kind": "mesh", "n": 50}}, "network", "kind must be one of"),
        ({"days": "ten"}, "days", "whole number; got 'ten'"),
        ({"ads": {"budget": 5}}, "ads.budget", "unknown key"),
        ({"adds": {}}, "adds", "unknown key"),
        ({"economics": {"gross_margin": float("nan")}}, "economics.gross_margin", "finite"),
        ({"sharing": {"normalisation": "degree"}}, "sharing.normalisation", "'fraction' or 'count'"),
    ],
)
def test_bad_values_name_the_field_the_range_and_the_value(data, path, fragment):
    problems = problems_of(data)
    assert any(p.startswith(path) and fragment in p for p in problems), problems


def test_every_problem_is_listed_at_once():
    problems = problems_of({"ads": {"p_aware": 2, "cpm": -1}, "sharing": {"p_convert": 7}, "bogus": 1})
    assert len(problems) == 4


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ScenarioError, match="must exist"):
        load_scenario(tmp_path / "nope.yaml")
    problems = problems_of(text="ads: [unclosed", tmp_path=tmp_path)
    assert "must be valid YAML" in problems[0] and problems[0].startswith("line ")
    assert "must be a mapping" in problems_of(text="- just\n- a list\n", tmp_path=tmp_path)[0]


def test_overrides_use_dotted_paths_and_are_validated():
    scenario = load_scenario(SCENARIOS / "hybrid.yaml", ["ads.daily_budget=0", "network.n=500"])
    assert scenario.ads.daily_budget == 0 and scenario.network.n == 500
    assert parse_override("sharing.normalisation=count") == ("sharing.normalisation", "count")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(SCENARIOS / "hybrid.yaml", ["ads.nonsense=3"])
    assert str(caught.value.problems[0]).startswith("ads.nonsense: unknown key")
    with pytest.raises(ScenarioError, match=r"section\.field=value"):
        parse_override("no-equals-sign")


def test_targeting_a_community_needs_a_community_graph():
    problems = problems_of({"ads": {"target_community": 2}})
    assert any("needs network.kind = communities" in p for p in problems)
    ok = scenario_from_dict(
        {"network": {"kind": "communities", "n": 100, "n_communities": 4}, "ads": {"target_community": 3}}
    )
    assert ok.ads.target_community == 3
    problems = problems_of(
        {"network": {"kind": "communities", "n": 100, "n_communities": 4}, "ads": {"target_community": 4}}
    )
    assert any("[0, 3]" in p for p in problems)


def test_the_scenario_reference_is_generated_from_the_schema():
    from sim.scenario.docs import render

    reference = (SCENARIOS.parent / "docs" / "scenarios.md").read_text()
    assert reference == render(), "run: python -m sim.scenario.docs > docs/scenarios.md"


def test_an_edge_list_market_runs(tmp_path):
    edges = tmp_path / "friends.csv"
    edges.write_text("source,target\n" + "\n".join(f"{i},{(i + 1) % 50}" for i in range(50)) + "\n")
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(
        "network:\n  kind: edge_list\n  n: 50\n  path: friends.csv\ndays: 20\n"
        "population:\n  share_initial_customers: 0.2\nsharing:\n  rate_share_per_day: 2.0\n  p_convert: 0.5\n"
    )
    result = run(load_scenario(scenario_file))
    assert result.steps["new_sharing"].sum() > 0
