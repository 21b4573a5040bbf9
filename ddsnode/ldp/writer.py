"""The writer: one thread that runs the node's HTTP writes, in batches that commit together.

Why one thread: parsing, validating and serialising a write is Python work that holds
the GIL, so several writer threads only take turns at it while handing the GIL to each
other, and each would wait for its own fsync. Measured on the validated-POST benchmark
(``bench/run.py``), one thread with batches takes about twice as many writes per second
as anyio's pool of forty.

How: requests queue up while a batch is being written. The thread runs the first
queued write and then, while the batch is under ``max_batch`` writes and
``budget_seconds`` of work, the next queued ones, all inside one store transaction
(:meth:`ddsnode.store.base.Store.transaction`), each in its own savepoint so a write
that fails (422, 412 …) leaves no trace; then it commits once. Each write sees the ones
before it; a result is handed back only after the COMMIT returned, so nothing is
acknowledged before it is durable. If the COMMIT fails, or the database drops the
transaction midway (SQLite does on a full disk or an I/O error), every write of the
batch fails with 503 and none is stored (on the embedded store; the SPARQL backend has
no transactions, so its writes commit one by one).

The batch holds the store's write lock while it parses and validates, so a long batch
is followed by a short pause: another process waiting for the lock (``ddsnode import``
while the node is under load) gets a turn at the next poll of its busy handler.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ddsnode.problem import Problem, Unavailable
from ddsnode.store.base import Store, TransactionLost

log = logging.getLogger(__name__)

_STOP = object()
Job = tuple[Callable[[], Any], "Future[Any]"]


class Writer:
    """Runs submitted writes on one thread, started on first use (and again if it died)."""

    def __init__(self, store: Store, *, max_batch: int = 64, budget_seconds: float = 0.05,
                 pause_seconds: float = 0.002) -> None:
        self.store = store
        self.max_batch = max_batch
        self.budget_seconds = budget_seconds
        self.pause_seconds = pause_seconds
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, work: Callable[[], Any]) -> Future[Any]:
        """Queue ``work`` (a call into the node core); the future holds its result or error."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the node is closed")
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ddsnode-writer",
                                                daemon=True)
                self._thread.start()
            self._queue.put((work, future))
        return future

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP or self._batch(item):
                return

    def _batch(self, first: Job) -> bool:
        """Run one batch starting with ``first``; True when the stop sign was taken."""
        taken: list[Future[Any]] = []
        outcomes: list[tuple[bool, Any]] = []
        stop = False
        started = time.monotonic()
        try:
            with self.store.transaction():
                item: Any = first
                while True:
                    work, future = item
                    if future.set_running_or_notify_cancel():  # else cancelled while queued
                        taken.append(future)
                        outcomes.append(self._one(work))
                    if len(taken) >= self.max_batch or \
                            time.monotonic() - started > self.budget_seconds:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
        except BaseException as e:
            log.error("a batch of %d writes was not committed: %r", len(taken), e)
            failure = e if isinstance(e, Problem) else Unavailable(
                "The store could not commit this write (nothing of it was stored); retry")
            if not taken and first[1].set_running_or_notify_cancel():
                taken.append(first[1])  # the transaction did not even begin
            for future in taken:
                future.set_exception(failure)
            return stop
        for future, (ok, value) in zip(taken, outcomes, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if time.monotonic() - started > self.budget_seconds / 2:
            time.sleep(self.pause_seconds)  # the write lock is free: others may take it
        return stop

    def _one(self, work: Callable[[], Any]) -> tuple[bool, Any]:
        """(True, result) or (False, error) of one write, undone by its savepoint if it
        failed; TransactionLost goes up: the whole batch is gone."""
        try:
            with self.store.savepoint():
                result = work()
        except TransactionLost:
            raise
        except Exception as e:  # the request's error: 4xx, or a bug (500)
            if isinstance(e, StopIteration):  # asyncio futures refuse it
                return False, RuntimeError(f"write failed: {e!r}")
            return False, e
        except BaseException as e:  # SystemExit and the like: not the event loop's to see
            return False, RuntimeError(f"write aborted: {e!r}")
        return True, result
