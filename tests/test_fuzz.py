"""Fuzzing: no scenario text, ``--set`` override or upload may crash, hang or flood Ripple.

Derandomised hypothesis runs with a fixed budget (well under a minute in all) in ``make test``; the
long run (``make fuzz``: ≥ 10,000 cases, marked ``fuzz_long`` and left out of ``make test``) prints
and writes its counts of valid inputs, clean refusals, crashes and hangs. What each outcome means is
in ``tests/fuzzing.py``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from streamlit.testing.v1 import AppTest

from tests.fuzzing import (
    judge_overrides,
    judge_text,
    override_lists,
    scenario_texts,
    tally,
)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def fuzz(examples: int) -> settings:
    """Derandomised (the same cases every run), no example database, no deadline: a fixed budget."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@fuzz(400)
@given(text=scenario_texts)
def test_no_scenario_text_crashes_or_hangs(text):
    assert judge_text(text) in ("valid", "rejected"), repr(text[:300])


@fuzz(80)
@given(overrides=override_lists)
def test_no_set_override_crashes_or_hangs(overrides):
    assert judge_overrides(overrides) in ("valid", "rejected"), overrides


class UploadJudge:
    """The Compare page, opened once; each call uploads one file and reads what the page says."""

    def __init__(self) -> None:
        self.app = AppTest.from_file(APP, default_timeout=60)
        self.app.run()
        self.count = 0

    def __call__(self, content: bytes) -> str:
        self.count += 1
        uploader = self.app.file_uploader(key="cmp_upload")
        before = dict(self.app.session_state["library"])
        uploader.set_value((f"upload-{self.count}.yaml", content, "application/x-yaml")).run()
        if self.app.exception:
            return "crash"
        errors = "\n".join(str(e.value) for e in self.app.error)
        successes = "\n".join(str(e.value) for e in self.app.success)
        if f"upload-{self.count}.yaml was not added" in errors:
            if self.app.session_state["library"] != before:
                return "crash"  # a refused file changed the library
            if any(len(line) > 2_000 for line in errors.splitlines()):
                return "crash"
            return "rejected"
        if f"Added upload-{self.count}.yaml to the scenarios as" in successes:
            return "valid"
        return "crash"


@pytest.fixture(scope="module")
def upload_judge() -> Iterator[UploadJudge]:
    main = sys.modules["__main__"]
    yield UploadJudge()
    sys.modules["__main__"] = main  # AppTest leaves the app script installed as __main__


def _as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def test_no_upload_crashes_the_app_or_changes_the_library_when_refused(upload_judge):
    @fuzz(12)
    @given(text=scenario_texts)
    def one(text: str | bytes) -> None:
        assert upload_judge(_as_bytes(text)) in ("valid", "rejected"), repr(text[:300])

    one()


@pytest.mark.slow
@pytest.mark.fuzz_long
def test_ten_thousand_hostile_inputs(upload_judge):
    """``make fuzz``: 8,500 scenario texts, 1,300 override lists and 200 uploads; counts per outcome."""
    scale = float(os.environ.get("RIPPLE_FUZZ_SCALE", "1"))
    plan = {"texts": int(8_500 * scale), "overrides": int(1_300 * scale), "uploads": int(200 * scale)}
    outcomes: dict[str, list[str]] = {name: [] for name in plan}
    examples: dict[str, list[Any]] = {"crash": [], "hang": []}

    def record(kind: str, outcome: str, case: Any) -> None:
        outcomes[kind].append(outcome)
        if outcome in examples and len(examples[outcome]) < 20:
            examples[outcome].append({"kind": kind, "case": repr(case)[:500]})

    @fuzz(plan["texts"])
    @given(text=scenario_texts)
    def run_texts(text: str | bytes) -> None:
        record("texts", judge_text(text), text)

    @fuzz(plan["overrides"])
    @given(overrides=override_lists)
    def run_overrides(overrides: list[str]) -> None:
        record("overrides", judge_overrides(overrides), overrides)

    @fuzz(plan["uploads"])
    @given(text=scenario_texts)
    def run_uploads(text: str | bytes) -> None:
        record("uploads", upload_judge(_as_bytes(text)), text)

    run_texts()
    run_overrides()
    run_uploads()
    summary = {kind: tally(found) for kind, found in outcomes.items()}
    total = tally([outcome for found in outcomes.values() for outcome in found])
    report = {"by_input": summary, "total": total, "cases": sum(total.values()), "examples": examples}
    folder = ROOT / "fuzz-results"
    folder.mkdir(exist_ok=True)
    (folder / "latest.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "examples"}, indent=2))
    assert report["cases"] >= 10_000 * scale * 0.95
    assert total["crash"] == 0 and total["hang"] == 0, examples
