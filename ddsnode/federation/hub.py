"""The federation runtime: one node's peers, cache, feed, outbox and inbox, and its loops.

Three background tasks run while the server runs (:meth:`Federation.start`):

* **push** — reads the store's change log after the persisted push cursor (so writes by
  any process, the CLI or an importer, are seen) and turns each published change into an
  activity queued for every follower's inbox; a reaction or comment on a peer's resource
  is also queued for that peer's inbox, and one on ours is counted at once;
* **delivery** — delivers due outbox rows (:mod:`ddsnode.federation.outbox`);
* **sync** — the fallback for lost notifications: reads each peer's feed after its
  cursor (a new peer from 0: the cold sync) and revalidates what changed.

A received activity (:meth:`Federation.handle`) is a hint: Create/Update revalidate the
object from its origin through the cache; Delete drops it; reactions to our resources are
recorded and recounted; Follow/Undo maintain the followers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import rdflib

from ddsnode.federation.cache import (
    REACTION_CLASSES,
    PeerCache,
    actor_of,
    is_reaction,
    reaction_target,
)
from ddsnode.federation.database import FederationDB
from ddsnode.federation.feed import AS_CONTEXT, MEDIA_TYPE, ChangeFeed, cursor_of
from ddsnode.federation.inbox import Inbox, object_iri
from ddsnode.federation.outbox import Outbox
from ddsnode.federation.peers import (
    Peer,
    PeerDescription,
    PeerRegistry,
    read_description,
    refuse_peer_address,
)
from ddsnode.federation.reactions import ReactionLedger, platform_counts
from ddsnode.federation.signature import Signer
from ddsnode.federation.trace import trace_predicates
from ddsnode.keys import KEY_FILE, key_id, load_node_key, public_key_pem
from ddsnode.outbound import (
    OutboundClient,
    PeerError,
    normalise_origin,
)
from ddsnode.problem import Problem, Unprocessable
from ddsnode.rdf import rdfio
from ddsnode.rdf.jsonld import JsonLdLimits
from ddsnode.store.base import Change

log = logging.getLogger("ddsnode.federation")

PUSH_CURSOR = "push_cursor"
RECENT_PUSH = 200  # changes a new follower is sent at once (the rest: our feed)
DESCRIPTION_ACCEPT = ("text/turtle", "application/ld+json")
FEED_ACCEPT = (MEDIA_TYPE, "application/ld+json", "application/json")
MAX_THREAD_DEPTH = 100  # replies followed up to what a thread is about


class Federation:
    """Federation state and behaviour of the node ``node`` (a :class:`ddsnode.ldp.node.Node`)."""

    def __init__(self, node: Any, *, client: OutboundClient | None = None,
                 poll_interval: float | None = None, push_interval: float = 0.1,
                 sync_concurrency: int | None = None) -> None:
        self.node = node
        self.base: str = node.base
        self.origin = normalise_origin(self.base)
        node_dir = Path(node.settings.node_dir)
        self.db = FederationDB(node_dir)
        self.peers = PeerRegistry(self.db)
        self.keyid = key_id(self.base)
        key = load_node_key(node_dir / KEY_FILE)
        self.public_key_pem = public_key_pem(key)
        settings = node.settings
        timeout = float(settings.peer_timeout_seconds)  # a slow peer holds a slot this long
        self.client = client or OutboundClient(
            allowed_origins=self.peers.origins, signer=Signer(key, self.keyid),
            max_bytes=int(settings.peer_max_document_bytes), total_timeout=timeout,
            read_timeout=min(10.0, timeout), connect_timeout=min(5.0, timeout))
        self.max_document_bytes = int(settings.peer_max_document_bytes)
        self.cache = PeerCache(self.db, self.client, node.containers,
                               engine=settings.validation_engine,
                               max_entries=int(settings.peer_cache_max_entries),
                               max_per_peer=int(settings.peer_cache_max_per_peer),
                               revalidate_interval=float(settings.peer_revalidate_seconds),
                               max_bytes=self.max_document_bytes,
                               limits=JsonLdLimits.from_settings(settings),
                               link_predicates=frozenset(trace_predicates()))
        self.outbox = Outbox(self.db, self.client, on_delivered=self._delivered)
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
        self._background: set[asyncio.Task[None]] = set()
        self._syncing: set[str] = set()
        self._resync: set[str] = set()  # peers to sync again as soon as the running one ends

    @staticmethod
    def register(node: Any, federation: Federation) -> None:
        """Record ``federation`` as the one of ``node`` (the composition root does)."""
        node._federation = federation

    @staticmethod
    def for_node(node: Any) -> Federation:
        """The Federation the composition root (``ddsnode.assembly``) made for ``node``."""
        federation: Federation = node._federation
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
        if not self.db.get_meta(PUSH_CURSOR):
            # A node that starts federating publishes its past through the feed, not pushes;
            # but its past local reactions (e.g. imported comments) still count.
            await asyncio.to_thread(self.record_local_history)
            await asyncio.to_thread(lambda: self.db.set_meta(PUSH_CURSOR,
                                                             str(self.feed.latest())))
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
        """Stop the loops and close the outbound client."""
        for task in [*self._tasks, *self._background]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._background, return_exceptions=True)
        self._tasks.clear()
        await self.client.aclose()

    async def _forever(self, step: Any) -> None:
        while True:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("federation loop %s failed; continuing", step.__name__)
                await asyncio.sleep(1.0)

    def spawn(self, coroutine: Any) -> None:
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

    # --- peers -------------------------------------------------------------------------

    async def describe_peer(self, url: str) -> PeerDescription:
        """Fetch and read a peer's node description (``GET /`` of its base)."""
        base = url if url.endswith("/") else url + "/"
        result = await self.client.fetch(base, accept=DESCRIPTION_ACCEPT, sign=False,
                                         max_bytes=self.max_document_bytes)
        if normalise_origin(result.url) != normalise_origin(base):
            raise PeerError(base, "redirects", f"description answered from {result.url}")
        # A peer's document is parsed off the event loop (issue 9, item 1).
        return await asyncio.to_thread(read_description, result.body, result.media_type, base)

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

    def follow_back(self, peer: Peer) -> None:
        """Make sure our Follow of ``peer`` reaches it now (it just followed us).

        ``peer add`` is run on both nodes, one after the other: the first node's Follow is
        refused (401) until the other has configured it, then waits out its retry backoff
        while new resources are pushed to nobody. A Follow from a peer we follow means it
        now knows us: our pending Follow is made due at once, or a new one is queued if
        none since we added the peer was delivered (issue 10, item 1).
        """
        conn = self.db.connect()
        delivered = conn.execute(
            "SELECT 1 FROM outbox WHERE host = ? AND activity_id LIKE '%#follow-%' AND "
            "state = 'delivered' AND created_at >= ? LIMIT 1",
            (peer.origin, peer.followed_since)).fetchone()
        if delivered:
            return
        pending = conn.execute(
            "SELECT 1 FROM outbox WHERE host = ? AND activity_id LIKE '%#follow-%' AND "
            "state = 'pending' LIMIT 1", (peer.origin,)).fetchone()
        if not pending:
            self.follow(peer)
        self.outbox.hurry(peer.origin)

    def _delivered(self, inbox: str, body: bytes) -> None:
        """After a delivery: once a peer has accepted our Follow, read its feed at once, so
        what it published before it knew us as a follower is not left to the next poll."""
        if b'"Follow"' not in body:
            return
        try:
            activity = json.loads(body)
        except ValueError:
            return
        if not isinstance(activity, dict) or activity.get("type") != "Follow":
            return
        peer = self.peers.get(inbox)
        if peer is not None and peer.status == "active":
            self.sync_soon(peer)

    def sync_soon(self, peer: Peer) -> None:
        """Sync ``peer`` now, or right after the sync already running (which may have read
        its feed before the change we want)."""
        if peer.origin in self._syncing:
            self._resync.add(peer.origin)
        else:
            self.spawn(self.sync_peer(peer))

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

    # --- push ----------------------------------------------------------------------------

    async def _push_loop(self) -> None:
        pushed = await asyncio.to_thread(self.push_once)
        if not pushed:
            await asyncio.sleep(self.push_interval)

    def push_once(self, limit: int = 500) -> int:
        """Turn the changes after the push cursor into queued activities; returns how many."""
        after = int(self.db.get_meta(PUSH_CURSOR, "0") or 0)
        changes = self.node.store.changes(after, limit)
        if not changes:
            return 0
        followers = [f.inbox for f in self.peers.followers()]
        for change in changes:
            if self.feed.published(change):
                self._push(change, followers)
        self.db.set_meta(PUSH_CURSOR, str(changes[-1].seq))
        return len(changes)

    def accept_follower(self, origin: str) -> None:
        """Record the configured peer at ``origin`` as a follower (its Follow verified):
        follow it back if our Follow has not reached it, and send it what it missed."""
        peer = self.peers.get(origin)
        if peer is None or not peer.inbox:
            return
        known = any(f.origin == origin for f in self.peers.followers())
        self.peers.add_follower(origin, peer.inbox, peer.keyid)
        if peer.status == "active":
            self.follow_back(peer)
            if not known:
                self.push_recent(peer)

    def push_recent(self, peer: Peer, window: int = RECENT_PUSH) -> int:
        """Queue for a new follower the changes made since its operator and ours configured
        each other (at most the last ``window``): they were pushed before it followed us,
        to nobody (issue 10, item 1). Older ones it reads from our feed. Returns how many."""
        latest = self.feed.latest()
        since = peer.followed_since - 1.0  # our peer row's creation: `peer add` here
        queued = 0
        for change in self.node.store.changes(max(0, latest - window), window):
            if change.at.timestamp() >= since and self.feed.published(change):
                queued += self.outbox.enqueue(self.feed.activity(change, context=True),
                                              [peer.inbox])
        return queued

    def record_local_history(self, batch: int = 1000) -> int:
        """Record every live local reaction to a local resource already in the change log."""
        after, recorded = 0, 0
        while changes := self.node.store.changes(after, batch):
            after = changes[-1].seq
            for change in changes:
                if change.action == "delete" or not self.feed.published(change):
                    continue
                found = self._reaction(change)
                if found is not None and found[1].startswith(self.base):
                    kind, target, actor = found
                    self.ledger.record(change.iri, actor, target, kind, "local")
                    recorded += 1
        return recorded

    def _reaction(self, change: Change) -> tuple[str, str, str] | None:
        """(kind, target, actor) when the changed resource is a reaction or comment.

        The change log carries the resource's types, so other resources (most writes)
        are passed over without reading and parsing them.
        """
        if not REACTION_CLASSES.intersection(change.types):
            return None
        resource = self.node.store.get(change.iri)
        if resource is None or resource.kind != "rdf" or not resource.ntriples:
            return None
        graph = rdfio.graph_from_ntriples(resource.ntriples)
        found = reaction_target(graph, change.iri)
        if found is None:
            return None
        target = self.thread_root(found[1]) if found[0] == "comment" else found[1]
        return found[0], target, str(actor_of(graph, change.iri) or change.iri)

    def thread_root(self, target: str) -> str:
        """What a comment thread is about: a reply counts toward the resource its thread
        answers, as Decidim counts (dds:commentCount: "published comments, replies
        included"), not toward the comment it replies to. Local comments only."""
        for _ in range(MAX_THREAD_DEPTH):
            stored = self.node.store.get(target) if target.startswith(self.base) else None
            if stored is None or stored.kind != "rdf" or not stored.ntriples:
                return target
            found = reaction_target(rdfio.graph_from_ntriples(stored.ntriples), target)
            if found is None or found[0] != "comment":
                return target
            target = found[1]
        return target

    def _push(self, change: Change, followers: list[str]) -> None:
        activity = self.feed.activity(change, context=True)
        inboxes = list(followers)
        recount: str | None = None
        if change.action == "delete":
            inboxes += self.outbox.inboxes_notified_about(change.iri)
            recount = self.ledger.forget(change.iri)
        else:
            found = self._reaction(change)
            if found is not None:
                kind, target, actor = found
                if target.startswith(self.base):
                    self.ledger.record(change.iri, actor, target, kind, "local")
                    recount = target
                else:
                    peer = self.peers.get(target)
                    if peer is not None and peer.inbox:
                        inboxes.append(peer.inbox)
        if inboxes:
            self.outbox.enqueue(activity, inboxes)
        if recount:
            self.recount(recount)

    def recount(self, target: str) -> None:
        """Recompute and publish the counts of our resource ``target``."""
        if not self.ledger.is_counted(target):
            self.ledger.set_baseline(target, platform_counts(self.node.store, target))
        self.ledger.mark_counted(target)
        self.node.recount(target)

    # --- delivery ------------------------------------------------------------------------

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

    # --- sync (pull) ---------------------------------------------------------------------

    async def _sync_loop(self) -> None:
        now = time.time()
        for peer in self.peers.all():
            if peer.status != "active" or peer.origin in self._syncing:
                continue
            # New peers (never synced) at once; failing ones every few seconds; others at
            # the poll interval.
            wait = 2.0 if peer.last_error else self.poll_interval
            if peer.last_sync is None or now - peer.last_sync >= wait:
                self.spawn(self.sync_peer(peer))
        await asyncio.sleep(0.5)

    async def sync_peer(self, peer: Peer, *, page_size: int = 1000) -> dict[str, int]:
        """Read ``peer``'s feed after its cursor and revalidate what changed."""
        self._syncing.add(peer.origin)
        self._resync.discard(peer.origin)
        stats = {"pages": 0, "fetched": 0, "dropped": 0, "errors": 0, "stale": 0}
        cursor = peer.cursor
        gate = asyncio.Semaphore(self.sync_concurrency)

        async def apply(iri: str, item: dict[str, Any]) -> None:
            async with gate:
                outcome = await self._revalidate(iri, item.get("type") == "Delete",
                                                 peer.origin)
                stats[outcome] += 1

        try:
            while True:
                result = await self.client.fetch(f"{peer.feed}?after={cursor}&limit={page_size}",
                                                 accept=FEED_ACCEPT,
                                                 max_bytes=self.max_document_bytes)
                stats["pages"] += 1
                page = await asyncio.to_thread(_json, result.body)
                items = [i for i in page.get("orderedItems", []) if isinstance(i, dict)]
                latest: dict[str, dict[str, Any]] = {}
                for item in items:  # within a page only the last change of an IRI matters
                    iri = object_iri(item)
                    if iri is not None and _same_origin(iri, peer.origin):
                        latest[iri] = item
                await asyncio.gather(*(apply(i, a) for i, a in latest.items()))
                if stats["stale"]:
                    # The peer failed mid-page: keep the cursor, so the next round redoes it.
                    raise PeerError(peer.feed, "unreachable", "resources failed during sync")
                following = cursor_of(page)
                if following is None or following <= cursor:
                    break
                cursor = following
                self.peers.set_cursor(peer.origin, cursor)
            self.peers.set_cursor(peer.origin, cursor)
        except (PeerError, Problem, ValueError) as exc:
            self.peers.set_cursor(peer.origin, cursor, error=str(exc))
        except Exception as exc:  # noqa: BLE001 — a peer's odd feed must not stop the loop
            # Recorded like any sync error, so the next try waits (2 s), not 0.5 s.
            log.warning("sync of %s failed: %r", peer.origin, exc)
            self.peers.set_cursor(peer.origin, cursor, error=f"{type(exc).__name__}: {exc}")
        finally:
            self._syncing.discard(peer.origin)
            if peer.origin in self._resync:
                again = self.peers.get(peer.origin)
                if again is not None:
                    self.spawn(self.sync_peer(again))
        return stats

    async def _revalidate(self, iri: str, deleted: bool, sender: str) -> str:
        """Apply one change of a peer's resource: 'fetched', 'dropped', 'errors' (not kept:
        invalid, off-origin) or 'stale' (the peer failed; try again later)."""
        if deleted:
            self.cache.drop(iri)
            target = self.ledger.forget(iri)
            if target:
                await asyncio.to_thread(self.recount, target)
            return "dropped"
        try:
            # Learned from the peer itself (its feed or a notification it signed).
            entry = await self.cache.fetch(iri, revalidate=True, learned=True)
        except Problem as exc:
            if exc.status in (404, 410):
                return "dropped"
            log.info("not cached: %s", exc)
            if isinstance(exc, PeerError) and exc.reason in ("unreachable", "timeout"):
                return "stale"
            return "errors"
        if entry.stale_error:
            return "stale"
        graph = await asyncio.to_thread(entry.graph) if is_reaction(entry.types) \
            else rdflib.Graph()
        found = reaction_target(graph, iri)
        if found is not None and found[1].startswith(self.base):
            actor = actor_of(graph, iri)
            # A peer is authoritative for its own people only: a reaction it keeps for an
            # actor of another origin is not counted.
            counts = actor is not None and _same_origin(str(actor), sender)
            target = await asyncio.to_thread(self.thread_root, found[1]) \
                if found[0] == "comment" else found[1]
            if counts and self.ledger.record(iri, str(actor), target, found[0], sender):
                await asyncio.to_thread(self.recount, target)
        elif self.ledger.target_of(iri):  # it no longer reacts to ours
            target = self.ledger.forget(iri)
            if target:
                await asyncio.to_thread(self.recount, target)
        return "fetched"

    # --- inbox ---------------------------------------------------------------------------

    async def handle(self, activity: dict[str, Any], sender: str) -> None:
        """Act on an admitted activity (already verified by :class:`ddsnode.federation.inbox.Inbox`)."""
        kind = activity["type"]
        if kind == "Follow":
            if activity.get("object") in (self.base, self.base.rstrip("/")):
                # SQLite writes may wait for another process's lock: not on the loop.
                await asyncio.to_thread(self.accept_follower, sender)
            return
        if kind == "Undo":
            inner = activity.get("object")
            if isinstance(inner, dict) and inner.get("type") == "Follow":
                await asyncio.to_thread(self.peers.remove_follower, sender)
                return
            iri = object_iri(activity) if not isinstance(inner, dict) else object_iri(inner)
            if iri and _same_origin(iri, sender):
                target = self.ledger.forget(iri)
                if target:
                    await asyncio.to_thread(self.recount, target)
            return
        iri = object_iri(activity)
        if iri is not None:
            await self._revalidate(iri, kind == "Delete", sender)


def _same_origin(iri: str, origin: str) -> bool:
    try:
        return normalise_origin(iri) == origin
    except ValueError:
        return False


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the peer's feed page is not JSON") from None
    if not isinstance(value, dict):
        raise ValueError("the peer's feed page is not a JSON object")  # noqa: TRY004
    return value
