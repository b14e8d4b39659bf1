"""``make bench``: time and peak memory of full-rule runs, and Ripple vs one Agent per customer.

Each configuration runs in its own process so peak RSS is its own. Results are printed as a table
and written to ``bench-results/latest.json`` (git-ignored). Targets (this 2-core machine):
10k customers ≤ 0.3 s per 365-day run; 1M customers (BA m=5) ≤ 60 s with graph generation and
≤ 4 GiB peak RSS; ≥ 50x faster per day than the Agent-per-customer baseline at 100k. ``ripple``
runs the core rules (hybrid preset); ``ripple-all`` runs every rule (``benchmarks/all_rules.yaml``),
which must stay within the same targets.

An app table (``benchmarks/bench_app.py``) times the Compare page from click to results (3
strategies × 5 replications × 10,000 people × 365 days; target ≤ 5 s) and a cached re-run (≤ 0.5 s),
both through the page's run function and in Chromium, and the Network page's layout of 3,000 people
(≤ 5 s). ``BENCH_ONLY=app`` runs only that table.

A further table (``benchmarks/bench_sweep.py``) measures sweep throughput: 200 runs of 10k customers ×
365 days, runs per minute serial vs 2 workers, and the runner's overhead per run over a bare
``sim.run`` (CPU time of the serial sweep outside ``run_one``; target ≤ 10%). ``BENCH_ONLY=sweep``
runs only that table, ``BENCH_ONLY=runs`` only the first.

A third table (``benchmarks/bench_graph_file.py``) times reading a 5M-tie edge list generated in a
temporary folder (KONECT style: ``%`` header, 1-based ids; unweighted and with a weight column);
target ≤ 5 s per read. ``BENCH_ONLY=graph`` runs only that table.

A fourth (``benchmarks/bench_lesson.py``, ``BENCH_ONLY=lesson``) times the 8:1 page: its curve at the
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


def graph_file_table(console: Console) -> list[dict]:
    """Run benchmarks/bench_graph_file.py (unweighted, then weighted) and print its table."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    for variant in ("unweighted", "weighted"):
        console.print(f"measuring the read of a 5M-tie edge list ({variant}) …", highlight=False)
        completed = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "bench_graph_file.py"), variant],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if completed.returncode != 0:
            raise SystemExit(f"graph file benchmark failed:\n{completed.stderr}")
        rows.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    table = Table(title="Reading a graph file (read_edge_list; median of 3 reads; target ≤ 5 s)")
    for column in ("file", "ties in file", "people", "ties kept", "MB", "read s", "min read s", "RSS MiB"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            "u v w" if row["weighted"] else "u v",
            f"{row['ties']:,}",
            f"{row['people']:,}",
            f"{row['edges']:,}",
            f"{row['file_mb']:.0f}",
            f"{row['read_s']:.2f}",
            f"{row['min_read_s']:.2f}",
            f"{row['peak_rss_mib']:.0f}",
        )
    console.print(table)
    return rows


def app_table(console: Console) -> dict:
    """Run benchmarks/bench_app.py in its own process and print its table."""
    console.print("measuring the app (Compare click → results, cached re-run, network layout) …")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_app.py")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        raise SystemExit(f"app benchmark failed:\n{completed.stderr}")
    row = json.loads(completed.stdout.strip().splitlines()[-1])
    table = Table(
        title=f"App: 3 strategies × 5 replications × 10,000 people × 365 days ({row['cpus']:.0f} CPUs)"
    )
    for column in ("measure", "seconds", "target"):
        table.add_column(column, justify="right")
    for key, label, target in (
        ("function_click_to_results_s", "click → results (page's run function)", "≤ 5"),
        ("function_cached_rerun_s", "cached re-run (page's run function)", "≤ 0.5"),
        ("browser_click_to_results_s", "click → every chart drawn (Chromium)", "≤ 5"),
        ("browser_cached_rerun_s", "cached re-run, drawn again (Chromium)", "≤ 0.5"),
        ("layout_3000_people_s", "network: sample + layout of 3,000 people", "≤ 5"),
    ):
        if key in row:
            table.add_row(label, f"{row[key]:.2f}", target)
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
    if ONLY in ("", "app"):
        app_row = app_table(console)
        (out / "app.json").write_text(json.dumps(app_row, indent=2))
    if ONLY in ("", "lesson"):
        lesson_row = lesson_table(console)
        (out / "lesson.json").write_text(json.dumps(lesson_row, indent=2))
    if ONLY in ("app", "lesson"):
        return
    if ONLY in ("", "sweep"):
        sweep_row = sweep_table(console)
        (out / "sweep.json").write_text(json.dumps(sweep_row, indent=2))
    if ONLY in ("", "graph"):
        graph_rows = graph_file_table(console)
        (out / "graph_file.json").write_text(json.dumps(graph_rows, indent=2))
    if ONLY in ("sweep", "graph"):
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
