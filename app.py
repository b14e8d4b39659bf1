"""Ripple's browser app: ``streamlit run app.py`` (or ``make run`` / ``ripple app``).

The entry point only sets up the page frame and navigation; each page lives in ``app_pages/`` and
draws what the public modules of :mod:`sim` compute (pages hold no model logic). To add a page, add
its file to ``PAGES``; its inputs survive page switches when their keys go through
:func:`app_pages.state.kept`.
"""

from __future__ import annotations

import streamlit as st

from app_pages.common import guarded, init_library, style_once, warm_compare_workers
from app_pages.state import carry_over

st.set_page_config(
    page_title="Ripple: funnel vs ripple marketing", page_icon=":material/waves:", layout="wide"
)
init_library()
warm_compare_workers()
carry_over()  # before any page draws: inputs of the pages not shown this run are kept
style_once()

PAGES = [
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:", default=True),
    st.Page("app_pages/editor.py", title="Scenario editor", icon=":material/edit:"),
    st.Page("app_pages/network.py", title="Network", icon=":material/hub:"),
    st.Page("app_pages/lesson.py", title="The 8:1 lesson", icon=":material/school:"),
    st.Page("app_pages/sweeps.py", title="Sweep results", icon=":material/insights:"),
    st.Page("app_pages/fit.py", title="Calibrate from data", icon=":material/query_stats:"),
]

page = st.navigation(PAGES)
st.sidebar.caption("Ripple simulates ads (the funnel) and sharing (the ripple) on one social graph.")
guarded(page.run)
