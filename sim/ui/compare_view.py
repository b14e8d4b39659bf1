"""What the Compare page shows for one set of inputs, computed once, away from the page.

:func:`run_comparison` is the page's run function: it parses the strategies, runs
:func:`sim.analysis.compare.compare` (reporting progress, which is also where a cancel lands) and
shapes everything the page draws (verdict, headline cards, curves, tables, downloads) so a cached
result is drawn without recomputing anything. :func:`reproduction` gives the files and the
``ripple compare`` command line that reproduce the same numbers from a terminal.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.analysis import report
from sim.analysis.compare import Comparison, compare
from sim.analysis.market import market_share_over_time, spend_over_time
from sim.scenario import Scenario, scenario_from_text, scenario_to_yaml
from sim.ui import viz
from sim.world.build import people_in

__all__ = [
    "ComparisonView",
    "Inputs",
    "command_line",
    "reproduction",
    "reproduction_zip",
    "run_comparison",
    "scenario_filename",
]


@dataclass(frozen=True)
class Inputs:
    """A comparison as the page asks for it: strategies as (name, YAML text), replications, seed.

    The texts already carry the page's People (``network.n``), Days and Seed, so equal inputs are
    equal keys: the job board reuses results by them.
    """

    texts: tuple[tuple[str, str], ...]
    replications: int
    seed: int
    #: Each strategy's files (its sandbox: the graph file it may read), ``(name, ((file, bytes), …))``.
    files: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...] = ()

    @property
    def names(self) -> list[str]:
        """Strategy names, the baseline first."""
        return [name for name, _ in self.texts]

    @property
    def key(self) -> tuple[Any, ...]:
        """The inputs as plain tuples, for keeping results by: equal across module reloads.

        Streamlit's file watcher re-imports this module when a source file changes; an ``Inputs`` of
        the new class never equals one of the old, so results kept under ``Inputs`` would be lost.
        """
        return (self.texts, self.replications, self.seed, self.files)

    @property
    def runs(self) -> int:
        """Runs the comparison makes (strategies × replications)."""
        return len(self.texts) * self.replications

    def scenarios(self) -> dict[str, Scenario]:
        """The strategies, parsed and validated (raises ScenarioError)."""
        files = dict(self.files)
        return {
            name: scenario_from_text(text, source=name, attachments=dict(files.get(name, ())))
            for name, text in self.texts
        }


@dataclass
class ComparisonView:
    """Everything the Compare page draws for one comparison (see :mod:`sim.analysis.report`)."""

    inputs: Inputs
    comparison: Comparison
    currency: str
    people: int
    days: int
    verdict: list[str]
    cards: dict[str, list[report.Card]]
    cumulative: pd.DataFrame
    cac: pd.DataFrame
    profit: pd.DataFrame
    spend: pd.DataFrame
    market_share: pd.DataFrame
    retention: dict[str, pd.DataFrame]
    tables: dict[bool, pd.DataFrame]
    downloads: dict[str, bytes]
    reproduce: dict[str, str | bytes] = field(default_factory=dict)
    charts: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: Budgets a strategy could not spend, in sentences (shown with the answer: profit counts spend).
    budget_notes: list[str] = field(default_factory=list)


def run_comparison(
    inputs: Inputs, progress: Callable[[int, int], None] | None = None, workers: int = 1
) -> ComparisonView:
    """Run the comparison ``inputs`` describe and shape what the page shows.

    ``progress(done, total)`` is called after each run; an exception it raises stops the comparison
    (the page's Cancel). ``workers`` processes share the runs (the numbers do not depend on it).
    """
    named = inputs.scenarios()
    comparison = compare(named, inputs.replications, inputs.seed, on_run=progress, workers=workers)
    baseline = named[comparison.baseline]
    currency = baseline.economics.currency
    view = ComparisonView(
        inputs=inputs,
        comparison=comparison,
        currency=currency,
        people=people_in(baseline),
        days=int(baseline.days),
        verdict=report.verdict(comparison, currency, named),
        cards=report.headline_cards(comparison, currency, named),
        cumulative=report.cumulative_by_channel(comparison),
        cac=report.cac_by_channel(comparison),
        profit=report.profit_over_time(comparison),
        spend=spend_over_time(comparison),
        market_share=market_share_over_time(comparison),
        retention={by: report.retention_curves(comparison, by) for by in ("channel", "cohort")},
        tables={
            everything: report.metric_table(comparison, currency, only_active=not everything)
            for everything in (False, True)
        },
        downloads=report.comparison_downloads(comparison),
        reproduce=reproduction(inputs, named),
        budget_notes=report.unspent_budget_notes(comparison, currency),
    )
    view.charts = charts(view)
    return view


def charts(view: ComparisonView) -> dict[str, dict[str, Any] | None]:
    """The page's charts as finished Vega-Lite specifications (None where there is nothing to draw).

    Built once with the result, so drawing a stored comparison again costs no chart building.
    """
    strategies = view.comparison.strategies
    out: dict[str, dict[str, Any] | None] = {
        "profit": viz.profit_chart(view.profit, strategies, view.currency),
        "cumulative": None if view.cumulative.empty else viz.cumulative_chart(view.cumulative, strategies),
        "cac": None if view.cac.empty else viz.cac_chart(view.cac, strategies, view.currency),
        "spend": None if view.spend.empty else viz.spend_chart(view.spend, strategies, view.currency),
        "market_share": None
        if view.market_share.empty
        else viz.market_share_chart(view.market_share, strategies),
    }
    for group_by, curves in view.retention.items():
        drawable = not curves.empty and curves["age_days"].nunique() > 1
        out[f"retention_{group_by}"] = viz.retention_chart(curves, strategies, group_by) if drawable else None
    return out


def scenario_filename(name: str) -> str:
    """A file name for ``name`` that a shell reads unquoted: ``hybrid (2)`` → ``hybrid_2.yaml``."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "strategy"
    return f"{stem}.yaml"


def command_line(inputs: Inputs, workers: int = 2) -> str:
    """The ``ripple compare`` command that reproduces ``inputs`` from the downloaded scenario files."""
    files = " ".join(_filenames(inputs.names))
    return (
        f"ripple compare {files} --replications {inputs.replications} --seed {inputs.seed} "
        f"--workers {workers} --out results"
    )


def _filenames(names: list[str]) -> list[str]:
    """Distinct file names for ``names`` (``a.yaml``, ``a_2.yaml`` if two names clean to the same)."""
    out: list[str] = []
    for name in names:
        filename, k = scenario_filename(name), 2
        while filename in out:
            filename, k = scenario_filename(f"{name}_{k}"), k + 1
        out.append(filename)
    return out


def reproduction(inputs: Inputs, named: Mapping[str, Scenario] | None = None) -> dict[str, str | bytes]:
    """The files that reproduce ``inputs``: a YAML (and graph file) per strategy, the command, a README.

    Each YAML is the strategy as compared (People, Days and Seed included, named as on the page), so
    ``ripple compare`` labels and computes exactly what the page shows; a strategy whose graph comes
    from a file gets that file beside it, under the name its ``network.path`` gives.
    """
    named = named or inputs.scenarios()
    files: dict[str, str | bytes] = {}
    for filename, (name, scenario) in zip(_filenames(list(named)), named.items(), strict=True):
        files[filename] = scenario_to_yaml(scenario.model_copy(update={"name": name}))
        files.update(scenario.attachments or {})
    command = command_line(inputs)
    files["command.txt"] = command + "\n"
    files["README.txt"] = (
        "These scenario files reproduce a comparison made in Ripple's app.\n"
        "In this folder, run:\n\n"
        f"    {command}\n\n"
        "results/runs.csv then holds the same numbers as the app's runs.csv.\n"
    )
    return files


def reproduction_zip(files: Mapping[str, str | bytes]) -> bytes:
    """``files`` (name → text or bytes) as a zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()
