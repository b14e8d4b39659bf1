"""sim.ui.compare_view: the Compare page's run function, and the files that reproduce it from a terminal."""

from __future__ import annotations

import io
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd

from sim import load_scenario
from sim.scenario import scenario_to_yaml
from sim.ui.compare_view import Inputs, reproduction_zip, run_comparison, scenario_filename
from tests.conftest import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]


def _inputs(names: tuple[str, ...], people: int = 800, days: int = 60, seed: int = 77) -> Inputs:
    texts = []
    for name in names:
        scenario = load_scenario(
            SCENARIOS / f"{name}.yaml", {"network.n": people, "days": days, "seed": seed, "name": name}
        )
        texts.append((name, scenario_to_yaml(scenario)))
    return Inputs(texts=tuple(texts), replications=2, seed=seed)


def test_the_command_line_reproduces_the_page(tmp_path: Path) -> None:
    inputs = _inputs(("funnel_heavy", "ripple_heavy"))
    view = run_comparison(inputs)
    with zipfile.ZipFile(io.BytesIO(reproduction_zip(view.reproduce))) as archive:
        archive.extractall(tmp_path)
    command = (tmp_path / "command.txt").read_text().strip()
    assert command.startswith("ripple compare funnel_heavy.yaml ripple_heavy.yaml --replications 2 --seed 77")
    argv = [sys.executable, "-m", "sim.cli", *shlex.split(command)[1:]]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    cli = pd.read_csv(tmp_path / "results" / "runs.csv")
    page = pd.read_csv(io.BytesIO(view.downloads["runs.csv"]))
    pd.testing.assert_frame_equal(cli, page)
    # Each YAML carries the page's People, Days and Seed.
    scenario = load_scenario(tmp_path / "funnel_heavy.yaml")
    assert (scenario.network.n, scenario.days, scenario.seed, scenario.name) == (800, 60, 77, "funnel_heavy")


def test_file_names_need_no_quoting() -> None:
    assert scenario_filename("hybrid (2)") == "hybrid_2.yaml"
    assert scenario_filename("été & co") == "t_co.yaml"
    assert scenario_filename("...") == "strategy.yaml"
