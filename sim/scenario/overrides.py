"""Dotted-path overrides (``ads.daily_budget=500``): how the CLI, sweeps and the app change a field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from sim.scenario.errors import Problem, ScenarioError, given_text

__all__ = ["apply_overrides", "override_pairs", "parse_override"]


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"ads.daily_budget=500"`` into ``("ads.daily_budget", 500)`` (value parsed as YAML)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError([Problem("--set", "must look like section.field=value", given_text(text))])
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def override_pairs(overrides: Mapping[str, Any] | Iterable[str]) -> dict[str, Any]:
    """Overrides as a ``{dotted path: value}`` mapping, from a mapping or ``path=value`` strings."""
    if isinstance(overrides, Mapping):
        return dict(overrides)
    return dict(parse_override(text) for text in overrides)


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` with each dotted path set (``network.n`` → ``data["network"]["n"]``).

    A missing intermediate section is created, so validation reports an unknown key by its full path.
    """
    result = _deep_copy(data)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return result


def _deep_copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {key: _deep_copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_deep_copy(value) for value in data]
    return data
