"""``make bench`` produces every row its targets ask for (on tiny sizes: a check of the harness, untimed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_bench_run_has_every_target_row(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_QUICK": "1", "BENCH_OUT": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("BENCH_ONLY", None)
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_benchmarks.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["quick"] is True
    runs = {(row["impl"], row["size"]) for row in report["runs"]}
    assert runs == {(impl, size) for impl in ("ripple", "ripple-all") for size in ("10k", "100k", "1M")}
    for row in report["runs"]:
        assert row["ms_per_day"] > 0 and row["peak_rss_mib"] > 0 and row["cpu_s"] > 0
    whats = [target["what"] for target in report["targets"]]
    for part in (
        "every rule, 500 ×",
        "every rule, 2,000 × 10 days with the world",
        "every rule, 2,000, peak RSS",
        "core rules, 500 ×",
        "core rules, 2,000, peak RSS",
        "one every-rule day ÷ one float32 mat-vec",
        "NDlib IC step ÷ one every-rule day",
        "one Mesa Agent per customer ÷ Ripple",
        "app: Compare click → results",
    ):
        assert any(what.startswith(part) for what in whats), (part, whats)
    by_what = {target["what"]: target for target in report["targets"]}
    ndlib = next(target for what, target in by_what.items() if what.startswith("NDlib IC"))
    # NDlib is the bench extra: measured where it is installed, else the row says why, never a number.
    if "ndlib_error" in report["ndlib"]:
        assert ndlib["value"] is None and ndlib["verdict"] == "n/a" and "NDlib not measured" in ndlib["note"]
    else:
        assert ndlib["value"] > 0 and ndlib["verdict"] in ("pass", "FAIL")
    floor = report["floor"]
    assert floor["matvec_float32_ms"] > 0 and floor["matvec_float64_ms"] > 0
    for target in report["targets"]:
        assert target["verdict"] in ("pass", "FAIL", "n/a", "")
    assert "Targets" in completed.stdout and "Runs" in completed.stdout
