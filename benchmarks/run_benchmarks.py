"""``make bench``: time and peak memory of full-rule runs, and Ripple vs one Agent per customer.

Each configuration runs in its own process so peak RSS is its own. Results are printed as a table
and written to ``bench-results/latest.json`` (git-ignored). Targets (issue #2, this 2-core machine):
10k customers ≤ 0.3 s per 365-day run; 1M customers (BA m=5) ≤ 60 s with graph generation and
≤ 4 GiB peak RSS; ≥ 50x faster per day than the Agent-per-customer baseline at 100k. ``ripple``
runs the core rules (hybrid preset); ``ripple-all`` runs every rule (``benchmarks/all_rules.yaml``),
which must stay within the same targets.
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


def main() -> None:
    console = Console(width=140)
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
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
