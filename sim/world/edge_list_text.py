"""Edge-list text: decoding, sniffing the layout from the first lines, and parsing the ties.

What is accepted is described in :mod:`sim.world.edge_list`, which numbers the people and builds the
graph from the :class:`Labelled` ties returned here. A well-formed file goes through pyarrow's C CSV
reader; only a file the fast path cannot read cleanly is scanned line by line in Python, which is
also where every error message comes from.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.world.edge_list_errors import EdgeListError, excerpt, plural

__all__ = ["Labelled", "decode_text", "is_number_id", "parse_edge_list_text", "scan", "sniff"]

#: Lines the sniffer looks at to choose the separator, the header and the column count.
_SAMPLE_LINES = 100
#: Bad lines after which pyarrow gives up and the Python scan takes over.
_FAST_BAD_LIMIT = 1000
#: Bad lines after which the Python scan stops counting (the message says "at least").
_SCAN_BAD_LIMIT = 100_000
#: Longest excerpt of a line quoted in an error.

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

# --------------------------------------------------------------------------- text decoding


def decode_text(data: bytes, name: str) -> tuple[bytes, str | None]:
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
class Labelled:
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


def is_number_id(token: str) -> bool:
    """Whether a file's id is a number: ASCII digits only, short enough for an int64."""
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


def sniff(text: bytes, name: str) -> _Layout:
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
        layout.notes.append(f"skipped the header line {excerpt(contents[0])}")
    elif len(first) == 2 and all(is_number_id(t) for t in first):
        wider = [t for t in rest if len(t) >= 3]
        if rest and len(wider) >= 0.8 * len(rest):
            skip = 1
            layout.declared_nodes, layout.declared_edges = int(first[0]), int(first[1])
            layout.notes.append(
                f"the first line {excerpt(contents[0])} is read as the counts of nodes and edges, not a tie"
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
    if rest and not (is_number_id(first[0]) and is_number_id(first[1])):
        numeric = sum(len(t) >= 2 and is_number_id(t[0]) and is_number_id(t[1]) for t in rest)
        if numeric >= 0.8 * len(rest):
            return True
    if len(first) >= 3 and not _is_weight(first[2]) and rest:
        weighted = sum(len(t) >= 3 and _is_weight(t[2]) for t in rest)
        if weighted >= 0.8 * len(rest):
            return True
    return False


# ------------------------------------------------------------------------------- parsing


def parse_edge_list_text(text: bytes, name: str, encoding_note: str | None) -> Labelled:
    """The ties of UTF-8 edge-list ``text`` (from :func:`decode_text`) with the file's own ids.

    Raises:
        EdgeListError: the text holds no usable ties; the message summarises every bad line.
    """
    layout = sniff(text, name)
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
    slow = scan(text, layout, name)
    slow.notes[:0] = notes
    return slow


def _labelled(layout: _Layout, src: Any, dst: Any, weight: NDArray[np.float64] | None) -> Labelled:
    notes = []
    if layout.n_columns > 3:
        notes.append(f"columns 4 to {layout.n_columns} are ignored (two ids and a weight are read)")
    return Labelled(
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


def _parse_fast(text: bytes, layout: _Layout) -> Labelled | None:
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
            self.examples.append((line, reason if shown is None else f"{reason}: {excerpt(shown)}"))


def scan(text: bytes, layout: _Layout, name: str) -> Labelled:
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
                else f"{plural(count, 'field')} where the first tie has {width}"
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
