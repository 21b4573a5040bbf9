"""The voter pages' shared lookup, kept fresh without holding a request up.

:class:`VoterSite` owns the lookup table's :class:`~ddsnode.voter.lookup.Lookup` for the
endpoints of :mod:`ddsnode.explorer.web.voter`, the results they read (stored and
published), and the periodic check of the table's inputs (``voter_refresh_seconds``),
which runs on a worker thread in the background.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any

import anyio.to_thread

from ddsnode.explorer.web.voter_published import PublishedResults
from ddsnode.problem import NotFound
from ddsnode.publication.stored import StoredResults
from ddsnode.voter.lookup import Lookup
from ddsnode.voter.table import ensure, table_path

__all__ = ["VoterSite"]

log = logging.getLogger("ddsnode.voter")


class VoterSite:
    """The lookup of one node, kept fresh, shared by its voter endpoints.

    Requests answer from the lookup in hand (:meth:`current`, no lock, no I/O). When it
    was checked more than ``voter_refresh_seconds`` ago, the first request to notice
    starts one check (:meth:`lookup`, on a worker thread) and every request, that one
    included, goes on answering from the lookup in hand until the check has swapped in
    the new one: a check (or a rebuild of the table) never holds a request up, nor the
    event loop. Before, every request in flight when the period ended made its own hop
    to a worker thread and queued on the lock, and a request that had not waited called
    :meth:`lookup` on the event loop, blocking the loop behind a check or a rebuild in
    progress (``docs/voter.md``, Cost). With ``voter_refresh_seconds = 0`` each request
    checks before it answers, as before (tests use it to see a write at once).
    """

    def __init__(self, node: Any) -> None:
        self.node = node
        self.results = StoredResults(node, "*")  # every public election of the store
        self.published = PublishedResults(node)
        self._lock = threading.Lock()
        self._checked = 0.0
        self._lookup: Lookup | None = None
        self._identity: tuple[int, int] | None = None
        self._check: asyncio.Future[Lookup] | None = None  # the check running, if any

    def current(self) -> Lookup:
        """The lookup in hand (after :meth:`ready`): no lock, no I/O, safe on the loop."""
        if self._lookup is None:
            raise NotFound("This node has no polling stations to look up yet")
        return self._lookup

    async def ready(self) -> None:
        """Make :meth:`current` answerable: at the first request (or with a refresh
        period of 0), wait for a check; when the period has run out, start one check in
        the background and answer from the lookup in hand meanwhile."""
        limit = float(self.node.settings.voter_refresh_seconds)
        if self._lookup is not None and time.monotonic() - self._checked < limit:
            return
        if self._lookup is None or limit <= 0:
            await anyio.to_thread.run_sync(self.lookup)
            return
        if self._check is None or self._check.done():
            self._checked = time.monotonic()  # the requests until it ends start no other
            self._check = asyncio.ensure_future(anyio.to_thread.run_sync(self.lookup))
            self._check.add_done_callback(_logged)

    def lookup(self) -> Lookup:
        """The current lookup, checked now (call off the event loop: it may rebuild the
        table)."""
        s = self.node.settings
        with self._lock:
            self._checked = time.monotonic()
            ensure(self.node)
            # A new file (rebuilt here, by another worker or by `ddsnode import vip`):
            # a new Lookup, whose connections and cached answers are the new table's.
            path = table_path(s)
            identity = _identity(path)
            if self._lookup is None or identity != self._identity:
                self._identity = identity
                self._lookup = Lookup(path, max_stations=int(s.voter_max_stations),
                                      max_choices=int(s.voter_max_choices),
                                      max_query_chars=int(s.voter_max_query_chars))
            return self._lookup


def _logged(check: asyncio.Future[Lookup]) -> None:
    """A background check that failed: logged (the next period tries again)."""
    if not check.cancelled() and check.exception() is not None:
        log.warning("The voter lookup's table check failed: %s", check.exception())


def _identity(path: Path) -> tuple[int, int] | None:
    """(inode, modification time) of the table file: a rebuild renames a new file over."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns
