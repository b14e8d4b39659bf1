"""Dotted paths into a scenario, including list items (``loyalty.tiers.1.threshold``).

:func:`sim.scenario.apply_overrides` sets mapping keys; a factor may also reach into a list of
sections (a loyalty programme's tiers) by index. :func:`apply_point` handles both: it sets every
path on a copy of the scenario's plain data, and the result is validated as a whole scenario.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sim.scenario import Scenario, scenario_from_dict

__all__ = ["apply_point", "leaf_paths", "scenario_at"]


def leaf_paths(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of nested mappings and lists, by dotted path (list items by index)."""
    leaves: dict[str, Any] = {}
    if isinstance(data, Mapping):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return {prefix[:-1]: data}
    for key, value in items:
        path = f"{prefix}{key}"
        if isinstance(value, (Mapping, list)) and value:
            leaves.update(leaf_paths(value, path + "."))
        else:
            leaves[path] = value
    return leaves


def apply_point(data: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` with each dotted path in ``point`` set (list items by index)."""
    result = copy.deepcopy(dict(data))
    for dotted, value in point.items():
        parts = dotted.split(".")
        node: Any = result
        for part in parts[:-1]:
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict):
                if not isinstance(node.get(part), (dict, list)):
                    node[part] = {}
                node = node[part]
            else:  # a path through a leaf: let validation name it
                break
        last = parts[-1]
        if isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = value
        elif isinstance(node, dict):
            node[last] = value
    return result


def scenario_at(base: Scenario, point: Mapping[str, Any]) -> Scenario:
    """``base`` with the point's overrides applied, validated (raises ScenarioError)."""
    data = apply_point(base.model_dump(mode="json", exclude={"base_dir"}), point)
    return scenario_from_dict(data, base_dir=base.base_dir)
