"""Dotted-path overrides (``ads.daily_budget=500``): how the CLI, sweeps and the app change a field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sim.scenario.channels import channels_as_section
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

    ``data`` is never changed: the mappings and lists along each overridden path are copied, and
    everything else is shared with ``data`` (so a large or hostile document is never deep-copied). A
    missing intermediate section is created, so validation reports an unknown key by its full path. A
    number reaches into a list (``ads.channels.1.cpm``: the second further ad channel's CPM).

    Raises:
        ScenarioError: when a number names an item a list does not have.
    """
    result = dict(data)
    _channel_lists_as_sections(result)
    for dotted, value in overrides.items():
        parts = str(dotted).split(".")
        node: Any = result
        for depth, part in enumerate(parts[:-1]):
            key: Any = _index(node, part, parts[: depth + 1]) if isinstance(node, list) else part
            child = node[key] if isinstance(node, list) else node.get(key)
            copied: Any = {}
            if isinstance(child, Mapping):
                copied = dict(child)
            elif isinstance(child, list):
                copied = list(child)
            node[key] = copied
            node = copied
        if isinstance(node, list):
            node[_index(node, parts[-1], parts)] = value
        else:
            node[parts[-1]] = value
    return result


def _channel_lists_as_sections(data: dict[str, Any]) -> None:
    """Paid channels written as a list (``ads:``, ``rival.ads:``) become the section form in ``data``.

    So dotted paths are the same however a file writes the channels (``ads.channels.0.cpm``). Only
    ``data`` itself and the ``rival`` mapping (copied) are changed.
    """
    if isinstance(data.get("ads"), list):
        data["ads"] = channels_as_section(data["ads"])
    rival = data.get("rival")
    if isinstance(rival, Mapping) and isinstance(rival.get("ads"), list):
        data["rival"] = {**rival, "ads": channels_as_section(rival["ads"])}


def _index(items: list[Any], part: str, path: list[str]) -> int:
    """The list index ``part`` names (raises :class:`ScenarioError` naming the path if there is none)."""
    if part.isdigit() and int(part) < len(items):
        return int(part)
    where = ".".join(path)
    allowed = (
        f"must be an item of the list (0 to {len(items) - 1})" if items else "names an item of an empty list"
    )
    raise ScenarioError([Problem(where, allowed, given_text(part))])
