"""Reading and writing scenario files: YAML in (files, uploads, text), YAML out.

Errors: every function here raises :class:`~sim.scenario.errors.ScenarioError`, listing every
problem with its field path (or the YAML line), what is allowed and what was given. The YAML reader
itself (aliases, nesting, duplicate keys, YAML 1.2 scalars) is :mod:`sim.scenario.yaml_io`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.overrides import apply_overrides, override_pairs
from sim.scenario.root import Scenario, scenario_from_dict
from sim.scenario.yaml_io import dump_yaml, parse_yaml

__all__ = [
    "MAX_SCENARIO_BYTES",
    "load_scenario",
    "parse_yaml",
    "read_text_file",
    "scenario_from_text",
    "scenario_to_yaml",
]

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
    return scenario_from_text(
        read_text_file(file, MAX_SCENARIO_BYTES, "scenario"), overrides, base_dir=file.parent, source=source
    )


def read_text_file(file: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (a scenario, an experiment).

    Never blocks or reads without end: FIFOs, devices and folders are refused, and at most
    ``limit + 1`` bytes are read even from a file that grows while it is read.

    Raises:
        ScenarioError: naming the file and why it cannot be used.
    """
    source = str(file)
    if not file.is_file():
        given = "a folder, device or pipe" if file.exists() else ""
        raise ScenarioError(
            [
                Problem(
                    "", f"the {what} file must exist as a regular file (not a folder, device or pipe)", given
                )
            ],
            source,
        )
    try:
        with open(file, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ScenarioError(
            [Problem("", f"the {what} file must be readable", exc.strerror or type(exc).__name__)], source
        ) from None
    if len(data) > limit:
        raise ScenarioError(
            [Problem("", f"a {what} file must be at most {limit:,} bytes", f"more than {limit:,} bytes")],
            source,
        )
    return data


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
            data = apply_overrides(data, pairs)
    return scenario_from_dict(data, base_dir=base_dir, source=source, attachments=attachments)


def scenario_to_yaml(scenario: Scenario) -> str:
    """The scenario as a YAML document that :func:`load_scenario` reads back to an equal scenario."""
    data = scenario.model_dump(mode="json", exclude={"base_dir"})
    network = data["network"]
    if network.get("n", 0) is None:
        del network["n"]  # a graph file's people count comes from the file
    data["network"] = {"kind": network.pop("kind"), **network}  # the kind reads best first
    return dump_yaml(data, sort_keys=False, allow_unicode=True)
