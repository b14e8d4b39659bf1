"""Dotted-path overrides (``ads.daily_budget=500``): how the CLI, sweeps and the app change a field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sim.scenario.errors import Problem, ScenarioError, given_text
from sim.scenario.yaml_io import parse_yaml

__all__ = ["apply_overrides", "override_pairs", "parse_override"]


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"ads.daily_budget=500"`` into ``("ads.daily_budget", 500)``.

    The value is read by the same YAML reader as scenario files (:func:`~sim.scenario.parse_yaml`),
    so a word means the same on the command line as in a file (``off``, ``none``, ``1e5``). Text that
    is not valid YAML is kept as the string it is.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError([Problem("--set", "must look like section.field=value", given_text(text))])
    try:
        value = parse_yaml(raw, "--set") if raw.strip() else ""
    except ScenarioError:
        value = raw
    return key, value


def override_pairs(overrides: Mapping[str, Any] | Iterable[str]) -> dict[str, Any]:
    """Overrides as a ``{dotted path: value}`` mapping, from a mapping or ``path=value`` strings."""
    if isinstance(overrides, Mapping):
        return dict(overrides)
    return dict(parse_override(text) for text in overrides)


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``data`` with each dotted path set (``network.n`` → ``data["network"]["n"]``).

    ``data`` is never changed: the mappings along each overridden path are copied, and everything
    else is shared with ``data`` (so a large or hostile document is never deep-copied). A missing
    intermediate section is created, so validation reports an unknown key by its full path.
    """
    result = dict(data)
    for dotted, value in overrides.items():
        parts = str(dotted).split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            copied: dict[str, Any] = dict(child) if isinstance(child, Mapping) else {}
            node[part] = copied
            node = copied
        node[parts[-1]] = value
    return result
