"""Scenario texts the app works with: presets, uploads, and whether a set of strategies can be compared.

Scenarios are kept as YAML text (what a file holds, what is downloaded, what caches are keyed on);
each is parsed and validated with :func:`sim.scenario.scenario_from_text` when used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sim.analysis.compare import WORLD_SECTIONS
from sim.scenario import MAX_SCENARIO_BYTES, Problem, Scenario, ScenarioError, scenario_from_text
from sim.ui.form import changed_overrides

__all__ = ["PRESETS_DIR", "preset_texts", "read_upload", "unique_name", "world_differences", "world_problems"]

#: The preset strategies shipped with Ripple.
PRESETS_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def preset_texts(folder: str | Path = PRESETS_DIR) -> dict[str, str]:
    """Every ``*.yaml`` scenario in ``folder`` as ``{file stem: YAML text}``, sorted by name."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(Path(folder).glob("*.yaml"))}


def read_upload(filename: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario file; raise :class:`ScenarioError` listing every problem.

    Refused before parsing: an empty file and one over :data:`~sim.scenario.MAX_SCENARIO_BYTES`.
    """
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            [
                Problem(
                    "",
                    f"a scenario file must be at most {MAX_SCENARIO_BYTES:,} bytes",
                    f"{len(data):,} bytes",
                )
            ],
            filename,
        )
    if not data.strip():
        raise ScenarioError([Problem("", "a scenario file must not be empty", "an empty file")], filename)
    return scenario_from_text(data, source=filename)


def unique_name(name: str, existing: Mapping[str, object] | set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``… if it is taken."""
    candidate, k = name, 2
    while candidate in existing:
        candidate, k = f"{name} ({k})", k + 1
    return candidate


def world_differences(base: Scenario, other: Scenario) -> list[str]:
    """The settings of the shared world (and horizon) in which ``other`` differs from ``base``.

    As ``path=value`` overrides of ``other``: the same text a user would pass with ``--set``.
    """
    keep = (*WORLD_SECTIONS, "days")
    before = {key: value for key, value in base.model_dump(mode="json").items() if key in keep}
    after = {key: value for key, value in other.model_dump(mode="json").items() if key in keep}
    return changed_overrides(before, after)


def world_problems(named: Mapping[str, Scenario]) -> list[str]:
    """Why these strategies cannot be compared side by side (``[]`` when they can).

    Strategies in a comparison share one world per replication (the sections in
    :data:`sim.analysis.compare.WORLD_SECTIONS`) and one horizon, so the differences between them are paired:
    the settings :func:`sim.analysis.compare.check_same_world` requires to match. Each message names the
    strategy and the settings that differ from the baseline (the first strategy).
    """
    items = list(named.items())
    base_name, base = items[0]
    messages = []
    for name, scenario in items[1:]:
        differences = world_differences(base, scenario)
        if differences:
            messages.append(f"{name} differs from {base_name} in: " + ", ".join(differences))
    return messages
