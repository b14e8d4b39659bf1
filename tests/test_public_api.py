"""The public surface stays put: ``sim.__all__`` and the ``ripple`` commands."""

from __future__ import annotations

import typer.main

import sim
from sim.cli import app

PUBLIC_API = [
    "Comparison",
    "MarketModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "compare",
    "fit",
    "load_scenario",
    "run",
    "sweep",
]

COMMANDS = ["app", "compare", "fit", "optimise", "query", "report", "run", "sweep", "validate"]


def test_sim_all_is_pinned() -> None:
    assert sorted(sim.__all__) == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(sim, name) is not None


def test_cli_commands_are_pinned() -> None:
    group = typer.main.get_command(app)
    assert sorted(group.commands) == COMMANDS  # type: ignore[attr-defined]
