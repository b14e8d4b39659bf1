"""The ``ripple`` command: summaries, comparisons and one line per problem for bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sim.cli import app
from tests.conftest import SCENARIOS

runner = CliRunner()
HYBRID = str(SCENARIOS / "hybrid.yaml")
SMALL = ["--set", "network.n=1500", "--set", "days=30"]


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_run_prints_a_summary_and_writes_outputs(tmp_path):
    result = invoke("run", HYBRID, "--seed", "7", *SMALL, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "cac_blended" in result.output and "top20_revenue_share" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["seed"] == 7
    for name in ("steps.parquet", "steps.csv", "ledger.parquet", "retention.csv", "scenario.yaml"):
        assert (tmp_path / "out" / name).exists()


def test_compare_prints_means_and_paired_differences(tmp_path):
    result = invoke(
        "compare",
        str(SCENARIOS / "funnel_heavy.yaml"),
        str(SCENARIOS / "ripple_heavy.yaml"),
        "-r",
        "2",
        *SMALL,
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "Paired difference vs funnel_heavy" in result.output
    assert (tmp_path / "paired.csv").exists()


def test_validate_lists_every_problem_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("ads:\n  p_aware: 1.7\n  cpm: -2\nnetwork:\n  kind: erdos_renyi\n  n: 1\nextra: 3\n")
    result = invoke("validate", HYBRID, str(bad))
    assert result.exit_code == 2
    lines = [line.strip() for line in result.output.splitlines()]
    assert any(line.startswith("ads.p_aware: must be ≤ 1.0; got 1.7") for line in lines)
    assert any(line.startswith("ads.cpm: must be > 0.0; got -2") for line in lines)
    assert any(line.startswith("network.n: must be ≥ 2; got 1") for line in lines)
    assert any(line.startswith("extra: unknown key") for line in lines)
    assert "Traceback" not in result.output


def test_user_errors_never_show_a_traceback(tmp_path):
    missing = invoke("run", str(tmp_path / "missing.yaml"))
    assert missing.exit_code == 2 and "must exist" in missing.output
    wrong_type = invoke("run", HYBRID, "--set", "days=abc")
    assert wrong_type.exit_code == 2 and "days: must be a whole number; got 'abc'" in wrong_type.output
    too_dense = invoke("run", HYBRID, "--set", "network.n=4")
    assert too_dense.exit_code == 2 and "m must be less than n = 4" in too_dense.output
    for result in (missing, wrong_type, too_dense):
        assert "Traceback" not in result.output


def test_a_malformed_edge_list_is_summarised_with_its_line(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("0 1\n1 2\nbanana\n2 99\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"network:\n  kind: edge_list\n  path: {edges.name}\ndays: 3\n")
    result = invoke("run", str(scenario))
    assert result.exit_code == 2, result.output
    assert "1 of 4 lines are not ties" in result.output
    assert "line 3: one field (a tie needs two ids)" in result.output
    assert "likely fix:" in result.output
    assert "Traceback" not in result.output


def test_validate_checks_the_graph_file_and_its_people_count(tmp_path):
    (tmp_path / "edges.txt").write_text("0 1\n1 x\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("network:\n  kind: edge_list\n  n: 5\n  path: edges.txt\n")
    result = invoke("validate", str(scenario))
    assert result.exit_code == 2 and "network.n is 5, but the file holds 3 people" in result.output
    assert "leave network.n out" in result.output
    missing = tmp_path / "m.yaml"
    missing.write_text("network:\n  kind: edge_list\n  path: nowhere.txt\n")
    result = invoke("validate", str(missing))
    assert result.exit_code == 2 and "file not found" in result.output


def test_validate_and_run_print_the_graph_files_notes(tmp_path):
    karate = str(SCENARIOS / "karate_club.yaml")
    checked = invoke("validate", karate)
    assert checked.exit_code == 0, checked.output
    text = " ".join(checked.output.split())  # rich wraps long lines
    assert "karate-club (edge_list, 34 people, 180 days)" in text
    assert "note: the file's ids start at 1" in text
    ran = invoke("run", karate, "--set", "days=20", "--out", str(tmp_path / "out"))
    assert ran.exit_code == 0, ran.output
    text = " ".join(ran.output.split())
    assert "34 people" in text and "note: the file's ids start at 1" in text
    lines = (tmp_path / "out" / "node_ids.csv").read_text().splitlines()
    assert lines[:2] == ["person,node_id", "0,1"] and len(lines) == 35


def test_a_graph_file_that_is_a_device_is_refused_without_waiting(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("network:\n  kind: edge_list\n  path: /dev/zero\n")
    result = invoke("validate", str(scenario))
    assert result.exit_code == 2 and "is not a regular file" in result.output


def test_metrics_of_levers_that_are_off_are_hidden_unless_asked_for():
    quiet = invoke("run", HYBRID, *SMALL)
    everything = invoke("run", HYBRID, *SMALL, "--all-metrics")
    assert quiet.exit_code == 0 and everything.exit_code == 0, quiet.output + everything.output
    assert "loyalty_breakage" not in quiet.output and "loyalty_breakage" in everything.output
    assert "profit" in quiet.output and "hidden (--all-metrics shows them)" in quiet.output
    assert "hidden" not in everything.output


def test_compare_on_two_workers_prints_what_one_worker_prints():
    args = ("compare", HYBRID, str(SCENARIOS / "funnel_heavy.yaml"), "-r", "2", *SMALL)
    one, two = invoke(*args), invoke(*args, "--workers", "2")
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    assert one.output == two.output


# ------------------------------------------------------------------------------ hostile input

DATA = SCENARIOS.parent / "tests" / "data"


def _one_line_refusal(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


def test_hostile_yaml_ends_in_one_clean_line_from_run_and_validate(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("network: " + "[" * 600 + "]" * 600 + "\n")
    huge = tmp_path / "huge.yaml"
    huge.write_text("days: " + "9" * 5000 + "\n")
    for command in ("run", "validate"):
        _one_line_refusal(
            invoke(command, str(DATA / "22-yaml-alias-bomb.yaml")), "aliases (*name) may repeat"
        )
        _one_line_refusal(invoke(command, str(DATA / "09-yaml-duplicate-keys.yaml")), "ads: is given twice")
        _one_line_refusal(
            invoke(command, str(DATA / "24-yaml-yes-as-number.yaml")), "must be a number; got 'yes'"
        )
        _one_line_refusal(invoke(command, str(deep)), "must nest at most")
        _one_line_refusal(invoke(command, str(huge)), "at most 100 digits")


def test_a_graph_that_cannot_fit_is_refused_before_it_is_built():
    """Case 25: 100,000 people with a mean degree of 99,999 validated, then needed ~37 GiB."""
    for command in ("validate", "run"):
        result = invoke(command, str(DATA / "25-huge-graph-accepted.yaml"))
        _one_line_refusal(result, "network: must fit in memory", "4,999,950,000 edges", "available")
    # The check can be skipped; validate then only checks the values (it builds nothing).
    result = invoke("validate", str(DATA / "25-huge-graph-accepted.yaml"), "--no-memory-check")
    assert result.exit_code == 0 and "100,000 people" in result.output


def test_error_lines_show_user_text_as_typed_and_never_as_markup(monkeypatch):
    name = ":x: [bold red]loud[/] :thumbs_up:"
    result = invoke("validate", HYBRID, "--set", f"name={name}")
    assert result.exit_code == 0 and name in result.output and "❌" not in result.output
    result = invoke("run", HYBRID, "--set", "ads.p_aware=':x: [red]no[/]'", *SMALL)
    assert result.exit_code == 2
    assert "error: " in result.output and "[bold red]" not in result.output
    assert "got ':x: [red]no[/]'" in result.output and "❌" not in result.output

    def broken(*args, **kwargs):
        raise RuntimeError("boom [bold]x[/] :x:\nsecond line")

    monkeypatch.setattr("sim.cli.run", broken)
    result = invoke("run", HYBRID, *SMALL)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == ["error: RuntimeError: boom [bold]x[/] :x: (run with --debug for details)"]


def test_validate_turns_any_failure_into_one_line_and_debug_shows_it(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr("sim.cli.load_scenario", broken)
    result = invoke("validate", HYBRID)
    assert result.exit_code == 2 and "RuntimeError: unexpected" in result.output
    assert "Traceback" not in result.output
    debug = invoke("validate", HYBRID, "--debug")
    assert isinstance(debug.exception, RuntimeError)


def test_set_on_a_default_network_section_works_from_the_command_line(tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text("days: 5\n")
    result = invoke("validate", str(bare), "--set", "network.n=2000", "--set", "loyalty.membership=off")
    assert result.exit_code == 0, result.output
    assert "barabasi_albert, 2,000 people" in result.output


@pytest.fixture(scope="module")
def store_folder(tmp_path_factory):
    from sim.sweep import sweep
    from tests.sweep_helpers import write_experiment

    folder = tmp_path_factory.mktemp("query")
    path = write_experiment(folder, factors={"ads.daily_budget": {"values": [0.0, 5.0]}}, replications=1)
    return sweep(path, out=folder / "store", workers=1, progress=False).path


def test_query_reaches_nothing_outside_the_store_unless_allowed(store_folder, tmp_path):
    ok = invoke("query", str(store_folder), "select count(*) as n from runs", "--csv")
    assert ok.exit_code == 0 and ok.output.splitlines() == ["n", "2"]
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    copied = tmp_path / "copy.csv"
    for sql in (
        f"select * from read_csv('{secret}')",
        f"copy runs to '{copied}'",
        "set enable_external_access = true",
        f"attach '{tmp_path / 'x.db'}'",
    ):
        result = invoke("query", str(store_folder), sql)
        assert result.exit_code == 2, (sql, result.output)
        assert "Traceback" not in result.output and "hunter2" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert not copied.exists()
    refused = invoke("query", str(store_folder), f"select * from read_csv('{secret}')")
    assert "pass --allow-external" in refused.output
    allowed = invoke(
        "query", str(store_folder), f"select * from read_csv('{secret}')", "--csv", "--allow-external"
    )
    assert allowed.exit_code == 0 and "hunter2" in allowed.output


def test_the_store_query_function_is_safe_by_default(store_folder, tmp_path):
    import duckdb

    from sim.sweep import open_store

    store = open_store(store_folder)
    assert len(store.query("select * from runs")) == 2
    with pytest.raises(duckdb.PermissionException):
        store.query(f"copy runs to '{tmp_path / 'x.csv'}'")
    assert not (tmp_path / "x.csv").exists()
    store.query(f"copy runs to '{tmp_path / 'x.csv'}'", allow_external=True)
    assert (tmp_path / "x.csv").exists()
