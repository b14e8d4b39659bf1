"""The ``ripple`` command line: run, compare and validate scenarios, and open the browser app.

Every user error (bad scenario value, missing file, malformed edge list, a run that will not fit in
memory) prints one line per problem and exits with status 2; any other failure prints one line and
exits with status 1. Nothing prints a traceback unless ``--debug`` is given. Text that came from the
user (file names, values, keys) is printed as it is: never read as Rich markup or ``:emoji:`` codes.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.analysis.compare import Comparison, compare
from sim.analysis.memory import check_memory
from sim.analysis.metrics import METRICS, is_idle
from sim.analysis.results import run
from sim.engine.random import stream
from sim.scenario import EdgeListSpec, Scenario, ScenarioError, load_scenario
from sim.scenario.errors import clip_text
from sim.world.build import build_graph
from sim.world.edge_list import EdgeListError

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Ripple: simulate funnel (ads) vs ripple (sharing) marketing on a social graph.",
)
# No emoji codes: ":x:" in a quoted value must print as ":x:".
out_console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)

#: Exit status for bad user input (scenario problems, missing files).
EXIT_BAD_INPUT = 2

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="Override a value by dotted path, e.g. --set ads.daily_budget=500 (repeatable).",
    ),
]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Run seed (default: the scenario's).")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show full tracebacks.")]
MemoryCheckOption = Annotated[
    bool,
    typer.Option(
        "--memory-check/--no-memory-check",
        help="Refuse, before building anything, a run whose estimated memory exceeds what is available.",
    ),
]


def _say_error(mark: str, text: str) -> None:
    """Print ``mark`` (Rich markup of ours) and then ``text`` (the user's: never markup) to stderr."""
    err_console.print(f"{mark} {escape(text)}", highlight=False, soft_wrap=True)


def _report(exc: ScenarioError | EdgeListError, mark: str, where: str) -> None:
    """Print a user error as a heading and one indented line per problem, to stderr."""
    if isinstance(exc, ScenarioError):
        heading, lines = f"{len(exc.problems)} problem(s)", [str(problem) for problem in exc.problems]
    else:
        heading, lines = "the graph file cannot be used", [line.strip() for line in exc.lines()]
    _say_error(mark, f"{where}{heading}")
    for line in lines:
        err_console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)


def _failure_line(exc: BaseException) -> str:
    """One line for an unexpected failure: its type and its message's first line, cut short."""
    first = (str(exc).splitlines() or [""])[0]
    return clip_text(f"{type(exc).__name__}: {first}", 200)


def _guarded(action: Callable[[], None], debug: bool) -> None:
    """Run ``action``; turn user errors into problem lines and exit 2, never a traceback."""
    try:
        action()
    except (ScenarioError, EdgeListError) as exc:
        if debug:
            raise
        source = getattr(exc, "source", None)
        _report(exc, "[bold red]error:[/]", f"{source}: " if source else "")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if debug:
            raise
        _say_error("[bold red]error:[/]", f"{_failure_line(exc)} (run with --debug for details)")
        raise typer.Exit(1) from None


def _print_notes(notes: Sequence[str]) -> None:
    """What reading a graph file changed or assumed (dropped self-loops, renumbered ids), to stderr."""
    for note in notes:
        err_console.print(f"note: {note}", highlight=False, markup=False)


def _fmt(metric: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞"
    unit = METRICS[metric].unit if metric in METRICS else ""
    if unit in ("people", "accounts", "referrals"):  # counts
        return f"{value:,.0f}"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "ratio" or unit.startswith("customers per"):
        return f"{value:.3f}"
    return f"{value:,.2f}"


AllMetricsOption = Annotated[
    bool, typer.Option("--all-metrics", help="Also list metrics of levers no strategy switches on.")
]


def _hidden_note(n_hidden: int) -> None:
    if n_hidden:
        out_console.print(
            f"{n_hidden} metrics of levers that are off are hidden (--all-metrics shows them).",
            highlight=False,
        )


def _unit(metric: str, currency: str) -> str:
    return METRICS[metric].unit.replace("currency", currency)


@app.command("run")
def run_command(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    seed: SeedOption = None,
    set_: SetOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for steps, ledger, retention and summary.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar over days.")] = True,
    orders: Annotated[
        bool,
        typer.Option(
            "--orders", help="Also write every order and the per-customer CLV summary (Parquet; needs --out)."
        ),
    ] = False,
    all_metrics: AllMetricsOption = False,
    memory_check: MemoryCheckOption = True,
    debug: DebugOption = False,
) -> None:
    """Run one scenario and print its headline metrics."""

    def action() -> None:
        scenario = load_scenario(scenario_file, set_ or [])
        if memory_check:
            check_memory(scenario, source=str(scenario_file))
        if orders:
            _announce_order_log(scenario, out)
        result = run(
            scenario, seed, progress=progress and sys.stderr.isatty(), keep_orders=orders, memory_check=False
        )
        _print_notes(result.notes)
        currency = scenario.economics.currency
        table = Table(
            title=f"{escape(scenario.name)}: {scenario.days} days, {result.n_people:,} people, "
            f"seed {result.seed}"
        )
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_column("unit")
        shown = {m: v for m, v in result.summary.items() if all_metrics or not is_idle([v])}
        for metric, value in shown.items():
            table.add_row(metric, _fmt(metric, value), _unit(metric, currency))
        out_console.print(table)
        _hidden_note(len(result.summary) - len(shown))
        if out is not None:
            written = result.save(out)
            logged = f" ({len(result.orders):,} orders)" if result.orders is not None else ""
            out_console.print(
                f"wrote {len(written)} files to {escape(str(out))}{logged}", highlight=False, soft_wrap=True
            )

    _guarded(action, debug)


def _announce_order_log(scenario: Scenario, out: Path | None) -> None:
    """Before an order-keeping run: refuse it without --out, else say how large the log may grow."""
    from sim.analysis.orders import order_log_estimate

    if out is None:
        err_console.print(
            "[bold red]error:[/] --orders writes files: give a folder with --out",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    n_orders, n_bytes = order_log_estimate(scenario)
    err_console.print(
        f"order log: at most about {n_orders:,} orders, {n_bytes / 1e6:,.1f} MB in memory "
        "(everyone a customer every day; real runs log less)",
        highlight=False,
        soft_wrap=True,
    )


@app.command("compare")
def compare_command(
    scenario_files: Annotated[
        list[Path], typer.Argument(help="Two or more scenario files; the first is the baseline.")
    ],
    replications: Annotated[
        int, typer.Option("--replications", "-r", min=1, max=1000, help="Replications.")
    ] = 5,
    seed: SeedOption = None,
    set_: SetOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for runs, summary and paired tables.")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", "-w", min=1, max=256, help="Processes to run replications on (same results)."
        ),
    ] = 1,
    all_metrics: AllMetricsOption = False,
    memory_check: MemoryCheckOption = True,
    debug: DebugOption = False,
) -> None:
    """Compare strategies on one market with common random numbers."""

    def action() -> None:
        scenarios = [load_scenario(path, set_ or []) for path in scenario_files]
        result = compare(
            scenarios,
            replications,
            seed,
            progress=sys.stderr.isatty(),
            workers=workers,
            memory_check=memory_check,
        )
        _print_comparison(result, scenarios[0], all_metrics)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for name in ("runs", "summary", "paired", "steps", "retention"):
                frame = getattr(result, name)
                frame.to_parquet(out / f"{name}.parquet", index=False)
                frame.to_csv(out / f"{name}.csv", index=False)
            out_console.print(f"wrote comparison tables to {escape(str(out))}", highlight=False)

    _guarded(action, debug)


def _rows_by(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows of a strategy × metric table, keyed by (strategy, metric)."""
    return {
        (str(row["strategy"]), str(row["metric"])): {str(k): v for k, v in row.items()}
        for row in frame.to_dict("records")
    }


def _print_comparison(result: Comparison, baseline: Scenario, all_metrics: bool = False) -> None:
    currency = baseline.economics.currency
    reps = len(result.seeds)
    table = Table(
        title=f"{len(result.strategies)} strategies × {reps} replications, same market and random numbers "
        f"(mean [95% interval])"
    )
    table.add_column("metric")
    table.add_column("unit")
    for name in result.strategies:
        table.add_column(escape(name), justify="right")
    summary = _rows_by(result.summary)
    shown = [
        metric
        for metric in METRICS
        if all_metrics or not is_idle(summary[(name, metric)]["mean"] for name in result.strategies)
    ]
    for metric in shown:
        cells = []
        for name in result.strategies:
            row = summary[(name, metric)]
            cell = _fmt(metric, row["mean"])
            if reps > 1 and not math.isnan(row["ci_low"]):
                cell += f"\n[{_fmt(metric, row['ci_low'])}, {_fmt(metric, row['ci_high'])}]"
            cells.append(cell)
        table.add_row(metric, _unit(metric, currency), *cells)
    out_console.print(table)
    _hidden_note(len(METRICS) - len(shown))
    if len(result.strategies) < 2:
        return
    paired = Table(
        title=f"Paired difference vs {escape(result.baseline)} (mean [95% interval]; * = excludes zero)"
    )
    paired.add_column("metric")
    for name in result.strategies[1:]:
        paired.add_column(escape(f"{name} − {result.baseline}"), justify="right")
    diffs = _rows_by(result.paired)
    for metric in shown:
        cells = []
        for name in result.strategies[1:]:
            row = diffs[(name, metric)]
            cell = _fmt(metric, row["mean_diff"])
            if not math.isnan(row["ci_low"]):
                cell += f" [{_fmt(metric, row['ci_low'])}, {_fmt(metric, row['ci_high'])}]"
            cells.append(cell + (" *" if row["excludes_zero"] else ""))
        paired.add_row(metric, *cells)
    out_console.print(paired)


@app.command("validate")
def validate_command(
    scenario_files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    set_: SetOption = None,
    memory_check: MemoryCheckOption = True,
    debug: DebugOption = False,
) -> None:
    """Check scenario files (values, edge lists, memory); list every problem and exit 2 if any."""
    failed = False
    for path in scenario_files:
        notes: tuple[str, ...] = ()
        try:
            scenario = load_scenario(path, set_ or [])
            if memory_check:
                check_memory(scenario)
            people = scenario.network.n
            if isinstance(scenario.network, EdgeListSpec):
                # The file is part of the scenario: check it now rather than at run time.
                graph = build_graph(scenario.network, stream(0, "network"), base_dir=scenario.base_dir)
                if people is None:
                    scenario.check_people(graph.n, Path(scenario.network.path).name)
                people, notes = graph.n, graph.notes
        except (ScenarioError, EdgeListError) as exc:
            if debug:
                raise
            failed = True
            _report(exc, "[bold red]✗[/]", f"{path}: ")
            continue
        except Exception as exc:  # anything else about this file is still one line, not a traceback
            if debug:
                raise
            failed = True
            _say_error("[bold red]✗[/]", f"{path}: {_failure_line(exc)} (run with --debug for details)")
            continue
        out_console.print(
            f"[green]✓[/] {escape(str(path))}: {escape(scenario.name)} ({scenario.network.kind}, "
            f"{people:,} people, {scenario.days} days)",
            highlight=False,
        )
        _print_notes(notes)
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


# ------------------------------------------------------------------------------------ calibration


@app.command("fit")
def fit_command(
    series: Annotated[
        Path | None,
        typer.Option("--series", help="Adoption or sales per period (CSV: period, value) → Bass."),
    ] = None,
    cohorts: Annotated[
        Path | None, typer.Option("--cohorts", help="Cohort retention table (CSV) → shifted-beta-geometric.")
    ] = None,
    transactions: Annotated[
        Path | None,
        typer.Option(
            "--transactions", help="Transaction log (CSV/Parquet: customer, date, amount) → CLV models."
        ),
    ] = None,
    cumulative: Annotated[
        bool | None,
        typer.Option(
            "--cumulative/--per-period", help="The series is a running total (default: from its header)."
        ),
    ] = None,
    period_days: Annotated[
        float | None,
        typer.Option(
            "--period-days", min=0.001, help="Days per period of the series and cohort table (default 365)."
        ),
    ] = None,
    cohort_size: Annotated[
        int | None,
        typer.Option("--cohort-size", min=1, help="Customers per cohort when the table holds shares."),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="Purchase model for the log: pareto_nbd or bg_nbd.")
    ] = "pareto_nbd",
    time_unit_days: Annotated[
        float, typer.Option("--time-unit-days", min=0.001, help="Days per time unit of the CLV parameters.")
    ] = 7.0,
    observation_end: Annotated[
        str | None, typer.Option("--observation-end", help="Last day of the log to fit (YYYY-MM-DD).")
    ] = None,
    customer_col: Annotated[
        str | None, typer.Option("--customer-col", help="The log's customer column.")
    ] = None,
    date_col: Annotated[str | None, typer.Option("--date-col", help="The log's date column.")] = None,
    amount_col: Annotated[str | None, typer.Option("--amount-col", help="The log's amount column.")] = None,
    people: Annotated[
        int | None,
        typer.Option("--people", min=2, help="People in the written scenario (default: from Bass m)."),
    ] = None,
    base: Annotated[
        Path | None, typer.Option("--base", help="Scenario whose other settings the written scenario keeps.")
    ] = None,
    write_scenario: Annotated[
        Path | None, typer.Option("--write-scenario", help="Write a scenario with the fitted values (YAML).")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Fit Bass, sBG or buy-till-you-die models to your data; optionally write a scenario from them."""

    def action() -> None:
        from sim.fit import (
            FitDataError,
            fit_cohort_file,
            fit_series_file,
            fit_transaction_file,
            scenario_yaml,
        )

        if series is None and cohorts is None and transactions is None:
            err_console.print(
                "[bold red]error:[/] give at least one of --series, --cohorts, --transactions",
                highlight=False,
            )
            raise typer.Exit(EXIT_BAD_INPUT)
        fits: list[Any] = []
        sources = []
        try:
            if series is not None:
                fits.append(fit_series_file(series, cumulative=cumulative, period_days=period_days))
                sources.append(f"Bass: {series.name}")
            if cohorts is not None:
                fits.append(
                    fit_cohort_file(cohorts, period_days=period_days or 365.0, cohort_size=cohort_size)
                )
                sources.append(f"sBG: {cohorts.name}")
            if transactions is not None:
                with err_console.status("fitting the transaction log (pymc-marketing; a first fit compiles)"):
                    fitted = fit_transaction_file(
                        transactions,
                        model=model,
                        time_unit_days=time_unit_days,
                        observation_end=observation_end,
                        customer_col=customer_col,
                        date_col=date_col,
                        amount_col=amount_col,
                    )
                fits.append(fitted)
                sources.append(f"{model}: {transactions.name}")
        except FitDataError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        for fitted in fits:
            _print_fit(fitted)
        if write_scenario is not None:
            base_scenario = load_scenario(base) if base is not None else None
            text = scenario_yaml(
                fits, base=base_scenario, name=write_scenario.stem, sources=sources, people=people
            )
            write_scenario.parent.mkdir(parents=True, exist_ok=True)
            write_scenario.write_text(text, encoding="utf-8")
            out_console.print(
                f"wrote {write_scenario}: run it with  ripple run {write_scenario}", highlight=False
            )

    _guarded(action, debug)


def _print_fit(fitted: Any) -> None:
    titles = {"bass": "Bass diffusion", "sbg": "Shifted-beta-geometric retention", "btyd": "Buy till you die"}
    title = titles[fitted.kind] + (f" ({fitted.model})" if fitted.kind == "btyd" else "")
    table = Table(title=f"{title}: estimates [95% interval]")
    table.add_column("parameter")
    table.add_column("estimate", justify="right")
    table.add_column("meaning")
    for row in fitted.parameters().itertuples(index=False):
        table.add_row(str(row.parameter), str(row.estimate), str(row.meaning))
    out_console.print(table)
    for note in fitted.notes:
        out_console.print(f"note: {note}", highlight=False, soft_wrap=True)


#: The Streamlit app's entry point (in a source checkout, beside the ``sim`` package).
APP_SCRIPT = Path(__file__).resolve().parents[1] / "app.py"


def app_command_line(port: int, address: str, headless: bool) -> list[str]:
    """The ``streamlit run`` command that serves the app (no usage statistics are sent)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT),
        "--server.address", address, "--server.port", str(port),
        "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@app.command("app")
def app_command(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to serve on (local only by default).")] = "127.0.0.1",
    headless: Annotated[
        bool, typer.Option("--headless/--open-browser", help="Only print the URL, or also open a browser.")
    ] = True,
) -> None:
    """Open the browser app: compare strategies, edit scenarios, watch the ripple, the 8:1 lesson."""
    if not APP_SCRIPT.is_file():
        _say_error(
            "[bold red]error:[/]", f"the app needs a source checkout of Ripple ({APP_SCRIPT} is missing)"
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    out_console.print(f"Ripple app: http://{address}:{port}  (Ctrl-C stops it)", highlight=False)
    sys.stdout.flush()
    # Become the Streamlit server (exec), so Ctrl-C and signals reach it directly.
    os.chdir(APP_SCRIPT.parent)
    command = app_command_line(port, address, headless)
    os.execv(command[0], command)


# ------------------------------------------------------------------------------------- sweeps


def _experiment_store(target: Path) -> Any:
    """The store of ``target``: a store folder itself, or an experiment file's store."""
    from sim.sweep import load_experiment, open_store

    if target.is_dir():
        return open_store(target)
    return open_store(load_experiment(target).store_path())


@app.command("sweep")
def sweep_command(
    experiment_file: Annotated[Path, typer.Argument(help="Experiment file (YAML); see docs/sweeps.md.")],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", min=1, help="Worker processes (1 = in this process; default: all cores)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Existing Dask scheduler, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS).",
        ),
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the store: skip finished runs.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the number of runs and an estimated time; run nothing.")
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Store folder (default: sweeps/<name>).")] = None,
    part_seconds: Annotated[
        float, typer.Option("--part-seconds", min=0.0, help="Write a part file at least this often (s).")
    ] = 2.0,
    memory_check: MemoryCheckOption = True,
    debug: DebugOption = False,
) -> None:
    """Run an experiment's design points × replications into a resumable store."""

    def action() -> None:

        from sim.sweep import estimate, load_experiment, sweep

        experiment = load_experiment(experiment_file)
        if dry_run:
            info = estimate(experiment, out, resume, memory_check=memory_check)
            cores = workers or (1 if scheduler else os.cpu_count() or 1)
            seconds = info["seconds_per_run"] * info["to_run"] / cores
            timing = (
                "nothing to run" if not info["to_run"] else f"≈ {_duration(seconds)} on {cores} worker(s)"
            )
            out_console.print(
                f"{experiment.name}: {info['points']:,} points × {info['replications']} replications = "
                f"{info['runs']:,} runs ({info['to_run']:,} to run); one run took "
                f"{info['seconds_per_run']:.2f} s → {timing}; store {escape(str(info['store']))}",
                highlight=False,
            )
            return
        store = sweep(
            experiment,
            out=out,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            part_seconds=part_seconds,
            memory_check=memory_check,
        )
        runs = store.runs()
        failed = int((runs["status"] != "ok").sum())
        out_console.print(
            escape(f"{store.experiment_name}: {len(runs):,} of {store.n_planned:,} runs in {store.path}"),
            highlight=False,
            soft_wrap=True,
        )
        if failed:
            first = str(runs.loc[runs["status"] != "ok", "error"].iloc[0])
            out_console.print(
                escape(
                    f"{failed:,} run(s) failed (the error column holds each message; the first: "
                    f"{clip_text(first, 160)}). `ripple sweep {experiment_file} --resume"
                    + (f" --out {out}" if out is not None else "")
                    + "` runs them again; list them with `ripple query`: "
                    + "select * from runs where status = 'error'"
                ),
                highlight=False,
                soft_wrap=True,
            )

    _guarded(action, debug)


def _duration(seconds: float) -> str:
    if math.isnan(seconds):
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@app.command("report")
def report_command(
    target: Annotated[Path, typer.Argument(help="Experiment file or store folder.")],
    debug: DebugOption = False,
) -> None:
    """Write tables and the key plot (PNG, HTML) of a sweep into its store's report/ folder."""

    def action() -> None:
        from sim.sweep import load_experiment
        from sim.sweep.report import key_plot_axes, write_optuna_report, write_report

        if target.is_file():
            experiment = load_experiment(target)
            if experiment.design.kind == "optuna":
                study = write_optuna_report(experiment)
                _print_frame(study.summary, f"{experiment.name}: completed trials", limit=40)
                out_console.print(
                    f"wrote {len(study.files)} files to {study.files[0].parent}", highlight=False
                )
                return
        store = _experiment_store(target)
        report = write_report(store)
        sensitivity = report.sensitivity
        if sensitivity is not None:
            _print_frame(
                sensitivity, f"{store.experiment_name}: sensitivity ({sensitivity['method'].iloc[0]})"
            )
        else:  # a sensitivity design's points are a sample, not a table to read: see summary.csv
            _x, y, _color = key_plot_axes(store)
            mine = report.summary[report.summary["metric"] == y].drop(columns=["metric"])
            _print_frame(mine, f"{store.experiment_name}: mean {y} per design point (95% interval)", limit=40)
        out_console.print(f"wrote {len(report.files)} files to {store.path / 'report'}", highlight=False)

    _guarded(action, debug)


def _print_frame(frame: pd.DataFrame, title: str, limit: int | None = None) -> None:
    """A table of ``frame``; every cell and header is printed as text (never markup)."""
    table = Table(title=escape(title))
    for column in frame.columns:
        table.add_column(escape(str(column)), justify="right")
    shown = frame if limit is None else frame.head(limit)
    for row in shown.itertuples(index=False):
        table.add_row(*(escape(f"{v:.4g}" if isinstance(v, float) else str(v)) for v in row))
    out_console.print(table)
    if limit is not None and len(frame) > limit:
        out_console.print(f"… {len(frame) - limit} more rows (see the report folder)", highlight=False)


@app.command("optimise")
def optimise_command(
    experiment_file: Annotated[Path, typer.Argument(help="Experiment file with an optimise: section.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder of the study (default: sweeps/<name>).")
    ] = None,
    memory_check: MemoryCheckOption = True,
    debug: DebugOption = False,
) -> None:
    """Search the factors with Optuna for the best mean metric; a second call resumes the study."""

    def action() -> None:
        from sim.sweep import load_experiment
        from sim.sweep.optimise import confirm, optimise

        experiment = load_experiment(experiment_file)
        study = optimise(experiment, out=out, progress=sys.stderr.isatty(), memory_check=memory_check)
        confirmation = confirm(experiment, study, out=out)
        objective = experiment.optimise
        assert objective is not None
        completed = [t for t in study.trials if t.value is not None]
        if not completed:
            out_console.print("no trial finished with a value", highlight=False)
            return
        best = study.best_trial
        table = Table(
            title=f"{experiment.name}: best of {len(completed)} trials ({objective.direction} "
            f"mean {objective.metric})"
        )
        table.add_column("factor")
        table.add_column("value", justify="right")
        for name, value in best.params.items():
            table.add_row(escape(name), escape(f"{value:.4g}" if isinstance(value, float) else str(value)))
        table.add_row(objective.metric, _fmt(objective.metric, float(best.value or math.nan)))
        out_console.print(table)
        if confirmation is not None:  # the winner re-checked on fresh replications
            out_console.print("confirmed on fresh replications:", highlight=False)
            for line in confirmation.lines():
                out_console.print(f"  {line}", highlight=False)

    _guarded(action, debug)


@app.command("query")
def query_command(
    store_folder: Annotated[Path, typer.Argument(help="Store folder.")],
    sql: Annotated[
        str, typer.Argument(help='SQL over the views runs and design, e.g. "select count(*) from runs".')
    ],
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    allow_external: Annotated[
        bool,
        typer.Option(
            "--allow-external",
            help="Let the SQL read and write files, the network and extensions (off: only the store).",
        ),
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Query a sweep store with DuckDB (tables: runs, design); the SQL can reach nothing else."""

    def action() -> None:
        import duckdb

        from sim.sweep import open_store

        store = open_store(store_folder)
        try:
            frame = store.query(sql, allow_external=allow_external)
        except duckdb.PermissionException as exc:
            if debug:
                raise
            detail = (str(exc).splitlines() or [""])[0]
            _say_error(
                "[bold red]error:[/]",
                f"the query reaches outside the store, which is off by default ({clip_text(detail, 160)}); "
                "pass --allow-external to allow files, the network and extensions",
            )
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except duckdb.Error as exc:
            if debug:
                raise
            _say_error("[bold red]error:[/]", clip_text((str(exc).splitlines() or [""])[0], 300))
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if csv:
            out_console.print(frame.to_csv(index=False), end="", highlight=False, markup=False)
        else:
            _print_frame(frame, f"{len(frame)} row(s)", limit=200)

    _guarded(action, debug)


def main(argv: Sequence[str] | None = None) -> Any:
    """Entry point of the ``ripple`` console script."""
    return app(args=list(argv) if argv is not None else None)


if __name__ == "__main__":
    main()
