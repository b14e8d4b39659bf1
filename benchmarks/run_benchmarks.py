"""``make bench``: time and peak memory of full-rule runs, and Ripple vs one Agent per customer.

Each configuration runs in its own process so peak RSS is its own. Results are printed as a table
and written to ``bench-results/latest.json`` (git-ignored). Targets (this 2-core machine):
10k customers ≤ 0.3 s per 365-day run; 1M customers (BA m=5) ≤ 60 s with graph generation and
≤ 4 GiB peak RSS; ≥ 50x faster per day than the Agent-per-customer baseline at 100k. ``ripple``
runs the core rules (hybrid preset); ``ripple-all`` runs every rule (``benchmarks/all_rules.yaml``),
which must stay within the same targets.

A second table (``benchmarks/bench_sweep.py``) measures sweep throughput: 200 runs of 10k customers ×
365 days, runs per minute serial vs 2 workers, and the runner's overhead per run over a bare
``sim.run`` (CPU time of the serial sweep outside ``run_one``; target ≤ 10%). ``BENCH_ONLY=sweep``
runs only that table, ``BENCH_ONLY=runs`` only the first.

A third (``benchmarks/bench_lesson.py``, ``BENCH_ONLY=lesson``) times the 8:1 page: its curve at the
page's defaults, the first draw of its map (target ≤ 30 s) and a slider step (target ≤ 1 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
QUICK = os.environ.get("BENCH_QUICK") == "1"
ONLY = os.environ.get("BENCH_ONLY", "")

CONFIGS: list[tuple[str, int, int, int]] = [
    ("ripple", 10_000, 365, 7),
    ("ripple", 100_000, 365, 3),
    ("ripple", 1_000_000, 365, 1),
    ("ripple-all", 10_000, 365, 5),
    ("ripple-all", 1_000_000, 365, 1),
    ("baseline", 100_000, 10, 1),
]
if QUICK:
    CONFIGS = [("ripple", 10_000, 365, 3), ("ripple-all", 10_000, 365, 3), ("baseline", 10_000, 5, 1)]


def measure(impl: str, n: int, days: int, repeats: int) -> dict:
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "bench_one.py"),
        impl,
        str(n),
        str(days),
        str(repeats),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"benchmark {impl} n={n} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def sweep_table(console: Console) -> dict:
    """Run benchmarks/bench_sweep.py in its own process and print its table."""
    console.print("measuring sweep throughput (bare sim.run, serial sweep, 2 workers) …", highlight=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_sweep.py")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"sweep benchmark failed:\n{completed.stderr}")
    row = json.loads(completed.stdout.strip().splitlines()[-1])
    table = Table(
        title=f"Sweep throughput: {row['runs']} runs of {row['customers']:,} customers × {row['days']} days "
        f"({row['cpus']} CPUs)"
    )
    for column in ("runner", "wall s", "cpu s", "runs/min", "runner overhead ms/run (cpu)", "overhead"):
        table.add_column(column, justify="right")
    table.add_row(
        "bare sim.run loop",
        f"{row['bare_s']:.1f}",
        f"{row['bare_cpu_s']:.1f}",
        f"{row['bare_runs_per_min']:.0f}",
        "",
        "",
    )
    table.add_row(
        "ripple sweep --workers 1",
        f"{row['serial_s']:.1f}",
        f"{row['serial_cpu_s']:.1f}",
        f"{row['serial_runs_per_min']:.0f}",
        f"{row['overhead_ms_per_run']:.1f}",
        f"{100 * row['overhead_share']:.1f}% (target ≤ 10%)",
    )
    table.add_row(
        "ripple sweep --workers 2",
        f"{row['workers2_s']:.1f}",
        "",
        f"{row['workers2_runs_per_min']:.0f}",
        "",
        "",
    )
    console.print(table)
    return row


def lesson_table(console: Console) -> dict:
    """Run benchmarks/bench_lesson.py in its own process and print its table."""
    console.print("measuring the 8:1 page (curve, first map, slider step) …", highlight=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_lesson.py")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"lesson benchmark failed:\n{completed.stderr}")
    row = json.loads(completed.stdout.strip().splitlines()[-1])
    table = Table(title=f"The 8:1 page ({row['cpus']} CPUs, load {row['load_average_1min']:.1f})")
    for column in ("what", "wall s", "target"):
        table.add_column(column, justify="right")
    table.add_row(
        f"curve, 2,000 people × {row['replications']} replications, serial",
        f"{row['curve_serial_s']:.1f}",
        "",
    )
    table.add_row("curve, 2 workers (the page)", f"{row['curve_2_workers_s']:.1f}", "")
    table.add_row("map, first draw (60 runs of 1,500 people)", f"{row['map_first_draw_s']:.1f}", "≤ 30")
    table.add_row(
        "slider step, median of 5 (max)",
        f"{row['slider_step_median_s']:.2f} ({row['slider_step_max_s']:.2f})",
        "≤ 1",
    )
    console.print(table)
    return row


def main() -> None:
    console = Console(width=140)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    if ONLY in ("", "lesson"):
        lesson_row = lesson_table(console)
        (out / "lesson.json").write_text(json.dumps(lesson_row, indent=2))
    if ONLY == "lesson":
        return
    if ONLY in ("", "sweep"):
        sweep_row = sweep_table(console)
        (out / "sweep.json").write_text(json.dumps(sweep_row, indent=2))
    if ONLY == "sweep":
        return
    rows = []
    for impl, n, days, repeats in CONFIGS:
        console.print(f"measuring {impl} at {n:,} customers × {days} days …", highlight=False)
        rows.append(measure(impl, n, days, repeats))
    table = Table(title="Ripple benchmarks (median of repeats; world = graph + people)")
    columns = (
        "impl",
        "customers",
        "edges",
        "days",
        "wall s",
        "min wall s",
        "cpu s",
        "world s",
        "ms/day",
        "RSS MiB",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row["impl"],
            f"{row['customers']:,}",
            f"{row['edges']:,}",
            str(row["days"]),
            f"{row['wall_s']:.2f}",
            f"{row['min_wall_s']:.2f}",
            f"{row['cpu_s']:.2f}",
            f"{row['build_s']:.2f}",
            f"{row['ms_per_day']:.2f}",
            f"{row['peak_rss_mib']:.0f}",
        )
    console.print(table)
    for row in rows:
        if row["impl"] == "mesa-agents":
            ratio = row["ms_per_day"] / row["ripple_ms_per_day_same_run"]
            console.print(
                f"At {row['customers']:,} customers, one Agent per customer: "
                f"{row['ms_per_day']:.1f} ms/day; Ripple in the same process: "
                f"{row['ripple_ms_per_day_same_run']:.2f} ms/day → {ratio:.0f}x faster",
                highlight=False,
            )
    (out / "latest.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
