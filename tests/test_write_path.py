"""The write path under concurrency: group commit in the embedded store, and the node.

Many threads write at once, as the HTTP layer's worker threads do. The embedded store
batches them into shared transactions (one fsync per batch); these tests check that
batching changes nothing a writer can observe: every acknowledged write is there (also
after reopening the store), versions count up by one per acknowledged write, a lost
compare-and-swap fails only that write, and a failing write does not take its batch
down with it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ddsnode.ldp.node import Node
from ddsnode.problem import Conflict, PreconditionFailed
from ddsnode.settings import Settings
from ddsnode.store.base import IndexFields, Representation, StoredResource
from ddsnode.store.embedded import EmbeddedStore

BASE = "http://node.test/"
PROPOSALS = BASE + "proposals/"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _resource(iri: str, note: str = "", container: str | None = PROPOSALS,
              kind: str = "rdf") -> StoredResource:
    nt = f'<{iri}> <http://purl.org/dc/terms/title> "{note or iri}" .\n'
    return StoredResource(iri=iri, container=container, kind=kind,  # type: ignore[arg-type]
                          ntriples=nt, created=T0, modified=T0, index=IndexFields(title=note),
                          representations={"application/n-triples": Representation(
                              "application/n-triples", nt.encode(), f'"{abs(hash(nt))}"')})


def _threads(n: int, work: Callable[[int], None]) -> list[Exception]:
    """Run ``work(i)`` in ``n`` threads started together; the errors they raised."""
    errors: list[Exception] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
        except Exception as e:  # noqa: BLE001 - collected, asserted on by the test
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = EmbeddedStore(tmp_path / "node")
    s.put(_resource(BASE, container=None, kind="container"), expect_version=0)
    s.put(_resource(PROPOSALS, container=BASE, kind="container"), expect_version=0)
    yield s
    s.close()


def test_every_acknowledged_create_is_stored(store: EmbeddedStore, tmp_path: Path) -> None:
    """N threads x M creates: all acknowledged, all present after reopening, one seq each."""
    n, m = 12, 15
    acknowledged: list[StoredResource] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        for j in range(m):
            stored = store.put(_resource(f"{PROPOSALS}t{i}-{j}"), expect_version=0)
            with lock:
                acknowledged.append(stored)

    assert _threads(n, work) == []
    assert len(acknowledged) == n * m
    assert len({r.seq for r in acknowledged}) == n * m
    store.close()
    reopened = EmbeddedStore(tmp_path / "node")
    try:
        for r in acknowledged:
            found = reopened.get(r.iri)
            assert found is not None and found.version == 1 and found.seq == r.seq
        assert reopened.count_children(PROPOSALS) == n * m
        assert len(reopened.changes(0, limit=10_000)) == n * m + 2
    finally:
        reopened.close()


def test_compare_and_swap_under_contention(store: EmbeddedStore) -> None:
    """Threads race to update one resource from the version they read: each version is
    won by exactly one writer, losers get 412, and the final version counts the wins."""
    iri = PROPOSALS + "contended"
    store.put(_resource(iri, "v1"), expect_version=0)
    wins: Counter[int] = Counter()
    lock = threading.Lock()

    def work(i: int) -> None:
        for j in range(10):
            current = store.get(iri)
            assert current is not None
            try:
                store.put(_resource(iri, f"{i}-{j}"), expect_version=current.version)
            except PreconditionFailed:
                continue
            with lock:
                wins[current.version] += 1

    assert _threads(8, work) == []
    assert all(count == 1 for count in wins.values())
    final = store.get(iri)
    assert final is not None and final.version == 1 + sum(wins.values())
    assert sorted(wins) == list(range(1, final.version))


def test_a_failing_write_does_not_fail_its_batch(store: EmbeddedStore) -> None:
    """Creates that must fail (no such container, or already there) run alongside ones
    that must succeed; each gets its own outcome."""
    store.put(_resource(PROPOSALS + "taken"), expect_version=0)
    outcomes: dict[int, str] = {}

    def work(i: int) -> None:
        for j in range(10):
            key = i * 100 + j
            if j % 3 == 0:
                r = _resource(f"{BASE}nowhere/x{key}", container=BASE + "nowhere/")
            elif j % 3 == 1:
                r = _resource(PROPOSALS + "taken")
            else:
                r = _resource(f"{PROPOSALS}ok{key}")
            try:
                store.put(r, expect_version=0)
                outcomes[key] = "stored"
            except Conflict:
                outcomes[key] = "conflict"
            except PreconditionFailed:
                outcomes[key] = "exists"

    assert _threads(8, work) == []
    for key, outcome in outcomes.items():
        assert outcome == ("conflict", "exists", "stored")[key % 100 % 3]
        present = store.get(f"{PROPOSALS}ok{key}") is not None
        assert present == (outcome == "stored")
    assert store.get(BASE + "nowhere/x0") is None


def test_deletes_and_puts_interleave(store: EmbeddedStore) -> None:
    """Concurrent deletes and re-creates keep the member count equal to the live rows."""
    for i in range(20):
        store.put(_resource(f"{PROPOSALS}d{i}"), expect_version=0)

    def work(i: int) -> None:
        iri = f"{PROPOSALS}d{i}"
        current = store.get(iri)
        assert current is not None
        tomb = StoredResource(iri=iri, container=PROPOSALS, kind="tombstone", ntriples="",
                              created=T0, modified=T0, representations={})
        store.delete(iri, tombstone=tomb, expect_version=current.version)
        if i % 2:
            store.put(_resource(iri, "again"), expect_version=0)

    assert _threads(20, work) == []
    live = [i for i in range(20) if (r := store.get(f"{PROPOSALS}d{i}")) and r.kind != "tombstone"]
    assert live == [i for i in range(20) if i % 2]
    assert store.count_children(PROPOSALS) == len(live)


TURTLE = """@prefix dds: <https://w3id.org/dds/ns#> .
@prefix dct: <http://purl.org/dc/terms/> .
<> a dds:Proposal ;
  dct:title "Concurrent proposal {n}"@en ;
  dds:state <https://w3id.org/dds/state/notAnswered> .
"""


def test_node_posts_from_many_threads(tmp_path: Path) -> None:
    """Validated POSTs from many threads (as the HTTP workers make them) are all stored,
    with every representation, and listed once each."""
    from ddsnode.cli import main as cli

    assert cli(["init", str(tmp_path / "n"), "--base-url", BASE]) in (0, None)
    node = Node.open(Settings.load(tmp_path / "n"))
    try:
        made: list[str] = []
        lock = threading.Lock()

        def work(i: int) -> None:
            for j in range(6):
                body = TURTLE.format(n=f"{i}-{j}").encode()
                r = node.post(PROPOSALS, body, "text/turtle", slug=f"c{i}-{j}")
                with lock:
                    made.append(r.iri)

        assert _threads(8, work) == []
        assert len(set(made)) == 48
        for iri in made:
            stored = node.store.get(iri)
            assert stored is not None and stored.version == 1
            for offer in ("text/turtle", "application/ld+json"):
                rep = node.renderings.get(stored, offer)
                assert rep is not None and iri.encode() in rep.body
        page = node.store.children(PROPOSALS, limit=100)
        assert sorted(c.iri for c in page.items) == sorted(made)
    finally:
        node.close()


def test_cached_pages_follow_every_change(tmp_path: Path) -> None:
    """A container page is cached under the container's stamp: a create, an update of a
    member's title and a delete each show on the next read of the same page."""
    from ddsnode.cli import main as cli
    from ddsnode.ldp import conneg

    assert cli(["init", str(tmp_path / "n"), "--base-url", BASE]) in (0, None)
    node = Node.open(Settings.load(tmp_path / "n"))
    try:
        def page() -> bytes:
            target = node.target(PROPOSALS)
            return node.container_view(target, node.read(target).resource, conneg.TURTLE,
                                       {}).representation.body

        empty = page()
        assert page() is empty  # served from the cache
        iri = node.post(PROPOSALS, TURTLE.format(n="one").encode(), "text/turtle",
                        slug="one").iri
        created = page()
        assert iri.encode() in created and b"Concurrent proposal one" in created
        node.put(iri, TURTLE.format(n="renamed").encode(), "text/turtle")
        renamed = page()
        assert b"Concurrent proposal renamed" in renamed and b"proposal one" not in renamed
        node.delete(iri)
        assert iri.encode() not in page()
        assert node.store.container_stamp(PROPOSALS) == node.store.changes(0, 100)[-1].seq
    finally:
        node.close()
