"""GraphML, GEXF, GML and Pajek files (what Gephi, igraph and Pajek export), read through networkx.

networkx parses the file; this module hands its nodes and ties on as plain lists, which
:mod:`sim.world.edge_list` numbers and simplifies exactly like an edge list, so loops, duplicates,
direction and weights are handled the same way whatever the format. Every node in the file is a
person, including those without ties; an edge's ``weight`` attribute is its tie strength.

XML is parsed by the standard library's expat, which expands no external entities and limits entity
amplification; files are capped at :data:`sim.world.edge_list.MAX_NETWORKX_BYTES` before parsing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

__all__ = ["NETWORKX_FORMATS", "NetworkxTies", "UnreadableGraphError", "read_with_networkx"]

#: The formats read through networkx, with the names people know them by.
NETWORKX_FORMATS = {"graphml": "GraphML", "gexf": "GEXF", "gml": "GML", "pajek": "Pajek"}


class UnreadableGraphError(ValueError):
    """The file could not be read by networkx; the message is the first line of its error."""


@dataclass(frozen=True)
class NetworkxTies:
    """A graph file's content as networkx read it.

    Attributes:
        nodes: Every node's id, in file order (isolated people included).
        src: One end of each tie.
        dst: The other end.
        weights: Each tie's ``weight`` attribute, or None where it has none.
        directed: Whether the file declares the graph directed.
    """

    nodes: list[Any]
    src: list[Any]
    dst: list[Any]
    weights: list[Any]
    directed: bool


def _read(data: bytes, kind: str) -> Any:
    import networkx as nx  # deferred: slow to import

    stream = io.BytesIO(data)
    if kind == "graphml":
        return nx.read_graphml(stream)
    if kind == "gexf":
        return nx.read_gexf(stream, node_type=None, relabel=False)
    if kind == "gml":
        return nx.read_gml(stream, label=None)
    if kind == "pajek":
        return nx.read_pajek(stream)
    raise UnreadableGraphError(f"unknown format {kind!r}")


def read_with_networkx(data: bytes, kind: str) -> NetworkxTies:
    """The nodes and ties of a GraphML, GEXF, GML or Pajek file (``kind``: a key of NETWORKX_FORMATS).

    Raises:
        UnreadableGraphError: when networkx cannot read the file (any of the many errors its parsers raise).
    """
    try:
        graph = _read(data, kind)
        nodes = list(graph.nodes())
        src, dst, weights = [], [], []
        for u, v, attributes in graph.edges(data=True):
            src.append(u)
            dst.append(v)
            weights.append(attributes.get("weight"))
        directed = bool(graph.is_directed())
    except UnreadableGraphError:
        raise
    except Exception as exc:  # the XML parser and networkx raise many kinds; all mean "not readable"
        text = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableGraphError(text) from None
    return NetworkxTies(nodes=nodes, src=src, dst=dst, weights=weights, directed=directed)
