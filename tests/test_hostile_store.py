"""Issue 9 item 6: one bad resource in a store never takes ``/sparql`` down, and a record
the index could not take is never acknowledged.

A store written by an old version may hold triples that are not RDF 1.1. The rows here
are written straight into SQLite, past every check, as such a version would have left
them; the SPARQL index skips (quarantines) each with a log line and keeps answering.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ddsnode.problem import BadRequest
from ddsnode.store.base import IndexFields, StoredResource
from ddsnode.store.embedded import DB_FILE
from tests.support.inprocess import local_node

TURTLE = "text/turtle"
EX = "http://example.org/"

#: N-Triples an old version could have stored, each breaking pyoxigraph's parser.
BAD_NTRIPLES = [
    ("iri-space", f"<{{iri}}> <{EX}p> <{EX}a b> .\n"),
    ("iri-brace", f"<{{iri}}> <{EX}p> <{EX}a{{{{x}}}}> .\n"),
    ("lang-long", f'<{{iri}}> <{EX}p> "x"@en-abcdefghi .\n'),
    ("lang-underscore", f'<{{iri}}> <{EX}p> "x"@en_US .\n'),
    ("datatype-quote", f'<{{iri}}> <{EX}p> "x"^^<{EX}t"x> .\n'),
    ("literal-subject", f'"lit" <{EX}p> "x" .\n'),
    ("bnode-predicate", '<{iri}> _:p "x" .\n'),
    ("not-ntriples", "this is not N-Triples at all\n"),
]


def _sneak_in(node_dir: Path, iri: str, ntriples: str) -> None:
    """Replace a resource's triples and log a change, in SQLite only (as an old version)."""
    db = sqlite3.connect(next(node_dir.rglob(DB_FILE)), isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE resources SET ntriples = ? WHERE iri = ?", (ntriples, iri))
        db.execute("INSERT INTO changes (iri, action, at, container, types) VALUES "
                   "(?, 'update', ?, NULL, '[]')", (iri, datetime.now(UTC).isoformat()))
        db.execute("COMMIT")
    finally:
        db.close()


def _count(http: object, query: str) -> str:
    r = http.get("/sparql", params={"query": query},  # type: ignore[attr-defined]
                 headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.text
    return str(r.text.splitlines()[1])


def test_bad_rows_in_an_old_store_do_not_stop_sparql(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"open_containers": "open/"}) as node, \
            node.client() as http:
        assert http.put("/open/good", content=f'<> <{EX}p> "good" .',
                        headers={"Content-Type": TURTLE}).status_code == 201
        for name, _ in BAD_NTRIPLES:
            r = http.put(f"/open/{name}", content=f'<> <{EX}p> "was fine" .',
                         headers={"Content-Type": TURTLE})
            assert r.status_code == 201, r.text
        assert _count(http, f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p> "was fine" }}') \
            == str(len(BAD_NTRIPLES))
        for name, text in BAD_NTRIPLES:
            _sneak_in(node.dir, node.url(f"open/{name}"),
                      text.replace("{iri}", node.url(f"open/{name}")))
        # Every query still answers; the good resource is there, the bad ones' stale
        # triples are gone from the index (never served as if current).
        assert _count(http, f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p> "good" }}') == "1"
        assert _count(http, f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p> "was fine" }}') \
            == "0"
        # The node keeps writing and indexing after them.
        assert http.put("/open/later", content=f'<> <{EX}p> "later" .',
                        headers={"Content-Type": TURTLE}).status_code == 201
        assert _count(http, f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p> "later" }}') == "1"
        assert http.get("/open/good", headers={"Accept": TURTLE}).status_code == 200
        # A bad resource is repaired by writing it again.
        assert http.put("/open/iri-space", content=f'<> <{EX}p> "repaired" .',
                        headers={"Content-Type": TURTLE}).status_code in (200, 204)
        assert _count(http, f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p> "repaired" }}') \
            == "1"


def test_the_store_refuses_a_record_the_index_cannot_take(tmp_path: Path) -> None:
    """Whatever built the record (a future importer, a bug), the store checks it before
    commit: a 400, and nothing in SQLite."""
    with local_node(tmp_path, settings={"open_containers": "open/"}) as node:
        from ddsnode.settings import Settings
        from ddsnode.store import open_store

        store = open_store(Settings.load(node.dir))
        try:
            container = node.url("open/")
            for name, text in BAD_NTRIPLES:
                iri = node.url(f"open/direct-{name}")
                now = datetime.now(UTC).replace(microsecond=0)
                record = StoredResource(iri=iri, container=container, kind="rdf",
                                        ntriples=text.replace("{iri}", iri),
                                        representations={}, created=now, modified=now,
                                        index=IndexFields())
                with pytest.raises(BadRequest):
                    store.put(record, expect_version=0)
                assert store.get(iri) is None
        finally:
            store.close()
        with node.client() as http:
            assert _count(http, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") != "0"
