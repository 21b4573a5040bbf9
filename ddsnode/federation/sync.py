"""Sync: reading peers' feeds, and revalidating what changed through the cache.

The fallback for lost notifications: :meth:`Sync.read_feed` reads a peer's change feed
after its cursor (a new peer from 0: the cold sync), page by page, and applies the last
change of each of the peer's own IRIs (:meth:`Sync.revalidate`): a Delete drops the
copy; anything else revalidates it from its origin through the cache (RFC 9111
conditional requests). A reaction of the peer's people to one of our resources is
recorded and our resource recounted. The cursor only advances past a page whose
resources were all applied, so a peer that fails mid-page is read again from there.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import rdflib

from ddsnode.federation.cache import actor_of, is_reaction, reaction_target
from ddsnode.federation.feed import MEDIA_TYPE, cursor_of
from ddsnode.federation.inbox import object_iri
from ddsnode.federation.peers import Peer, same_origin
from ddsnode.outbound import PeerError
from ddsnode.problem import Problem

if TYPE_CHECKING:
    from ddsnode.federation.hub import Federation

log = logging.getLogger("ddsnode.federation")

FEED_ACCEPT = (MEDIA_TYPE, "application/ld+json", "application/json")


class Sync:
    """The sync of the node of ``fed`` with its peers' feeds."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed
        self.running: set[str] = set()  # origins being synced
        self._again: set[str] = set()  # peers to sync again as soon as the running one ends

    def due(self, now: float) -> list[Peer]:
        """Active peers whose sync is due and not running."""
        found = []
        for peer in self.fed.peers.all():
            if peer.status != "active" or peer.origin in self.running:
                continue
            # New peers (never synced) at once; failing ones every few seconds; others at
            # the poll interval.
            wait = 2.0 if peer.last_error else self.fed.poll_interval
            if peer.last_sync is None or now - peer.last_sync >= wait:
                found.append(peer)
        return found

    def soon(self, peer: Peer) -> None:
        """Sync ``peer`` now, or right after the sync already running (which may have read
        its feed before the change we want)."""
        if peer.origin in self.running:
            self._again.add(peer.origin)
        else:
            self.fed.spawn(self.read_feed(peer))

    def after_delivery(self, inbox: str, body: bytes) -> None:
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
        peer = self.fed.peers.get(inbox)
        if peer is not None and peer.status == "active":
            self.soon(peer)

    async def read_feed(self, peer: Peer, *, page_size: int = 1000) -> dict[str, int]:
        """Read ``peer``'s feed after its cursor and revalidate what changed."""
        fed = self.fed
        self.running.add(peer.origin)
        self._again.discard(peer.origin)
        stats = {"pages": 0, "fetched": 0, "dropped": 0, "errors": 0, "stale": 0}
        cursor = peer.cursor
        gate = asyncio.Semaphore(fed.sync_concurrency)

        async def apply(iri: str, item: dict[str, Any]) -> None:
            async with gate:
                outcome = await self.revalidate(iri, item.get("type") == "Delete",
                                                peer.origin)
                stats[outcome] += 1

        try:
            while True:
                result = await fed.client.fetch(f"{peer.feed}?after={cursor}&limit={page_size}",
                                                accept=FEED_ACCEPT,
                                                max_bytes=fed.max_document_bytes)
                stats["pages"] += 1
                page = await self.fed.in_thread(_json, result.body)
                items = [i for i in page.get("orderedItems", []) if isinstance(i, dict)]
                latest: dict[str, dict[str, Any]] = {}
                for item in items:  # within a page only the last change of an IRI matters
                    iri = object_iri(item)
                    if iri is not None and same_origin(iri, peer.origin):
                        latest[iri] = item
                await asyncio.gather(*(apply(i, a) for i, a in latest.items()))
                if stats["stale"]:
                    # The peer failed mid-page: keep the cursor, so the next round redoes it.
                    raise PeerError(peer.feed, "unreachable", "resources failed during sync")
                following = cursor_of(page)
                if following is None or following <= cursor:
                    break
                cursor = following
                fed.peers.set_cursor(peer.origin, cursor)
            fed.peers.set_cursor(peer.origin, cursor)
        except (PeerError, Problem, ValueError) as exc:
            fed.peers.set_cursor(peer.origin, cursor, error=str(exc))
        except Exception as exc:  # noqa: BLE001 — a peer's odd feed must not stop the loop
            # Recorded like any sync error, so the next try waits (2 s), not 0.5 s.
            log.warning("sync of %s failed: %r", peer.origin, exc)
            fed.peers.set_cursor(peer.origin, cursor, error=f"{type(exc).__name__}: {exc}")
        finally:
            self.running.discard(peer.origin)
            if peer.origin in self._again:
                again = fed.peers.get(peer.origin)
                if again is not None:
                    fed.spawn(self.read_feed(again))
        return stats

    async def revalidate(self, iri: str, deleted: bool, sender: str) -> str:
        """Apply one change of a peer's resource: 'fetched', 'dropped', 'errors' (not kept:
        invalid, off-origin) or 'stale' (the peer failed; try again later)."""
        fed = self.fed
        counting = fed.counting
        if deleted:
            fed.cache.drop(iri)
            target = fed.ledger.forget(iri)
            if target:
                await self.fed.in_thread(counting.recount, target)
            return "dropped"
        try:
            # Learned from the peer itself (its feed or a notification it signed).
            entry = await fed.cache.fetch(iri, revalidate=True, learned=True)
        except Problem as exc:
            if exc.status in (404, 410):
                return "dropped"
            log.info("not cached: %s", exc)
            if isinstance(exc, PeerError) and exc.reason in ("unreachable", "timeout"):
                return "stale"
            return "errors"
        if entry.stale_error:
            return "stale"
        graph = await self.fed.in_thread(entry.graph) if is_reaction(entry.types) \
            else rdflib.Graph()
        found = reaction_target(graph, iri)
        if found is not None and found[1].startswith(fed.base):
            actor = actor_of(graph, iri)
            # A peer is authoritative for its own people only: a reaction it keeps for an
            # actor of another origin is not counted.
            counts = actor is not None and same_origin(str(actor), sender)
            target = await self.fed.in_thread(counting.thread_root, found[1]) \
                if found[0] == "comment" else found[1]
            if counts and fed.ledger.record(iri, str(actor), target, found[0], sender):
                await self.fed.in_thread(counting.recount, target)
        elif fed.ledger.target_of(iri):  # it no longer reacts to ours
            target = fed.ledger.forget(iri)
            if target:
                await self.fed.in_thread(counting.recount, target)
        return "fetched"


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the peer's feed page is not JSON") from None
    if not isinstance(value, dict):
        raise ValueError("the peer's feed page is not a JSON object")  # noqa: TRY004
    return value
