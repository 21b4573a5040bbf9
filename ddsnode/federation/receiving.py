"""Receiving: acting on a notification the inbox has admitted (signature verified, sender
a configured peer, activity id not seen before: :class:`ddsnode.federation.inbox.Inbox`).

A received activity is a hint, never a fact (docs/federation-security.md): Create and
Update revalidate the object from its origin through the cache
(:meth:`ddsnode.federation.sync.Sync.revalidate`); Delete drops it; an Undo of a
reaction to one of our resources forgets it and recounts; Follow and Undo of Follow
maintain our followers. A new follower is followed back if our Follow has not reached it
and sent what it missed (:meth:`ddsnode.federation.push.Push.recent`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ddsnode.federation.inbox import object_iri
from ddsnode.federation.peers import Peer, same_origin

if TYPE_CHECKING:
    from ddsnode.federation.hub import Federation

FOLLOW_ID = "#follow-"  # how the ids of our Follow activities are made (Federation.follow)


class Receiving:
    """What the node of ``fed`` does with the activities its peers send it."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed

    async def handle(self, activity: dict[str, Any], sender: str) -> None:
        """Act on an admitted activity from the peer at origin ``sender``."""
        fed = self.fed
        kind = activity["type"]
        if kind == "Follow":
            if activity.get("object") in (fed.base, fed.base.rstrip("/")):
                # SQLite writes may wait for another process's lock: not on the loop.
                await self.fed.in_thread(self.accept_follower, sender)
            return
        if kind == "Undo":
            inner = activity.get("object")
            if isinstance(inner, dict) and inner.get("type") == "Follow":
                await self.fed.in_thread(fed.peers.remove_follower, sender)
                return
            iri = object_iri(activity) if not isinstance(inner, dict) else object_iri(inner)
            if iri and same_origin(iri, sender):
                target = fed.ledger.forget(iri)
                if target:
                    await self.fed.in_thread(fed.counting.recount, target)
            return
        iri = object_iri(activity)
        if iri is not None:
            await fed.sync.revalidate(iri, kind == "Delete", sender)

    def accept_follower(self, origin: str) -> None:
        """Record the configured peer at ``origin`` as a follower (its Follow verified):
        follow it back if our Follow has not reached it, and send it what it missed."""
        fed = self.fed
        peer = fed.peers.get(origin)
        if peer is None or not peer.inbox:
            return
        known = any(f.origin == origin for f in fed.peers.followers())
        fed.peers.add_follower(origin, peer.inbox, peer.keyid)
        if peer.status == "active":
            self.follow_back(peer)
            if not known:
                fed.push.recent(peer)

    def follow_back(self, peer: Peer) -> None:
        """Make sure our Follow of ``peer`` reaches it now (it just followed us).

        ``peer add`` is run on both nodes, one after the other: the first node's Follow is
        refused (401) until the other has configured it, then waits out its retry backoff
        while new resources are pushed to nobody. A Follow from a peer we follow means it
        now knows us: our pending Follow is made due at once, or a new one is queued if
        none since we added the peer was delivered (issue 10, item 1).
        """
        outbox = self.fed.outbox
        if outbox.holds(peer.origin, FOLLOW_ID, "delivered", since=peer.followed_since):
            return
        if not outbox.holds(peer.origin, FOLLOW_ID, "pending"):
            self.fed.follow(peer)
        outbox.hurry(peer.origin)
