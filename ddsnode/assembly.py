"""The composition root: one function builds a node with everything it runs with.

:func:`assemble` opens the store and builds, explicitly and in this order:

1. the :class:`~ddsnode.ldp.node.Node` (the LDP core) and its writer thread;
2. the :class:`~ddsnode.federation.hub.Federation` (its database, peers, cache, inbox,
   outbox, feed and reaction ledger);
3. the write hooks every write runs through, whoever makes it (an HTTP client, an
   importer, a peer's reaction being counted): results whose own numbers cannot be are
   refused (issue 14), then reaction counts are the node's (baseline + verified
   reactions, ``docs/federation.md``, Counts);
4. the root and container descriptions.

The HTTP app (``ddsnode/http/app.py``) and every command that writes use it, so the
rules of a write do not depend on the way in. :meth:`Assembly.start` and
:meth:`Assembly.stop` own the background loops and the closing of everything.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass

from ddsnode.analysis.schedule import Schedule
from ddsnode.catalog.portal import Portal
from ddsnode.elections.hook import plausible_results
from ddsnode.explorer import text
from ddsnode.federation.hub import Federation
from ddsnode.federation.reactions import keep_counts
from ddsnode.intake.desk import Desk
from ddsnode.ldp.node import Node
from ddsnode.publication.hub import Publication
from ddsnode.settings import Settings
from ddsnode.store import open_store

__all__ = ["Assembly", "assemble"]


@dataclass
class Assembly:
    """A node and its federation, wired; started by the server, closed by everyone."""

    node: Node
    federation: Federation
    catalog: Portal | None = None  # the open-data portal (docs/catalog.md); needs a node dir
    intake: Desk | None = None  # election night's tallies (issue 15); needs a node directory
    publication: Publication | None = None  # election night's signed generations and mirrors
    analysis: Schedule | None = None  # background analysis runs (docs/analysis.md)
    warming: threading.Thread | None = None  # loads the lemma dictionaries after start

    async def start(self) -> None:
        """Run the background loops (federation push, delivery, sync)."""
        if self.intake is not None:
            self.intake.start()  # its own thread; tallies get 503 until it is ready
        await self.federation.start()
        if self.publication is not None:
            await self.publication.start()  # publishes and mirrors (docs/election-night.md)
        if self.catalog is not None:
            await self.catalog.start()  # rebuilds the open-data files when data changes
        if self.analysis is not None:
            await self.analysis.start()  # analyses changed contributions every N minutes
        if bool(self.node.settings.explorer_warm_lemmas):
            # In a thread of its own, so the server answers meanwhile; a search that
            # comes first loads what it needs itself (at worst one dictionary twice).
            self.warming = threading.Thread(target=text.warm, name="ddsnode-lemmas",
                                            daemon=True)
            self.warming.start()
        if bool(self.node.settings.gc_freeze):
            # A full garbage collection walks every tracked object, and the objects built
            # at start-up (the ontology's and shapes' graphs, templates, label maps) live
            # as long as the process: at 100,000 contributions one full pass took 86 ms,
            # a stall of every request in flight and the p99 tail of the explorer and the
            # voter lookup. gc.freeze (Python 3.7+) moves them to a permanent generation
            # that collections skip; collecting first keeps garbage out of it.
            gc.collect()
            gc.freeze()

    async def stop(self) -> None:
        """Stop the loops, close the outbound client, finish queued writes, close the store."""
        if self.intake is not None:
            self.intake.stop()  # its start's thread ends before anything it reads closes
        if self.analysis is not None:
            await self.analysis.stop()  # kills a run in progress (it never commits)
        await self.federation.stop()
        self.federation.db.close()  # on PostgreSQL: every thread's connection (issue 16)
        if self.publication is not None:
            await self.publication.stop()
        if self.catalog is not None:
            await self.catalog.stop()
        if self.intake is not None:
            self.intake.close()
        self.node.close()

    def close(self) -> None:
        """For commands: close what :func:`assemble` opened (no loops were started)."""
        self.federation.db.close()
        if self.intake is not None:
            self.intake.close()
        self.node.close()


def assemble(settings: Settings) -> Assembly:
    """The node of ``settings`` with its federation and every write hook, ready to use."""
    node = Node(settings, open_store(settings))
    federation = Federation(node)
    Federation.register(node, federation)  # the explorer finds it (Federation.for_node)
    node.write_hooks.append(plausible_results)
    node.write_hooks.append(keep_counts(federation.ledger))
    node.ensure_containers()
    # The intake writes through the node (its hooks above included) and keeps its log
    # in the node directory; its totals are election night's ResultsFeed.
    intake = Desk(node) if settings.node_dir is not None else None
    assembly = Assembly(node, federation, intake=intake)
    if settings.node_dir is not None:
        assembly.catalog = Portal(node)  # the open-data portal: /catalog and its files
        assembly.analysis = Schedule(node)  # idle unless analysis_every_minutes is set
    assembly.publication = Publication(node)  # after the hooks: its feed adds one of its own
    publisher = assembly.publication.publisher
    if intake is not None and publisher is not None and assembly.publication.feed is not None:
        # Contests that receive tallies through the intake are published from its running
        # totals (every level, incremental); the rest from stored results (intake/feed.py).
        publisher.feed = intake.night_feed(assembly.publication.feed)
    return assembly
