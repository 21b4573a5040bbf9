"""Issue 11 item 3: each table of ``federation.db`` is read and written by one module.

The owners are the ones ``ddsnode/federation/database.py`` lists; a structural test
finds SQL on a table in any other module of ``ddsnode/federation/`` (and catches a
planted one). The owners' methods that other modules now call are tested on a real
``federation.db`` in a temp dir: a peer removed takes its cached resources and its
pending letters with it and nothing of another peer's; follow-back's question to the
outbox; the federated listing reading the cache and labelling members with their peer.
The peer is an ``httpx.MockTransport`` (tests/support/mock_peer.py).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import httpx

from ddsnode.federation.cache import PeerCache, listed
from ddsnode.federation.database import FederationDB
from ddsnode.federation.outbox import Outbox
from ddsnode.federation.peers import PeerDescription, PeerRegistry
from ddsnode.ldp.containers import ContainerRegistry
from ddsnode.store.base import Filters
from tests.support.inprocess import local_node
from tests.support.mock_peer import mock_client

REPO = Path(__file__).resolve().parents[1]
FEDERATION = REPO / "ddsnode" / "federation"
CONTEXT = "https://w3id.org/dds/context/v1"
PEER, OTHER = "http://peer.test/", "http://elsewhere.test/"
ALLOWED = {"http://peer.test:80", "http://elsewhere.test:80"}
SQL = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+([a-z_]+)\b")


def owners() -> dict[str, str]:
    """Table → owner module, from the table list in database.py's docstring."""
    doc = (FEDERATION / "database.py").read_text("utf-8").split('"""')[1]
    found = dict(re.findall(r"^    ([a-z_]+)\s+\[([a-z_]+)\]", doc, re.MULTILINE))
    assert len(found) >= 11, found
    return found


def trespasses(module: str, source: str, tables: dict[str, str]) -> list[str]:
    """``table`` for each SQL statement of ``source`` on a table ``module`` does not own."""
    return [f"{module}: {table}" for table in SQL.findall(source)
            if table in tables and tables[table] != module]


def test_each_table_is_read_and_written_by_its_owner_only() -> None:
    tables = owners()
    ddl = (FEDERATION / "database.py").read_text("utf-8")
    assert set(tables) == set(re.findall(r"CREATE TABLE IF NOT EXISTS ([a-z_]+)", ddl))
    found = [t for path in sorted(FEDERATION.glob("*.py")) if path.stem != "database"
             for t in trespasses(path.stem, path.read_text("utf-8"), tables)]
    assert not found, found


def test_a_planted_trespass_is_caught() -> None:
    planted = 'conn.execute("SELECT 1 FROM outbox WHERE host = ? LIMIT 1", (origin,))'
    assert trespasses("hub", planted, owners()) == ["hub: outbox"]
    assert trespasses("outbox", planted, owners()) == []
    assert trespasses("hub", "# read from the cache, then from the peer", owners()) == []


def _proposal(iri: str, state: str = "evaluating") -> bytes:
    return json.dumps({"@context": CONTEXT, "id": iri, "type": "Proposal",
                       "title": {"en": "Shade trees on the quay"}, "state": state,
                       "created": "2026-03-12T07:58:30Z"}).encode()


def _peer_answering(db: FederationDB, states: dict[str, str]) -> tuple[PeerCache, Outbox]:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202)
        iri = str(request.url)
        return httpx.Response(200, content=_proposal(iri, states.get(iri, "evaluating")),
                              headers={"Content-Type": "application/ld+json"})

    client = mock_client(answer, allowed_origins=ALLOWED)
    return PeerCache(db, client, ContainerRegistry()), Outbox(db, client)


def _describe(base: str) -> PeerDescription:
    return PeerDescription(base=base, name=base, keyid=base + "#main-key", key_pem="-",
                           inbox=base + "inbox", feed=base + "feed")


def test_removing_a_peer_forgets_its_cache_and_letters_and_only_its(tmp_path: Path) -> None:
    db = FederationDB(tmp_path)
    peers = PeerRegistry(db)
    cache, outbox = _peer_answering(db, {})
    for base in (PEER, OTHER):
        peers.save(_describe(base))
        peers.add_follower(base.rstrip("/") + ":80", base + "inbox", base + "#main-key")
        asyncio.run(cache.fetch(base + "proposals/p1", learned=True))
        outbox.enqueue({"id": f"{base}#note", "type": "Create", "object": base},
                       [base + "inbox"])
    assert peers.remove(PEER)
    assert peers.get(PEER) is None and peers.get(OTHER) is not None
    assert [f.origin for f in peers.followers()] == ["http://elsewhere.test:80"]
    assert cache.get(PEER + "proposals/p1", quarantined=True) is None
    assert cache.get(OTHER + "proposals/p1") is not None
    dead = outbox.letters("dead")
    assert [(d.inbox, d.last_error) for d in dead] == [(PEER + "inbox", "peer removed")]
    assert [p.inbox for p in outbox.letters("pending")] == [OTHER + "inbox"]
    assert not peers.remove(PEER)  # unknown now


def test_the_outbox_says_whether_a_follow_is_pending_or_delivered(tmp_path: Path) -> None:
    db = FederationDB(tmp_path)
    _, outbox = _peer_answering(db, {})
    host = "http://peer.test:80"
    before = time.time() - 1.0
    outbox.enqueue({"id": "http://us.test/#undo-1", "type": "Undo", "object": PEER},
                   [PEER + "inbox"])
    assert not outbox.holds(host, "#follow-", "pending")  # an Undo is not a Follow
    outbox.enqueue({"id": "http://us.test/#follow-1", "type": "Follow", "object": PEER},
                   [PEER + "inbox"])
    assert outbox.holds(host, "#follow-", "pending")
    assert not outbox.holds(host, "#follow-", "delivered", since=before)
    assert not outbox.holds("http://elsewhere.test:80", "#follow-", "pending")
    assert asyncio.run(outbox.deliver_due()) == 2
    assert outbox.holds(host, "#follow-", "delivered", since=before)
    assert not outbox.holds(host, "#follow-", "delivered", since=time.time() + 60)
    assert not outbox.holds(host, "#follow-", "pending")
    assert not outbox.holds(host, "#follow_", "delivered")  # no LIKE wildcards


def test_the_federated_listing_reads_the_cache_with_filters_and_peer_labels(
        tmp_path: Path) -> None:
    with local_node(tmp_path) as node:
        db = FederationDB(node.dir)
        PeerRegistry(db).save(_describe(PEER))
        adopted, open_ = PEER + "proposals/adopted", PEER + "proposals/open"
        cache, _ = _peer_answering(db, {adopted: "accepted"})
        for iri in (adopted, open_):
            asyncio.run(cache.fetch(iri, learned=True))
        rows = listed(db, "proposals/", Filters(), None, 10)
        assert [r.iri for r in rows] == [open_, adopted]  # most recently stored first
        accepted = next(iter(cache.get(adopted).states))  # type: ignore[union-attr]
        assert [r.iri for r in listed(db, "proposals/", Filters(state=accepted), None,
                                      10)] == [adopted]
        assert [r.iri for r in listed(db, "proposals/", Filters(), rows[0].seq, 10)] \
            == [adopted]  # the keyset cursor
        with node.client() as http:
            page = http.get("/proposals/", params={"scope": "federation", "limit": "50"},
                            headers={"Accept": "application/n-triples"})
        assert page.status_code == 200, page.text
        publisher = "<http://purl.org/dc/terms/publisher>"
        for iri in (adopted, open_):
            assert f"<{iri}> {publisher} <{PEER}> ." in page.text
