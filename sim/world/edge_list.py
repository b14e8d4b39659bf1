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

import csv
import math
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.scenario import GRAPH_FORMATS, MAX_PEOPLE
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
#: Lines the sniffer looks at to choose the separator, the header and the column count.
_SAMPLE_LINES = 100
#: Bad lines after which pyarrow gives up and the Python scan takes over.
_FAST_BAD_LIMIT = 1000
#: Bad lines after which the Python scan stops counting (the message says "at least").
_SCAN_BAD_LIMIT = 100_000
#: Longest excerpt of a line quoted in an error.
_EXCERPT = 40

#: Column names that mark a first line as a header (compared lower-case, letters and digits only).
_HEADER_WORDS = frozenset(
    (
        "source",
        "target",
        "src",
        "dst",
        "from",
        "to",
        "node",
        "node1",
        "node2",
        "nodea",
        "nodeb",
        "u",
        "v",
        "i",
        "j",
        "a",
        "b",
        "id",
        "id1",
        "id2",
        "sourceid",
        "targetid",
        "fromid",
        "toid",
        "fromnodeid",
        "tonodeid",
        "fromnode",
        "tonode",
        "user",
        "user1",
        "user2",
        "userid",
        "friend",
        "friendid",
        "person",
        "person1",
        "person2",
        "ego",
        "alter",
        "head",
        "tail",
        "left",
        "right",
        "start",
        "end",
        "neighbor",
        "neighbour",
        "n1",
        "n2",
        "weight",
        "w",
        "value",
        "strength",
        "count",
        "name",
        "name1",
        "name2",
        "vertex",
        "vertex1",
        "vertex2",
        "in",
        "out",
    )
)
_WEIGHT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_ANY_SEPARATOR = re.compile(r"[,;\s]+")
_TRAILING_COMMENT = re.compile(r"\s[#%].*$")
_KONECT_KIND = re.compile(r"^%\s*(sym|asym|bip|undirected|directed)\b", re.IGNORECASE)
_KONECT_COUNTS = re.compile(r"^%\s*(\d+)\s+(\d+)(?:\s+(\d+))?\s*$")
_SNAP_COUNTS = re.compile(r"nodes:\s*(\d+)\s+edges:\s*(\d+)", re.IGNORECASE)
_GML_START = re.compile(rb"^\s*(?:creator\b[^\n]*\n\s*)?graph\s*\[", re.IGNORECASE)


# ----------------------------------------------------------------------------------- errors


class EdgeListError(ValueError):
    """A graph file that cannot be used, summarised the way a person fixes it.

    Attributes:
        problems: Up to :attr:`MAX_SHOWN` examples as ``(line_number, message)`` pairs (1-based
            line numbers; line 0 is about the file as a whole: missing, too big, not text).
        n_problems: How many problems were found in total (may exceed ``len(problems)``).
        path: The file, as given (or the uploaded file's name).
        summary: One line saying what is wrong overall (``17 of 78 lines are not ties …``).
        hint: The likely fix, or ``None``.

    ``str(err)`` is the summary, then the examples indented, ``… and N more``, and the likely fix.
    """

    MAX_SHOWN = 5

    def __init__(
        self,
        problems: Sequence[tuple[int, str]],
        path: str | Path | None = None,
        n_problems: int | None = None,
        *,
        summary: str | None = None,
        hint: str | None = None,
    ) -> None:
        """Build the error from example ``(line_number, message)`` pairs found in ``path``."""
        self.problems: list[tuple[int, str]] = [(int(ln), str(msg)) for ln, msg in problems][: self.MAX_SHOWN]
        self.path = None if path is None else str(path)
        self.n_problems = max(n_problems or 0, len(self.problems))
        self.summary = summary
        self.hint = hint
        super().__init__("\n".join(self.lines()))

    @property
    def name(self) -> str:
        """The file as shown in messages (as given: a path, or an uploaded file's name)."""
        return self.path or "the graph file"

    def lines(self) -> list[str]:
        """The message as lines: the headline, then indented examples and the likely fix."""
        examples = [f"line {ln}: {msg}" if ln > 0 else msg for ln, msg in self.problems]
        if self.summary is None and len(examples) == 1 and self.n_problems == 1:
            headline, examples = f"{self.name}: {examples[0]}", []
        else:
            headline = f"{self.name}: {self.summary or _count(self.n_problems, 'problem')}"
        more = self.n_problems - len(examples)
        if examples and more > 0:
            examples.append(f"… and {more:,} more")
        details = [f"  {line}" for line in examples]
        if self.hint:
            details.append(f"  likely fix: {self.hint}")
        return [headline, *details]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by constructor arguments (errors cross process boundaries in sweeps)."""
        return (_rebuild_error, (self.problems, self.path, self.n_problems, self.summary, self.hint))


def _rebuild_error(
    problems: list[tuple[int, str]], path: str | None, n_problems: int, summary: str | None, hint: str | None
) -> EdgeListError:
    return EdgeListError(problems, path, n_problems, summary=summary, hint=hint)


def _count(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _size(n_bytes: int) -> str:
    return f"{n_bytes:,} bytes" if n_bytes < 1_000_000 else f"{n_bytes / 1e6:,.0f} MB"


def _excerpt(text: str) -> str:
    """A short, printable rendering of a line for an error message (never the whole line)."""
    clean = "".join(ch if " " <= ch <= "~" else " " if ch == "\t" else "?" for ch in text)
    return repr(clean if len(clean) <= _EXCERPT else clean[: _EXCERPT - 1] + "…")


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
        raise refuse(f"is {_size(info.st_size)}; graph files are read up to {_size(max_bytes)}")
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
        raise refuse(f"is larger than {_size(max_bytes)}, the most a graph file may hold")
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
                        f"{_size(MAX_NETWORKX_BYTES)}; "
                        f"this one is {_size(len(data))}",
                    )
                ],
                name,
                hint="export a plain edge list (two ids per line) for graphs this big",
            )
        return _assemble(_from_networkx(data, kind, name), name)
    text, encoding_note = _decode(data, name)
    return _assemble(_parse_edge_list(text, name, encoding_note), name)


def _from_networkx(data: bytes, kind: str, name: str) -> _Labelled:
    """The ties of a GraphML, GEXF, GML or Pajek file, with the file's node ids (see sim.world.readers)."""
    import pyarrow as pa

    from sim.world.readers import NETWORKX_FORMATS, UnreadableGraphError, read_with_networkx

    label = NETWORKX_FORMATS[kind]
    try:
        ties = read_with_networkx(data, kind)
    except UnreadableGraphError as exc:
        raise EdgeListError(
            [(0, f"is not a valid {label} file ({_excerpt(str(exc))[1:-1]})")],
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
                [(0, f"the tie {_excerpt(str(u))} – {_excerpt(str(v))} has weight {_excerpt(str(value))}")],
                name,
                hint="a weight is read as tie strength and must be a number ≥ 0",
            )
        weights.append(strength)
    weighted = missing < len(ties.src)
    notes = [f"read as {label} through networkx"]
    if weighted and missing:
        notes.append(f"{_count(missing, 'tie')} without a weight get tie strength 1")
    nodes, src, dst = ties.nodes, ties.src, ties.dst
    numeric = all(isinstance(x, int) and not isinstance(x, bool) for x in nodes)
    if not numeric and all(isinstance(x, str) and _is_number_id(x) for x in nodes):
        nodes, src, dst = [int(x) for x in nodes], [int(x) for x in src], [int(x) for x in dst]
        numeric = True
    if not numeric:
        nodes, src, dst = [str(x) for x in nodes], [str(x) for x in src], [str(x) for x in dst]
    id_type = pa.int64() if numeric else pa.string()
    return _Labelled(
        src=pa.array(src, id_type),
        dst=pa.array(dst, id_type),
        weight=np.array(weights, dtype=np.float64) if weighted else None,
        directed=ties.directed,
        nodes=pa.array(nodes, id_type),
        notes=notes,
    )


# --------------------------------------------------------------------------- text decoding


def _decode(data: bytes, name: str) -> tuple[bytes, str | None]:
    """UTF-8 bytes of the file's text, and a note on its encoding when it was not UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        codec = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else _utf16_order(data)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            raise EdgeListError(
                [(0, "starts like UTF-16 text but is not valid UTF-16")],
                name,
                hint="save it as UTF-8 text or CSV",
            ) from None
        if "\x00" in text:
            raise _binary(name)
        return text.encode("utf-8"), "read as UTF-16 text (a spreadsheet's “Unicode Text”)"
    if b"\x00" in data:
        raise _binary(name)
    if data.isascii():
        return data, None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise EdgeListError(
                [(0, "is neither UTF-8 nor UTF-16 text")], name, hint="save it as UTF-8 text or CSV"
            ) from None
        return text.encode("utf-8"), "read as Windows-1252 text (it is not valid UTF-8)"
    return data, None


def _binary(name: str) -> EdgeListError:
    return EdgeListError(
        [(0, "is binary data, not a text edge list")],
        name,
        hint="an edge list is text: one tie per line, two ids separated by a space, tab or comma",
    )


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of ASCII-range text is zero."""
    head = data[:4096]
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) > 0.9 * len(odd) and even.count(0) == 0) or (
        even.count(0) > 0.9 * len(even) and odd.count(0) == 0
    )


def _utf16_order(data: bytes) -> str:
    head = data[:4096]
    return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"


# ------------------------------------------------------------------------------- the layout


@dataclass
class _Labelled:
    """Ties with the file's own ids, before people are numbered (the readers' common output)."""

    src: Any  # pyarrow array of int64 or string ids
    dst: Any
    weight: NDArray[np.float64] | None
    directed: bool | None
    nodes: Any = None  # every node's id in file order (networkx formats list isolated people)
    declared_nodes: int | None = None
    declared_edges: int | None = None
    counts_candidate: bool = False  # the first row may be a "nodes edges" line, decided on the ids
    notes: list[str] = field(default_factory=list)


@dataclass
class _Layout:
    """What the first lines of an edge list say about the rest."""

    delimiter: str | None  # None: runs of whitespace
    body_start: int  # byte offset of the first line after comments, header and a counts line
    first_line: int  # 1-based line number at body_start
    n_columns: int
    directed: bool | None = None
    declared_nodes: int | None = None
    declared_edges: int | None = None
    counts_candidate: bool = False
    notes: list[str] = field(default_factory=list)


def _is_number_id(token: str) -> bool:
    return token.isascii() and token.isdigit() and len(token) <= 18


def _is_weight(token: str) -> bool:
    return _WEIGHT.fullmatch(token) is not None


def _split(line: str, delimiter: str | None) -> list[str]:
    """The fields of one line (quotes honoured, surrounding spaces and trailing empty fields dropped)."""
    if '"' in line:
        if delimiter is None:
            line = " ".join(line.split())
        try:
            tokens = next(
                csv.reader([line], delimiter=delimiter or " ", quotechar='"', skipinitialspace=True)
            )
        except (csv.Error, StopIteration):
            tokens = line.split(delimiter)
    elif delimiter is None:
        tokens = line.split()
    elif delimiter in line:
        tokens = line.split(delimiter)
    else:  # a line without the file's separator: accept any of them (hand-edited files mix them)
        tokens = _ANY_SEPARATOR.split(line)
    tokens = [token.strip() for token in tokens]
    while tokens and not tokens[-1]:
        tokens.pop()
    return tokens


def _content(line: str) -> str:
    """A line without its comment: empty for comment lines, a trailing ``# …`` cut off."""
    text = line.strip()
    if not text or text[0] in "#%":
        return ""
    if "#" in text or "%" in text:
        text = _TRAILING_COMMENT.sub("", text)
    return text


def _lines(text: bytes, start: int = 0) -> Any:
    """``(line_number, byte_offset, decoded line)`` from ``start`` (line numbers relative to it)."""
    pos, number = start, 0
    size = len(text)
    while pos < size:
        end = text.find(b"\n", pos)
        end = size if end < 0 else end
        number += 1
        yield number, pos, text[pos:end].decode("utf-8", errors="replace")
        pos = end + 1


def _sniff(text: bytes, name: str) -> _Layout:
    """Read the head of an edge list: comments and directives, separator, header, a counts line."""
    directives: list[str] = []
    sample: list[tuple[int, int, str]] = []  # (line number, byte offset, content)
    for number, offset, line in _lines(text):
        content = _content(line)
        if not content:
            stripped = line.strip()
            if stripped and not sample:
                directives.append(stripped)
            if number > 100_000 and not sample:
                break
            continue
        sample.append((number, offset, content))
        if len(sample) >= _SAMPLE_LINES:
            break
    layout = _Layout(delimiter=None, body_start=len(text), first_line=1, n_columns=0)
    matrix_market = False
    for directive in directives:
        lowered = directive.lower()
        kind = _KONECT_KIND.match(directive)
        if lowered.startswith("%%matrixmarket"):
            matrix_market = True
            layout.directed = "general" in lowered
        elif kind:
            word = kind.group(1).lower()
            if word == "bip":
                raise EdgeListError(
                    [(0, "is a bipartite network (its header says '% bip'): it links two kinds of node")],
                    name,
                    hint="Ripple needs people linked to people: project the network onto one side first",
                )
            layout.directed = word in ("asym", "directed")
        elif "undirected graph" in lowered:
            layout.directed = False
        elif "directed graph" in lowered:
            layout.directed = True
        counts = _KONECT_COUNTS.match(directive) or _SNAP_COUNTS.search(directive)
        if counts:
            if counts.re is _KONECT_COUNTS:  # % edges nodes [nodes]
                layout.declared_edges, layout.declared_nodes = int(counts.group(1)), int(counts.group(2))
            else:
                layout.declared_nodes, layout.declared_edges = int(counts.group(1)), int(counts.group(2))
    if not sample:
        return layout
    contents = [content for _, _, content in sample]
    for candidate in ("\t", ",", ";"):
        if sum(candidate in content for content in contents) >= max(1, 0.8 * len(contents)):
            layout.delimiter = candidate
            break
    tokens = [_split(content, layout.delimiter) for content in contents]
    first, rest = tokens[0], tokens[1:]
    skip = 0
    if matrix_market:
        skip = 1
        layout.notes.append("skipped the MatrixMarket size line")
    elif _is_header(first, rest):
        skip = 1
        layout.notes.append(f"skipped the header line {_excerpt(contents[0])}")
    elif len(first) == 2 and all(_is_number_id(t) for t in first):
        wider = [t for t in rest if len(t) >= 3]
        if rest and len(wider) >= 0.8 * len(rest):
            skip = 1
            layout.declared_nodes, layout.declared_edges = int(first[0]), int(first[1])
            layout.notes.append(
                f"the first line {_excerpt(contents[0])} is read as the counts of nodes and edges, not a tie"
            )
        else:
            layout.counts_candidate = True
    if skip >= len(sample):
        layout.body_start = len(text)
        return layout
    number, offset, _ = sample[skip]
    layout.body_start, layout.first_line = offset, number
    layout.n_columns = len(tokens[skip])
    return layout


def _is_header(first: list[str], rest: list[list[str]]) -> bool:
    """Whether the first content line names the columns rather than holding a tie."""
    if len(first) < 2:
        return False

    def word(token: str) -> str:
        return re.sub(r"[^a-z0-9]", "", token.lower())

    if all(word(token) in _HEADER_WORDS for token in first[:2]):
        return True
    if rest and not (_is_number_id(first[0]) and _is_number_id(first[1])):
        numeric = sum(len(t) >= 2 and _is_number_id(t[0]) and _is_number_id(t[1]) for t in rest)
        if numeric >= 0.8 * len(rest):
            return True
    if len(first) >= 3 and not _is_weight(first[2]) and rest:
        weighted = sum(len(t) >= 3 and _is_weight(t[2]) for t in rest)
        if weighted >= 0.8 * len(rest):
            return True
    return False


# ------------------------------------------------------------------------------- parsing


def _parse_edge_list(text: bytes, name: str, encoding_note: str | None) -> _Labelled:
    layout = _sniff(text, name)
    notes = ([encoding_note] if encoding_note else []) + layout.notes
    if layout.n_columns == 0:
        raise EdgeListError(
            [(0, "holds no ties (only comments, a header or blank lines)")],
            name,
            hint="an edge list has one tie per line: two ids separated by a space, tab or comma",
        )
    if layout.n_columns >= 2:
        fast = _parse_fast(text, layout)
        if fast is not None:
            fast.notes[:0] = notes
            return fast
    slow = _scan(text, layout, name)
    slow.notes[:0] = notes
    return slow


def _labelled(layout: _Layout, src: Any, dst: Any, weight: NDArray[np.float64] | None) -> _Labelled:
    notes = []
    if layout.n_columns > 3:
        notes.append(f"columns 4 to {layout.n_columns} are ignored (two ids and a weight are read)")
    return _Labelled(
        src=src,
        dst=dst,
        weight=weight,
        directed=layout.directed,
        declared_nodes=layout.declared_nodes,
        declared_edges=layout.declared_edges,
        counts_candidate=layout.counts_candidate,
        notes=notes,
    )


def _needs_whitespace_cleanup(body: bytes) -> bool:
    return (
        b"  " in body
        or b"\t" in body
        or b" \n" in body
        or b"\n " in body
        or b" \r" in body
        or body[:1] == b" "
        or b"\v" in body
        or b"\f" in body
    )


def _clean_whitespace(body: bytes) -> bytes:
    """Runs of spaces and tabs become one space; lines lose leading and trailing blanks."""
    body = body.translate(bytes.maketrans(b"\t\v\f\r", b"    "))
    body = re.sub(rb" {2,}", b" ", body)
    body = re.sub(rb" ?\n ?", b"\n", body)
    return body.strip(b" ")


def _parse_fast(text: bytes, layout: _Layout) -> _Labelled | None:
    """Parse the body with pyarrow's C reader; None when anything is off (the Python scan then decides)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    body: Any = text[layout.body_start :] if layout.body_start else text
    if layout.delimiter is None and _needs_whitespace_cleanup(body):
        body = _clean_whitespace(body)
    bad = [0]

    def on_invalid(row: Any) -> str:
        content = (row.text or "").strip()
        if not content or content[0] in "#%":
            return "skip"
        bad[0] += 1
        return "skip" if bad[0] < _FAST_BAD_LIMIT else "error"

    columns = min(layout.n_columns, 3)
    names = [f"f{k}" for k in range(columns)]
    parse = pacsv.ParseOptions(
        delimiter=layout.delimiter or " ",
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=False,
        ignore_empty_lines=True,
        invalid_row_handler=on_invalid,
    )
    read = pacsv.ReadOptions(autogenerate_column_names=True, use_threads=False, block_size=1 << 24)

    def attempt(id_type: Any) -> Any:
        bad[0] = 0
        types = {"f0": id_type, "f1": id_type}
        if columns == 3:
            types["f2"] = pa.float64()
        convert = pacsv.ConvertOptions(
            column_types=types,
            include_columns=names,
            null_values=[""],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        return pacsv.read_csv(
            pa.py_buffer(body), read_options=read, parse_options=parse, convert_options=convert
        )

    # pyarrow's integers also take signs and hex ("-1", "+5", "0x1f"); ids are numbers only when
    # they are ASCII digits alone, so integers are tried only on text of digits and separators.
    plain = not body.translate(None, b'0123456789 \t\r\n,;".eE')
    try:
        try:
            table = attempt(pa.int64() if plain else pa.string())
        except pa.ArrowInvalid:
            table = attempt(pa.string())
    except (pa.ArrowException, ValueError, OverflowError):
        return None
    if bad[0] or table.num_rows == 0 or table.num_columns != columns:
        return None
    src, dst = table.column("f0").combine_chunks(), table.column("f1").combine_chunks()
    weight = table.column("f2").combine_chunks() if columns == 3 else None
    if pa.types.is_string(src.type):
        # Comment lines that happen to have the right number of fields; ids stripped of blanks.
        trimmed = pc.utf8_ltrim_whitespace(src)
        comment = pc.or_(pc.starts_with(trimmed, "#"), pc.starts_with(trimmed, "%"))
        if pc.any(comment).as_py():
            keep = pc.invert(comment)
            src, dst = src.filter(keep), dst.filter(keep)
            weight = None if weight is None else weight.filter(keep)
        src, dst = pc.utf8_trim_whitespace(src), pc.utf8_trim_whitespace(dst)
        if (
            len(src) == 0
            or pc.any(pc.equal(pc.utf8_length(src), 0)).as_py()
            or pc.any(pc.equal(pc.utf8_length(dst), 0)).as_py()
        ):
            return None
        src, dst = _typed_ids(src, dst)
    elif src.null_count or dst.null_count:
        return None
    weights = None
    if weight is not None:
        if weight.null_count == len(weight):
            weights = None  # an empty trailing column ("1,2,")
        elif weight.null_count:
            return None
        else:
            weights = weight.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            if not (np.all(np.isfinite(weights)) and weights.min() >= 0.0):
                return None
    return _labelled(layout, src, dst, weights)


def _typed_ids(src: Any, dst: Any) -> tuple[Any, Any]:
    """String ids as int64 when every one is ASCII digits (at most 18 of them), else unchanged."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pattern = r"^[0-9]{1,18}$"
    if (
        pc.all(pc.match_substring_regex(src, pattern)).as_py()
        and pc.all(pc.match_substring_regex(dst, pattern)).as_py()
    ):
        return pc.cast(src, pa.int64()), pc.cast(dst, pa.int64())
    return src, dst


@dataclass
class _Tally:
    """Bad lines found by the Python scan: counts by reason and the first examples."""

    n_bad: int = 0
    n_good: int = 0
    examples: list[tuple[int, str]] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    def bad(self, line: int, reason: str, shown: str | None) -> None:
        self.n_bad += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if len(self.examples) < EdgeListError.MAX_SHOWN * 4:
            self.examples.append((line, reason if shown is None else f"{reason}: {_excerpt(shown)}"))


def _scan(text: bytes, layout: _Layout, name: str) -> _Labelled:
    """The reference parser: every line in Python, each bad one tallied with its reason."""
    import pyarrow as pa

    width = max(layout.n_columns, 2)  # a first "tie" of one field is itself a bad line
    weighted = width >= 3
    src: list[str] = []
    dst: list[str] = []
    weights: list[float] = []
    tally = _Tally()
    braces = 0
    first = layout.first_line - 1
    stopped = False
    for number, _, line in _lines(text, layout.body_start):
        content = _content(line)
        if not content:
            continue
        where = first + number
        tokens = _split(content, layout.delimiter)
        if len(tokens) != width:
            count = len(tokens)
            reason = (
                "one field (a tie needs two ids)"
                if count < 2
                else f"{_count(count, 'field')} where the first tie has {width}"
            )
            if count >= 3 and tokens[2].startswith("{"):
                braces += 1
            tally.bad(where, reason, content)
        elif not tokens[0] or not tokens[1]:
            tally.bad(where, "an empty id", content)
        elif weighted and not _is_weight(tokens[2]):
            if tokens[2].startswith("{"):
                braces += 1
            tally.bad(where, "the weight (third field) is not a number", content)
        elif weighted and not (0.0 <= float(tokens[2]) < float("inf")):
            tally.bad(where, "the weight (third field) must be a number ≥ 0", content)
        else:
            tally.n_good += 1
            src.append(tokens[0])
            dst.append(tokens[1])
            if weighted:
                weights.append(float(tokens[2]))
        if tally.n_bad >= _SCAN_BAD_LIMIT and tally.n_bad > tally.n_good:
            stopped = True
            break
    if tally.n_bad:
        raise _summarise(tally, name, width, braces, stopped)
    if not src:
        raise EdgeListError([(0, "holds no ties")], name)
    src_ids, dst_ids = _typed_ids(pa.array(src, pa.string()), pa.array(dst, pa.string()))
    return _labelled(layout, src_ids, dst_ids, np.array(weights, dtype=np.float64) if weighted else None)


def _summarise(tally: _Tally, name: str, width: int, braces: int, stopped: bool) -> EdgeListError:
    """One error for every bad line: the count, up to five examples, the likely fix."""
    total = tally.n_bad + tally.n_good
    at_least = "at least " if stopped else ""
    not_edges = tally.n_good == 0 or tally.n_bad > tally.n_good
    braces_hint = (
        "this looks like networkx's write_edgelist output with edge data: write it with "
        "data=False, or data=['weight'] for a weight column"
    )
    if not_edges:
        # Not an edge list (perhaps not the user's file at all): say where, never what the lines hold.
        examples = [(line, text.split(":", 1)[0]) for line, text in tally.examples[: EdgeListError.MAX_SHOWN]]
        return EdgeListError(
            examples,
            name,
            tally.n_bad,
            summary=(
                f"does not look like an edge list: {at_least}{tally.n_bad:,} of {at_least}{total:,} "
                "lines are not ties"
            ),
            hint=braces_hint
            if braces
            else (
                "an edge list has one tie per line: two ids separated by a space, tab or comma, then "
                "optionally a weight (GraphML, GEXF, GML and Pajek files are read by their extension)"
            ),
        )
    main = max(tally.reasons, key=lambda reason: tally.reasons[reason])
    if braces:
        hint = braces_hint
    elif "weight" in main:
        hint = "the third column is read as tie strength: make it a number ≥ 0 on every line, or remove it"
    elif "empty id" in main:
        hint = "every tie needs two ids: fill in or delete these lines"
    elif width == 2:
        hint = "every line must hold two ids (a third column, if any, on every line: a weight)"
    else:
        hint = f"every line must hold {width} fields like the first tie (two ids, then a weight)"
    return EdgeListError(
        tally.examples,
        name,
        tally.n_bad,
        summary=f"{at_least}{tally.n_bad:,} of {at_least}{total:,} lines are not ties",
        hint=hint,
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


def _assemble(labelled: _Labelled, name: str) -> ParsedGraph:
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
