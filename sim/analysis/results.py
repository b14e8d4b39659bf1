"""Running one scenario: ``run`` returns a :class:`RunResult` (step table, ledger, summary)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from sim.analysis.memory import check_memory
from sim.analysis.metrics import METRICS, retention_table, summarise
from sim.engine.model import MarketModel
from sim.scenario import Scenario, scenario_to_yaml
from sim.world.build import World
from sim.world.population import Population

__all__ = ["RunResult", "run"]


@dataclass
class RunResult:
    """Everything one run produced.

    Attributes:
        scenario: the scenario that ran.
        seed: the run seed (every random stream derives from it).
        steps: one row per day (day 0 = the world as built); columns in docs/metrics.md.
        ledger: every money line (day, channel, purpose, flow, amount).
        summary: headline metrics (see :data:`sim.analysis.metrics.METRICS`).
        retention: first-spell retention by age, overall, by cohort and by channel.
        population: the final state arrays (kept only when asked for).
    """

    scenario: Scenario
    seed: int
    steps: pd.DataFrame
    ledger: pd.DataFrame
    summary: dict[str, float]
    retention: pd.DataFrame
    population: Population | None = field(default=None, repr=False)

    def save(self, folder: str | Path) -> list[Path]:
        """Write steps, ledger and retention (Parquet and CSV), summary (JSON) and the scenario."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (("steps", self.steps), ("ledger", self.ledger), ("retention", self.retention)):
            for suffix, writer in ((".parquet", frame.to_parquet), (".csv", frame.to_csv)):
                path = out / f"{name}{suffix}"
                writer(path, index=False)
                written.append(path)
        summary_path = out / "summary.json"
        summary_path.write_text(
            json.dumps(
                {"seed": self.seed, "scenario": self.scenario.name, **_jsonable(self.summary)}, indent=2
            )
        )
        scenario_path = out / "scenario.yaml"
        scenario_path.write_text(scenario_to_yaml(self.scenario))
        return [*written, summary_path, scenario_path]


def _jsonable(summary: dict[str, float]) -> dict[str, Any]:
    """JSON has no NaN or infinity: write them as null and the string "inf"."""
    clean: dict[str, Any] = {}
    for key, value in summary.items():
        if value != value:  # NaN
            clean[key] = None
        elif value in (float("inf"), float("-inf")):
            clean[key] = str(value)
        else:
            clean[key] = value
    return clean


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    world: World | None = None,
    progress: bool = False,
    keep_population: bool = False,
    memory_check: bool = True,
) -> RunResult:
    """Simulate ``scenario`` for its horizon and summarise it.

    Args:
        scenario: a validated scenario (see :func:`sim.load_scenario`).
        seed: run seed; defaults to ``scenario.seed``.
        world: a prebuilt world to run on (strategies compared side by side share one).
        progress: show a progress bar over days.
        keep_population: keep the final state arrays on the result.
        memory_check: when the world is still to be built, first refuse with a
            :class:`~sim.scenario.ScenarioError` a run that will not fit in the memory available
            (:func:`sim.analysis.memory.check_memory`).
    """
    if memory_check and world is None:
        check_memory(scenario)
    model = MarketModel(scenario, seed=seed, world=world)
    days = range(scenario.days)
    for _ in tqdm(days, desc=scenario.name, unit="day", disable=not progress, leave=False):
        model.step()
    steps = model.steps_frame()
    ledger = model.ledger.to_frame()
    spending = ledger[ledger["flow"] == "spend"].groupby("channel")["amount"].sum()
    spend = {str(channel): float(amount) for channel, amount in spending.items()}
    # Metrics are over real people; fake accounts (fraud) are reported by the fraud rules.
    retention = retention_table(model.real_population(), scenario.days)
    summary = summarise(scenario, model.real_population(), steps, spend, retention)
    for rule in model.rules:
        summary.update(rule.summarise(model, steps))
    summary = {name: summary.get(name, math.nan) for name in METRICS}
    return RunResult(
        scenario=scenario,
        seed=model.run_seed,
        steps=steps,
        ledger=ledger,
        summary=summary,
        retention=retention,
        population=model.population if keep_population else None,
    )
