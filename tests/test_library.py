"""sim.ui.library: presets, uploads and the world-sharing rule, as the app explains them."""

from __future__ import annotations

import pytest

from sim import load_scenario
from sim.scenario import MAX_SCENARIO_BYTES, ScenarioError
from sim.ui.library import (
    attack_line,
    preset_texts,
    read_upload,
    unique_name,
    world_differences,
    world_problems,
)
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
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "must be a text file"),
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
    # Which strategy has which value, both ways.
    assert problem.startswith("bigger has days=100, network.n=20000, population.churn_alpha=1.0; funnel has ")
    assert "funnel has days=365, network.n=10000, population.churn_alpha=0.704" in problem
    # Other market sections may differ: a what-if on the same people is still paired.
    churny = ripple.with_overrides({"customers.rel_churn": 2.0})
    assert world_problems({"funnel": funnel, "churny": churny}) == []


def test_strategies_may_differ_in_the_attack_and_it_is_said_in_one_line() -> None:
    honest = load_scenario(SCENARIOS / "two_sided_credit.yaml")
    attack = load_scenario(SCENARIOS / "coupon_farming_attack.yaml")
    defended = load_scenario(SCENARIOS / "coupon_farming_defended.yaml")
    assert world_problems({"honest": honest, "attack": attack}) == []
    line = attack_line({"honest": honest, "attack": attack})
    assert line is not None and line.startswith("The attack differs: honest faces no attack; attack faces ")
    assert f"{attack.fraud.n_attackers} attackers with {attack.fraud.n_fake_accounts:,} fake accounts" in line
    assert "\n" not in line
    assert attack_line({"attack": attack, "defended": defended}) is None  # the same attackers


@pytest.mark.parametrize(
    "data",
    [
        bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x98, 0xFF]),  # a PNG's first bytes
        b"PK\x03\x04\x14\x00\x06\x00",  # a zip (an .xlsx)
        b"name: x\x00\n",  # UTF-8 with a NUL
        "name: caf\u00e9\n".encode("latin-1"),  # not UTF-8
    ],
)
def test_binary_upload_is_refused_in_plain_words(data: bytes) -> None:
    with pytest.raises(ScenarioError) as caught:
        read_upload("picture.png", data)
    (problem,) = caught.value.problems
    assert "must be a text file" in problem.allowed and "binary data" in problem.given
    assert "#x" not in str(caught.value)
