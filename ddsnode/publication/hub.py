"""``Publication``: the publisher, the mirror and the shelf of one node, and their loops.

Built by the composition root (``ddsnode/assembly.py``) from the settings; the HTTP
layer serves ``shelf`` and ``keyring``. With several worker processes on one node
directory, one of them (the holder of an ``flock`` on ``publication/.lock``) publishes
and mirrors; every worker serves, and sees a switched pointer within
``shelf.POINTER_RECHECK`` seconds.

With several machines on one PostgreSQL (``store = "postgresql"``), the ``flock`` only
orders the processes of one machine: the loops also need the store's lease
(:mod:`ddsnode.store.lease`), on an advisory lock of their own
(:data:`PUBLICATION_LOCK`, not the federation loops' one, so that the two sets of loops
can be taken over independently), so exactly one process of the whole node publishes
and mirrors, and another takes over within ``loop_lease_seconds`` when it dies. What the
other machines serve is what is in their own ``publication/`` directory: see "Several
machines" in docs/election-night.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from pathlib import Path
from typing import Any

from ddsnode.ldp.node import Node
from ddsnode.publication.archive import Archive
from ddsnode.publication.keyring import Keyring
from ddsnode.publication.mirror import Mirror
from ddsnode.publication.publisher import Publisher
from ddsnode.publication.shelf import Shelf
from ddsnode.publication.stored import StoredResults

log = logging.getLogger("ddsnode.publication")
LOCK_RETRY_SECONDS = 2.0
PUBLICATION_LOCK = 0x64647310  # election publication's advisory lock (PostgreSQL); taken:
# 0x64647300 store schema, 0x64647301 federation loops, 0x64647302 federation schema


class Publication:
    """Election-night publication of one node (docs/election-night.md)."""

    def __init__(self, node: Node) -> None:
        s = node.settings
        self.node = node
        self.node_dir: Path | None = s.node_dir
        self.archive = Archive.of(s.node_dir) if s.node_dir else Archive(Path(os.devnull))
        self.shelf = Shelf(self.archive, int(s.publication_cache_mb) * 1024 * 1024)
        self.production = bool(s.publication_production)
        self._keyring: Keyring | None = None
        self.feed: StoredResults | None = None
        self.publisher: Publisher | None = None
        if s.publication_elections.strip() and s.node_dir:
            self.feed = StoredResults(node, s.publication_elections)
            self.publisher = Publisher(self.feed, self.archive, self.keyring_or_fail(),
                                       base=node.base,
                                       interval=float(s.publication_interval_seconds),
                                       rehearsal=s.publication_rehearsal,
                                       facts=self.feed.facts, on_publish=self.shelf.note,
                                       part_units=int(s.publication_part_units))
        self.mirror: Mirror | None = None
        if s.publication_follow.strip() and s.node_dir:
            self.mirror = Mirror.from_settings(s, self.archive, on_verified=self.shelf.note)
        self._tasks: list[asyncio.Task[Any]] = []
        self._lock_fd: int | None = None

    @property
    def keyring(self) -> Keyring | None:
        """The node's publication keys (None for a node without a directory)."""
        if self._keyring is None and self.node_dir is not None:
            self._keyring = Keyring.open(self.node_dir, production=self.production,
                                         settings=self.node.settings, store=self.node.store)
        return self._keyring

    def keyring_or_fail(self) -> Keyring:
        """The keyring, for a node that publishes (it has a directory)."""
        keyring = self.keyring
        if keyring is None:
            raise ValueError("publishing needs a node directory for its keys")
        return keyring

    def jwks_bytes(self) -> bytes | None:
        """The JWKS document served at /.well-known/jwks.json."""
        keyring = self.keyring
        return keyring.jwks_bytes() if keyring is not None else None

    async def start(self) -> None:
        """Run the publisher and the mirror in the process holding the lock."""
        if self.publisher is None and self.mirror is None:
            return
        self._tasks.append(asyncio.create_task(self._hold()))

    async def _hold(self) -> None:
        assert self.node_dir is not None
        self.archive.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.archive.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._lock_fd = fd
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(LOCK_RETRY_SECONDS)
        lease = self.node.store.loop_lease(float(self.node.settings.loop_lease_seconds))
        if lease is None:  # one machine: the flock is enough
            await self._loops()
            return
        lease.lock = PUBLICATION_LOCK
        from ddsnode.store.lease import hold
        await hold(lease, self._loops)

    async def _loops(self) -> None:
        loops = []
        if self.publisher is not None:
            loops.append(self.publisher.run())
        if self.mirror is not None:
            loops.append(self.mirror.run())
        await asyncio.gather(*loops)

    async def stop(self) -> None:
        """Stop the loops (a generation being written finishes in its thread)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.publisher is not None:
            await self.publisher.close()
        if self.mirror is not None:
            await self.mirror.aclose()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def status(self) -> dict[str, Any]:
        """What is published (for the CLI): election path -> current generation."""
        out = {}
        for path in self.archive.elections():
            pointer = self.archive.pointer(path)
            if pointer is not None:
                out[path] = json.loads(pointer.raw)
        return out
