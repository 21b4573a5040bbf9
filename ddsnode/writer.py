"""The writer: one thread that runs the node's HTTP writes, in batches that commit together.

Why one thread: parsing, validating and serialising a write is Python work that holds
the GIL, so several writer threads only take turns at it while handing the GIL to each
other, and each would wait for its own fsync. Measured on the validated-POST benchmark
(``bench/run.py``), one thread with batches takes about twice as many writes per second
as anyio's pool of forty.

How: requests queue up while a batch is being written. The thread takes everything
queued (up to ``max_batch``), runs each write inside one store transaction
(:meth:`ddsnode.store.base.Store.transaction`), each in its own savepoint so a write
that fails (422, 412 …) leaves no trace, then commits once. Each write sees the ones
before it; a result is handed back only after the COMMIT returned, so nothing is
acknowledged before it is durable. If the COMMIT itself fails, every write of the batch
fails with that error and none is stored.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ddsnode.store.base import Store

log = logging.getLogger(__name__)

_STOP = object()


class Writer:
    """Runs submitted writes on one thread, started on first use."""

    def __init__(self, store: Store, *, max_batch: int = 64) -> None:
        self.store = store
        self.max_batch = max_batch
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
            if self._thread is None:
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
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _run(self) -> None:
        while True:
            batch: list[tuple[Callable[[], Any], Future[Any]]] = []
            stop = False
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
                if len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            if stop:
                return

    def _write(self, batch: list[tuple[Callable[[], Any], Future[Any]]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.store.transaction():
                for work, future in batch:
                    if not future.set_running_or_notify_cancel():
                        outcomes.append((False, None))
                        continue
                    try:
                        with self.store.savepoint():
                            outcomes.append((True, work()))
                    except BaseException as e:  # the request's error: 4xx, or a bug
                        outcomes.append((False, e))
        except BaseException as e:
            log.error("a batch of %d writes failed to commit: %s", len(batch), e)
            for _, future in batch:
                if not future.done():
                    future.set_exception(e)
            return
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            elif value is not None:
                future.set_exception(value)
