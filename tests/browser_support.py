"""Helpers for the browser suites: a Streamlit server, Debian's Chromium, marks drawn, screenshots.

The fixtures that use them (``app_url``, ``chromium_browser``, ``browser_page``) live in
``tests/conftest.py`` and are module-scoped: one Streamlit server and one browser per test module.
Chromium is Debian's ``/usr/bin/chromium`` (``make test`` installs it with apt when missing), never a
Playwright download. Without it the tests skip with the reason, unless ``RIPPLE_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1500, "height": 1100}

#: Counts what each canvas draws (Vega's canvas renderer leaves no DOM to count), reset when cleared.
COUNT_CANVAS_DRAWS = """
(() => {
  const proto = CanvasRenderingContext2D.prototype;
  for (const name of ["fill", "stroke", "fillRect", "fillText"]) {
    const original = proto[name];
    proto[name] = function (...args) {
      this.canvas.__rippleDraws = (this.canvas.__rippleDraws || 0) + 1;
      return original.apply(this, args);
    };
  }
  const clear = proto.clearRect;
  proto.clearRect = function (...args) {
    this.canvas.__rippleDraws = 0;
    return clear.apply(this, args);
  };
})();
"""

#: Marks drawn by each chart on the page: data marks of SVG charts (Vega's ``role-mark`` groups, not
#: axes or legends) or the drawing calls of canvas charts.
MARKS_PER_CHART = """
() => Array.from(document.querySelectorAll('.vega-embed')).map((embed) => {
  const svg = embed.querySelector('svg');
  if (svg) {
    const items = svg.querySelectorAll(
      'g.role-mark > path, g.role-mark > line, g.role-mark > rect, g.role-mark > text');
    return Array.from(items).filter((item) => {
      if (item.tagName === 'path') return (item.getAttribute('d') || '').length > 2;
      if (item.tagName === 'text') return (item.textContent || '').length > 0;
      return true;
    }).length;
  }
  const canvas = embed.querySelector('canvas');
  return canvas ? (canvas.__rippleDraws || 0) : 0;
})
"""


def missing(reason: str) -> None:
    """Skip (or fail, where the browser must run) for want of a browser."""
    if os.environ.get("RIPPLE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (RIPPLE_REQUIRE_BROWSER=1: the browser test must run here)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def streamlit_server(log_name: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run app.py`` on 127.0.0.1 and a free port, headless, without usage statistics."""
    port = free_port()
    inherited = {key: value for key, value in os.environ.items() if key != "RIPPLE_APP_PEOPLE"}
    environment = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.address", "127.0.0.1", "--server.port", str(port),
    ]  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = SHOTS / f"{log_name}.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start; see {log}:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (skips when either is missing)."""
    executable = shutil.which("chromium")
    if executable is None:
        missing("chromium is not installed (make test installs it with apt-get when it can)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any) -> Any:
    """A page in a fresh browser context (a new session), counting canvas draws."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(COUNT_CANVAS_DRAWS)
    page = context.new_page()
    page.set_default_timeout(120_000)
    return page


def settle(page: Any, timeout: float = 300_000) -> None:
    """Wait until the app has drawn a page and its script run has finished (and Vega had a moment)."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=timeout)  # a page was drawn
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=timeout)
    page.wait_for_timeout(700)


def marks(page: Any) -> list[int]:
    """Marks drawn by each chart on the page (see :data:`MARKS_PER_CHART`)."""
    counts: list[int] = page.evaluate(MARKS_PER_CHART)
    return counts


def drawn_marks(page: Any, timeout: float = 30_000) -> list[int]:
    """:func:`marks`, once every chart on the page has drawn (or ``timeout`` ms have passed).

    Results shown from a cache appear at once while Vega draws their charts a moment later, as a
    person sees them appear; a check right away could catch a chart not yet drawn.
    """
    every_chart_drawn = f"() => {{ const counts = ({MARKS_PER_CHART.strip()})(); "
    every_chart_drawn += "return counts.length > 0 && counts.every((count) => count > 0); }"
    # On Playwright's TimeoutError the caller's assertion says what is missing.
    with suppress(Exception):
        page.wait_for_function(every_chart_drawn, timeout=timeout)
    return marks(page)


def no_exception(page: Any) -> None:
    """The page shows no exception element and no "Something went wrong" box."""
    assert page.get_by_test_id("stException").count() == 0, "the app showed a traceback"
    assert page.get_by_text("Something went wrong").count() == 0, page.get_by_text(
        "Something went wrong"
    ).first.inner_text()


def shot(page: Any, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside the app, so grow the window instead."""
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 4200})
    page.wait_for_timeout(1200)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(VIEWPORT)


def set_number(page: Any, label: str, value: int) -> None:
    """Type ``value`` into the number input labelled ``label`` and let the app rerun."""
    box = page.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    settle(page)
