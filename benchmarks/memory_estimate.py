"""The memory estimate against the memory a run really takes (``python benchmarks/memory_estimate.py``).

``sim.analysis.memory.estimate_memory`` predicts a run's peak memory from the scenario alone, so
``ripple run``/``validate``/``compare``/``sweep`` can refuse one that will not fit before building
anything. This script runs scenarios of every graph kind and size in their own processes, measures
each one's peak resident memory above the interpreter's own (``ru_maxrss`` after the imports), and
prints it beside the estimate. The estimate should be a little high (ratio ≥ 1), never far low.
``BENCH_QUICK=1`` runs only the small half.
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

#: (base scenario, overrides): the hybrid preset's rules, or every rule switched on.
CASES: list[tuple[str, dict[str, object]]] = [
    ("scenarios/hybrid.yaml", {"network.n": 100_000, "days": 30}),
    (
        "scenarios/hybrid.yaml",
        {"network": {"kind": "erdos_renyi", "n": 200_000, "mean_degree": 10}, "days": 10},
    ),
    ("scenarios/hybrid.yaml", {"network": {"kind": "complete", "n": 200_000}, "days": 10}),
    ("benchmarks/all_rules.yaml", {"network.n": 100_000, "days": 30}),
    ("benchmarks/all_rules.yaml", {"network.n": 2_000, "days": 3_650}),
]
if not QUICK:
    CASES += [
        ("scenarios/hybrid.yaml", {"network.n": 400_000, "network.m": 20, "days": 30}),
        (
            "scenarios/hybrid.yaml",
            {"network": {"kind": "erdos_renyi", "n": 200_000, "mean_degree": 50}, "days": 10},
        ),
        ("scenarios/hybrid.yaml", {"network": {"kind": "watts_strogatz", "n": 200_000, "k": 50}, "days": 10}),
        (
            "scenarios/hybrid.yaml",
            {
                "network": {
                    "kind": "communities",
                    "n": 200_000,
                    "mean_degree_within": 40,
                    "mean_degree_between": 10,
                },
                "days": 10,
            },
        ),
        ("scenarios/hybrid.yaml", {"network": {"kind": "complete", "n": 800_000}, "days": 10}),
        ("scenarios/hybrid.yaml", {"network.n": 1_000_000, "days": 10}),
        ("benchmarks/all_rules.yaml", {"network.n": 400_000, "days": 30}),
    ]

CHILD = """
import json, resource, sys
from sim import load_scenario, run
from sim.analysis.memory import estimate_memory
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
scenario = load_scenario(sys.argv[1], json.loads(sys.argv[2]))
estimate = estimate_memory(scenario)
run(scenario, memory_check=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"measured": peak - base, "estimate": estimate.bytes, "people": estimate.people,
                  "edges": estimate.edges, "days": estimate.days}))
"""


def main() -> None:
    table = Table(title="Memory estimate vs measured peak (above the interpreter's own)")
    for column in ("scenario", "people", "edges", "days", "measured MiB", "estimate MiB", "ratio"):
        table.add_column(column, justify="right")
    worst = float("inf")
    for path, overrides in CASES:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT / path), json.dumps(overrides)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = row["estimate"] / max(row["measured"], 1)
        worst = min(worst, ratio)
        kind = (
            overrides.get("network", {}).get("kind", "barabasi_albert")
            if isinstance(overrides.get("network"), dict)
            else "barabasi_albert"
        )  # type: ignore[union-attr]
        table.add_row(
            f"{Path(path).stem} / {kind}",
            f"{row['people']:,}",
            f"{row['edges']:,}",
            f"{row['days']:,}",
            f"{row['measured'] / 2**20:,.0f}",
            f"{row['estimate'] / 2**20:,.0f}",
            f"{ratio:.2f}",
        )
    Console().print(table)
    print(f"lowest estimate / measured: {worst:.2f} (≥ 1: the estimate never fell short)")


if __name__ == "__main__":
    main()
