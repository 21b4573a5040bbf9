"""The change feed: the store's change log as an ActivityStreams 2.0 ``OrderedCollection``.

* ``GET /feed`` — the collection: ``totalItems`` (the sequence number of the latest
  change; the log is dense), ``first`` and ``last`` pages.
* ``GET /feed?after=SEQ`` — an ``OrderedCollectionPage`` of the Create/Update/Delete
  activities with sequence numbers above ``SEQ``, oldest first; ``next`` is the page
  after its last item, so a follower keeps the ``after`` of ``next`` as its cursor and
  a re-sync with nothing new costs one empty page.

Each activity's ``object`` is the resource IRI with its types; the activity id is
``{base}feed#change-SEQ``, unique and on the node's own origin. Changes to containers and
to private or open (free-form) containers are not published.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ddsnode.clock import TIMESTAMP
from ddsnode.ldp.access import needs_token
from ddsnode.ldp.containers import ContainerRegistry
from ddsnode.paths import FEED_PATH
from ddsnode.store.base import Change, Store

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
MEDIA_TYPE = "application/activity+json"
PAGE_SIZE = 200
MAX_CURSOR = 2**63 - 1  # the largest change sequence number SQLite can hold
ACTIONS = {"create": "Create", "update": "Update", "delete": "Delete"}


def _stamp(change: Change) -> str:
    return change.at.strftime(TIMESTAMP)


class ChangeFeed:
    """Activities built from ``store.changes()`` for the node at ``base``."""

    def __init__(self, store: Store, base: str, containers: ContainerRegistry) -> None:
        self.store, self.base, self.containers = store, base, containers
        self.iri = base + FEED_PATH

    def published(self, change: Change) -> bool:
        """Whether a change is published: a member resource of a public, shaped container."""
        if change.iri.endswith("/") or not change.iri.startswith(self.base):
            return False
        container = self.containers.get(change.iri[len(self.base):])
        # Never announced, to readers or peers: private containers (the read rule,
        # ddsnode.ldp.access) and free-form ones.
        return container is not None and not needs_token(container) and not container.open

    def activity(self, change: Change, *, context: bool = False) -> dict[str, Any]:
        """The AS2 activity for one change (with ``@context`` when sent on its own)."""
        out: dict[str, Any] = {"@context": AS_CONTEXT} if context else {}
        out.update({
            "id": f"{self.iri}#change-{change.seq}",
            "type": ACTIONS[change.action],
            "actor": self.base,
            "object": {"id": change.iri, "type": list(change.types)},
            "published": _stamp(change),
        })
        return out

    def latest(self) -> int:
        """The sequence number of the latest change (0 when none), in O(log n) lookups."""
        if not self.store.changes(0, 1):
            return 0
        low, high = 0, 1
        while self.store.changes(high, 1):  # find a seq past the end by doubling
            low, high = high, high * 2
        while high - low > 1:  # invariant: something after low, nothing after high
            middle = (low + high) // 2
            if self.store.changes(middle, 1):
                low = middle
            else:
                high = middle
        return high

    def collection(self) -> dict[str, Any]:
        """``GET /feed``: the OrderedCollection (AS2 Core 2.3)."""
        latest = self.latest()
        return {"@context": AS_CONTEXT, "id": self.iri, "type": "OrderedCollection",
                "totalItems": latest, "first": f"{self.iri}?after=0",
                "last": f"{self.iri}?after={max(0, latest - PAGE_SIZE)}"}

    def page(self, after: int, limit: int = PAGE_SIZE) -> dict[str, Any]:
        """``GET /feed?after=SEQ``: the activities after ``after`` (AS2 Core 2.5)."""
        limit = max(1, min(limit, 1000))
        changes = self.store.changes(after, limit)
        items = [self.activity(c) for c in changes if self.published(c)]
        out: dict[str, Any] = {"@context": AS_CONTEXT, "id": f"{self.iri}?after={after}",
                               "type": "OrderedCollectionPage", "partOf": self.iri,
                               "startIndex": after, "orderedItems": items}
        last = changes[-1].seq if changes else after
        out["next"] = f"{self.iri}?after={last}"
        return out

    def since(self, after: int, limit: int = PAGE_SIZE) -> Iterator[Change]:
        """Published changes after ``after``, oldest first, one page of the log at a time."""
        while True:
            changes = self.store.changes(after, limit)
            if not changes:
                return
            yield from changes
            after = changes[-1].seq


def cursor_of(page: dict[str, Any]) -> int | None:
    """The ``after`` of a page's ``next`` link: where the follower resumes."""
    nxt = page.get("next")
    if not isinstance(nxt, str) or "after=" not in nxt:
        return None
    value = nxt.rsplit("after=", 1)[1].split("&", 1)[0]
    # A peer's page is untrusted: a cursor is ASCII digits within SQLite's INTEGER.
    if not (value.isascii() and value.isdigit() and len(value) <= 19):
        return None
    return int(value) if int(value) <= MAX_CURSOR else None
