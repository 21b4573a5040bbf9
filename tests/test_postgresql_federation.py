"""Federation state on PostgreSQL (issue 16, several machines): two node directories on
one database share peers, followers, outbox, seen activities, the reaction ledger and the
push cursor; each keeps its own peer cache (ddsnode/federation/database.py).

Real components throughout: two assemblies (as on two machines) over one real
PostgreSQL, the table owners' own methods, and a real write through the node's write
path for the counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddsnode import resources
from ddsnode.assembly import Assembly, assemble
from ddsnode.commands.demo import rebase
from ddsnode.commands.node import init_node
from ddsnode.federation.database import LOCAL_TABLES, SharedFederationDB, shared_ddl
from ddsnode.federation.peers import PeerDescription
from ddsnode.federation.shared_connection import postgresql_sql
from ddsnode.settings import Settings
from tests.support.postgres import MISSING, PostgresServer, server_binaries

pytestmark = pytest.mark.slow  # a real PostgreSQL server (tests/support/fastloop.py)

BASE = "http://node.test/"
PEER = "http://peer.test/"


def machine(directory: Path, url: str) -> Assembly:
    if not directory.exists():
        init_node(directory, base_url=BASE, extra={"store": "postgresql", "database_url": url})
    return assemble(Settings.load(directory))


@pytest.fixture
def machines(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[list[Assembly]]:
    url = postgres_server.database()
    both = [machine(tmp_path / "a", url), machine(tmp_path / "b", url)]
    yield both
    for assembly in both:
        assembly.close()


def describe(base: str) -> PeerDescription:
    return PeerDescription(base=base, name="Peer", keyid=base + "#main-key", key_pem="",
                           inbox=base + "inbox", feed=base + "feed")


def test_shared_ddl_and_spellings() -> None:
    ddl = " ".join(shared_ddl())
    assert "outbox" in ddl and "reactions" in ddl and "AUTOINCREMENT" not in ddl
    assert not any(f"EXISTS {t} " in ddl or f"ON {t} " in ddl for t in LOCAL_TABLES)
    assert postgresql_sql("SELECT 1 WHERE instr(a, ?) > 0 AND b LIKE '%x'") == \
        "SELECT 1 WHERE strpos(a, %s) > 0 AND b LIKE '%%x'"


def test_two_machines_share_the_federation_tables(machines: list[Assembly]) -> None:
    a, b = (m.federation for m in machines)
    assert isinstance(a.db, SharedFederationDB) and a.cache_db is not a.db
    # A peer added on A (``ddsnode peer add`` there) is B's too, and a follower.
    origin = a.peers.save(describe(PEER)).origin
    assert b.peers.get(PEER) is not None and b.peers.bases() == {origin: PEER}
    b.peers.add_follower(origin, PEER + "inbox", PEER + "#main-key")
    assert [f.origin for f in a.peers.followers()] == [origin]
    b.peers.set_cursor(origin, 7)
    b.peers.set_cursor(origin, 3)  # never moves back (SQLite's max(), greatest() here)
    peer = a.peers.get(PEER)
    assert peer is not None and peer.cursor == 7
    # Letters queued by one machine are the other's to deliver (the loop owner's).
    activity = {"id": BASE + "activities/1#follow-x", "type": "Follow", "object": PEER}
    assert a.outbox.enqueue(activity, [PEER + "inbox"]) == 1
    assert b.outbox.enqueue(activity, [PEER + "inbox"]) == 0  # once per (activity, inbox)
    assert [letter.inbox for letter in b.outbox.letters("pending")] == [PEER + "inbox"]
    assert b.outbox.holds(origin, "#follow-", "pending")  # instr(), strpos() here
    assert not b.outbox.holds(origin, "#follow-", "pending", since=peer.followed_since + 1e6)
    # The push cursor: a takeover on the other machine resumes where the owner stopped.
    a.db.set_meta("push_cursor", "41")
    assert b.db.get_meta("push_cursor") == "41"
    # Removing the peer on B takes its letters and follow on both machines.
    assert b.peers.remove(PEER) is True
    assert a.peers.get(PEER) is None and a.peers.followers() == []
    assert [x.state for x in a.outbox.letters("dead")] == ["dead"]


def test_counts_are_the_same_whichever_machine_writes(machines: list[Assembly]) -> None:
    """A reaction verified on B counts in a write through A: one reaction ledger."""
    a, b = machines
    text = rebase((resources.examples_dir() / "a-proposal-school-streets.jsonld")
                  .read_text("utf-8"), BASE)
    iri = json.loads(text)["id"]
    a.node.write_document(iri, text.encode("utf-8"), "application/ld+json")
    b.federation.ledger.record(PEER + "reactions/s1", PEER + "people/x", iri, "support", PEER)
    b.federation.recount(iri)  # counting begins on B: baseline 128 + 1 verified
    assert a.federation.ledger.is_counted(iri)
    # A client writing the resource again through A, with a made-up total equal to the
    # old one: the node's count stands (A reads the ledger B wrote).
    a.node.write_document(iri, text.encode("utf-8"), "application/ld+json")
    stored = a.node.store.get(iri)
    assert stored is not None
    assert f'<{iri}> <https://w3id.org/dds/ns#supportCount> "129"' in stored.ntriples
    assert a.federation.ledger.counts(iri)["supportCount"] == 129


def test_a_moved_directory_brings_its_federation_rows(postgres_server: PostgresServer,
                                                      tmp_path: Path) -> None:
    """federation.db of a node that ran on files is copied into the empty shared tables."""
    directory = tmp_path / "moved"
    init_node(directory, base_url=BASE)
    before = assemble(Settings.load(directory))
    try:
        before.federation.peers.save(describe(PEER))
        before.federation.outbox.enqueue({"id": BASE + "a/1", "type": "Create",
                                          "object": BASE + "x"}, [PEER + "inbox"])
    finally:
        before.close()
    url = postgres_server.database()
    settings = Settings.load(directory, overrides={"store": "postgresql", "database_url": url})
    from ddsnode.store import open_store
    open_store(settings).close()
    after = assemble(settings)
    other = machine(tmp_path / "other", url)
    try:
        assert other.federation.peers.get(PEER) is not None
        assert len(other.federation.outbox.letters("pending")) == 1
        # The copied ids do not collide with new letters (the identity moved past them).
        assert other.federation.outbox.enqueue({"id": BASE + "a/2", "type": "Create",
                                                "object": BASE + "y"}, [PEER + "inbox"]) == 1
        ids = [x.id for x in after.federation.outbox.letters("pending")]
        assert len(set(ids)) == 2
    finally:
        after.close()
        other.close()


def test_federation_routes_answer_on_postgresql(postgres_server: PostgresServer,
                                                tmp_path: Path) -> None:
    """The routes that read federation state (the federated listing reads this machine's
    cache and the shared peers; the inbox the shared seen table) answer, not 500."""
    from tests.support.inprocess import local_node
    url = postgres_server.database()
    with local_node(tmp_path, settings={"store": "postgresql", "database_url": url}) as node:
        with node.client() as http:
            iri, body = node.example("a-proposal-school-streets")
            r = http.put(iri, content=body, headers={**node.auth(),
                                                     "Content-Type": "application/ld+json"})
            assert r.status_code == 201, r.text
            listing = http.get("/proposals/?scope=federation",
                               headers={"Accept": "text/turtle", **node.auth()})
            assert listing.status_code == 200, listing.text
            assert iri in listing.text
            assert http.get("/inbox", headers=node.auth()).status_code == 200
            assert http.get("/explore", params={"q": "school"}).status_code == 200


def test_a_database_restart_is_503_then_recovers(tmp_path: Path) -> None:
    """Shared federation tables and node state across a PostgreSQL restart: the stale
    connections are replaced (no error after it), and while it is down every call is a
    503 problem (``Unavailable``), never a driver error (which the writer thread would
    not turn into an answer)."""
    from ddsnode.problem import Unavailable
    from ddsnode.store import open_state
    if server_binaries() is None:
        pytest.skip(MISSING)
    with PostgresServer() as server:
        assembly = machine(tmp_path / "a", server.database())
        state = open_state(assembly.node.settings, assembly.node.store)
        try:
            ledger = assembly.federation.ledger
            assert ledger.is_counted(BASE + "x") is False and state.get("k") is None
            server.restart()
            assert ledger.is_counted(BASE + "x") is False  # a fresh connection, no error
            assert state.get("k") is None
            state.put("k", b"v")
            server.stop()
            with pytest.raises(Unavailable):
                ledger.is_counted(BASE + "x")
            with pytest.raises(Unavailable):
                ledger.mark_counted(BASE + "x")
            with pytest.raises(Unavailable):
                state.get("k")
            server.start()
            ledger.mark_counted(BASE + "x")
            assert ledger.is_counted(BASE + "x") and state.get("k") == b"v"
        finally:
            state.close()
            assembly.close()
