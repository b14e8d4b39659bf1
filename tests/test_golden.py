"""Golden baseline: a small fixed run must reproduce the stored numbers.

If a change moves them on purpose, run ``make golden`` and commit the new baseline with the reason.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sim import load_scenario, run

GOLDEN_FILE = Path(__file__).parent / "golden" / "hybrid_small.json"
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "hybrid.yaml"


def golden_numbers() -> dict[str, Any]:
    scenario = load_scenario(SCENARIO, {"network.n": 3000, "days": 120, "seed": 99})
    result = run(scenario)
    summary = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else round(float(v), 6))
        for k, v in result.summary.items()
    }
    return {
        "summary": summary,
        "daily_customers": result.steps["n_customer"].astype(int).tolist(),
        "ledger_lines": len(result.ledger),
    }


def test_small_run_matches_the_golden_baseline():
    expected = json.loads(GOLDEN_FILE.read_text())
    actual = golden_numbers()
    assert actual["daily_customers"] == expected["daily_customers"]
    assert actual["ledger_lines"] == expected["ledger_lines"]
    for metric, value in expected["summary"].items():
        got = actual["summary"][metric]
        if value is None:
            assert got is None, metric
        else:
            assert math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9), (metric, got, value)
