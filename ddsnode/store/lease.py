"""Who runs a node's background loops when several processes serve it.

The federation loops (push, delivery, peer polling) must run in exactly one process of a
node: two would push every change twice and race on the peers' cursors. A store shared by
several processes offers a :class:`Lease` (``Store.loop_lease``; PostgreSQL: a session
advisory lock, ``postgresql_lease.py``); :func:`hold` runs the loops only while this
process holds it, tries to take it every ``retry_seconds`` while another does, and stops
the loops as soon as it is lost (the holder's database session ended), so a dead owner's
loops are taken over within about ``retry_seconds``. A store without one (embedded: one
process) runs them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Lease(Protocol):
    """An exclusive, crash-released claim shared through the store (blocking calls)."""

    retry_seconds: float

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True if this process holds it now."""

    def held(self) -> bool:
        """Whether this process still holds it (False once its session is gone)."""

    def release(self) -> None:
        """Give it up (and close what held it)."""


async def hold(lease: Lease, run: Callable[[], Awaitable[None]]) -> None:
    """Run ``run()`` while this process holds ``lease``; until cancelled."""
    try:
        while True:
            if await asyncio.to_thread(_try, lease):
                log.info("this process runs the background loops")
                task = asyncio.ensure_future(run())
                try:
                    while not task.done() and await asyncio.to_thread(lease.held):
                        await asyncio.sleep(lease.retry_seconds)
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                log.warning("the background loops' lease was lost; stopped them here")
            await asyncio.sleep(lease.retry_seconds)
    finally:
        await asyncio.to_thread(lease.release)


def _try(lease: Lease) -> bool:
    try:
        return lease.try_acquire()
    except Exception as e:  # noqa: BLE001 - the database is down: try again later
        log.warning("cannot take the background loops' lease now: %s", type(e).__name__)
        return False
