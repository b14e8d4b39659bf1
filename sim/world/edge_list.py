"""Reading a social graph from an edge-list file (one pair of node ids per line)."""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.world.graph import SocialGraph, check_n, from_pairs

__all__ = ["EdgeListError", "read_edge_list"]

Int64Array = NDArray[np.int64]


class EdgeListError(ValueError):
    """Problems in an edge-list file.

    Attributes:
        problems: ``(line_number, message)`` pairs, 1-based line numbers; line 0 is about the
            file as a whole (missing, unreadable). At most :attr:`MAX_STORED` are kept.
        n_problems: How many problems were found in total (may exceed ``len(problems)``).
        path: The file, as given.

    ``str(err)`` lists one problem per line (``edges.csv line 7: expected two integer node ids,
    got 'a b c'``), at most :attr:`MAX_SHOWN` of them followed by ``... and N more``.
    """

    MAX_SHOWN = 20
    MAX_STORED = 1000

    def __init__(
        self,
        problems: Sequence[tuple[int, str]],
        path: str | Path | None = None,
        n_problems: int | None = None,
    ) -> None:
        """Build the error from ``(line_number, message)`` pairs found in ``path``."""
        self.problems: list[tuple[int, str]] = [(int(ln), str(msg)) for ln, msg in problems]
        self.path = None if path is None else str(path)
        self.n_problems = max(n_problems or 0, len(self.problems))
        name = Path(self.path).name if self.path else "edge list"
        lines = [
            f"{name} line {ln}: {msg}" if ln > 0 else f"{name}: {msg}"
            for ln, msg in self.problems[: self.MAX_SHOWN]
        ]
        more = self.n_problems - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by constructor arguments (errors cross process boundaries in sweeps)."""
        return (type(self), (self.problems, self.path, self.n_problems))


_SEPARATORS = bytes.maketrans(b",;\t\r\v\f", b"      ")
_TOKEN_SPLIT = re.compile(r"[,;\s]+")


def read_edge_list(path: str | Path, n: int) -> SocialGraph:
    """Read an undirected edge list: one pair of integer node ids per line.

    Format: ``u v``, ``u,v``, ``u;v`` or tab-separated (runs of separators count as one).
    ``#`` starts a comment (whole line or trailing); blank lines are skipped. The first
    non-comment line may be a header of two non-numeric names (``source,target``). Ids must be
    integers in ``[0, n)``. Duplicate edges (either orientation) are merged silently.

    Errors: every malformed line (wrong number of columns, non-integer id, id out of range,
    self loop) is collected with its 1-based line number and raised together as
    :class:`EdgeListError`; a missing file is reported as line 0.

    Complexity: a few million lines parse in about a second through pandas' C parser; only a
    file that fails that fast path is re-read line by line (in Python) to report problems.
    """
    n = check_n(n)
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise EdgeListError([(0, f"file not found: {file}")], file) from None
    except OSError as exc:
        raise EdgeListError([(0, f"cannot read file: {file} ({exc.strerror})")], file) from None
    fast = _parse_fast(data)
    if fast is not None:
        u, v = fast
        bad = (u < 0) | (u >= n) | (v < 0) | (v >= n) | (u == v)
        if not bad.any():
            return from_pairs(n, u, v)
    problems, n_problems, u, v = _scan_lines(data, n)
    if n_problems:
        raise EdgeListError(problems, file, n_problems)
    return from_pairs(n, u, v)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _content(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _parse_fast(data: bytes) -> tuple[Int64Array, Int64Array] | None:
    """Parse a well-formed file quickly; None when anything looks off (the slow scan decides)."""
    body = data
    pos = 0
    while pos < len(data):  # find the first content line, to skip a header
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        try:
            line = _content(data[pos:end].decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if line:
            tokens = _TOKEN_SPLIT.split(line)
            if not any(_is_number(t) for t in tokens):
                if len(tokens) != 2:
                    return None
                body = data[end + 1 :]
            break
        pos = end + 1
    empty = (np.empty(0, np.int64), np.empty(0, np.int64))
    if not body.strip():
        return empty
    try:
        import pandas as pd  # deferred: heavy import, only needed for files
        from pandas.errors import EmptyDataError
    except ImportError:  # pragma: no cover - pandas is a project dependency
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(body.translate(_SEPARATORS)),
            sep=r"\s+",
            header=None,
            comment="#",
            quoting=csv.QUOTE_NONE,
            engine="c",
        )
    except EmptyDataError:
        return empty
    except (ValueError, UnicodeDecodeError):  # ParserError is a ValueError
        return None
    if frame.shape[1] != 2 or any(dtype.kind != "i" for dtype in frame.dtypes):
        return None
    return frame[0].to_numpy(np.int64), frame[1].to_numpy(np.int64)


def _scan_lines(data: bytes, n: int) -> tuple[list[tuple[int, str]], int, Int64Array, Int64Array]:
    """Line-by-line parse that reports every bad line; returns (problems, count, src, dst)."""
    problems: list[tuple[int, str]] = []
    n_problems = 0

    def report(line_number: int, message: str) -> None:
        nonlocal n_problems
        n_problems += 1
        if len(problems) < EdgeListError.MAX_STORED:
            problems.append((line_number, message))

    us, vs = array("q"), array("q")
    seen_content = False
    text = data.decode("utf-8", errors="replace")
    for number, raw in enumerate(text.split("\n"), start=1):
        line = _content(raw)
        if not line:
            continue
        tokens = _TOKEN_SPLIT.split(line)
        if not seen_content:
            seen_content = True
            if len(tokens) == 2 and not any(_is_number(t) for t in tokens):
                continue  # header
        shown = line if len(line) <= 60 else line[:57] + "..."
        if len(tokens) != 2:
            report(number, f"expected two integer node ids, got {shown!r}")
            continue
        try:
            a, b = int(tokens[0]), int(tokens[1])
        except ValueError:
            report(number, f"expected two integer node ids, got {shown!r}")
            continue
        out_of_range = [x for x in (a, b) if not 0 <= x < n]
        if out_of_range:
            report(number, f"node id {out_of_range[0]} out of range [0, {n}) (n = {n})")
        elif a == b:
            report(number, f"self loop {a}-{b}")
        else:
            us.append(a)
            vs.append(b)
    return (
        problems,
        n_problems,
        np.frombuffer(us, dtype=np.int64).copy(),
        np.frombuffer(vs, dtype=np.int64).copy(),
    )
