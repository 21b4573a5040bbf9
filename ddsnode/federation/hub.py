"""The federation hub: one node's peers, cache, feed, outbox and inbox, and its loops.

:class:`Federation` keeps the state the federation jobs share (``federation.db``, the
peer registry, the one outbound client, the peer cache, the outbox, the reaction ledger,
the change feed, the inbox) and the lifecycle. Three background tasks run while the
server runs (:meth:`Federation.start`), each a step of one job:

* **push** — our changes to followers' inboxes (:mod:`ddsnode.federation.push`);
* **delivery** — delivers due outbox rows (:mod:`ddsnode.federation.outbox`);
* **sync** — the fallback for lost notifications: reads each peer's feed after its
  cursor and revalidates what changed (:mod:`ddsnode.federation.sync`).

A received activity (:meth:`Federation.handle`) is acted on by
:mod:`ddsnode.federation.receiving`; reactions to our resources are counted by
:mod:`ddsnode.federation.counting`. The hub also configures peers (describe, add,
follow, unfollow).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from ddsnode.federation.cache import PeerCache
from ddsnode.federation.counting import Counting
from ddsnode.federation.database import open_databases
from ddsnode.federation.feed import AS_CONTEXT, ChangeFeed
from ddsnode.federation.inbox import Inbox
from ddsnode.federation.outbox import Outbox
from ddsnode.federation.peers import (
    Peer,
    PeerDescription,
    PeerRegistry,
    read_description,
    refuse_peer_address,
)
from ddsnode.federation.push import Push
from ddsnode.federation.reactions import ReactionLedger
from ddsnode.federation.receiving import Receiving
from ddsnode.federation.signature import Signer
from ddsnode.federation.sync import Sync
from ddsnode.federation.trace import trace_predicates
from ddsnode.keys import key_id, public_key_pem
from ddsnode.ldp.node import Node
from ddsnode.outbound import (
    OutboundClient,
    PeerError,
    normalise_origin,
)
from ddsnode.problem import Unprocessable
from ddsnode.rdf.jsonld import JsonLdLimits
from ddsnode.store.node_key import node_key

log = logging.getLogger("ddsnode.federation")
_T = TypeVar("_T")

#: Each node's Federation, as the composition root registered it; a node that is gone
#: takes its entry with it. The value is a weak reference too: a Federation holds its node,
#: and a value held strongly would keep its own key alive (every node a process ever
#: started stayed in memory: 0.7 MiB each, 140 MiB after 200 in a test process). The
#: composition root's Assembly is what keeps a running node's Federation.
_FEDERATIONS: weakref.WeakKeyDictionary[Node, weakref.ref[Federation]] = (
    weakref.WeakKeyDictionary())

THREADS = 8  # worker threads for the loops' blocking work (store, cache, parsing)

DESCRIPTION_ACCEPT = ("text/turtle", "application/ld+json")


class Federation:
    """Federation state and behaviour of the node ``node`` (a :class:`ddsnode.ldp.node.Node`)."""

    def __init__(self, node: Node, *, client: OutboundClient | None = None,
                 poll_interval: float | None = None, push_interval: float = 0.1,
                 sync_concurrency: int | None = None) -> None:
        self.node = node
        self.base: str = node.base
        self.origin = normalise_origin(self.base)
        # The shared tables, and the peer cache's: one file, or on PostgreSQL the database
        # and this machine's file (federation/database.py).
        self.db, self.cache_db = open_databases(node.settings)
        self.peers = PeerRegistry(self.db, cache_db=self.cache_db)
        self.keyid = key_id(self.base)
        key = node_key(node.settings, node.store)  # shared by every machine on PostgreSQL
        self.public_key_pem = public_key_pem(key)
        settings = node.settings
        timeout = float(settings.peer_timeout_seconds)  # a slow peer holds a slot this long
        self.client = client or OutboundClient(
            allowed_origins=self.peers.origins, signer=Signer(key, self.keyid),
            max_bytes=int(settings.peer_max_document_bytes), total_timeout=timeout,
            read_timeout=min(10.0, timeout), connect_timeout=min(5.0, timeout))
        self.max_document_bytes = int(settings.peer_max_document_bytes)
        self.cache = PeerCache(self.cache_db, self.client, node.containers,
                               engine=settings.validation_engine,
                               max_entries=int(settings.peer_cache_max_entries),
                               max_per_peer=int(settings.peer_cache_max_per_peer),
                               revalidate_interval=float(settings.peer_revalidate_seconds),
                               max_bytes=self.max_document_bytes,
                               limits=JsonLdLimits.from_settings(settings),
                               link_predicates=frozenset(trace_predicates()))
        # The jobs: each reads the shared state above through this hub.
        self.counting = Counting(self)
        self.push = Push(self)
        self.sync = Sync(self)
        self.receiving = Receiving(self)
        self.outbox = Outbox(self.db, self.client, on_delivered=self.sync.after_delivery)
        self.ledger = ReactionLedger(self.db)
        self.feed = ChangeFeed(node.store, self.base, node.containers)
        self.inbox = Inbox(self.db, self.peers, self.refresh_peer,
                           key_refetch_interval=float(settings.peer_key_refetch_seconds))
        self.poll_interval = float(settings.peer_poll_seconds if poll_interval is None
                                   else poll_interval)
        self.push_interval = push_interval
        self.sync_concurrency = int(settings.peer_sync_concurrency if sync_concurrency is None
                                    else sync_concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="federation")
        self._background: set[asyncio.Task[None]] = set()

    @staticmethod
    def register(node: Node, federation: Federation) -> None:
        """Record ``federation`` as the one of ``node`` (the composition root does)."""
        _FEDERATIONS[node] = weakref.ref(federation)

    @staticmethod
    def for_node(node: Node) -> Federation:
        """The Federation the composition root (``ddsnode.assembly``) made for ``node``;
        KeyError when there is none (or its assembly is gone)."""
        federation = _FEDERATIONS[node]()
        if federation is None:
            raise KeyError(node)
        return federation

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the push, delivery and sync loops; with several processes on one store,
        only in the one holding the store's loop lease (ddsnode.store.lease)."""
        lease = self.node.store.loop_lease(float(self.node.settings.loop_lease_seconds))
        if lease is not None:
            from ddsnode.store.lease import hold
            self._tasks.append(asyncio.create_task(hold(lease, self._loops)))
            return
        await self._loops(wait=False)

    async def _loops(self, *, wait: bool = True) -> None:
        """Start the loops (and, with ``wait``, run until cancelled, then stop them)."""
        await self.in_thread(self.push.begin)
        loops = [asyncio.create_task(self._forever(loop))
                 for loop in (self._push_loop, self._delivery_loop, self._sync_loop)]
        if not wait:
            self._tasks += loops
            return
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def stop(self) -> None:
        """Stop the loops, wait for their work in threads, close the outbound client."""
        for task in [*self._tasks, *self._background]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._background, return_exceptions=True)
        self._tasks.clear()
        # A cancelled task does not stop its thread: wait for it, so that no store write
        # outlives the node (SQLite crashes on a connection closed under a running write).
        threads, self._threads = self._threads, ThreadPoolExecutor(
            THREADS, thread_name_prefix="federation")
        await asyncio.to_thread(threads.shutdown, True)
        await self.client.aclose()

    async def in_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run blocking ``fn(*args)`` on the federation's threads (waited for by stop)."""
        return await asyncio.get_running_loop().run_in_executor(self._threads,
                                                                 partial(fn, *args))

    async def _forever(self, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("federation loop %s failed; continuing", step.__name__)
                await asyncio.sleep(1.0)

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run ``coroutine`` in the background (kept referenced until it ends; errors logged)."""
        async def guarded() -> None:
            try:
                await coroutine
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("federation task failed")

        task = asyncio.create_task(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- the loops -----------------------------------------------------------------------

    async def _push_loop(self) -> None:
        pushed = await self.in_thread(self.push.once)
        if not pushed:
            await asyncio.sleep(self.push_interval)

    async def _delivery_loop(self) -> None:
        await self.outbox.deliver_due()
        self.outbox.wakeup.clear()
        due = self.outbox.next_due()
        # Rows queued by another process (``ddsnode peer add``) cannot set our wakeup
        # event: look again within 0.1 s (one indexed query).
        wait = 0.1 if due is None else min(0.1, max(0.0, due - time.time()))
        try:
            await asyncio.wait_for(self.outbox.wakeup.wait(), timeout=wait)
        except TimeoutError:
            pass

    async def _sync_loop(self) -> None:
        for peer in self.sync.due(time.time()):
            self.spawn(self.sync.read_feed(peer))
        await asyncio.sleep(0.5)

    # --- peers -------------------------------------------------------------------------

    async def describe_peer(self, url: str) -> PeerDescription:
        """Fetch and read a peer's node description (``GET /`` of its base)."""
        base = url if url.endswith("/") else url + "/"
        result = await self.client.fetch(base, accept=DESCRIPTION_ACCEPT, sign=False,
                                         max_bytes=self.max_document_bytes)
        if normalise_origin(result.url) != normalise_origin(base):
            raise PeerError(base, "redirects", f"description answered from {result.url}")
        # A peer's document is parsed off the event loop (issue 9, item 1).
        return await self.in_thread(read_description, result.body, result.media_type, base)

    async def refresh_peer(self, origin: str) -> Peer:
        """Re-read a configured peer's description (new key, inbox …)."""
        peer = self.peers.get(origin)
        if peer is None:
            raise ValueError(f"{origin} is not a configured peer")
        return self.peers.save(await self.describe_peer(peer.base))

    async def add_peer(self, url: str) -> Peer:
        """Configure a peer: read its description, store it and queue a signed Follow."""
        refuse_peer_address(url)
        origin = self.peers.allow(url)  # the operator's permission to reach it
        try:
            description = await self.describe_peer(url)
        except BaseException:
            existing = self.peers.get(origin)
            if existing is not None and existing.status == "pending":
                self.peers.remove(origin)
            raise
        if normalise_origin(description.inbox) != origin:
            self.peers.remove(origin)
            raise Unprocessable(f"{url} advertises an inbox on another origin "
                          f"({description.inbox[:200]}); refused")
        peer = self.peers.save(description)
        self.follow(peer)
        self.outbox.hurry(origin)
        return peer

    def follow(self, peer: Peer) -> None:
        """Queue a Follow of ``peer`` (the peer records us as a follower)."""
        self.outbox.enqueue({"@context": AS_CONTEXT, "id": f"{self.base}#follow-{uuid.uuid4()}",
                             "type": "Follow", "actor": self.base, "object": peer.base},
                            [peer.inbox])

    def unfollow(self, peer: Peer) -> None:
        """Queue an Undo of our Follow of ``peer``."""
        self.outbox.enqueue({"@context": AS_CONTEXT, "id": f"{self.base}#undo-{uuid.uuid4()}",
                             "type": "Undo", "actor": self.base,
                             "object": {"type": "Follow", "actor": self.base,
                                        "object": peer.base}}, [peer.inbox])

    # --- the jobs (push.py, sync.py, receiving.py, counting.py) ---------------------------

    def push_once(self, limit: int = 500) -> int:
        """Turn the changes after the push cursor into queued activities; returns how many."""
        return self.push.once(limit)

    async def sync_peer(self, peer: Peer, *, page_size: int = 1000) -> dict[str, int]:
        """Read ``peer``'s feed after its cursor and revalidate what changed."""
        return await self.sync.read_feed(peer, page_size=page_size)

    async def handle(self, activity: dict[str, Any], sender: str) -> None:
        """Act on an admitted activity (verified by :class:`ddsnode.federation.inbox.Inbox`)."""
        await self.receiving.handle(activity, sender)

    def recount(self, target: str) -> None:
        """Recompute and publish the counts of our resource ``target``."""
        self.counting.recount(target)
