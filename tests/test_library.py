"""sim.ui.library: presets, uploads and the world-sharing rule, as the app explains them."""

from __future__ import annotations

import pytest

from sim import load_scenario
from sim.scenario import MAX_SCENARIO_BYTES, ScenarioError
from sim.ui.library import preset_texts, read_upload, unique_name, world_differences, world_problems
from tests.conftest import SCENARIOS


def test_presets_are_the_scenario_files() -> None:
    texts = preset_texts()
    assert set(texts) == {path.stem for path in SCENARIOS.glob("*.yaml")}
    assert texts["hybrid"] == (SCENARIOS / "hybrid.yaml").read_text()


def test_a_valid_upload_is_read() -> None:
    scenario = read_upload("mine.yaml", (SCENARIOS / "hybrid.yaml").read_bytes())
    assert scenario.name == "hybrid"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "must not be empty"),
        (b"   \n", "must not be empty"),
        (b"x" * (MAX_SCENARIO_BYTES + 1), f"at most {MAX_SCENARIO_BYTES:,} bytes"),
        (b"ads:\n  daily_budget: [unclosed\n", "must be valid YAML"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "must be valid YAML"),
        (b"just some words", "a scenario must be a mapping"),
        (b"ads:\n  daily_budget: -5\n", "ads.daily_budget: must be ≥ 0"),
        (b"adz:\n  daily_budget: 5\n", "adz: unknown key"),
    ],
)
def test_bad_uploads_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        read_upload("upload.yaml", data)
    assert message in str(caught.value)
    assert caught.value.source == "upload.yaml"


def test_unique_name() -> None:
    assert unique_name("a", {"b": 1}) == "a"
    assert unique_name("a", {"a": 1, "a (2)": 1}) == "a (3)"


def test_world_problems_name_the_differing_settings() -> None:
    funnel = load_scenario(SCENARIOS / "funnel_heavy.yaml")
    ripple = load_scenario(SCENARIOS / "ripple_heavy.yaml")
    assert world_problems({"funnel": funnel, "ripple": ripple}) == []
    bigger = ripple.with_overrides({"network.n": 20_000, "population.churn_alpha": 1.0, "days": 100})
    assert world_differences(funnel, bigger) == ["days=100", "network.n=20000", "population.churn_alpha=1.0"]
    (problem,) = world_problems({"funnel": funnel, "ripple": ripple, "bigger": bigger})
    assert problem.startswith("bigger differs from funnel in: ")
    assert "network.n=20000" in problem
    # Other market sections may differ: a what-if on the same people is still paired.
    churny = ripple.with_overrides({"customers.rel_churn": 2.0})
    assert world_problems({"funnel": funnel, "churny": churny}) == []
