"""Tiny experiments for the sweep tests (300 people, 30 days: a run takes a few tens of ms)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import SCENARIOS

TINY: dict[str, Any] = {"network.n": 300, "days": 30}


def write_experiment(folder: Path, name: str = "tiny", **fields: Any) -> Path:
    """An experiment file on the hybrid preset at 300 people × 30 days; ``fields`` replace keys."""
    data: dict[str, Any] = {
        "name": name,
        "base": str(SCENARIOS / "hybrid.yaml"),
        "scenario": dict(TINY),
        "factors": {
            "ads.daily_budget": {"values": [0.0, 5.0, 20.0]},
            "incentives.amount_referrer": {"low": 0.0, "high": 10.0, "levels": 2},
        },
        "replications": 2,
        "seed": 5,
        "metrics": ["profit", "new_customers", "marketing_spend"],
    }
    data.update(fields)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def sobol_store(folder: Path, name: str = "tiny") -> Path:
    """A small Sobol sweep of two factors (16 runs) stored in ``folder / name``; returns the store path."""
    from sim.sweep import experiment_from_dict, sweep

    experiment = experiment_from_dict(
        {
            "name": name,
            "base": str(SCENARIOS / "hybrid.yaml"),
            "scenario": dict(TINY),
            "factors": {
                "ads.daily_budget": {"low": 0.0, "high": 20.0},
                "sharing.p_convert": {"low": 0.02, "high": 0.08},
            },
            "design": {"kind": "sobol", "samples": 8, "seed": 1},
            "replications": 1,
            "seed": 1,
            "metrics": ["profit", "new_customers"],
        }
    )
    sweep(experiment, out=folder / name, workers=1, progress=False)
    return folder / name
