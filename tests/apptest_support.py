"""Opening the app under Streamlit's AppTest and reading it as a person would."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_app(
    page: str | None = None, *, timeout: float = 120, state: Mapping[str, Any] | None = None
) -> AppTest:
    """The app on its home page, or switched to ``app_pages/<page>.py``, with no exception shown.

    ``state`` is put into the session before the first run (a page that simulates on load then runs small).
    """
    app = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (state or {}).items():
        app.session_state[key] = value
    app.run()
    if page is not None:
        app.switch_page(f"app_pages/{page}.py").run()
    no_traceback(app)
    return app


def no_traceback(app: AppTest) -> None:
    """Fail with the messages of any exception element on the page."""
    assert not app.exception, [e.message for e in app.exception]


def texts(elements: object) -> str:
    """The values of a list of AppTest elements, one a line."""
    return "\n".join(str(e.value) for e in elements)  # type: ignore[attr-defined]
