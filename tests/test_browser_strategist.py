"""The strategist's flows in a real browser (Debian's Chromium through Playwright, marker ``browser``).

Run a comparison, run it again, open a second browser context with the same settings, leave the page
and come back, ask the fraud question and the gold-tier question, download the scenarios and
reproduce the numbers with the CLI; then play the Network page and open the editor. Every step checks
that no exception element appears and that every chart has marks drawn; screenshots go to
tests/screenshots/ (git-ignored). Small markets keep the suite quick: speed is ``make bench``'s job.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.browser_support import drawn_marks, new_page, no_exception, set_number, settle, shot

pytestmark = pytest.mark.browser
SMALL = "people=1500&days=90&reps=2&seed=77"


def _run(page: Any) -> None:
    page.get_by_role("button", name="Run comparison").click()
    settle(page)
    page.get_by_role("heading", name="The answer").wait_for()
    settle(page)
    no_exception(page)


def _cards(page: Any) -> list[str]:
    return page.get_by_test_id("stMetric").all_inner_texts()


def _verdict(page: Any) -> list[str]:
    answer = page.locator("[data-testid='stMarkdownContainer'] ul").first
    return [line.strip() for line in answer.inner_text().splitlines() if line.strip()]


def _charts_drawn(page: Any) -> list[int]:
    counts = drawn_marks(page)
    assert counts and all(count > 0 for count in counts), f"a chart drew nothing: {counts}"
    return counts


def test_run_again_second_tab_and_come_back(browser_page: Any, chromium_browser: Any, app_url: str) -> None:
    page = browser_page
    page.goto(f"{app_url}/?{SMALL}")
    settle(page)
    page.get_by_role("heading", name="Compare strategies").wait_for()
    assert page.get_by_role("spinbutton", name="People in the market").input_value() == "1500"
    _run(page)
    first = _cards(page)
    assert first and _verdict(page)[0].split(" is the most profitable")[0] in {
        "funnel_heavy",
        "ripple_heavy",
        "hybrid",
    }
    counts = _charts_drawn(page)
    assert len(counts) >= 3
    shot(page, "strategist_1_results")

    _run(page)  # the same inputs again: no replay error, the same numbers
    assert _cards(page) == first

    other = new_page(chromium_browser)  # a second browser context: another session
    other.goto(page.url)
    settle(other)
    other.get_by_role("heading", name="Compare strategies").wait_for()
    if other.get_by_role("heading", name="The answer").count() == 0:
        _run(other)
    other.get_by_test_id("stMetric").first.wait_for()
    no_exception(other)
    assert _cards(other) == first
    _charts_drawn(other)
    shot(other, "strategist_2_second_context")
    other.context.close()

    page.get_by_role("link", name="Sweep results").click()
    settle(page)
    page.get_by_role("link", name="Compare").click()
    settle(page)
    no_exception(page)
    assert page.get_by_role("spinbutton", name="Seed").input_value() == "77"
    assert _cards(page) == first  # inputs and results kept
    _charts_drawn(page)

    # A changed input greys the results out instead of hiding them.
    set_number(page, "Days", 60)
    page.get_by_text("The results below are for earlier inputs").wait_for()
    assert page.locator(".st-key-cmp_results_stale").count() == 1
    assert _cards(page) == first
    shot(page, "strategist_3_greyed")


def test_download_the_scenarios_and_reproduce_with_the_cli(
    browser_page: Any, app_url: str, tmp_path: Path
) -> None:
    page = browser_page
    page.goto(f"{app_url}/?s=funnel_heavy&s=hybrid&{SMALL}")
    settle(page)
    _run(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="scenarios + command (zip)").click()
    archive = tmp_path / "scenarios.zip"
    info.value.save_as(archive)
    with page.expect_download() as info:
        page.get_by_role("button", name="runs.csv").click()
    info.value.save_as(tmp_path / "page_runs.csv")
    folder = tmp_path / "reproduce"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(folder)
    command = (folder / "command.txt").read_text().strip()
    shown = page.locator("[data-testid='stCode']").filter(has_text="ripple compare").first.inner_text()
    assert command in " ".join(shown.split())
    argv = [sys.executable, "-m", "sim.cli", *shlex.split(command)[1:]]
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(folder / "results" / "runs.csv"), pd.read_csv(tmp_path / "page_runs.csv")
    )


def test_the_fraud_question(browser_page: Any, app_url: str) -> None:
    page = browser_page
    page.goto(f"{app_url}/?s=two_sided_credit&s=coupon_farming_attack&people=1500&days=120&reps=2&seed=3")
    settle(page)
    page.get_by_text("The attack differs: two_sided_credit faces no attack").wait_for()
    _run(page)
    verdict = _verdict(page)
    assert verdict[1].startswith("Fraud paid (rewards for fake referrals): 0 USD with two_sided_credit;")
    assert any(card.startswith("Fraud paid") for card in _cards(page))
    _charts_drawn(page)
    shot(page, "strategist_4_fraud")


def test_the_gold_tier_question(browser_page: Any, app_url: str) -> None:
    page = browser_page
    page.goto(f"{app_url}/?s=hybrid&s=loyalty_tiers&people=1500&days=180&reps=2&seed=5")
    settle(page)
    _run(page)
    verdict = " ".join(_verdict(page))
    assert " is the most profitable: " in verdict
    assert "90-day retention:" in verdict and "CLV:" in verdict
    page.get_by_text("cohort", exact=True).click()
    settle(page)
    no_exception(page)
    _charts_drawn(page)
    shot(page, "strategist_5_gold_tier")


def test_cancel_goes_once_nothing_runs(browser_page: Any, app_url: str) -> None:
    """After "Cancelled: nothing was kept from that run." the Cancel button stayed on the page."""
    page = browser_page
    page.goto(f"{app_url}/?s=funnel_heavy&s=hybrid&people=5000&days=365&reps=40&seed=11")
    settle(page)
    page.get_by_role("button", name="Run comparison").click()
    cancel = page.get_by_role("button", name="Cancel")
    cancel.wait_for(timeout=60_000)
    cancel.click()
    page.get_by_text("Cancelled: nothing was kept from that run.").wait_for(timeout=120_000)
    settle(page)
    no_exception(page)
    assert page.get_by_role("button", name="Cancel").count() == 0
    assert page.get_by_role("button", name="Run comparison").count() == 1


def test_network_plays_every_frame_and_the_editor_opens(browser_page: Any, app_url: str) -> None:
    page = browser_page
    page.goto(app_url)
    settle(page)
    page.get_by_role("link", name="Network").click()
    settle(page)
    set_number(page, "People in the market", 800)
    set_number(page, "Days", 24)
    set_number(page, "People drawn", 300)
    no_exception(page)
    _charts_drawn(page)
    page.evaluate(
        """() => { window.__days = [];
          new MutationObserver(() => {
            const live = '[data-testid="stElementContainer"]:not([data-stale="true"]) ';
            for (const el of document.querySelectorAll(live + '[data-testid="stCaptionContainer"]')) {
              const m = el.innerText.match(/^Day (\\d+) of/);
              if (!m) continue;
              if (window.__days[window.__days.length - 1] !== +m[1]) window.__days.push(+m[1]);
              break;
            }
          }).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )
    page.get_by_text("4 days/s").count()  # the speed control is there
    # At the default 2 days a second (2 frames a second, one day each): a browser starved by the other
    # test worker can apply two faster frames in one paint, which a person would not notice but the
    # frame log would.
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    page.get_by_role("button", name="Play").wait_for(timeout=120_000)  # it stops at the last day
    seen = page.evaluate("window.__days")
    days = seen[seen.index(0) :] if 0 in seen else seen  # Play at the last day starts again from day 0
    assert days == list(range(25)), str(seen)  # every frame drawn, in order, none skipped
    _charts_drawn(page)
    page.get_by_role("button", name="Step").click()  # at the end: stays on the last day
    settle(page)
    shot(page, "strategist_6_network")
    page.get_by_role("link", name="Scenario editor").click()
    settle(page)
    page.get_by_text("Valid scenario").first.wait_for()
    no_exception(page)
    shot(page, "strategist_7_editor")
