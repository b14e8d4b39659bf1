"""Reading and writing scenario files: YAML in (files, uploads, text), YAML out.

Errors: every function here raises :class:`~sim.scenario.errors.ScenarioError`, listing every
problem with its field path (or the YAML line), what is allowed and what was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.overrides import apply_overrides, override_pairs
from sim.scenario.root import Scenario, scenario_from_dict

__all__ = ["MAX_SCENARIO_BYTES", "load_scenario", "parse_yaml", "scenario_from_text", "scenario_to_yaml"]

#: Largest scenario file accepted, in bytes: a scenario is a few kilobytes; anything far larger is
#: not a scenario and is refused before parsing.
MAX_SCENARIO_BYTES = 1_000_000


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> Scenario:
    """Load and validate a scenario file (YAML), applying dotted-path overrides first.

    ``overrides`` is either a mapping ``{"ads.daily_budget": 0}`` or CLI strings
    ``["ads.daily_budget=0"]``. Raises :class:`ScenarioError` listing every problem.
    """
    file = Path(path)
    source = str(path)
    if not file.is_file():
        raise ScenarioError([Problem("", "the scenario file must exist", source)], source)
    if file.stat().st_size > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            [Problem("", f"a scenario file must be at most {MAX_SCENARIO_BYTES} bytes", source)],
            source,
        )
    return scenario_from_text(file.read_bytes(), overrides, base_dir=file.parent, source=source)


def parse_yaml(text: str | bytes, source: str | None = None) -> Any:
    """Parse YAML text, turning a syntax or encoding error into a :class:`ScenarioError` with its line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "file"
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([Problem(where, "must be valid YAML", str(reason))], source) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem("", "must be UTF-8 text", "binary data")], source) from None


def scenario_from_text(
    text: str | bytes,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    *,
    base_dir: str | Path | None = None,
    source: str | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> Scenario:
    """Parse YAML text (a file's content, an upload) and validate it.

    ``attachments`` are the files uploaded with the scenario: given, the scenario may only use
    them (see :func:`~sim.scenario.root.scenario_from_dict`).
    """
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            [Problem("", f"a scenario must be at most {MAX_SCENARIO_BYTES} bytes", f"{len(text)} bytes")],
            source,
        )
    data = parse_yaml(text, source)
    if data is None:
        data = {}
    if overrides:
        pairs = override_pairs(overrides)
        if isinstance(data, Mapping):
            data = apply_overrides(dict(data), pairs)
    return scenario_from_dict(data, base_dir=base_dir, source=source, attachments=attachments)


def scenario_to_yaml(scenario: Scenario) -> str:
    """The scenario as a YAML document that :func:`load_scenario` reads back to an equal scenario."""
    data = scenario.model_dump(mode="json", exclude={"base_dir"})
    network = data["network"]
    if network.get("n", 0) is None:
        del network["n"]  # a graph file's people count comes from the file
    data["network"] = {"kind": network.pop("kind"), **network}  # the kind reads best first
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
