"""Experiment files: designs produce the expected run sets; bad files are refused with clear messages."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.analysis.compare import replication_seeds
from sim.cli import app
from sim.scenario import ScenarioError
from sim.sweep import experiment_from_dict, load_experiment, make_design, plan, run_id
from tests.sweep_helpers import write_experiment


def test_grid_runs_every_combination_times_every_replication(tmp_path):
    experiment = load_experiment(write_experiment(tmp_path))
    the_plan = plan(experiment)
    budgets, rewards = [0.0, 5.0, 20.0], [0.0, 10.0]
    assert make_design(experiment).points == [
        {"ads.daily_budget": b, "incentives.amount_referrer": r}
        for b, r in itertools.product(budgets, rewards)
    ]
    design = the_plan.design
    assert len(design) == 6 * 2 and len(the_plan.tasks) == 12
    # Every replication of every point uses that replication's seed, spawned from the root seed.
    assert sorted(set(design["seed"])) == sorted(replication_seeds(5, 2))
    assert (design.groupby("replicate")["seed"].nunique() == 1).all()
    # Run ids are the hash of the parameters and the seed: distinct here, and reproducible.
    assert design["run_id"].is_unique
    base = experiment.base_scenario
    first = design.iloc[3]
    scenario = base.with_overrides({"ads.daily_budget": 5.0, "incentives.amount_referrer": 10.0})
    assert first["run_id"] == run_id(scenario, int(first["seed"]))
    assert run_id(scenario, int(first["seed"]) + 1) != first["run_id"]
    # Runs sharing a world (same replication seed, market untouched) are neighbours in the task list.
    assert [task.replicate for task in the_plan.tasks] == [0] * 6 + [1] * 6


def test_random_design_draws_within_ranges_reproducibly(tmp_path):
    path = write_experiment(
        tmp_path,
        factors={"days": {"low": 20, "high": 40}, "ads.target": {"values": ["everyone", "prospects"]}},
        design={"kind": "random", "samples": 25, "seed": 9},
        replications=1,
    )
    points = make_design(load_experiment(path)).points
    assert len(points) == 25
    days = [p["days"] for p in points]
    assert all(isinstance(d, int) and 20 <= d <= 40 for d in days)  # a whole-number field stays whole
    assert len(set(days)) > 5
    assert {p["ads.target"] for p in points} == {"everyone", "prospects"}
    assert make_design(load_experiment(path)).points == points
    other = write_experiment(
        tmp_path,
        name="other",
        factors={"days": {"low": 20, "high": 40}},
        design={"kind": "random", "samples": 25, "seed": 10},
    )
    assert [p["days"] for p in make_design(load_experiment(other)).points] != days


@pytest.mark.parametrize(("second_order", "rows_per_sample"), [(False, 3 + 2), (True, 2 * 3 + 2)])
def test_sobol_design_has_saltelli_rows(tmp_path, second_order, rows_per_sample):
    factors = {
        "ads.daily_budget": {"low": 0, "high": 20},
        "sharing.p_convert": {"low": 0.01, "high": 0.2},
        "ads.cpm": {"low": 4, "high": 12},
    }
    path = write_experiment(
        tmp_path, factors=factors, design={"kind": "sobol", "samples": 16, "second_order": second_order}
    )
    design = make_design(load_experiment(path))
    assert len(design.points) == 16 * rows_per_sample
    assert design.sample is not None and design.sample.shape == (16 * rows_per_sample, 3)
    values = np.array([[p[name] for name in factors] for p in design.points])
    assert np.allclose(values, design.sample)
    assert (values[:, 0] >= 0).all() and (values[:, 0] <= 20).all()
    assert len(plan(load_experiment(path)).tasks) == 16 * rows_per_sample * 2


def test_morris_design_has_trajectories(tmp_path):
    path = write_experiment(
        tmp_path,
        factors={"ads.daily_budget": {"low": 0, "high": 20}, "sharing.p_convert": {"low": 0.01, "high": 0.2}},
        design={"kind": "morris", "samples": 5, "levels": 4},
        replications=1,
    )
    design = make_design(load_experiment(path))
    assert len(design.points) == 5 * (2 + 1)
    # Morris points repeat across trajectories; one run serves every row with the same id.
    the_plan = plan(load_experiment(path))
    assert len(the_plan.tasks) == the_plan.design["run_id"].nunique() <= 15


def _problems(path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_experiment(path)
    return [str(problem) for problem in caught.value.problems]


def test_bad_experiment_values_are_listed_with_path_range_and_value(tmp_path):
    path = write_experiment(
        tmp_path,
        replications=0,
        factorz={},
        factors={"ads.daily_budjet": {"values": [1]}, "sharing.p_convert": {"low": 0.5, "high": 0.1}},
        design={"kind": "sobol"},
        metrics=["profit", "proffit"],
    )
    problems = _problems(path)
    assert "replications: must be ≥ 1; got 0" in problems
    assert any(p.startswith("factorz: unknown key") and "docs/sweeps.md" in p for p in problems)
    assert any("low must be < high; got low = 0.5, high = 0.1" in p for p in problems)
    # The pydantic stage stops here; the next stage checks paths and names against the scenario.
    fixed = write_experiment(
        tmp_path,
        name="second",
        factors={"ads.daily_budjet": {"values": [1]}, "ads.target": {"low": 0, "high": 1}},
        design={"kind": "sobol", "samples": 12},
        metrics=["profit", "proffit"],
    )
    problems = _problems(fixed)
    assert any(
        p.startswith("factors.ads.daily_budjet: must be the dotted path of a scenario field")
        and "did you mean ads.daily_budget?" in p
        for p in problems
    )
    assert any(p.startswith("factors.ads.target: a low/high range needs a numeric field") for p in problems)
    assert "design.samples: sobol: must be a power of 2; got 12" in problems
    assert any(p.startswith("metrics[1]: must be a metric name") and "'proffit'" in p for p in problems)


def test_every_design_point_must_be_a_valid_scenario(tmp_path):
    path = write_experiment(tmp_path, factors={"ads.cpm": {"values": [8, -1, 0]}})
    problems = _problems(path)
    assert problems == [
        "design point 1 (ads.cpm=-1): ads.cpm: must be > 0.0; got -1",
        "design point 2 (ads.cpm=0): ads.cpm: must be > 0.0; got 0",
    ]


def test_bad_base_scenario_overrides_are_named(tmp_path):
    path = write_experiment(tmp_path, scenario={"network.n": 1, "days": 30})
    problems = _problems(path)
    assert any(p.startswith("base (") and "network.n: must be ≥ 2; got 1" in p for p in problems)


def test_cli_refuses_a_bad_experiment_without_a_traceback(tmp_path):
    path = write_experiment(tmp_path, metrics=["profit", "nope"])
    result = CliRunner().invoke(app, ["sweep", str(path), "--workers", "1", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "metrics[1]: must be a metric name" in " ".join(result.output.split())
    assert "Traceback" not in " ".join(result.output.split())
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("name: [unclosed\n")
    result = CliRunner().invoke(app, ["sweep", str(garbage)])
    assert result.exit_code == 2 and "must be valid YAML" in " ".join(result.output.split())


def test_dry_run_prints_the_number_of_runs_and_runs_nothing(tmp_path):
    path = write_experiment(tmp_path)
    store = tmp_path / "store"
    result = CliRunner().invoke(app, ["sweep", str(path), "--dry-run", "--workers", "2", "--out", str(store)])
    assert result.exit_code == 0, result.output
    assert "6 points × 2 replications = 12 runs (12 to run)" in " ".join(result.output.split())
    assert "on 2 worker(s)" in " ".join(result.output.split())
    assert not store.exists()


def test_docs_sweeps_md_is_the_fresh_render():
    from sim.sweep.docs import render
    from tests.conftest import ROOT

    assert (ROOT / "docs" / "sweeps.md").read_text() == render(), (
        "docs/sweeps.md is stale: run python -m sim.sweep.docs > docs/sweeps.md"
    )


def test_every_shipped_experiment_validates():
    from tests.conftest import ROOT

    files = sorted((ROOT / "experiments").glob("*.yaml"))
    assert len(files) >= 4
    readme = (ROOT / "experiments" / "README.md").read_text()
    for path in files:
        experiment = load_experiment(path)
        assert experiment.question, path
        assert f"`{path.name}`" in readme, f"{path.name} needs a README line"


def test_grid_factors_can_move_together(tmp_path):
    path = write_experiment(
        tmp_path,
        factors={
            "ads.daily_budget": {"values": [0.0, 10.0]},
            "ads.p_aware": {"values": [0.01, 0.02, 0.04]},
            "ads.p_consider": {"values": [0.005, 0.01, 0.02]},
        },
        design={"kind": "grid", "together": [["ads.p_aware", "ads.p_consider"]]},
    )
    points = make_design(load_experiment(path)).points
    assert len(points) == 2 * 3
    assert {(p["ads.p_aware"], p["ads.p_consider"]) for p in points} == {
        (0.01, 0.005),
        (0.02, 0.01),
        (0.04, 0.02),
    }
    bad = write_experiment(
        tmp_path,
        name="bad",
        factors={"ads.p_aware": {"values": [0.01, 0.02]}, "ads.p_consider": {"values": [0.01]}},
        design={"kind": "grid", "together": [["ads.p_aware", "ads.p_consider"], ["ads.cpm", "ads.p_aware"]]},
    )
    problems = _problems(bad)
    assert any(
        p.startswith("design.together[0]: factors that move together need as many values") for p in problems
    )
    assert any(p.startswith("design.together[1]: must name factors of this experiment") for p in problems)


def test_factor_paths_can_index_lists():
    from sim.sweep.paths import apply_point, leaf_paths

    data = {"loyalty": {"tiers": [{"name": "base", "threshold": 0}, {"name": "gold", "threshold": 900}]}}
    assert leaf_paths(data) == {
        "loyalty.tiers.0.name": "base",
        "loyalty.tiers.0.threshold": 0,
        "loyalty.tiers.1.name": "gold",
        "loyalty.tiers.1.threshold": 900,
    }
    changed = apply_point(data, {"loyalty.tiers.1.threshold": 1200, "loyalty.days": 30})
    assert changed["loyalty"]["tiers"][1] == {"name": "gold", "threshold": 1200}
    assert changed["loyalty"]["days"] == 30
    assert data["loyalty"]["tiers"][1]["threshold"] == 900  # the base is never changed


def test_retention_vs_acquisition_points_are_the_lessons_budget_splits():
    from sim.analysis.lesson import budget_split
    from sim.sweep.paths import scenario_at
    from tests.conftest import ROOT

    experiment = load_experiment(ROOT / "experiments" / "retention_vs_acquisition.yaml")
    base = experiment.base_scenario
    seen = set()
    for point in make_design(experiment).points:
        total = point["ads.daily_budget"] + point["retention_offers.daily_budget"]
        share = point["retention_offers.daily_budget"] / total
        split = budget_split(base, total, share).with_overrides(
            {"retention_offers.targeting": point["retention_offers.targeting"]}
        )
        assert scenario_at(base, point) == split
        seen.add(share)
    assert seen == {0.0, 0.25, 0.5, 0.75, 1.0}


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "-rf", "a/b", "a\\b", "../up", "x y", ""])
def test_an_experiment_name_is_a_plain_name(tmp_path, name):
    with pytest.raises(ScenarioError) as exc:
        experiment_from_dict({"name": name}, base_dir=tmp_path)
    assert exc.value.problems[0].path == "name"


@pytest.mark.parametrize("store", ["../elsewhere", "/tmp/x", "~/x", "a/../../b", "C:/x", "\\\\server\\x"])
def test_a_store_from_the_file_stays_under_sweeps(tmp_path, store):
    with pytest.raises(ScenarioError) as exc:
        experiment_from_dict({"name": "x", "store": store}, base_dir=tmp_path)
    (problem,) = exc.value.problems
    assert problem.path == "store" and problem.allowed.startswith("must be a relative folder under sweeps/")


def test_where_a_store_goes(tmp_path):
    named = experiment_from_dict({"name": "x"}, base_dir=tmp_path)
    assert named.store_path() == Path("sweeps") / "x"
    placed = experiment_from_dict({"name": "x", "store": "team/run-1"}, base_dir=tmp_path)
    assert placed.store_path() == Path("sweeps") / "team" / "run-1"
    assert placed.store_path(tmp_path / "anywhere") == tmp_path / "anywhere"  # only --out leaves sweeps/
