"""Counting: what a reaction or comment counts toward, and the recount of our resources.

Shared by the three jobs of the hub: :mod:`~ddsnode.federation.push` records a local
reaction to one of our resources as it pushes it, :mod:`~ddsnode.federation.sync`
records a peer's reaction it revalidated, :mod:`~ddsnode.federation.receiving` forgets
one a peer undid. Each then asks for a recount: the node rewrites the resource's counts
through its one write path (``Node.recount``; docs/federation.md, Counts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddsnode.federation.cache import REACTION_CLASSES, actor_of, reaction_target
from ddsnode.federation.reactions import platform_counts
from ddsnode.rdf import rdfio
from ddsnode.store.base import Change

if TYPE_CHECKING:
    from ddsnode.federation.hub import Federation

MAX_THREAD_DEPTH = 100  # replies followed up to what a thread is about


class Counting:
    """Reactions to the resources of the node of ``fed``, and their counts."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed

    def reaction_of(self, change: Change) -> tuple[str, str, str] | None:
        """(kind, target, actor) when the changed resource is a reaction or comment.

        The change log carries the resource's types, so other resources (most writes)
        are passed over without reading and parsing them.
        """
        if not REACTION_CLASSES.intersection(change.types):
            return None
        resource = self.fed.node.store.get(change.iri)
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
        base, store = self.fed.base, self.fed.node.store
        for _ in range(MAX_THREAD_DEPTH):
            stored = store.get(target) if target.startswith(base) else None
            if stored is None or stored.kind != "rdf" or not stored.ntriples:
                return target
            found = reaction_target(rdfio.graph_from_ntriples(stored.ntriples), target)
            if found is None or found[0] != "comment":
                return target
            target = found[1]
        return target

    def recount(self, target: str) -> None:
        """Recompute and publish the counts of our resource ``target``."""
        ledger = self.fed.ledger
        if not ledger.is_counted(target):
            # Counting begins: what the source platform stated so far is the baseline.
            ledger.set_baseline(target, platform_counts(self.fed.node.store, target))
        ledger.mark_counted(target)
        self.fed.node.recount(target)
