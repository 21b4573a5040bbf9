"""The open-data portal of one node: the current build, its catalogue pages, and the loop
that rebuilds the files when the data changes.

Rebuilds are debounced (``catalog_rebuild_seconds`` of quiet after the latest write),
with a ceiling (``catalog_max_wait_seconds``) so that a node written to without pause
still publishes fresh files. The loop watches the store's change log, so writes made by
another process (an import from the CLI) count too; with several worker processes, the
one holding the lock ``<node>/catalog/.lock`` runs it. A build runs in a worker thread;
readers keep getting the previous build until the new one is switched in
(``catalog.build``). The catalogue's representations are rendered once per build, page
and media type, and served from memory.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import threading
import time
from pathlib import Path

import rdflib

from ddsnode.catalog import build as builds
from ddsnode.catalog.build import Build
from ddsnode.catalog.graph import CatalogGraph, page_count
from ddsnode.ldp import conneg, representation
from ddsnode.ldp.node import Node
from ddsnode.lru import LRU
from ddsnode.store.base import Representation

log = logging.getLogger(__name__)
RDF_XML = "application/rdf+xml"
#: What /catalog offers: the node's RDF media types, then RDF/XML for harvesters.
OFFERS: tuple[str, ...] = (*conneg.RDF_OFFERS, RDF_XML)
POINTER_CHECK_SECONDS = 1.0  # how often a reader looks whether another process switched


class Portal:
    """The catalogue and files of ``node`` (whose settings name its directory)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.settings = node.settings
        if node.settings.node_dir is None:
            raise ValueError("the open-data portal needs a node directory")
        self.node_dir: Path = node.settings.node_dir
        self._build: Build | None = None
        self._checked = 0.0
        self._lock = threading.Lock()  # one build at a time in this process
        self._graphs: LRU[rdflib.Graph] = LRU(64)
        self._renderings: LRU[Representation] = LRU(
            64 * 1024 * 1024, weigh=lambda rep: len(rep.body) + 256)
        self._task: asyncio.Task[None] | None = None
        self._lock_fd: int | None = None
        self.builds = 0  # builds made by this process (for tests and the log)

    # --- reading -----------------------------------------------------------------------

    def current(self) -> Build | None:
        """The current build (another process may have switched it), or None before any."""
        now = time.monotonic()
        if self._build is None or now - self._checked >= POINTER_CHECK_SECONDS:
            self._checked = now
            current = builds.current_id(self.node_dir)
            if current is not None and (self._build is None or self._build.id != current):
                loaded = builds.load(self.node_dir, current)
                if loaded is not None:
                    self._build = loaded
        return self._build

    @property
    def page_size(self) -> int:
        """Entries per catalogue page."""
        return max(1, int(self.settings.catalog_page_size))

    def pages(self, build: Build) -> int:
        """How many pages ``build``'s catalogue has."""
        return page_count(build, self.page_size)

    def graph(self, build: Build, page: int) -> rdflib.Graph:
        """The DCAT-AP graph of page ``page`` of ``build``'s catalogue."""
        return self._graphs.get_or_make(
            (build.id, page), lambda: CatalogGraph(build, self.settings).page(page,
                                                                               self.page_size))

    def rendered(self, build: Build, page: int, offer: str) -> Representation:
        """Page ``page`` of the catalogue as ``offer`` (an RDF media type)."""
        def make() -> Representation:
            graph = self.graph(build, page)
            if offer == RDF_XML:
                # RDF/XML: what harvesters assume when they do not say (ckanext-dcat's
                # default rdf_format, many national portals).
                return representation.make(offer, graph.serialize(format="xml",
                                                                  encoding="utf-8"))
            return representation.render(graph, self.settings.base_url + "catalog", offer)
        return self._renderings.get_or_make((build.id, page, offer), make)

    # --- building ----------------------------------------------------------------------

    def rebuild(self) -> Build:
        """Build the files now (blocking) and make them current."""
        with self._lock:
            made = builds.build(self.node, self.node_dir,
                                max_processes=int(self.settings.catalog_max_processes),
                                issuer=str(self.settings.operator or self.settings.name))
            self.builds += 1
            self._build, self._checked = made, time.monotonic()
            log.info("catalog: build %s (up to change %d, %d files)", made.id, made.seq,
                     len(made.files))
            return made

    async def start(self) -> None:
        """Run the rebuild loop (nothing when ``catalog_rebuild_seconds`` is 0)."""
        if float(self.settings.catalog_rebuild_seconds) > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop the loop; a build in progress finishes in its thread."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    async def _hold(self) -> None:
        """Wait for the build lock of the node directory: with several worker processes
        (``workers``), one of them rebuilds and every one serves what it built."""
        root = builds.root_of(self.node_dir)
        root.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                await asyncio.sleep(POINTER_CHECK_SECONDS)

    async def _loop(self) -> None:
        await self._hold()
        quiet = float(self.settings.catalog_rebuild_seconds)
        ceiling = max(quiet, float(self.settings.catalog_max_wait_seconds))
        tick = min(1.0, quiet)
        current = await asyncio.to_thread(self.current)
        seen = current.seq if current is not None else 0
        # No build yet, or changes since the last one: build at once.
        pending_since: float | None = time.monotonic() - ceiling if current is None else None
        last_change = time.monotonic() - quiet
        while True:
            try:
                latest = await asyncio.to_thread(builds.latest_seq, self.node, seen)
                now = time.monotonic()
                if latest > seen:
                    seen, last_change = latest, now
                    pending_since = pending_since if pending_since is not None else now
                if pending_since is not None and (now - last_change >= quiet or
                                                  now - pending_since >= ceiling):
                    pending_since = None
                    made = await asyncio.to_thread(self.rebuild)
                    # Writes made during the build are after made.seq: build again for them.
                    if made.seq < seen:
                        pending_since, last_change = time.monotonic(), time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 — a failed build is logged, the next one tries
                log.exception("catalog: the open-data files could not be rebuilt")
                pending_since = last_change = time.monotonic()  # try again after a quiet spell
            await asyncio.sleep(tick)
