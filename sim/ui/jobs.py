"""Long computations for the app, run in a background thread: progress, time left, cancel, and reuse.

A page starts a :class:`Job` with :meth:`JobBoard.start`, then only *reads* it (done, total, seconds
left) while it draws; the work itself never touches the page. That is what lets a result be reused
by a second click, a second browser tab or another session (the board keeps finished results by key),
without replaying any page element, and what makes Cancel possible: the page asks the job to stop and
the work raises :class:`Cancelled` at its next progress report.

No Streamlit here: the board is plain Python (one per app process), tested without a browser.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BOARD", "Cancelled", "Job", "JobBoard", "Progress"]

#: A job's work receives ``progress(done, total)``; calling it raises :class:`Cancelled` once cancelled.
Progress = Callable[[int, int], None]


class Cancelled(Exception):  # noqa: N818 - the name says what happened, as Python's CancelledError
    """Raised inside a job's work when the job was cancelled."""


@dataclass
class Job:
    """One computation: its progress, and its result or error once finished.

    Attributes:
        key: what identifies the result (equal keys give equal results).
        started: ``time.monotonic()`` at the start.
        done, total: progress reported by the work (runs finished, runs planned).
        result: the work's return value once ``state == "done"``.
        error: the exception the work raised once ``state == "failed"``.
        finished: ``time.monotonic()`` at the end (None while running).
    """

    key: Hashable
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int = 0
    result: Any = None
    error: BaseException | None = None
    finished: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def state(self) -> str:
        """``running``, ``done``, ``failed`` or ``cancelled``."""
        if self.finished is None:
            return "running"
        if isinstance(self.error, Cancelled):
            return "cancelled"
        return "failed" if self.error is not None else "done"

    @property
    def running(self) -> bool:
        """Whether the work has not finished yet."""
        return self.finished is None

    @property
    def fraction(self) -> float:
        """Share of the work done, in [0, 1]."""
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def seconds(self) -> float:
        """Seconds the work has run (until now, or until it finished)."""
        return (self.finished if self.finished is not None else time.monotonic()) - self.started

    def seconds_left(self) -> float | None:
        """Estimated seconds until the end from the pace so far (None before the first report)."""
        if not self.done or not self.total:
            return None
        return max(0.0, self.seconds / self.done * (self.total - self.done))

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has finished (True) or ``timeout`` seconds passed (False)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self._cancel.is_set():
            raise Cancelled


class JobBoard:
    """Jobs by key: a running or finished job is reused; finished results are kept up to ``keep``.

    Failed and cancelled jobs are not kept: starting the same key again runs the work again.
    """

    def __init__(self, keep: int = 16) -> None:
        self._jobs: OrderedDict[Hashable, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def get(self, key: Hashable) -> Job | None:
        """The job for ``key`` if one is running or has finished well (None otherwise)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None:
                self._jobs.move_to_end(key)
            return job

    def start(self, key: Hashable, work: Callable[[Progress], Any], total: int = 0) -> Job:
        """The job for ``key``: the running or finished one, else ``work(progress)`` in a new thread."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state in ("running", "done"):
                self._jobs.move_to_end(key)
                return job
            job = Job(key=key, total=total)
            self._jobs[key] = job
            self._trim()

        def target() -> None:
            try:
                job.result = work(job._progress)
            except BaseException as exc:  # the page shows it; a thread must not die silently
                job.error = exc
            finally:
                job.finished = time.monotonic()
                with self._lock:
                    if job.error is not None and self._jobs.get(key) is job:
                        del self._jobs[key]
                    self._trim()

        job._thread = threading.Thread(
            target=target, name=f"ripple-job-{hash(key) & 0xFFFF:04x}", daemon=True
        )
        job._thread.start()
        return job

    def _trim(self) -> None:
        finished = [k for k, j in self._jobs.items() if not j.running]
        while len(finished) > self._keep:
            del self._jobs[finished.pop(0)]

    def clear(self) -> None:
        """Forget every finished job (running ones carry on)."""
        with self._lock:
            for key in [k for k, j in self._jobs.items() if not j.running]:
                del self._jobs[key]


#: A board for one process (the app holds its own in Streamlit's resource cache, which outlives the
#: module reloads Streamlit's file watcher makes: ``app_pages.common.job_board``).
BOARD = JobBoard()
