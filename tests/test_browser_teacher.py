"""A teacher's flow on the 8:1 page, in a real browser: Debian's Chromium via Playwright, ``streamlit run``.

Open the 8:1 page, read the measured ratio, move the slider five times (each step only moves the
marker: the page's own run counter does not change and no progress bar appears), open the map of
markets, leave the page and come back, then open the page again in a second browser context (a new
session, which draws the same results without simulating). No step may show an exception.
Screenshots go to tests/screenshots/ (git-ignored).

The server runs with ``RIPPLE_APP_PEOPLE=400`` so each market is small, and the test sets two
replications; the numbers are still those of real paired runs. Without Chromium the test is skipped
with the reason, unless ``RIPPLE_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_support import new_page, no_exception, shot, streamlit_server

COUNTER = re.compile(r"Simulation runs on this page so far: ([\d,]+)")
#: Generous: a busy 2-core machine computes slowly. These bound waiting, they do not time anything.
COMPUTE_MS = 600_000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """The app with small markets (400 people), so each paired run is quick."""
    with streamlit_server("teacher_streamlit", env={"RIPPLE_APP_PEOPLE": "400"}) as url:
        yield url


def _runs_so_far(page: Any) -> int:
    text = page.get_by_text(COUNTER).inner_text()
    (count,) = COUNTER.findall(text)
    return int(count.replace(",", ""))


def _open_lesson(page: Any, app_url: str) -> int:
    """Open the 8:1 page with two replications; wait for its measurement; return the run counter."""
    from playwright.sync_api import expect

    page.goto(app_url)
    page.get_by_role("link", name="The 8:1 lesson").click()
    expect(page.get_by_role("heading", name="The 8:1 lesson")).to_be_visible()
    replications = page.get_by_role("spinbutton", name="Replications")
    replications.fill("2")
    replications.press("Enter")
    expect(page.get_by_text("Means of 2 paired replications")).to_be_visible(timeout=COMPUTE_MS)
    expect(page.get_by_test_id("stProgress")).to_have_count(0, timeout=COMPUTE_MS)
    expect(page.locator(".vega-embed")).to_have_count(2, timeout=60_000)
    no_exception(page)
    return _runs_so_far(page)


def _metric(page: Any, label: str) -> Any:
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_teacher_moves_the_slider_opens_the_map_and_comes_back(chromium_browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    page = new_page(chromium_browser)
    context = page.context
    runs = _open_lesson(page, app_url)
    assert runs == 30 * 2  # 11 splits, each with and without each lever: 30 distinct runs a replication
    expect(page.get_by_text("A mature, saturated market in which 8:1 holds")).to_be_visible()
    expect(_metric(page, "Measured ratio")).to_have_text(re.compile(r"^([\d,]+\.\d : 1|1 : [\d,]+\.\d)$"))
    shot(page, "teacher_1_curve")

    # Five steps of the slider: the marker and the numbers move, nothing is simulated again.
    slider = page.get_by_role("slider")
    slider.focus()
    expect(slider).to_have_value("0.2")
    for step in range(1, 6):
        before_profit = _metric(page, "Profit at this split").inner_text()
        page.keyboard.press("ArrowRight")
        expect(slider).to_have_value(f"{0.2 + step / 10:.1f}")
        expect(_metric(page, "Profit at this split")).not_to_have_text(before_profit)
        expect(page.get_by_test_id("stProgress")).to_have_count(0)
        assert _runs_so_far(page) == runs
        no_exception(page)
    shot(page, "teacher_2_slider_moved")

    # The map: measured once through the sweep machinery (20 markets × 3 runs), then kept.
    page.get_by_text("Show the map of market maturity and churn").click()
    expect(page.get_by_text(re.compile(r"8:1 holds in \d+ of 20 markets"))).to_be_visible(timeout=COMPUTE_MS)
    expect(page.locator(".vega-embed")).to_have_count(3)
    assert _runs_so_far(page) == runs + 60
    no_exception(page)
    shot(page, "teacher_3_map")
    page.keyboard.press("Tab")  # away from the toggle; the slider again moves only the marker
    slider.focus()
    before_profit = _metric(page, "Profit at this split").inner_text()
    page.keyboard.press("ArrowLeft")
    expect(slider).to_have_value("0.6")
    expect(_metric(page, "Profit at this split")).not_to_have_text(before_profit)
    expect(page.locator(".vega-embed")).to_have_count(3)
    assert _runs_so_far(page) == runs + 60

    # Leave the page and come back: the same split, the map still drawn, nothing run again.
    page.get_by_role("link", name="Scenario editor").click()
    expect(page.get_by_role("heading", name="Scenario editor")).to_be_visible()
    page.get_by_role("link", name="The 8:1 lesson").click()
    expect(page.get_by_role("heading", name="The 8:1 lesson")).to_be_visible()
    expect(page.locator(".vega-embed")).to_have_count(3, timeout=60_000)
    expect(page.get_by_role("slider")).to_have_value("0.6")
    assert _runs_so_far(page) == runs + 60
    no_exception(page)
    context.close()

    # A second browser context is a new session: it shows the same measurement without running it
    # again (results are shared by their inputs; a fresh context used to rerun every split).
    other = new_page(chromium_browser)
    second = other.context
    assert _open_lesson(other, app_url) == 0
    expect(_metric(other, "Measured ratio")).to_be_visible()
    shot(other, "teacher_4_second_context")
    no_exception(other)
    second.close()
