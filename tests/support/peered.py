"""A node in this process with a fake peer configured (the peer that records requests).

    with peered(tmp_path, peer_cache_max_per_peer=3) as p:
        iri = p.fake.serve("/proposals/x", body)
        assert p.ingest(iri) == "fetched"
        p.answers()

``Peered.ingest`` applies a peer's change through the node's own federation runtime, on
the app's event loop, exactly as a notification or a feed item does, and returns when it
has ended: tests need not poll. The feed is read once (the poll is 600 s), so every
request the fake peer sees afterwards is one the test caused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ddsnode.federation.hub import Federation
from ddsnode.federation.peers import read_description
from tests.support.cluster import wait_for
from tests.support.fake_peer import FakePeer, running_fake_peer
from tests.support.inprocess import LocalNode, local_node

QUIET = {"peer_poll_seconds": 600.0}


@dataclass
class Peered:
    """The node under test, its fake peer, the node's federation runtime, a local IRI."""

    node: LocalNode
    http: httpx.Client
    fake: FakePeer
    fed: Federation
    local: str

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` on the app's event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.node.loop).result(120)

    def ingest(self, iri: str) -> str:
        """Apply a Create of the peer's ``iri`` as a notification or feed item would."""
        origin = self.fed.peers.origins()
        assert origin
        return str(self.run(self.fed.sync.revalidate(iri, False, next(iter(origin)))))

    def answers(self) -> None:
        """The node still answers: a local read and a SPARQL query."""
        assert self.http.get(self.local, headers={"Accept": "text/turtle"}).status_code == 200
        query = self.http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"})
        assert query.status_code == 200, query.text[:500]


@contextmanager
def peered(root: Path, **settings: Any) -> Iterator[Peered]:
    """A node with the fake peer configured (and its first, empty, feed read done)."""
    with running_fake_peer() as fake, local_node(root, settings={**QUIET, **settings}) as node:
        fake.serve_feed([])
        fed = Federation.for_node(node.app.node)  # type: ignore[attr-defined]
        fed.peers.allow(fake.base)
        fed.peers.save(read_description(fake.description(), "text/turtle", fake.base))
        wait_for(lambda: fed.peers.all()[0].last_sync, what="first sync of the fake peer")
        iri, body = node.example("a-proposal-school-streets")
        with node.client() as http:
            put = http.put(iri, content=body, headers={**node.auth(),
                                                       "Content-Type": "application/ld+json"})
            assert put.status_code in (201, 204), put.text[:500]
            yield Peered(node, http, fake, fed, iri)
