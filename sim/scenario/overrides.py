"""Dotted-path overrides (``ads.daily_budget=500``): how the CLI, sweeps and the app change a field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from sim.scenario.channels import channels_as_section
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
    A number reaches into a list (``ads.channels.1.cpm``: the second further ad channel's CPM).

    Raises:
        ScenarioError: when a number names an item a list does not have.
    """
    result = _deep_copy(data)
    _channel_lists_as_sections(result)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node: Any = result
        for depth, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                node = node[_index(node, part, parts[: depth + 1])]
                continue
            child = node.get(part)
            if not isinstance(child, (dict, list)):
                child = {}
                node[part] = child
            node = child
        if isinstance(node, list):
            node[_index(node, parts[-1], parts)] = value
        else:
            node[parts[-1]] = value
    return result


def _channel_lists_as_sections(data: dict[str, Any]) -> None:
    """Paid channels written as a list (``ads:``, ``rival.ads:``) become the section form, in place.

    So dotted paths are the same however a file writes the channels (``ads.channels.0.cpm``).
    """
    if isinstance(data.get("ads"), list):
        data["ads"] = channels_as_section(data["ads"])
    rival = data.get("rival")
    if isinstance(rival, dict) and isinstance(rival.get("ads"), list):
        rival["ads"] = channels_as_section(rival["ads"])


def _index(items: list[Any], part: str, path: list[str]) -> int:
    """The list index ``part`` names (raises :class:`ScenarioError` naming the path if there is none)."""
    if part.isdigit() and int(part) < len(items):
        return int(part)
    where = ".".join(path)
    allowed = (
        f"must be an item of the list (0 to {len(items) - 1})" if items else "names an item of an empty list"
    )
    raise ScenarioError([Problem(where, allowed, given_text(part))])


def _deep_copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {key: _deep_copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_deep_copy(value) for value in data]
    return data
