"""Reading a Vega-Lite specification for what a person sees of its layout: title lines and legends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: Legend positions inside the plot area (a legend there sits on the data).
INSIDE = frozenset({"top-left", "top-right", "bottom-left", "bottom-right", "none"})
#: Characters of a title line that fit a chart drawn half a page wide (two in a row, ~350 px).
HALF_WIDTH_CHARS = 40
#: … and a chart drawn the page's width (~700 px).
FULL_WIDTH_CHARS = 70


def _text_lines(text: Any) -> list[str]:
    if text is None:
        return []
    if isinstance(text, str):
        return [text]
    return [str(line) for line in text]


def title_lines(spec: dict[str, Any]) -> list[str]:
    """Every line of the chart's title and subtitle (a plain string is one line)."""
    title = spec.get("title")
    if isinstance(title, dict):
        return _text_lines(title.get("text")) + _text_lines(title.get("subtitle"))
    return _text_lines(title)


def _dicts(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _dicts(value)


def legends(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every legend definition in the specification (encodings of every layer)."""
    return [d["legend"] for d in _dicts(spec) if isinstance(d.get("legend"), dict)]
