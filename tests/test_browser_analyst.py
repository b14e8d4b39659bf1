"""The analyst's flow in a real browser: open a sweep store made by a small sweep, and see every chart
drawn (line against a dotted factor such as ``ads.daily_budget``, heatmap of two factors, Sobol
indices), with no exception element; screenshots go to tests/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import marks, no_exception, settle, shot
from tests.sweep_helpers import sobol_store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweeps")
    sobol_store(folder, "budget_and_referrals")
    return folder


def test_every_sweep_chart_has_marks(browser_page: Any, app_url: str, store: Path) -> None:
    page = browser_page
    page.goto(app_url)
    settle(page)
    page.get_by_role("link", name="Sweep results").click()
    settle(page)
    folder = page.get_by_role("textbox", name="Result store (a folder)")
    folder.fill(str(store))
    folder.press("Enter")
    settle(page)
    page.get_by_text("Experiment budget_and_referrals").wait_for()
    no_exception(page)
    line, sensitivity = marks(page)
    assert line > 2 and sensitivity >= 4, (line, sensitivity)  # points, line, band; bars and error bars
    shot(page, "analyst_1_line")

    page.get_by_role("combobox", name="Second factor (heatmap)").click()
    page.get_by_role("option", name="Sharing › Convert probability (0–1)").click()  # factors in words
    settle(page)
    no_exception(page)
    heatmap, _ = marks(page)
    assert heatmap >= 4, heatmap  # one rect per pair of factor values, not one "NaN" cell
    shot(page, "analyst_2_heatmap")

    page.get_by_role("link", name="Compare").click()  # leave and come back: the same store and choices
    settle(page)
    page.get_by_role("link", name="Sweep results").click()
    settle(page)
    page.get_by_text("Experiment budget_and_referrals").wait_for()
    assert all(count > 0 for count in marks(page))
    no_exception(page)
