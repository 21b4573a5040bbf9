"""The intake's start, run in the background when the server starts.

Before a desk can decide anything it reads the geography, replays the event log and
seeds its totals from stored station results: seconds at 100,000 stations × 10 contests.
Done on the first tally, under the desk's lock, it made every tally that arrived
meanwhile queue behind that lock (about 90% of the tally threads of a 20,000-station
bench waited there). :class:`Opening` runs it in its own thread from
``Assembly.start`` instead; until it is done a submission is answered at once with
503 and ``Retry-After`` (RFC 9110 15.6.4, 10.2.3) — a clerk's client retries — and no
thread waits. The publisher, a background loop of its own, waits for it
(:meth:`Opening.wait`).

Stopping: :meth:`Opening.stop` asks the work to end at its next checkpoint (the work
calls :meth:`Opening.checkpoint` between pages) and joins the thread, so the store and
the log are never closed under it (``docs/election-night.md``, Intake).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ddsnode.problem import Unavailable

__all__ = ["Opening", "RETRY_AFTER", "Stopped"]

log = logging.getLogger("ddsnode.intake")
RETRY_AFTER = 2  # seconds a client is asked to wait (the start takes seconds, not minutes)


class Stopped(Exception):
    """Raised at a checkpoint of the work when the node is stopping."""


class Opening:
    """One background run of ``work`` (the desk's start), restarted once after a failure."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()  # set when the work ended (well, or stopped)
        self._stopping = threading.Event()
        self._failed: BaseException | None = None
        self._failed_at = -float(RETRY_AFTER)

    def begin(self) -> None:
        """Start the work in a thread (again, if the last run failed: at most once every
        RETRY_AFTER seconds, so a start that keeps failing does not flood the log)."""
        with self._lock:
            if self._stopping.is_set() or self._done.is_set() or \
                    (self._thread is not None and self._thread.is_alive()) or \
                    time.monotonic() - self._failed_at < RETRY_AFTER:
                return
            self._failed = None
            self._thread = threading.Thread(target=self._run, name="intake-opening",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._work()
        except Stopped:
            pass
        except Exception as e:  # logged, answered as 503, tried again on the next request
            log.exception("the intake could not start")
            self._failed, self._failed_at = e, time.monotonic()
            return
        self._done.set()

    @property
    def ready(self) -> bool:
        """Whether the work finished (and the node is not stopping)."""
        return self._done.is_set() and not self._stopping.is_set()

    def checkpoint(self) -> None:
        """Called by the work between steps: raises :class:`Stopped` when stopping."""
        if self._stopping.is_set():
            raise Stopped

    def check(self) -> None:
        """Return when ready; else a 503 with Retry-After, at once (a failed start is
        begun again)."""
        if self.ready:
            return
        if self._stopping.is_set():
            raise Unavailable("The node is stopping; retry", headers={"Retry-After":
                                                                     str(RETRY_AFTER)})
        if self._failed is not None:
            self.begin()
            raise Unavailable("The intake could not start (the operator's log says why); "
                              "it is trying again", headers={"Retry-After": str(RETRY_AFTER)})
        raise Unavailable("The intake is starting (reading the stations and replaying its "
                          "log); retry in a moment", headers={"Retry-After": str(RETRY_AFTER)})

    def wait(self) -> None:
        """Block until the work is done: for background loops (the publisher), never for
        a request; Unavailable when the node stops first."""
        while not self.ready:
            if self._stopping.is_set():
                raise Unavailable("The node is stopping")
            if self._failed is not None:
                self.begin()
            self._done.wait(0.5)

    def stop(self) -> None:
        """Ask the work to stop at its next checkpoint and wait for its thread."""
        self._stopping.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
