"""Reading a social graph from a file: edge lists as people have them, and what Gephi and igraph export.

An **edge list** has one tie per line: two node ids, then optionally a weight (the tie's strength).
What the reader accepts, because real files do it:

- separators: a tab, a comma, a semicolon, or runs of spaces; quoted fields (``"0","1"``);
- text in UTF-8 (with or without a byte-order mark), UTF-16 (a spreadsheet's "Unicode Text": a
  byte-order mark, tabs and CRLF line ends) or, failing UTF-8, Windows-1252;
- comment lines starting with ``%`` (KONECT) or ``#`` (SNAP), blank lines, a header line
  (``source,target``), and a first line holding the node and edge counts (as SNAP and Pajek-style
  files begin); KONECT's ``% sym`` / ``% asym`` and SNAP's "Directed graph" say whether the list is
  directed;
- ids of any kind: whole numbers (1-based, with gaps, huge) or names. Only ASCII digits make a
  number: ``1_0``, full-width or Arabic-Indic digits are names. People are numbered ``0 .. n-1``
  (numbers in ascending order, names in order of first appearance) and the file's own id of each
  row is kept as :attr:`~sim.world.graph.SocialGraph.node_ids`;
- a third column read as tie strength (a number ≥ 0, kept as
  :attr:`~sim.world.graph.SocialGraph.tie_strength`); further columns (KONECT's timestamps) are
  ignored, with a note.

Self-loops are dropped, duplicates merged, a directed list made symmetric (see
:func:`sim.world.graph.simple_graph`); each change is one line in the graph's ``notes``.
GraphML, GEXF, GML and Pajek files are read through networkx (:mod:`sim.world.readers`).

Safety: only regular files are read (a FIFO, a device such as ``/dev/zero`` or ``/dev/stdin`` is
refused before it is opened for reading, so nothing blocks), at most :data:`MAX_GRAPH_BYTES`; errors
never quote more than a short, sanitised excerpt of a line, and none at all of a file that does not
look like an edge list.

Speed: a well-formed file is parsed by pyarrow's C CSV reader (a 5M-tie list in about a second); only
a file the fast path cannot read cleanly is scanned line by line in Python, which is also where every
error message comes from.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.scenario import GRAPH_FORMATS, MAX_PEOPLE
from sim.world.edge_list_errors import EdgeListError, byte_size, excerpt, plural
from sim.world.edge_list_text import Labelled, decode_text, is_number_id, parse_edge_list_text
from sim.world.graph import SocialGraph, simple_graph

__all__ = [
    "GRAPH_FORMATS",
    "MAX_GRAPH_BYTES",
    "MAX_NETWORKX_BYTES",
    "EdgeListError",
    "ParsedGraph",
    "check_people_count",
    "graph_format",
    "parse_graph",
    "parse_graph_file",
    "read_edge_list",
    "read_graph_bytes",
]

Int64Array = NDArray[np.int64]

#: Largest graph file read, in bytes (about 70 million ties of an edge list).
MAX_GRAPH_BYTES = 1_000_000_000
#: Largest GraphML, GEXF, GML or Pajek file read: networkx holds about 1 KB per tie in memory.
MAX_NETWORKX_BYTES = 100_000_000

_EXTENSIONS = {
    ".graphml": "graphml",
    ".gexf": "gexf",
    ".gml": "gml",
    ".net": "pajek",
    ".pajek": "pajek",
    ".paj": "pajek",
}
#: Folders of kernel interfaces: their "regular files" (``/proc/self/environ``) are never graph files.
_SYSTEM_FOLDERS = ("/proc", "/sys")
_GML_START = re.compile(rb"^\s*(?:creator\b[^\n]*\n\s*)?graph\s*\[", re.IGNORECASE)


# ------------------------------------------------------------------------------- the file


def read_graph_bytes(path: str | Path, max_bytes: int = MAX_GRAPH_BYTES) -> bytes:
    """The content of a graph file, read only if it is a regular file of at most ``max_bytes``.

    FIFOs, sockets and devices (``/dev/stdin``, ``/dev/zero``, ``/dev/urandom``) are refused after a
    ``stat``, before the file is opened for reading, and the file is opened non-blocking, so a path
    can never make the reader wait. Files under ``/proc`` and ``/sys`` are refused too.

    Raises:
        EdgeListError: naming the file and what is wrong (missing, a folder, not a regular file,
            too big: the message says the limit).
    """
    file = Path(path)

    def refuse(message: str, hint: str | None = None) -> EdgeListError:
        return EdgeListError([(0, message)], file, hint=hint)

    try:
        info = os.stat(file)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise refuse("is a folder, not a graph file")
    if not stat.S_ISREG(info.st_mode):
        raise refuse("is not a regular file (a pipe, socket or device): only files on disk are read")
    real = os.path.realpath(file)
    if any(real == folder or real.startswith(folder + "/") for folder in _SYSTEM_FOLDERS):
        raise refuse("is a system file, not a graph file")
    if info.st_size > max_bytes:
        raise refuse(f"is {byte_size(info.st_size)}; graph files are read up to {byte_size(max_bytes)}")
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
            raise refuse("is not a regular file: only files on disk are read")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 24, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except BlockingIOError:
        raise refuse("is not ready to be read: only files on disk are read") from None
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise refuse(f"is larger than {byte_size(max_bytes)}, the most a graph file may hold")
    return b"".join(chunks)


def graph_format(name: str, data: bytes | None = None, declared: str = "auto") -> str:
    """The format a graph file is read as: ``declared`` unless ``auto``, else by extension, then content."""
    if declared != "auto":
        return declared
    by_extension = _EXTENSIONS.get(Path(name).suffix.lower())
    if by_extension is not None:
        return by_extension
    if data is not None:
        head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        lowered = head.lower()
        if lowered.startswith(b"<"):
            if b"<graphml" in lowered:
                return "graphml"
            if b"<gexf" in lowered:
                return "gexf"
        if lowered.startswith(b"*vertices") or lowered.startswith(b"*network"):
            return "pajek"
        if _GML_START.match(head):
            return "gml"
    return "edge_list"


def read_edge_list(
    path: str | Path,
    n: int | None = None,
    *,
    format: str = "auto",
    max_bytes: int = MAX_GRAPH_BYTES,
) -> SocialGraph:
    """Read a social graph from a file: an edge list, or GraphML, GEXF, GML or Pajek.

    Args:
        path: The file (only regular files are read; see :func:`read_graph_bytes`).
        n: The number of people the caller expects (a scenario's ``network.n``), or ``None`` to take
            it from the file. A different count is an error.
        format: One of :data:`GRAPH_FORMATS` (``auto``: by extension, then by content).
        max_bytes: Largest file read (networkx formats: at most :data:`MAX_NETWORKX_BYTES`).

    Returns:
        The graph, with :attr:`~SocialGraph.node_ids` (the file's ids of rows ``0 .. n-1``),
        :attr:`~SocialGraph.tie_strength` when the file has weights, and
        :attr:`~SocialGraph.notes` on what was changed on the way in.

    Raises:
        EdgeListError: a summary (at most five example lines, the count, the likely fix).
    """
    data = read_graph_bytes(path, max_bytes)
    return parse_graph(data, str(path), format=format, n=n)


def parse_graph(
    data: bytes,
    name: str,
    *,
    format: str = "auto",
    n: int | None = None,
) -> SocialGraph:
    """Parse a graph file's content (an upload, or bytes read by :func:`read_graph_bytes`).

    Args:
        data: The file's bytes.
        name: The file's name (chooses the format by extension; names the file in messages).
        format: One of :data:`GRAPH_FORMATS`.
        n: The number of people expected, or ``None``; see :func:`read_edge_list`.

    Raises:
        EdgeListError: For anything that is not a usable graph.
    """
    parsed = parse_graph_file(data, name, format)
    if n is not None:
        check_people_count(parsed, n)
    return parsed.graph


@dataclass(frozen=True)
class ParsedGraph:
    """A graph as read from a file, with what the file said about itself.

    Attributes:
        graph: The graph (with ``node_ids``, ``tie_strength`` and ``notes``).
        name: The file's name.
        declared_nodes: The node count the file announced (a counts line, a KONECT or SNAP header),
            or ``None``.
    """

    graph: SocialGraph
    name: str
    declared_nodes: int | None = None


def check_people_count(parsed: ParsedGraph, n: int) -> None:
    """Raise :class:`EdgeListError` unless the file holds exactly ``n`` people (``network.n``)."""
    graph = parsed.graph
    if graph.n == n:
        return
    ids = ""
    node_ids = graph.node_ids
    if node_ids is not None and node_ids.dtype.kind == "i" and node_ids.size:
        low, high = int(node_ids[0]), int(node_ids[-1])
        gaps = ", with gaps" if high - low + 1 != graph.n else ""
        ids = f" (ids {low:,} to {high:,}{gaps})"
    hint = "leave network.n out: the number of people comes from the file"
    if parsed.declared_nodes is not None and parsed.declared_nodes != graph.n:
        hint += (
            f" (the file announces {parsed.declared_nodes:,} nodes but holds {graph.n:,}: is it cut short?)"
        )
    raise EdgeListError(
        [(0, f"network.n is {n:,}, but the file holds {graph.n:,} people{ids}")],
        parsed.name,
        hint=hint,
    )


def parse_graph_file(data: bytes, name: str, format: str = "auto") -> ParsedGraph:
    """Parse a graph file's content into a :class:`ParsedGraph` (no check of the people count)."""
    kind = graph_format(name, data, format)
    if kind not in GRAPH_FORMATS:
        raise EdgeListError([(0, f"unknown graph format {kind!r}")], name, hint=f"use one of {GRAPH_FORMATS}")
    if kind != "edge_list":
        if len(data) > MAX_NETWORKX_BYTES:
            raise EdgeListError(
                [
                    (
                        0,
                        f"a {kind} file is read through networkx, at most "
                        f"{byte_size(MAX_NETWORKX_BYTES)}; "
                        f"this one is {byte_size(len(data))}",
                    )
                ],
                name,
                hint="export a plain edge list (two ids per line) for graphs this big",
            )
        return _assemble(_from_networkx(data, kind, name), name)
    text, encoding_note = decode_text(data, name)
    return _assemble(parse_edge_list_text(text, name, encoding_note), name)


def _from_networkx(data: bytes, kind: str, name: str) -> Labelled:
    """The ties of a GraphML, GEXF, GML or Pajek file, with the file's node ids (see sim.world.readers)."""
    import pyarrow as pa

    from sim.world.readers import NETWORKX_FORMATS, UnreadableGraphError, read_with_networkx

    label = NETWORKX_FORMATS[kind]
    try:
        ties = read_with_networkx(data, kind)
    except UnreadableGraphError as exc:
        raise EdgeListError(
            [(0, f"is not a valid {label} file ({excerpt(str(exc))[1:-1]})")],
            name,
            hint=f"export it again as {label}, or as a plain edge list (two ids per line)",
        ) from None
    if not ties.nodes:
        raise EdgeListError([(0, f"holds no nodes ({label})")], name)
    if not ties.src:
        raise EdgeListError([(0, f"holds {len(ties.nodes):,} nodes but no ties ({label})")], name)
    missing = sum(value is None for value in ties.weights)
    weights = []
    for u, v, value in zip(ties.src, ties.dst, ties.weights, strict=True):
        try:
            strength = 1.0 if value is None else float(value)
        except (TypeError, ValueError, OverflowError):
            strength = math.nan
        if not 0.0 <= strength < math.inf:
            raise EdgeListError(
                [(0, f"the tie {excerpt(str(u))} – {excerpt(str(v))} has weight {excerpt(str(value))}")],
                name,
                hint="a weight is read as tie strength and must be a number ≥ 0",
            )
        weights.append(strength)
    weighted = missing < len(ties.src)
    notes = [f"read as {label} through networkx"]
    if weighted and missing:
        notes.append(f"{plural(missing, 'tie')} without a weight get tie strength 1")
    nodes, src, dst = ties.nodes, ties.src, ties.dst
    numeric = all(isinstance(x, int) and not isinstance(x, bool) for x in nodes)
    if not numeric and all(isinstance(x, str) and is_number_id(x) for x in nodes):
        nodes, src, dst = [int(x) for x in nodes], [int(x) for x in src], [int(x) for x in dst]
        numeric = True
    if not numeric:
        nodes, src, dst = [str(x) for x in nodes], [str(x) for x in src], [str(x) for x in dst]
    id_type = pa.int64() if numeric else pa.string()
    return Labelled(
        src=pa.array(src, id_type),
        dst=pa.array(dst, id_type),
        weight=np.array(weights, dtype=np.float64) if weighted else None,
        directed=ties.directed,
        nodes=pa.array(nodes, id_type),
        notes=notes,
    )


# ------------------------------------------------------------------------------ numbering


def _number_people(src: Any, dst: Any, nodes: Any = None) -> tuple[Int64Array, Int64Array, NDArray[Any]]:
    """Rows ``0 .. n-1`` for the file's ids: numbers ascending, names in order of first appearance.

    ``nodes`` (optional) lists every id, isolated people included (networkx formats). Returns the
    rows of ``src`` and ``dst`` and the id of each row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(src.type) and (nodes is None or pa.types.is_integer(nodes.type)):
        a = src.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        b = dst.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        parts = [a, b] if nodes is None else [a, b, nodes.to_numpy(zero_copy_only=False).astype(np.int64)]
        every = np.concatenate(parts)
        low, high = int(every.min()), int(every.max())
        if low >= 0 and high < max(4 * every.shape[0], 1 << 20):
            # Presence array: O(n) and no sort (np.unique would sort 2E ids).
            present = np.zeros(high + 1, dtype=bool)
            present[every] = True
            ids = np.flatnonzero(present).astype(np.int64)
            rank = np.cumsum(present, dtype=np.int64) - 1
            return rank[a], rank[b], ids
        ids, inverse = np.unique(every, return_inverse=True)
        return inverse[: a.shape[0]], inverse[a.shape[0] : 2 * a.shape[0]], ids.astype(np.int64)
    m = len(src)
    # Interleave the two ends (u0 v0 u1 v1 …) so that "first appearance" is the file's reading order.
    order = np.empty(2 * m, dtype=np.int64)
    order[0::2] = np.arange(m)
    order[1::2] = np.arange(m, 2 * m)
    ends = pa.concat_arrays([pc.cast(src, pa.string()), pc.cast(dst, pa.string())]).take(pa.array(order))
    parts = [ends] if nodes is None else [pc.cast(nodes, pa.string()), ends]  # nodes first: file order
    encoded = pc.dictionary_encode(pa.concat_arrays(parts))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    codes = codes[0 if nodes is None else len(nodes) :]
    ids = np.array(encoded.dictionary.to_pylist(), dtype=object)
    return codes[0::2], codes[1::2], ids


def _describe_ids(ids: NDArray[Any]) -> str:
    if ids.dtype.kind == "i":
        low, high = int(ids[0]), int(ids[-1])
        if low == 0 and high == ids.shape[0] - 1:
            return ""
        gaps = ", with gaps" if high - low + 1 != ids.shape[0] else ""
        first = "start at 1" if low == 1 and not gaps else f"run from {low:,} to {high:,}{gaps}"
        return (
            f"the file's ids {first}: people are numbered 0 to {ids.shape[0] - 1:,} "
            "(node_ids maps each back to its id)"
        )
    return (
        f"the file's ids are names: people are numbered 0 to {ids.shape[0] - 1:,} in order of first "
        "appearance (node_ids maps each back to its name)"
    )


def _assemble(labelled: Labelled, name: str) -> ParsedGraph:
    """Number the people, decide on a counts line, and build the simple graph with its notes."""
    import pyarrow as pa

    notes = list(labelled.notes)
    src, dst, weight = labelled.src, labelled.dst, labelled.weight
    declared_nodes = labelled.declared_nodes
    if len(src) == 0:
        raise EdgeListError([(0, "holds no ties")], name)
    if labelled.counts_candidate and len(src) >= 2 and pa.types.is_integer(src.type):
        first_a, first_b = int(src[0].as_py()), int(dst[0].as_py())
        rest_a = src.slice(1).to_numpy(zero_copy_only=False)
        rest_b = dst.slice(1).to_numpy(zero_copy_only=False)
        isolated = not (
            np.any(rest_a == first_a)
            or np.any(rest_b == first_a)
            or np.any(rest_a == first_b)
            or np.any(rest_b == first_b)
        )
        # "nodes edges": neither number is a person of the ties below; the counts fit those ties.
        plausible = first_a >= 2 and (len(src) - 1) // 2 <= first_b <= first_a * (first_a - 1)
        if isolated and plausible and np.any(rest_a != rest_b):
            distinct = np.unique(np.concatenate([rest_a, rest_b])).shape[0]
            if first_a >= distinct:
                src, dst = src.slice(1), dst.slice(1)
                weight = None if weight is None else weight[1:]
                declared_nodes = first_a
                notes.append(
                    f"the first line '{first_a} {first_b}' is read as the counts of nodes and edges "
                    "(as SNAP and Pajek-style files begin), not as a tie"
                )
    rows_a, rows_b, ids = _number_people(src, dst, labelled.nodes)
    n = int(ids.shape[0])
    if n > MAX_PEOPLE:
        raise EdgeListError(
            [(0, f"holds {n:,} people; a market has at most {MAX_PEOPLE:,}")],
            name,
            hint="use a sample of the graph",
        )
    if n < 2:
        raise EdgeListError([(0, "needs ties between at least 2 people")], name)
    if declared_nodes is not None and declared_nodes != n:
        notes.append(
            f"the file announces {declared_nodes:,} nodes but holds {n:,} people"
            + (" (is it cut short?)" if declared_nodes > n else "")
        )
    described = _describe_ids(ids)
    if described:
        notes.append(described)
    graph = simple_graph(
        n, rows_a, rows_b, weight=weight, node_ids=ids, directed=labelled.directed, notes=tuple(notes)
    )
    if graph.n_edges == 0:
        raise EdgeListError([(0, "holds no ties between two different people (only self-loops)")], name)
    return ParsedGraph(graph=graph, name=name, declared_nodes=declared_nodes)
