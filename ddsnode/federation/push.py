"""Push: our changes, as activities, to our followers' inboxes through the outbox.

:meth:`Push.once` reads the store's change log after the persisted push cursor (so
writes by any process, the CLI or an importer, are seen) and turns each published change
into an activity queued for every follower's inbox (:mod:`ddsnode.federation.outbox`
delivers it). A Delete also goes to every inbox once told about the resource; a reaction
or comment on a peer's resource goes to that peer's inbox too, and one on ours is
counted at once (:mod:`ddsnode.federation.counting`).

Two catch-ups complete it: :meth:`Push.begin`, when a node starts federating, records
the local reactions already in its history (its past is published by the feed, not
pushed); :meth:`Push.recent` sends a new follower what was pushed to nobody before it
followed us (issue 10, item 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddsnode.federation.peers import Peer
from ddsnode.store.base import Change

if TYPE_CHECKING:
    from ddsnode.federation.hub import Federation

PUSH_CURSOR = "push_cursor"  # meta key: the last change seq turned into activities
RECENT_PUSH = 200  # changes a new follower is sent at once (the rest: our feed)


class Push:
    """The push of the node of ``fed``: its change log → followers' inboxes."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed

    def begin(self) -> None:
        """Set the push cursor, if unset, to the end of the change log.

        A node that starts federating publishes its past through the feed, not pushes;
        but its past local reactions (e.g. imported comments) still count.
        """
        db = self.fed.db
        if not db.get_meta(PUSH_CURSOR):
            self.record_local_history()
            db.set_meta(PUSH_CURSOR, str(self.fed.feed.latest()))

    def once(self, limit: int = 500) -> int:
        """Turn the changes after the push cursor into queued activities; returns how many."""
        fed = self.fed
        after = int(fed.db.get_meta(PUSH_CURSOR, "0") or 0)
        changes = fed.node.store.changes(after, limit)
        if not changes:
            return 0
        followers = [f.inbox for f in fed.peers.followers()]
        for change in changes:
            if fed.feed.published(change):
                self._send(change, followers)
        fed.db.set_meta(PUSH_CURSOR, str(changes[-1].seq))
        return len(changes)

    def recent(self, peer: Peer, window: int = RECENT_PUSH) -> int:
        """Queue for a new follower the changes made since its operator and ours configured
        each other (at most the last ``window``): they were pushed before it followed us,
        to nobody (issue 10, item 1). Older ones it reads from our feed. Returns how many."""
        fed = self.fed
        latest = fed.feed.latest()
        since = peer.followed_since - 1.0  # our peer row's creation: `peer add` here
        queued = 0
        for change in fed.node.store.changes(max(0, latest - window), window):
            if change.at.timestamp() >= since and fed.feed.published(change):
                queued += fed.outbox.enqueue(fed.feed.activity(change, context=True),
                                             [peer.inbox])
        return queued

    def record_local_history(self, batch: int = 1000) -> int:
        """Record every live local reaction to a local resource already in the change log."""
        fed = self.fed
        after, recorded = 0, 0
        while changes := fed.node.store.changes(after, batch):
            after = changes[-1].seq
            for change in changes:
                if change.action == "delete" or not fed.feed.published(change):
                    continue
                found = fed.counting.reaction_of(change)
                if found is not None and found[1].startswith(fed.base):
                    kind, target, actor = found
                    fed.ledger.record(change.iri, actor, target, kind, "local")
                    recorded += 1
        return recorded

    def _send(self, change: Change, followers: list[str]) -> None:
        """Queue the activity of ``change`` for whoever must hear of it; count a reaction."""
        fed = self.fed
        activity = fed.feed.activity(change, context=True)
        inboxes = list(followers)
        recount: str | None = None
        if change.action == "delete":
            inboxes += fed.outbox.inboxes_notified_about(change.iri)
            recount = fed.ledger.forget(change.iri)
        else:
            found = fed.counting.reaction_of(change)
            if found is not None:
                kind, target, actor = found
                if target.startswith(fed.base):
                    fed.ledger.record(change.iri, actor, target, kind, "local")
                    recount = target
                else:
                    peer = fed.peers.get(target)
                    if peer is not None and peer.inbox:
                        inboxes.append(peer.inbox)
        if inboxes:
            fed.outbox.enqueue(activity, inboxes)
        if recount:
            fed.counting.recount(recount)
