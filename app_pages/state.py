"""What a page keeps for the session: its inputs survive a visit to another page.

Streamlit forgets a widget's value when a run does not draw the widget, so leaving a page used to
reset its inputs. A page instead names each input through :func:`kept` (which also sets its default
once) and creates the widget without ``value=``; ``app.py`` calls :func:`carry_over` before every page,
which re-stores the kept values so they outlive the pages that do not draw them. A new page only has
to wrap its widget keys in :func:`kept`; its results can live under any other session key (those are
never forgotten).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

_KEPT = "_kept_inputs"


def kept(key: str, default: Any | Callable[[], Any]) -> str:
    """Keep the widget ``key`` for the session, starting from ``default`` (a value or a function).

    Returns ``key``, for ``st.number_input(..., key=kept("cmp_days", 365))``. Do not pass ``value=``
    (or ``index=``/``default=``) to that widget: its value comes from the session.
    """
    names: set[str] = st.session_state.setdefault(_KEPT, set())
    names.add(key)
    if key not in st.session_state:
        st.session_state[key] = default() if callable(default) else default
    return key


def reset(key: str, value: Any) -> None:
    """Set a kept input before its widget is drawn (e.g. when its old value is no longer allowed)."""
    st.session_state[key] = value


def carry_over() -> None:
    """Re-store every kept input, so a page that does not draw it this run does not erase it."""
    for key in list(st.session_state.get(_KEPT, ())):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
