"""sim.ui.jobs: background work with progress, time left, cancel, and results reused by key."""

from __future__ import annotations

import threading

import pytest

from sim.ui.jobs import Cancelled, JobBoard, Progress


def test_a_finished_result_is_reused_by_key() -> None:
    board = JobBoard()
    calls: list[int] = []

    def work(progress: Progress) -> int:
        calls.append(1)
        for done in range(1, 4):
            progress(done, 3)
        return 42

    job = board.start("a", work, total=3)
    assert job.wait(10) and job.state == "done" and job.result == 42
    assert (job.done, job.total, job.fraction) == (3, 3, 1.0)
    assert job.seconds_left() == 0.0
    again = board.start("a", work)
    assert again is job and board.get("a") is job and calls == [1]  # not run twice
    assert board.get("b") is None


def test_cancel_stops_the_work_at_its_next_report_and_is_not_kept() -> None:
    board = JobBoard()
    release = threading.Event()
    reports: list[int] = []

    def work(progress: Progress) -> None:
        for done in range(1, 100):
            progress(done, 99)
            reports.append(done)
            release.wait(5)

    job = board.start("slow", work)
    job.cancel()
    release.set()
    assert job.wait(10)
    assert job.state == "cancelled" and isinstance(job.error, Cancelled)
    assert len(reports) <= 1
    assert board.get("slow") is None  # a new start runs it again


def test_a_failure_is_reported_not_raised_in_the_thread() -> None:
    board = JobBoard()

    def work(progress: Progress) -> None:
        raise ValueError("bad input")

    job = board.start("x", work)
    assert job.wait(10) and job.state == "failed"
    assert str(job.error) == "bad input"
    assert board.get("x") is None


def test_time_left_follows_the_pace() -> None:
    board = JobBoard()
    gate = threading.Event()
    halfway = threading.Event()

    def work(progress: Progress) -> None:
        progress(1, 4)
        halfway.set()
        gate.wait(5)
        progress(4, 4)

    job = board.start("pace", work)
    assert halfway.wait(5)
    left = job.seconds_left()
    assert left is not None and left == pytest.approx(3 * job.seconds, rel=0.5, abs=0.05)
    gate.set()
    assert job.wait(5) and job.state == "done"


def test_old_results_are_forgotten_beyond_the_limit() -> None:
    board = JobBoard(keep=2)
    for key in "abc":
        assert board.start(key, lambda progress, key=key: key).wait(5)
    assert board.get("a") is None and board.get("c") is not None
