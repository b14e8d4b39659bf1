"""The error a graph file that cannot be used raises, and the helpers its messages are built with."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["EdgeListError", "byte_size", "excerpt", "plural"]

#: Longest excerpt of a line quoted in an error.
_EXCERPT = 40


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
            headline = f"{self.name}: {self.summary or plural(self.n_problems, 'problem')}"
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


def plural(count: int, one: str, many: str | None = None) -> str:
    """``count`` with the noun in the right number (``1 tie``, ``1,200 ties``)."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def byte_size(n_bytes: int) -> str:
    """A file size as a person reads it (bytes below a megabyte, then MB)."""
    return f"{n_bytes:,} bytes" if n_bytes < 1_000_000 else f"{n_bytes / 1e6:,.0f} MB"


def excerpt(text: str) -> str:
    """A short, printable rendering of a line for an error message (never the whole line)."""
    clean = "".join(ch if " " <= ch <= "~" else " " if ch == "\t" else "?" for ch in text)
    return repr(clean if len(clean) <= _EXCERPT else clean[: _EXCERPT - 1] + "…")
