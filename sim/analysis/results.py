"""Running one scenario: ``run`` returns a :class:`RunResult` (step table, ledger, summary)."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from sim.analysis.memory import check_memory
from sim.analysis.metrics import AD_CHANNEL_COLUMNS, METRICS, ad_channel_table, retention_table, summarise
from sim.analysis.orders import customer_summary, order_log_estimate
from sim.engine.model import MarketModel
from sim.scenario import Scenario, scenario_to_yaml
from sim.world.build import World
from sim.world.population import Population

__all__ = ["RunResult", "run"]

_log = logging.getLogger(__name__)


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
        n_people: real people in the market (``network.n``, or the people of the graph file).
        node_ids: for a graph read from a file, the file's id of each person: a Series indexed by
            ``person`` (the row every per-person output uses, 0..n−1) named ``node_id``; None for a
            generated graph (person ``i`` is node ``i``). ``save`` writes it as ``node_ids.csv``.
        notes: what reading the graph file changed or assumed (self-loops dropped, ids renumbered…).
        orders: every order (customer id, day, amount, first channel, referrer), kept only when
            asked for (``keep_orders``); docs/metrics.md, "Order log".
        customers: the per-customer summary CLV libraries take (frequency, recency, T,
            monetary_value; days), with ``orders``.
        channels: our paid channels over the run, one row each: spend, impressions, reach, sign-ups,
            customers and CAC (:func:`sim.analysis.metrics.ad_channel_table`; docs/metrics.md).
    """

    scenario: Scenario
    seed: int
    steps: pd.DataFrame
    ledger: pd.DataFrame
    summary: dict[str, float]
    retention: pd.DataFrame
    population: Population | None = field(default=None, repr=False)
    n_people: int = 0
    node_ids: pd.Series | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    orders: pd.DataFrame | None = field(default=None, repr=False)
    customers: pd.DataFrame | None = field(default=None, repr=False)
    channels: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(AD_CHANNEL_COLUMNS)))

    def save(self, folder: str | Path) -> list[Path]:
        """Write steps, ledger, retention, paid channels (Parquet, CSV), summary (JSON) and the scenario.

        For a graph read from a file, also ``node_ids.csv`` (columns ``person``, ``node_id``): joins any
        per-person result back to the file's own ids.
        With the order log kept, also ``orders.parquet`` and ``customers.parquet`` (Parquet only:
        the log has a row per order).
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        frames = (
            ("steps", self.steps),
            ("ledger", self.ledger),
            ("retention", self.retention),
            ("channels", self.channels),
        )
        for name, frame in frames:
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
        written += [summary_path, scenario_path]
        if self.node_ids is not None:
            ids_path = out / "node_ids.csv"
            self.node_ids.reset_index().to_csv(ids_path, index=False)
            written.append(ids_path)
        for name, table in (("orders", self.orders), ("customers", self.customers)):
            if table is not None:
                path = out / f"{name}.parquet"
                table.to_parquet(path, index=False)
                written.append(path)
        return written


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
    keep_orders: bool = False,
    memory_check: bool = True,
) -> RunResult:
    """Simulate ``scenario`` for its horizon and summarise it.

    Args:
        scenario: a validated scenario (see :func:`sim.load_scenario`).
        seed: run seed; defaults to ``scenario.seed``.
        world: a prebuilt world to run on (strategies compared side by side share one).
        progress: show a progress bar over days.
        keep_population: keep the final state arrays on the result.
        keep_orders: keep every order and the per-customer summary on the result (``orders``,
            ``customers``); :func:`sim.analysis.orders.order_log_estimate` bounds its size, and
            the run logs that bound (logger ``sim.analysis.results``, level INFO) before it starts.
        memory_check: when the world is still to be built, first refuse with a
            :class:`~sim.scenario.ScenarioError` a run that will not fit in the memory available
            (:func:`sim.analysis.memory.check_memory`).
    """
    if memory_check and world is None:
        check_memory(scenario)
    if keep_orders:
        n_orders, n_bytes = order_log_estimate(scenario)
        _log.info("order log: at most about %s orders, %.1f MB in memory", f"{n_orders:,}", n_bytes / 1e6)
    model = MarketModel(scenario, seed=seed, world=world, keep_orders=keep_orders)
    days = range(scenario.days)
    for _ in tqdm(days, desc=scenario.name, unit="day", disable=not progress, leave=False):
        model.step()
    steps = model.steps_frame()
    ledger = model.ledger.to_frame()
    # Spend by channel, net of money taken back on it (clawed-back or recovered referral rewards).
    signed = ledger["amount"].where(ledger["flow"] == "spend", -ledger["amount"])
    spending = signed[ledger["channel"] != "sales"].groupby(ledger["channel"]).sum()
    spend = {str(channel): float(amount) for channel, amount in spending.items()}
    # Metrics are over real people; fake accounts (fraud) are reported by the fraud rules.
    retention = retention_table(model.real_population(), scenario.days)
    summary = summarise(scenario, model.real_population(), steps, spend, retention)
    for rule in model.rules:
        summary.update(rule.summarise(model, steps))
    summary = {name: summary.get(name, math.nan) for name in METRICS}
    orders = model.orders_frame() if keep_orders else None
    channels = ad_channel_table(scenario, model.real_population(), steps)
    return RunResult(
        scenario=scenario,
        seed=model.run_seed,
        steps=steps,
        ledger=ledger,
        summary=summary,
        retention=retention,
        population=model.population if keep_population else None,
        n_people=model.n_real,
        node_ids=_node_id_series(model.world.node_ids),
        notes=model.world.notes,
        orders=orders,
        customers=customer_summary(orders, scenario.days) if orders is not None else None,
        channels=channels,
    )


def _node_id_series(node_ids: Any) -> pd.Series | None:
    """The file's ids as a Series indexed by person (a view of the world's array, not a copy)."""
    if node_ids is None:
        return None
    index = pd.RangeIndex(len(node_ids), name="person")
    return pd.Series(node_ids, index=index, name="node_id", copy=False)
