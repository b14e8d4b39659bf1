"""``make bench``: speed and memory of Ripple against its targets, in one run.

Each measurement runs in its own process (so peak RSS is its own) through one helper,
:func:`measure`, that runs a script of this folder and reads the JSON line it prints. The default
run prints the targets table and writes everything to ``bench-results/latest.json`` (git-ignored):

- **Runs** (``bench_one.py``): every rule (``benchmarks/all_rules.yaml``, ``ripple-all``) and the core
  rules (the hybrid preset, ``ripple``) at 10k, 100k and 1M people (Barabási–Albert m=5) × 365 days:
  wall, CPU, world-build and ms/day, peak RSS. Targets (CPU, this 2-core machine): 10k ≤ 0.3 s;
  1M ≤ 20 s including the world and ≤ 750 MiB peak RSS.
- **Floor** (``bench_floor.py``): one float32 and one float64 CSR mat-vec (scipy) on the same 1M graph;
  one every-rule day ÷ one float32 mat-vec ≤ 2.5×.
- **NDlib** (``bench_ndlib.py``): NDlib's Independent Cascade and SI steps on the same 100k graph (a
  networkx graph made from our CSR) beside one Ripple every-rule day at 100k; IC step ÷ Ripple day
  ≥ 20×. NDlib comes from the ``bench`` extra, which ``make bench`` installs; it is never a runtime
  dependency. Without it the row says why and counts as not measured.
- **Mesa baseline** (``bench_one.py baseline``, ``mesa_baseline.py``): one ``mesa.Agent`` per customer
  at 100k, ms/day ÷ Ripple's in the same process ≥ 50×.
- **App** (``bench_app.py``): Compare from click to results (3 strategies × 5 replications × 10,000
  people × 365 days) ≤ 4 s on an idle machine, a cached re-run ≤ 0.5 s, 3,000 people laid out ≤ 5 s.

Ratios are the figures that count: absolute times on a shared 2-core machine are noisy (the load
average is printed with the tables).

``BENCH_ONLY`` picks other tables instead: ``runs`` (the runs table only), ``app``, ``sweep`` (sweep
throughput, ``bench_sweep.py``: runner overhead ≤ 10%), ``graph`` (reading a 5M-tie edge list,
``bench_graph_file.py``: ≤ 5 s), ``lesson`` (the 8:1 page, ``bench_lesson.py``: first map ≤ 30 s,
slider step ≤ 1 s); several may be given, comma-separated. ``BENCH_QUICK=1`` runs every default row on
tiny sizes, to check the harness, not to measure; ``BENCH_OUT`` names another folder for the
results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
QUICK = os.environ.get("BENCH_QUICK") == "1"
ONLY = {part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()}
MIB = "MiB"

#: (size label, people, days, repeats) of the runs table; tiny in quick mode.
SIZES: list[tuple[str, int, int, int]] = (
    [("10k", 500, 10, 1), ("100k", 1_000, 10, 1), ("1M", 2_000, 10, 1)]
    if QUICK
    else [("10k", 10_000, 365, 5), ("100k", 100_000, 365, 2), ("1M", 1_000_000, 365, 1)]
)
#: People of the NDlib comparison, and of the Mesa baseline (with its days).
NDLIB_PEOPLE, NDLIB_DAYS = (1_000, 10) if QUICK else (100_000, 365)
BASELINE_PEOPLE, BASELINE_DAYS = (1_000, 2) if QUICK else (100_000, 10)


def measure(console: Console, what: str, script: str, *args: object) -> dict[str, Any]:
    """Run ``benchmarks/<script>`` with ``args`` in a fresh process; its last stdout line as JSON.

    Raises:
        SystemExit: When the script fails (its stderr is shown).
    """
    console.print(f"measuring {what} …", highlight=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "benchmarks" / script), *map(str, args)]
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    if completed.returncode != 0:
        raise SystemExit(f"benchmark {script} {' '.join(map(str, args))} failed:\n{completed.stderr}")
    row: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return row


def show(console: Console, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print one table: the first column left-aligned, the others right-aligned."""
    table = Table(title=title)
    for k, column in enumerate(columns):
        table.add_column(column, justify="left" if k == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


@dataclass(frozen=True)
class Target:
    """One figure of the targets table: what, the measured value, its bound and the direction."""

    what: str
    value: float | None  # None: not measured (the note says why)
    bound: float | None  # None: shown for context, no target
    at_most: bool
    unit: str
    note: str = ""

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL`` or ``n/a`` (not measured)."""
        if self.bound is None:
            return ""
        if self.value is None:
            return "n/a"
        ok = self.value <= self.bound if self.at_most else self.value >= self.bound
        return "pass" if ok else "FAIL"

    def cells(self) -> list[str]:
        """The row as the targets table prints it."""
        value = "—" if self.value is None else f"{self.value:,.2f}{self.unit}"
        bound = "" if self.bound is None else f"{'≤' if self.at_most else '≥'} {self.bound:g}{self.unit}"
        return [self.what, value, bound, self.verdict, self.note]

    def as_dict(self) -> dict[str, Any]:
        """For ``latest.json``."""
        return {
            "what": self.what,
            "value": self.value,
            "bound": self.bound,
            "at_most": self.at_most,
            "unit": self.unit,
            "verdict": self.verdict,
            "note": self.note,
        }


# ---------------------------------------------------------------------------------- the default run


def runs_table(console: Console) -> list[dict[str, Any]]:
    """Every-rule and core rows at each size, printed as one table."""
    rows = []
    for impl in ("ripple-all", "ripple"):
        for label, n, days, repeats in SIZES:
            row = measure(
                console, f"{impl} at {n:,} people × {days} days", "bench_one.py", impl, n, days, repeats
            )
            row["size"] = label
            rows.append(row)
    show(
        console,
        "Runs: every rule (ripple-all) and core rules (ripple), Barabási–Albert m=5 (median of repeats; "
        "world = graph + people)",
        ("impl", "people", "edges", "days", "repeats", "wall s", "cpu s", "world s", "ms/day", f"RSS {MIB}"),
        [
            (
                row["impl"],
                f"{row['customers']:,}",
                f"{row['edges']:,}",
                str(row["days"]),
                str(row["repeats"]),
                f"{row['wall_s']:.2f}",
                f"{row['cpu_s']:.2f}",
                f"{row['build_s']:.2f}",
                f"{row['ms_per_day']:.2f}",
                f"{row['peak_rss_mib']:.0f}",
            )
            for row in rows
        ],
    )
    return rows


def issue_targets(
    runs: list[dict[str, Any]],
    floor: dict[str, Any],
    ndlib: dict[str, Any],
    baseline: dict[str, Any],
    app: dict[str, Any],
) -> list[Target]:
    """The targets table's rows from the measurements."""
    by = {(row["impl"], row["size"]): row for row in runs}
    targets = []
    for impl, name in (("ripple-all", "every rule"), ("ripple", "core rules")):
        small, large = by[(impl, "10k")], by[(impl, "1M")]
        targets += [
            Target(
                f"{name}, {small['customers']:,} × {small['days']} days, CPU", small["cpu_s"], 0.3, True, " s"
            ),
            Target(
                f"{name}, {large['customers']:,} × {large['days']} days with the world, CPU",
                large["cpu_s"],
                20,
                True,
                " s",
            ),
            Target(f"{name}, {large['customers']:,}, peak RSS", large["peak_rss_mib"], 750, True, f" {MIB}"),
        ]
    day = by[("ripple-all", "1M")]["ms_per_day"]
    targets.append(
        Target(
            f"one every-rule day ÷ one float32 mat-vec, {floor['customers']:,} people",
            day / floor["matvec_float32_ms"],
            2.5,
            True,
            "×",
            f"day {day:.1f} ms; mat-vec float32 {floor['matvec_float32_ms']:.1f} ms, "
            f"float64 {floor['matvec_float64_ms']:.1f} ms ({floor['edges']:,} ties)",
        )
    )
    ripple_day = ndlib["ripple_ms_per_day"]
    if "ndlib_error" in ndlib:
        targets.append(
            Target(
                f"NDlib IC step ÷ one every-rule day, {ndlib['customers']:,} people",
                None,
                20,
                False,
                "×",
                f"NDlib not measured: {ndlib['ndlib_error']}",
            )
        )
    else:
        for key, model, bound in (("ndlib_ic_step_ms", "IC", 20.0), ("ndlib_si_step_ms", "SI", None)):
            targets.append(
                Target(
                    f"NDlib {model} step ÷ one every-rule day, {ndlib['customers']:,} people",
                    ndlib[key] / ripple_day,
                    bound,
                    False,
                    "×",
                    f"NDlib {model} {ndlib[key]:.0f} ms; Ripple day {ripple_day:.1f} ms (same graph)",
                )
            )
    targets.append(
        Target(
            f"one Mesa Agent per customer ÷ Ripple, ms/day, {baseline['customers']:,} people",
            baseline["ms_per_day"] / baseline["ripple_ms_per_day_same_run"],
            50,
            False,
            "×",
            f"Mesa {baseline['ms_per_day']:.0f} ms/day; Ripple {baseline['ripple_ms_per_day_same_run']:.1f} "
            f"ms/day (core rules, same process, {baseline['days']} days)",
        )
    )
    targets += app_targets(app)
    return targets


def app_targets(app: dict[str, Any]) -> list[Target]:
    """The app's rows (the browser ones only where Chromium ran)."""
    out = []
    size = (
        f"{app['strategies']:.0f} × {app['replications']:.0f} × {app['people']:,.0f} people × "
        f"{app['days']:.0f} days"
    )
    for key, label, bound in (
        ("function_click_to_results_s", f"app: Compare click → results ({size})", 4.0),
        ("function_cached_rerun_s", "app: cached re-run", 0.5),
        ("browser_click_to_results_s", "app in Chromium: click → every chart drawn", 4.0),
        ("browser_cached_rerun_s", "app in Chromium: cached re-run, drawn again (median of 3)", 0.5),
        (
            "layout_3000_people_s",
            f"app: network sample + layout of {app.get('layout_people', 3000):,.0f} people",
            5.0,
        ),
    ):
        if key in app:
            note = "target on an idle machine" if "click" in key else ""
            if key == "browser_cached_rerun_s" and "browser_cached_rerun_max_s" in app:
                note = f"slowest of the three {app['browser_cached_rerun_max_s']:.2f} s"
            out.append(Target(label, app[key], bound, True, " s", note))
    return out


def default_run(console: Console, out: Path) -> None:
    """Every row the targets ask for, in one run: runs, floor, NDlib, Mesa baseline, app."""
    runs = runs_table(console)
    large = SIZES[-1][1]
    floor = measure(
        console, f"the floor: float32 and float64 mat-vec at {large:,} people", "bench_floor.py", large
    )
    ndlib = measure(
        console,
        f"NDlib IC and SI steps beside a Ripple every-rule day at {NDLIB_PEOPLE:,} people",
        "bench_ndlib.py",
        NDLIB_PEOPLE,
        NDLIB_DAYS,
    )
    baseline = measure(
        console,
        f"the Mesa baseline at {BASELINE_PEOPLE:,} people × {BASELINE_DAYS} days",
        "bench_one.py",
        "baseline",
        BASELINE_PEOPLE,
        BASELINE_DAYS,
        1,
    )
    app = measure(console, "the app (Compare click → results, cached re-run, network layout)", "bench_app.py")
    targets = issue_targets(runs, floor, ndlib, baseline, app)
    load = os.getloadavg()
    show(
        console,
        f"Targets ({os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
        + (", BENCH_QUICK: tiny sizes, not a measurement" if QUICK else "")
        + ")",
        ("what", "measured", "target", "pass?", "detail"),
        [target.cells() for target in targets],
    )
    report = {
        "quick": QUICK,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average": load,
        "runs": runs,
        "floor": floor,
        "ndlib": ndlib,
        "baseline": baseline,
        "app": app,
        "targets": [target.as_dict() for target in targets],
    }
    (out / "latest.json").write_text(json.dumps(report, indent=2))


# --------------------------------------------------------------------------------- other tables


def only_runs(console: Console, out: Path) -> None:
    """``BENCH_ONLY=runs``: the runs table alone."""
    (out / "runs.json").write_text(json.dumps(runs_table(console), indent=2))


def only_app(console: Console, out: Path) -> None:
    """``BENCH_ONLY=app``: the app's rows."""
    app = measure(console, "the app (Compare click → results, cached re-run, network layout)", "bench_app.py")
    show(
        console,
        f"App ({app['cpus']:.0f} CPUs)",
        ("what", "measured", "target", "pass?", "detail"),
        [target.cells() for target in app_targets(app)],
    )
    (out / "app.json").write_text(json.dumps(app, indent=2))


def only_sweep(console: Console, out: Path) -> None:
    """``BENCH_ONLY=sweep``: sweep throughput and the runner's overhead."""
    row = measure(console, "sweep throughput (bare sim.run, serial sweep, 2 workers)", "bench_sweep.py")
    show(
        console,
        f"Sweep throughput: {row['runs']} runs of {row['customers']:,} customers × {row['days']} days "
        f"({row['cpus']} CPUs)",
        ("runner", "wall s", "cpu s", "runs/min", "runner overhead ms/run (cpu)", "overhead"),
        [
            (
                "bare sim.run loop",
                f"{row['bare_s']:.1f}",
                f"{row['bare_cpu_s']:.1f}",
                f"{row['bare_runs_per_min']:.0f}",
                "",
                "",
            ),
            (
                "ripple sweep --workers 1",
                f"{row['serial_s']:.1f}",
                f"{row['serial_cpu_s']:.1f}",
                f"{row['serial_runs_per_min']:.0f}",
                f"{row['overhead_ms_per_run']:.1f}",
                f"{100 * row['overhead_share']:.1f}% (target ≤ 10%)",
            ),
            (
                "ripple sweep --workers 2",
                f"{row['workers2_s']:.1f}",
                "",
                f"{row['workers2_runs_per_min']:.0f}",
                "",
                "",
            ),
        ],
    )
    (out / "sweep.json").write_text(json.dumps(row, indent=2))


def only_graph(console: Console, out: Path) -> None:
    """``BENCH_ONLY=graph``: reading a 5M-tie edge list, unweighted and weighted."""
    rows = [
        measure(console, f"the read of a 5M-tie edge list ({variant})", "bench_graph_file.py", variant)
        for variant in ("unweighted", "weighted")
    ]
    show(
        console,
        "Reading a graph file (read_edge_list; median of 3 reads; target ≤ 5 s)",
        ("file", "ties in file", "people", "ties kept", "MB", "read s", "min read s", f"RSS {MIB}"),
        [
            (
                "u v w" if row["weighted"] else "u v",
                f"{row['ties']:,}",
                f"{row['people']:,}",
                f"{row['edges']:,}",
                f"{row['file_mb']:.0f}",
                f"{row['read_s']:.2f}",
                f"{row['min_read_s']:.2f}",
                f"{row['peak_rss_mib']:.0f}",
            )
            for row in rows
        ],
    )
    (out / "graph_file.json").write_text(json.dumps(rows, indent=2))


def only_lesson(console: Console, out: Path) -> None:
    """``BENCH_ONLY=lesson``: the 8:1 page's curve, first map and slider step."""
    row = measure(console, "the 8:1 page (curve, first map, slider step)", "bench_lesson.py")
    show(
        console,
        f"The 8:1 page ({row['cpus']} CPUs, load {row['load_average_1min']:.1f})",
        ("what", "wall s", "target"),
        [
            (
                f"curve, 2,000 people × {row['replications']} replications, serial",
                f"{row['curve_serial_s']:.1f}",
                "",
            ),
            ("curve, 2 workers (the page)", f"{row['curve_2_workers_s']:.1f}", ""),
            ("map, first draw (60 runs of 1,500 people)", f"{row['map_first_draw_s']:.1f}", "≤ 30"),
            (
                "slider step, median of 5 (max)",
                f"{row['slider_step_median_s']:.2f} ({row['slider_step_max_s']:.2f})",
                "≤ 1",
            ),
        ],
    )
    (out / "lesson.json").write_text(json.dumps(row, indent=2))


TABLES: dict[str, Callable[[Console, Path], None]] = {
    "runs": only_runs,
    "app": only_app,
    "sweep": only_sweep,
    "graph": only_graph,
    "lesson": only_lesson,
}


def main() -> None:
    """Run the default tables, or those ``BENCH_ONLY`` names."""
    console = Console(width=160)
    out = Path(os.environ.get("BENCH_OUT") or ROOT / "bench-results")
    out.mkdir(parents=True, exist_ok=True)
    unknown = ONLY - set(TABLES)
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown table(s) {sorted(unknown)}; choose from {sorted(TABLES)}")
    if not ONLY:
        default_run(console, out)
    for name in sorted(ONLY):
        TABLES[name](console, out)


if __name__ == "__main__":
    main()
