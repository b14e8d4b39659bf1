"""sim.ui.library: presets, uploads and the world-sharing rule, as the app explains them."""

from __future__ import annotations

import tomllib

import pytest

from sim import load_scenario
from sim.scenario import MAX_SCENARIO_BYTES, ScenarioError
from sim.ui.library import (
    MAX_GRAPH_UPLOAD_BYTES,
    attack_line,
    graph_info,
    preset_files,
    preset_texts,
    read_upload,
    read_uploads,
    unique_name,
    upload_digest,
    world_differences,
    world_problems,
)
from sim.world.edge_list import EdgeListError
from tests.conftest import SCENARIOS

CASES = SCENARIOS.parent / "tests" / "data" / "cases"


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


# ------------------------------------------------------------------ uploads with graph files

KARATE_YAML = (SCENARIOS / "karate_club.yaml").read_bytes()
KARATE_TXT = (SCENARIOS / "karate_club.txt").read_bytes()


def test_presets_carry_the_graph_files_beside_them() -> None:
    files = preset_files()
    assert files["karate_club"] == {"karate_club.txt": KARATE_TXT}
    assert "hybrid" not in files  # a generated graph needs no file


def test_a_scenario_uploaded_with_its_edge_list_is_read_with_it() -> None:
    scenarios, problems = read_uploads(
        {"club.yaml": KARATE_YAML, "karate_club.txt": KARATE_TXT, "other.csv": b"0,1\n"}
    )
    assert problems == {}
    scenario = scenarios["club.yaml"]
    assert scenario.attachments == {"karate_club.txt": KARATE_TXT}  # only the file it uses
    info = graph_info(scenario)
    assert info is not None and info.n_people == 34 and info.file == "karate_club.txt"
    assert any("ids start at 1" in note for note in info.notes)


def test_an_upload_naming_a_server_path_is_refused_in_one_line() -> None:
    data = (CASES / "20-upload-path-etc.yaml").read_bytes()
    with pytest.raises(ScenarioError) as caught:
        read_upload("20.yaml", data, {})
    (problem,) = caught.value.problems
    assert str(problem).startswith("network.path: an uploaded scenario can only use files uploaded with it")
    for path in ("../x.txt", "/etc/passwd"):
        text = f"network:\n  kind: edge_list\n  path: {path}\n".encode()
        with pytest.raises(ScenarioError, match="only use files uploaded with it"):
            read_upload("s.yaml", text, {"x.txt": b"0 1\n"})


def test_an_upload_without_its_graph_file_or_with_a_bad_one_is_explained() -> None:
    scenarios, problems = read_uploads({"club.yaml": KARATE_YAML})
    assert scenarios == {}
    assert "must name a file uploaded with the scenario (uploaded: none was)" in str(problems["club.yaml"])
    _, problems = read_uploads({"club.yaml": KARATE_YAML, "karate_club.txt": b"1\n2\n3\n"})
    assert isinstance(problems["club.yaml"], EdgeListError)
    assert "does not look like an edge list" in str(problems["club.yaml"])
    _, problems = read_uploads({"karate_club.txt": KARATE_TXT})
    assert "upload the scenario (YAML) with it" in str(problems["karate_club.txt"])


def test_an_uploaded_graph_file_over_the_limit_is_refused_before_reading() -> None:
    huge = b"0 1\n" * (MAX_GRAPH_UPLOAD_BYTES // 4 + 1)
    with pytest.raises(ScenarioError) as caught:
        read_upload("club.yaml", KARATE_YAML, {"karate_club.txt": huge})
    assert f"at most {MAX_GRAPH_UPLOAD_BYTES / 1e6:,.0f} MB" in str(caught.value)


def test_graph_info_is_none_for_generated_graphs() -> None:
    assert graph_info(load_scenario(SCENARIOS / "hybrid.yaml")) is None


def test_the_servers_upload_limit_is_what_the_app_accepts() -> None:
    config = tomllib.loads((SCENARIOS.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1_000_000 == MAX_GRAPH_UPLOAD_BYTES


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


def test_an_upload_is_known_by_its_content_and_the_graph_it_reads() -> None:
    """Each upload hands over the earlier files again: the fingerprint tells an earlier one apart."""
    club = (SCENARIOS / "karate_club.yaml").read_bytes()
    edges = (SCENARIOS / "karate_club.txt").read_bytes()
    hybrid = (SCENARIOS / "hybrid.yaml").read_bytes()
    first, _ = read_uploads({"club.yaml": club, "karate_club.txt": edges})
    both, problems = read_uploads({"club.yaml": club, "karate_club.txt": edges, "h.yaml": hybrid})
    assert not problems
    assert both["h.yaml"].attachments in ({}, None)  # a generated network carries no graph file
    same = upload_digest(club, first["club.yaml"].attachments)
    assert upload_digest(club, both["club.yaml"].attachments) == same
    assert upload_digest(club, {"karate_club.txt": edges + b"1 34\n"}) != same
    assert upload_digest(hybrid) != upload_digest(hybrid.replace(b"m: 5", b"m: 3"))
