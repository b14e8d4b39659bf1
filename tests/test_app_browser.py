"""End to end in a real browser: Debian's Chromium driven by Playwright against ``streamlit run``.

The flow a strategist follows: open the app, choose presets, run a comparison (10k people × 365 days
× 3 strategies × 5 replications; the click-to-results time is printed, not asserted), wait for the
charts, download the results, upload a bad file and read the error, then open the 8:1 page and move
its slider. Screenshots go to tests/screenshots/ (git-ignored).

Needs ``chromium`` on PATH (``make test`` installs it with apt when missing) and never downloads
Playwright's own browsers. Without Chromium the test is skipped with the reason, unless
``RIPPLE_REQUIRE_BROWSER=1`` (set by CI), where a missing browser is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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

pytestmark = pytest.mark.browser


def _missing(reason: str) -> None:
    if os.environ.get("RIPPLE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (RIPPLE_REQUIRE_BROWSER=1: the browser test must run here)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RIPPLE_APP_PEOPLE", None)  # the timed run uses the presets' 10,000 people
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.address", "127.0.0.1", "--server.port", str(port),
    ]  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = SHOTS / "streamlit.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
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


@pytest.fixture(scope="module")
def browser_page(app_url: str) -> Iterator[object]:
    chromium = shutil.which("chromium")
    if chromium is None:
        _missing("chromium is not installed (make test installs it with apt-get when it can)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
        context.close()
        browser.close()


def _shot(page: object, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside the app, so grow the window instead."""
    page.set_viewport_size({"width": 1500, "height": 4000})  # type: ignore[attr-defined]
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    page.screenshot(path=str(SHOTS / f"{name}.png"))  # type: ignore[attr-defined]
    page.set_viewport_size({"width": 1500, "height": 1100})  # type: ignore[attr-defined]


def test_strategist_flow(browser_page: object, app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import Page, expect

    page: Page = browser_page  # type: ignore[assignment]
    expect.set_options(timeout=60_000)  # a busy 2-core machine renders slowly; this is not a speed test
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Compare strategies")).to_be_visible()

    # Choose presets: the three presets are the default choice; take hybrid out and put it back.
    chooser = page.get_by_test_id("stMultiSelect")
    expect(chooser.get_by_text("funnel_heavy")).to_be_visible()
    expect(chooser.get_by_text("ripple_heavy")).to_be_visible()
    chooser.get_by_role("button", name="Remove hybrid").click()
    expect(chooser.get_by_text("hybrid", exact=True)).to_have_count(0)
    chooser.locator("input").click()
    page.get_by_role("option", name="hybrid", exact=True).click()
    page.keyboard.press("Escape")
    expect(chooser.get_by_text("hybrid", exact=True)).to_be_visible()
    expect(page.get_by_role("spinbutton", name="People in the market")).to_have_value("10000")
    expect(page.get_by_role("spinbutton", name="Replications")).to_have_value("5")

    # Run: 10k people × 365 days × 3 strategies × 5 replications, timed from click to charts.
    started = time.perf_counter()
    page.get_by_role("button", name="Run comparison").click()
    expect(page.get_by_role("heading", name="Verdict")).to_be_visible(timeout=300_000)
    expect(page.locator(".vega-embed")).to_have_count(4, timeout=60_000)
    elapsed = time.perf_counter() - started
    print(f"\nclick to results, 10k people × 365 days × 3 strategies × 5 replications: {elapsed:.1f} s")
    (SHOTS / "click_to_results_seconds.txt").write_text(f"{elapsed:.2f}\n")
    expect(page.get_by_text("ripple_heavy acquires")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2)
    page.wait_for_timeout(1500)  # let Vega finish drawing before the screenshot
    _shot(page, "1_compare_results")

    # Download the per-run results.
    with page.expect_download() as info:
        page.get_by_role("button", name="runs.csv").click()
    saved = tmp_path / "runs.csv"
    info.value.save_as(saved)
    header = saved.read_text().splitlines()[0]
    assert header.startswith("strategy,replication,seed,new_customers")
    assert len(saved.read_text().splitlines()) == 1 + 3 * 5

    # Upload a malformed scenario: a clear message, nothing added.
    page.get_by_text("Upload a scenario, or download the chosen ones").click()
    bad = tmp_path / "broken.yaml"
    bad.write_text("ads:\n  daily_budget: [unclosed\n")
    page.locator("input[type=file]").set_input_files(str(bad))
    expect(page.get_by_text("broken.yaml was not added")).to_be_visible()
    expect(page.get_by_text("must be valid YAML")).to_be_visible()
    _shot(page, "2_bad_upload")

    # The 8:1 page: its explanation, and (once sim.analysis.lesson exists) the budget slider.
    page.get_by_role("link", name="The 8:1 lesson").click()
    expect(page.get_by_role("heading", name="The 8:1 lesson")).to_be_visible()
    if importlib.util.find_spec("sim.analysis.lesson") is not None:
        people = page.get_by_role("spinbutton", name="People in the market")
        people.fill("1000")
        people.press("Enter")
        expect(page.get_by_text("Acquisition cost per new customer")).to_be_visible(timeout=120_000)
        slider = page.get_by_role("slider")
        before = slider.get_attribute("aria-valuenow")
        slider.focus()
        page.keyboard.press("ArrowRight")
        expect(slider).not_to_have_attribute("aria-valuenow", before or "", timeout=10_000)
        expect(page.get_by_text("Running the paired runs")).to_have_count(0, timeout=180_000)
        expect(page.get_by_text("Acquisition cost per new customer")).to_be_visible()
        expect(page.get_by_text("Here ")).to_be_visible()  # the measured verdict
    else:
        expect(page.get_by_text("not part of this build yet")).to_be_visible()
    _shot(page, "3_lesson")

    for link, heading, ready, name in (
        ("Scenario editor", "Scenario editor", "Valid scenario", "4_editor"),
        ("Network", "The ripple on the network", "Roles in the drawn sample", "5_network"),
        ("Sweep results", "Sweep results", "Sweep results", "6_sweeps"),
    ):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.get_by_text(ready).first).to_be_visible(timeout=120_000)
        _shot(page, name)
    assert not page.get_by_test_id("stException").count(), "the app showed a traceback"
