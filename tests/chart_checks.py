"""Checks every chart of the app must pass: non-empty data, and plain fields that are its columns.

Vega-Lite reads ``a.b`` as a nested field and ``a[0]``/``a:Q`` specially, so such names draw empty
charts.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

UNSAFE = re.compile(r"(?<!\\)[.\[\]:]")


def _views(
    spec: Mapping[str, Any], data: str | None
) -> Iterator[tuple[Mapping[str, Any], str | None, set[str]]]:
    """Each unit view with the name of its dataset and the fields its transforms make."""
    own = spec.get("data")
    if isinstance(own, Mapping) and "name" in own:
        data = str(own["name"])
    made: set[str] = set()
    for transform in spec.get("transform", []):
        value = transform.get("as")
        if isinstance(value, str):
            made.add(value)
        elif isinstance(value, list):
            made.update(map(str, value))
        for aggregate in transform.get("aggregate", []):
            made.add(str(aggregate.get("as")))
    if "mark" in spec:
        yield spec, data, made
    for key in ("layer", "concat", "hconcat", "vconcat"):
        for child in spec.get(key, []):
            for view, name, more in _views(child, data):
                yield view, name, made | more
    if isinstance(spec.get("spec"), Mapping):
        for view, name, more in _views(spec["spec"], data):
            yield view, name, made | more


def _fields(encoding: Mapping[str, Any]) -> Iterator[str]:
    for channel in encoding.values():
        for item in channel if isinstance(channel, list) else [channel]:
            if isinstance(item, Mapping) and isinstance(item.get("field"), str):
                yield item["field"]


def chart_problems(spec: Mapping[str, Any], datasets: Mapping[str, pd.DataFrame]) -> list[str]:
    """What is wrong with a Vega-Lite ``spec`` drawn from ``datasets`` (``[]`` when nothing is)."""
    problems = []
    facet_fields: list[str] = []
    facet = spec.get("facet")
    if isinstance(facet, Mapping):
        facet_fields = list(_fields(facet)) if "field" not in facet else [str(facet["field"])]
    views = list(_views(spec, None))
    if not views:
        return ["no marks in the chart"]
    for view, name, made in views:
        frame = datasets.get(name or "")
        if frame is None:
            inline = view.get("data", {}).get("values") if isinstance(view.get("data"), Mapping) else None
            frame = pd.DataFrame(inline) if inline is not None else None
        if frame is None:
            problems.append(f"a {view['mark']} mark has no data ({name!r})")
            continue
        if frame.empty:
            problems.append(f"the {view['mark']} mark's data {name!r} is empty")
        for field in [*_fields(view.get("encoding", {})), *facet_fields]:
            if UNSAFE.search(field):
                problems.append(f"field {field!r} has a character Vega-Lite reads as a path or type")
            elif field not in frame.columns and field not in made:
                problems.append(f"field {field!r} is not a column of {name!r}: {list(frame.columns)}")
    return problems


def altair_problems(chart: Any) -> list[str]:
    """:func:`chart_problems` of an Altair chart (or a Vega-Lite dict with its datasets)."""
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    datasets = {
        name: value if isinstance(value, pd.DataFrame) else pd.DataFrame(value)
        for name, value in spec.get("datasets", {}).items()
    }
    return chart_problems(spec, datasets)


def element_data(element: Any) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The spec and the named datasets of a ``vega_lite_chart`` element of Streamlit's AppTest."""
    proto = element.proto
    spec = json.loads(proto.spec)
    datasets = {
        dataset.name: pa.ipc.open_stream(io.BytesIO(dataset.data.data)).read_pandas()
        for dataset in proto.datasets
    }
    if proto.HasField("data") and proto.data.data:
        main = pa.ipc.open_stream(io.BytesIO(proto.data.data)).read_pandas()
        datasets[""] = main
        if isinstance(spec.get("data"), Mapping) and "name" in spec["data"]:
            datasets[spec["data"]["name"]] = main
    return spec, datasets


def element_problems(element: Any) -> list[str]:
    """:func:`chart_problems` of a ``vega_lite_chart`` element of Streamlit's AppTest."""
    return chart_problems(*element_data(element))
