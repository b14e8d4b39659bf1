"""User text inside Markdown: shown as the characters it is, never as formatting.

Streamlit renders ``st.error``, ``st.success`` and ``st.markdown`` as Markdown with its own extras
(``:emoji:`` codes, ``:red[…]`` colours, ``:material/…:`` icons). Text that came from a user (an
uploaded file's keys and values, a file name) must not become a link, an image, a heading or an icon.
"""

from __future__ import annotations

import re

__all__ = ["markdown_literal"]

#: Punctuation that starts formatting anywhere in a line (links and images need ``[``, then code,
#: HTML, emphasis, LaTeX); a backslash makes each literal (CommonMark). ``_`` inside a word
#: (``daily_budget``) and parentheses without ``[…]`` are plain text already.
_SPECIAL = re.compile(r"([\\`*\[\]<$])")
#: What starts a block only at the start of a line (a heading, a quote, a list item, a rule).
_LINE_START = re.compile(r"^(\d*)([#>+\-=.)])")
#: A colon before a letter may start Streamlit's ``:emoji:``/``:red[…]`` codes: a zero-width space
#: after it keeps the text as it reads while the code no longer matches.
_CODE_COLON = re.compile(r":(?=[A-Za-z])")


def markdown_literal(text: str) -> str:
    """``text`` escaped so that Markdown (and Streamlit's extensions) shows it literally, on one line."""
    flat = " ".join(text.splitlines()).strip()
    escaped = _SPECIAL.sub(r"\\\1", flat)
    escaped = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return _CODE_COLON.sub(":\u200b", escaped)
