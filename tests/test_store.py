"""The store contract (ddsnode/store/base.py), one suite over every backend.

``embedded`` runs on a temporary directory; ``postgresql`` on a real PostgreSQL server
(tests/support/postgres.py), a fresh database per test; ``sparql`` talks to a real
``oxigraph serve`` (tests/support/sparql_server.py), cleared before each test.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ddsnode.problem import (
    BadRequest,
    Conflict,
    Gone,
    NotAcceptable,
    NotFound,
    PreconditionFailed,
)
from ddsnode.settings import Settings
from ddsnode.store import open_store
from ddsnode.store.base import (
    NO_FILTERS,
    Filters,
    IndexFields,
    QueryTimeout,
    Representation,
    Store,
    StoredResource,
    encode_cursor,
)
from ddsnode.store.embedded import EmbeddedStore
from ddsnode.store.sparql import SparqlStore
from tests.support.postgres import PostgresServer
from tests.support.sparql_server import SparqlServer

BASE = "http://node.test/"
PROPOSALS = BASE + "proposals/"
DDS = "https://w3id.org/dds/ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sparql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    with SparqlServer(tmp_path_factory.mktemp("oxigraph"), timeout_s=10) as server:
        yield server


# The real servers are slow-loop tests (tests/support/fastloop.py); CI runs all three.
@pytest.fixture(params=["embedded", pytest.param("postgresql", marks=pytest.mark.slow),
                        pytest.param("sparql", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path / "node")
    elif request.param == "postgresql":
        from ddsnode.store.postgresql import PostgresqlStore
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        s = PostgresqlStore(pg.database())
    else:
        server: SparqlServer = request.getfixturevalue("sparql_server")
        server.clear()
        # Small buckets, so that paging crosses bucket boundaries in every test.
        s = SparqlStore(server.query_url, server.update_url, bucket_size=4)
    yield s
    s.close()


@pytest.fixture
def container(store: Store) -> str:
    store.put(resource(BASE, None, kind="container"), expect_version=0)
    store.put(resource(PROPOSALS, BASE, kind="container"), expect_version=0)
    return PROPOSALS


def resource(iri: str, container: str | None = PROPOSALS, *, kind: str = "rdf",
             title: str = "", minute: int = 0, extra_triples: str = "",
             **index: Any) -> StoredResource:
    """A resource with a small graph and two representations."""
    nt = (f'<{iri}> <http://purl.org/dc/terms/title> "{title or iri}"@en .\n'
          f'<{iri}> <{DDS}about> _:b1 .\n_:b1 <{DDS}note> "line1\\nline2 \\"quoted\\"" .\n'
          + extra_triples)
    reps = {"application/n-triples": Representation("application/n-triples", nt.encode(),
                                                     f'"{abs(hash(nt))}"'),
            "text/turtle": Representation("text/turtle", b"@prefix x: <y> .\n", '"t1"')}
    at = T0 + timedelta(minutes=minute)
    return StoredResource(iri=iri, container=container, kind=kind,  # type: ignore[arg-type]
                          ntriples=nt, representations=reps, created=at, modified=at,
                          index=IndexFields(title=title, **index))


def tombstone(iri: str) -> StoredResource:
    """A tombstone as the LDP layer would write it."""
    nt = f'<{iri}> <http://www.w3.org/ns/activitystreams#deleted> "2026-05-02" .\n'
    return StoredResource(iri=iri, container=None, kind="tombstone", ntriples=nt,
                          representations={"application/n-triples": Representation(
                              "application/n-triples", nt.encode(), '"gone"')},
                          created=T0, modified=T0 + timedelta(days=1))


def all_pages(store: Store, container: str, limit: int, filters: Filters = NO_FILTERS) -> list[str]:
    iris: list[str] = []
    after = None
    while True:
        page = store.children(container, after=after, limit=limit, filters=filters)
        assert len(page.items) <= limit
        iris += [c.iri for c in page.items]
        if page.next is None:
            return iris
        after = page.next


def sparql_json(store: Store, query: str, **kw: Any) -> dict[str, Any]:
    r = store.sparql(query, accept=["application/sparql-results+json"],
                     timeout=kw.pop("timeout", 10.0), limit=kw.pop("limit", 1000))
    assert r.media_type == "application/sparql-results+json"
    data: dict[str, Any] = json.loads(r.body)
    return data


# -- get / put --------------------------------------------------------------------------


def test_put_get_round_trip_every_field(store: Store, container: str) -> None:
    r = resource(container + "p1", title="Bike lanes", types=(DDS + "Proposal",),
                 topics=("https://w3id.org/dds/topic/mobility",), states=("accepted",),
                 areas=("NUTS:DE300",), platform="https://decidim.example/", lat=52.52,
                 long=13.405, date="2026-04-30", text="more bike lanes on the main street")
    written = store.put(r)
    assert written.version == 1 and written.seq > 0
    assert store.get(r.iri) == dataclasses.replace(r, version=1, seq=written.seq)
    binary = dataclasses.replace(resource(container + "scan.pdf", kind="binary"),
                                 binary=bytes(range(256)) * 4, binary_type="application/pdf")
    written = store.put(binary)
    assert store.get(binary.iri) == dataclasses.replace(binary, version=1, seq=written.seq)
    assert store.get(container + "missing") is None


def test_versions_and_expect_version(store: Store, container: str) -> None:
    iri = container + "v"
    assert store.put(resource(iri), expect_version=0).version == 1
    with pytest.raises(PreconditionFailed):
        store.put(resource(iri, title="again"), expect_version=0)
    assert store.put(resource(iri, title="two")).version == 2
    with pytest.raises(PreconditionFailed):
        store.put(resource(iri, title="stale"), expect_version=1)
    got = store.get(iri)
    assert got is not None and got.version == 2 and got.index.title == "two"  # unchanged
    assert store.put(resource(iri, title="three"), expect_version=2).version == 3
    with pytest.raises(PreconditionFailed):
        store.put(resource(container + "new"), expect_version=5)
    assert store.get(container + "new") is None


def test_update_keeps_seq(store: Store, container: str) -> None:
    first = store.put(resource(container + "a"))
    store.put(resource(container + "b"))
    again = store.put(resource(container + "a", title="edited"))
    assert again.seq == first.seq
    assert all_pages(store, container, 10) == [container + "b", container + "a"]
    assert store.count_children(container) == 2  # an update is not a new member


def test_container_must_exist(store: Store, container: str) -> None:
    with pytest.raises(Conflict):
        store.put(resource(BASE + "nowhere/x", BASE + "nowhere/"))
    with pytest.raises(Conflict):  # a non-container is not a container
        store.put(resource(container + "p"))
        store.put(resource(container + "p/x", container + "p"))


# -- tombstones --------------------------------------------------------------------------


def test_delete_leaves_a_tombstone(store: Store, container: str) -> None:
    iri = container + "gone"
    store.put(resource(iri, types=(DDS + "Proposal",)))
    store.put(resource(container + "stays"))
    with pytest.raises(PreconditionFailed):
        store.delete(iri, tombstone=tombstone(iri), expect_version=7)
    store.delete(iri, tombstone=tombstone(iri), expect_version=1)
    got = store.get(iri)
    assert got is not None and got.kind == "tombstone" and got.version == 2
    assert got.ntriples == tombstone(iri).ntriples
    assert got.representations == tombstone(iri).representations
    assert all_pages(store, container, 10) == [container + "stays"]
    assert store.count_children(container) == 1
    last = store.changes(limit=1000)[-1]
    assert (last.iri, last.action, last.container) == (iri, "delete", container)
    assert last.types == (DDS + "Proposal",)
    with pytest.raises(Gone):
        store.delete(iri, tombstone=tombstone(iri))
    with pytest.raises(NotFound):
        store.delete(container + "never", tombstone=tombstone(container + "never"))
    # The IRI may be reused; versions keep counting so old ETags never match again.
    again = store.put(resource(iri, title="back"), expect_version=0)
    assert again.version == 3
    assert all_pages(store, container, 10) == [iri, container + "stays"]
    assert store.count_children(container) == 2
    assert store.count_children(BASE) == 1


def test_delete_refuses_a_container_with_members(store: Store, container: str) -> None:
    store.put(resource(container + "x"))
    with pytest.raises(Conflict):
        store.delete(container, tombstone=tombstone(container))
    store.delete(container + "x", tombstone=tombstone(container + "x"))
    store.delete(container, tombstone=tombstone(container))
    assert store.count_children(BASE) == 0


# -- children ---------------------------------------------------------------------------


def test_paging_is_stable_newest_first(store: Store, container: str) -> None:
    iris = [container + f"p{i:02d}" for i in range(23)]
    for i, iri in enumerate(iris):
        store.put(resource(iri, minute=i))
    assert all_pages(store, container, 5) == list(reversed(iris))
    first = store.children(container, limit=5)
    assert first.next is not None
    again = store.children(container, after=first.next, limit=5)
    assert [c.iri for c in again.items] == list(reversed(iris))[5:10]
    child = first.items[0]
    assert child.kind == "rdf" and child.modified == T0 + timedelta(minutes=22)
    assert store.children(container, limit=23).next is None
    assert store.count_children(container) == 23
    assert store.children(BASE + "empty/").items == []


def test_prev_cursors_walk_back_over_the_same_pages(store: Store, container: str) -> None:
    iris = [container + f"p{i:02d}" for i in range(23)]
    for i, iri in enumerate(iris):
        store.put(resource(iri, minute=i), expect_version=0)
    store.put(resource(container + "other", topics=("t:x",)))  # filtered out below
    filters = Filters(topic="t:y")
    for iri in iris[::2]:  # every other one also matches a filter
        store.put(resource(iri, topics=("t:y",)))
    for flt, expected in ((NO_FILTERS, [container + "other", *reversed(iris)]),
                          (filters, list(reversed(iris[::2])))):
        pages, cursor = [], None
        while True:  # forwards, keeping each page
            page = store.children(container, after=cursor, limit=5, filters=flt)
            pages.append(page)
            if page.next is None:
                break
            cursor = page.next
        assert pages[0].prev is None
        assert [c.iri for p in pages for c in p.items] == expected
        back = pages[-1]
        for earlier in reversed(pages[:-1]):  # then backwards: the same pages, in order
            assert back.prev is not None
            back = store.children(container, after=back.prev, limit=5, filters=flt)
            assert [c.iri for c in back.items] == [c.iri for c in earlier.items]
        assert back.prev is None  # back on the first page
        assert back.next == pages[0].next


def test_a_prev_cursor_past_the_newest_member_gives_the_first_page(store: Store,
                                                                  container: str) -> None:
    for i in range(7):
        store.put(resource(container + f"q{i}"))
    second = store.children(container, after=store.children(container, limit=3).next, limit=3)
    assert second.prev is not None
    store.delete(container + "q6", tombstone=tombstone(container + "q6"))
    back = store.children(container, after=second.prev, limit=3)
    assert [c.iri for c in back.items] == [container + f"q{i}" for i in (5, 4, 3)]
    assert back.prev is None
    with pytest.raises(BadRequest):
        store.children(container, after="bm9wZXwx", limit=3)  # "nope|1": not a cursor


def test_paging_while_writing_has_no_gaps_or_duplicates(store: Store, container: str) -> None:
    before = [container + f"old{i}" for i in range(30)]
    for iri in before:
        store.put(resource(iri))
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set() and n < 200:
            store.put(resource(container + f"new{n}"))
            store.put(resource(before[n % 30], title=f"edit {n}"))  # updates keep their place
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = all_pages(store, container, 4)
    finally:
        stop.set()
        thread.join()
    assert len(seen) == len(set(seen))
    assert [i for i in seen if "/old" in i] == list(reversed(before))


@pytest.mark.parametrize("cursor", ["!!!", "bm90IGEgY3Vyc29y", encode_cursor("s", "x"),
                                    encode_cursor("other", 3)])
def test_malformed_cursor(store: Store, container: str, cursor: str) -> None:
    with pytest.raises((ValueError, BadRequest)):
        store.children(container, after=cursor)


def test_every_filter(store: Store, container: str) -> None:
    put = store.put
    put(resource(container + "a", types=(DDS + "Proposal",), topics=("t:mobility",),
                 states=("accepted",), areas=("NUTS:DE300",), platform="https://decidim.example/",
                 lat=52.52, long=13.40, date="2026-04-01", title="Bike lanes",
                 text="protected bike lanes everywhere"))
    put(resource(container + "b", types=(DDS + "Proposal", DDS + "Comment"),
                 topics=("t:housing",), states=("rejected",), areas=("NUTS:FR101",),
                 platform="https://consul.example/", lat=48.85, long=2.35,
                 date="2026-05-01T10:30:00Z", title="Social housing",
                 text="more social housing near the station"))
    put(resource(container + "c", types=(DDS + "Meeting",), topics=("t:mobility",),
                 states=("accepted",), date="2026-06-15", title="Assembly on trams",
                 text="a citizens assembly about trams"))

    def names(**kw: Any) -> list[str]:
        return sorted(i.rsplit("/", 1)[1] for i in all_pages(store, container, 2, Filters(**kw)))

    assert names() == ["a", "b", "c"]
    assert names(type=DDS + "Proposal") == ["a", "b"]
    assert names(type=DDS + "Comment") == ["b"]
    assert names(topic="t:mobility") == ["a", "c"]
    assert names(state="accepted") == ["a", "c"]
    assert names(area="NUTS:FR101") == ["b"]
    assert names(platform="https://decidim.example/") == ["a"]
    assert names(bbox=(13.0, 52.0, 14.0, 53.0)) == ["a"]
    assert names(bbox=(-10.0, 40.0, 20.0, 60.0)) == ["a", "b"]
    assert names(date_from="2026-05-01") == ["b", "c"]
    assert names(date_to="2026-05-01") == ["a", "b"]  # a bare date includes its whole day
    assert names(date_from="2026-04-15", date_to="2026-06-01") == ["b"]
    assert names(text="housing") == ["b"]
    assert names(text="bike LANES") == ["a"]
    assert names(text="trams") == ["c"]
    assert names(text="nothing-like-this") == []
    assert names(type=DDS + "Proposal", state="accepted", topic="t:mobility") == ["a"]
    assert names(state="accepted", text="assembly") == ["c"]
    assert names(type=DDS + "Meeting", area="NUTS:DE300") == []


def test_changes_after_and_limit(store: Store, container: str) -> None:
    start = store.changes(limit=1000)[-1].seq
    store.put(resource(container + "x"))
    store.put(resource(container + "x", title="edit"))
    store.delete(container + "x", tombstone=tombstone(container + "x"))
    log = store.changes(after=start)
    assert [c.action for c in log] == ["create", "update", "delete"]
    assert [c.seq for c in log] == sorted(c.seq for c in log)
    assert all(c.iri == container + "x" and c.container == container for c in log)
    assert store.changes(after=start, limit=2) == log[:2]
    assert store.changes(after=log[-1].seq) == []


def test_concurrent_writers(store: Store, container: str) -> None:
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            for i in range(15):
                store.put(resource(container + f"{prefix}{i}"))
        except Exception as e:  # noqa: BLE001 - any error fails the assert below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(p,)) for p in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count_children(container) == 30
    seqs = [store.get(container + f"{p}{i}").seq for p in "xy" for i in range(15)]  # type: ignore[union-attr]
    assert len(set(seqs)) == 30
    # Compare and swap: of two writers holding version 1, exactly one wins.
    store.put(resource(container + "cas"))
    outcomes: list[str] = []

    def swap(title: str) -> None:
        try:
            store.put(resource(container + "cas", title=title), expect_version=1)
            outcomes.append("ok")
        except PreconditionFailed:
            outcomes.append("412")

    threads = [threading.Thread(target=swap, args=(t,)) for t in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["412", "ok"]


# -- SPARQL ------------------------------------------------------------------------------


def test_sparql_select_ask_construct_formats(store: Store, container: str) -> None:
    for i in range(3):
        store.put(resource(container + f"s{i}", title=f"Item {i}"))
    q = ("SELECT ?s ?t WHERE { ?s <http://purl.org/dc/terms/title> ?t "
         "FILTER(STRSTARTS(?t, 'Item')) } ORDER BY ?s")
    data = sparql_json(store, q)
    assert data["head"]["vars"] == ["s", "t"]
    assert [b["s"]["value"] for b in data["results"]["bindings"]] == \
        [container + f"s{i}" for i in range(3)]
    assert data["results"]["bindings"][0]["t"] == {"type": "literal", "value": "Item 0",
                                                   "xml:lang": "en"}
    xml = store.sparql(q, accept=["application/sparql-results+xml"], timeout=10, limit=100)
    assert b"<literal xml:lang=\"en\">Item 0</literal>" in xml.body
    text = store.sparql(q, accept=["text/csv"], timeout=10, limit=100)
    rows = list(csv.reader(io.StringIO(text.body.decode())))
    assert rows[0] == ["s", "t"] and rows[1] == [container + "s0", "Item 0"]
    tsv = store.sparql(q, accept=["text/tab-separated-values"], timeout=10, limit=100)
    assert tsv.body.decode().splitlines()[1] == f'<{container}s0>\t"Item 0"@en'
    ask = sparql_json(store, f"ASK {{ <{container}s1> ?p ?o }}")
    assert ask["boolean"] is True
    graph = store.sparql(f"CONSTRUCT WHERE {{ <{container}s1> ?p ?o }}",
                         accept=["text/turtle;q=0.9", "application/n-triples"], timeout=10,
                         limit=100)
    assert graph.media_type == "text/turtle" and b"Item 1" in graph.body
    nt = store.sparql(f"DESCRIBE <{container}s2>", accept=["application/n-triples"],
                      timeout=10, limit=100)
    assert f"<{container}s2> <http://purl.org/dc/terms/title> \"Item 2\"@en".encode() in nt.body
    jsonld = store.sparql(f"CONSTRUCT WHERE {{ <{container}s1> ?p ?o }}",
                          accept=["application/ld+json"], timeout=10, limit=100)
    assert any(n.get("@id") == container + "s1" for n in json.loads(jsonld.body))
    with pytest.raises(NotAcceptable):
        store.sparql(q, accept=["text/turtle"], timeout=10, limit=100)


def test_sparql_union_default_graph_excludes_tombstones(store: Store, container: str) -> None:
    store.put(resource(container + "live", title="Alive"))
    store.put(resource(container + "dead", title="Dead"))
    store.put(resource(container + "dead", title="Dead v2"))
    store.delete(container + "dead", tombstone=tombstone(container + "dead"))
    data = sparql_json(store, "SELECT ?t { ?s <http://purl.org/dc/terms/title> ?t }")
    titles = {b["t"]["value"] for b in data["results"]["bindings"]}
    assert "Alive" in titles and "Dead" not in titles and "Dead v2" not in titles
    # Each resource is a named graph holding its own triples (blank nodes included).
    data = sparql_json(store, f"SELECT ?n {{ GRAPH <{container}live> {{ ?s <{DDS}about> ?b . "
                              f"?b <{DDS}note> ?n }} }}")
    assert data["results"]["bindings"][0]["n"]["value"] == 'line1\nline2 "quoted"'


@pytest.mark.parametrize("query, message", [
    ("INSERT DATA { <a:b> <a:c> <a:d> }", "read-only"),
    ("DELETE WHERE { ?s ?p ?o }", "read-only"),
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("CLEAR ALL", "read-only"),
    ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * { ?s ?p ?o OPTIONAL { SeRvIcE SILENT <http://x/> { ?s ?q ?r } } }", "SERVICE"),
    ("SELECT * WHERE { ?s ?p }", "malformed"),
    ("", "malformed"),
])
def test_sparql_refuses_updates_service_load(store: Store, query: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        store.sparql(query, accept=["*/*"], timeout=5, limit=10)


def test_sparql_service_in_a_comment_or_string_is_fine(store: Store, container: str) -> None:
    q = '# SERVICE <http://x/>\nSELECT ("SERVICE <http://x/> { }" AS ?x) { }'
    assert sparql_json(store, q)["results"]["bindings"][0]["x"]["value"].startswith("SERVICE")


def test_sparql_result_limit(store: Store, container: str) -> None:
    extra = "".join(f'<{container}many> <{DDS}n> "{i}"^^<{XSD}integer> .\n' for i in range(30))
    store.put(resource(container + "many", extra_triples=extra))
    q = f"SELECT ?n {{ <{container}many> <{DDS}n> ?n }}"
    r = store.sparql(q, accept=["application/sparql-results+json"], timeout=10, limit=10)
    assert r.truncated and len(json.loads(r.body)["results"]["bindings"]) == 10
    r = store.sparql(q, accept=["application/sparql-results+json"], timeout=10, limit=30)
    assert not r.truncated and len(json.loads(r.body)["results"]["bindings"]) == 30
    g = store.sparql(f"CONSTRUCT WHERE {{ <{container}many> <{DDS}n> ?n }}",
                     accept=["application/n-triples"], timeout=10, limit=7)
    assert g.truncated and len(g.body.decode().strip().splitlines()) == 7


@pytest.mark.slow
def test_sparql_timeout_and_the_node_keeps_serving(store: Store, container: str) -> None:
    extra = "".join(f'<{container}big> <{DDS}n> "{i}"^^<{XSD}integer> .\n' for i in range(2000))
    store.put(resource(container + "big", extra_triples=extra))
    sparql_json(store, "ASK { ?s ?p ?o }")  # warm up (the embedded index starts lazily)
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        store.sparql("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                     accept=["application/sparql-results+json"], timeout=1.0, limit=10)
    assert time.monotonic() - started < 5
    # Other work goes on, and a fresh query works right after.
    assert store.get(container + "big") is not None
    store.put(resource(container + "after"))
    assert sparql_json(store, f"ASK {{ <{container}after> ?p ?o }}")["boolean"] is True


# -- opening ----------------------------------------------------------------------------


def test_open_store_from_settings(tmp_path: Path) -> None:
    settings = Settings({}, node_dir=tmp_path)
    store = open_store(settings)
    try:
        assert isinstance(store, EmbeddedStore)
        store.put(resource(BASE, None, kind="container"))
    finally:
        store.close()
    # A second process-like opener (the CLI while the node runs) sees the same data.
    other = open_store(settings)
    try:
        assert other.get(BASE) is not None
    finally:
        other.close()
    with pytest.raises(ValueError):
        open_store(settings.replace(store="sparql"))
    with pytest.raises(ValueError):
        open_store(settings.replace(store="nonsense"))


def test_second_process_queries_a_snapshot_and_reads_and_writes(tmp_path: Path) -> None:
    # The index belongs to the first process; a second one (the CLI while the node runs)
    # queries a read-only snapshot of it (store/index.py) instead of failing.
    first = EmbeddedStore(tmp_path / "node")
    second = EmbeddedStore(tmp_path / "node")  # another process, as far as files go
    try:
        first.put(resource(BASE, None, kind="container"))
        assert first.sparql("ASK { ?s ?p ?o }", accept=["*/*"], timeout=10, limit=1).body
        second.put(resource(BASE + "x", BASE))
        assert first.get(BASE + "x") is not None
        assert sparql_json(second, f"ASK {{ <{BASE}> ?p ?o }}")["boolean"] is True
        assert sparql_json(first, f"ASK {{ <{BASE}x> ?p ?o }}")["boolean"] is True
    finally:
        first.close()
        second.close()


WRITER = r'''
import json, sys
from tests.test_store import PROPOSALS, resource
from ddsnode.store.sparql import SparqlStore
store = SparqlStore(sys.argv[1], sys.argv[2], bucket_size=4)
print(json.dumps([store.put(resource(PROPOSALS + sys.argv[3] + str(i))).seq for i in range(10)]))
'''


@pytest.mark.slow
def test_sparql_store_shared_by_processes(sparql_server: SparqlServer) -> None:
    sparql_server.clear()
    store = SparqlStore(sparql_server.query_url, sparql_server.update_url, bucket_size=4)
    try:
        store.put(resource(BASE, None, kind="container"))
        store.put(resource(PROPOSALS, BASE, kind="container"))
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, sparql_server.query_url,
                                     sparql_server.update_url, name], stdout=subprocess.PIPE,
                                    env=env) for name in ("a", "b", "c")]
        seqs = [seq for w in writers for seq in json.loads(w.communicate(timeout=120)[0])]
        assert all(w.returncode == 0 for w in writers)
        assert len(set(seqs)) == 30  # the write lock keeps seqs unique across processes
        assert [c.seq for c in store.changes(limit=100)] == list(range(1, 33))  # no gaps
        assert store.count_children(PROPOSALS) == 30
        assert len(all_pages(store, PROPOSALS, 7)) == 30
    finally:
        store.close()


def test_a_schema_1_store_is_migrated_when_opened(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "old")
    store.put(resource(BASE, None, kind="container"), expect_version=0)
    store.put(resource(PROPOSALS, BASE, kind="container"), expect_version=0)
    kept = store.put(resource(PROPOSALS + "p1"))
    store.put(dataclasses.replace(resource(PROPOSALS + "bare"), representations={}))
    store.close()
    # Make it what schema 1 wrote: no reps column, representations of every kind.
    with closing(sqlite3.connect(tmp_path / "old" / "store.sqlite3")) as db:
        db.execute("ALTER TABLE resources DROP COLUMN reps")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
        db.commit()
    store = EmbeddedStore(tmp_path / "old")
    try:
        got = store.get(PROPOSALS + "p1")
        assert got is not None and got.representations == kept.representations
        with closing(sqlite3.connect(tmp_path / "old" / "store.sqlite3")) as db:
            flags = dict(db.execute("SELECT iri, reps FROM resources").fetchall())
        assert flags == {BASE: 1, PROPOSALS: 1, PROPOSALS + "p1": 1, PROPOSALS + "bare": 0}
        store.put(dataclasses.replace(resource(PROPOSALS + "p1"), representations={}))
        again = store.get(PROPOSALS + "p1")
        assert again is not None and again.representations == {} and again.version == 2
    finally:
        store.close()
    with closing(sqlite3.connect(tmp_path / "old" / "store.sqlite3")) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("2",)
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
        db.commit()
    with pytest.raises(RuntimeError, match="newer"):
        EmbeddedStore(tmp_path / "old")
