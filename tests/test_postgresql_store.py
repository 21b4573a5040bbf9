"""What the PostgreSQL store promises beyond the shared suite (tests/test_store.py):
compare-and-swap and a commit-ordered change log across independent openers (each as
another process would be: its own pool and connections), migrations, values PostgreSQL
cannot hold, and a server restart (503 while it is down, no acknowledged write lost).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import psycopg
import pytest

from ddsnode.problem import BadRequest, PreconditionFailed, Unavailable
from ddsnode.store.base import IndexFields
from ddsnode.store.postgresql import PostgresqlStore
from ddsnode.store.postgresql_schema import SCHEMA_VERSION
from tests.support.postgres import MISSING, PostgresServer, server_binaries
from tests.test_store import BASE, PROPOSALS, resource, tombstone

pytestmark = pytest.mark.slow  # a real PostgreSQL server (tests/support/fastloop.py)


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    if server_binaries() is None:
        pytest.skip(MISSING)
    with PostgresServer() as s:
        yield s


@pytest.fixture
def url(server: PostgresServer) -> str:
    url = server.database()
    store = PostgresqlStore(url)
    store.put(resource(BASE, None, kind="container"), expect_version=0)
    store.put(resource(PROPOSALS, BASE, kind="container"), expect_version=0)
    store.close()
    return url


def race(*calls: object) -> list[str]:
    """Run the calls at once (a barrier), each on its own thread; "ok" or the error name."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call: object) -> None:
        barrier.wait()
        try:
            call()  # type: ignore[operator]
            outcome = "ok"
        except PreconditionFailed:
            outcome = "412"
        except Exception as e:  # noqa: BLE001 - reported, and fails the caller's assert
            outcome = type(e).__name__
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_conditional_writes_through_two_openers_never_both_win(url: str) -> None:
    a, b = PostgresqlStore(url), PostgresqlStore(url)
    try:
        iri = PROPOSALS + "contested"
        for n in range(30):
            # create-only (If-None-Match: *): one creates, the other gets 412
            assert race(lambda n=n: a.put(resource(iri, title=f"a{n}"), expect_version=0),
                        lambda n=n: b.put(resource(iri, title=f"b{n}"), expect_version=0)) \
                == ["412", "ok"]
            current = a.get(iri)
            assert current is not None and current.version == 3 * n + 1
            # If-Match on the same version: one wins, and its title is what is stored
            assert race(lambda n=n: a.put(resource(iri, title=f"A{n}"), expect_version=3 * n + 1),
                        lambda n=n: b.put(resource(iri, title=f"B{n}"), expect_version=3 * n + 1)) \
                == ["412", "ok"]
            after = b.get(iri)
            assert after is not None and after.version == 3 * n + 2
            assert after.index.title in (f"A{n}", f"B{n}")
            # conditional delete: one deletes, the other finds it gone (410)
            assert race(lambda n=n: a.delete(iri, tombstone=tombstone(iri),
                                         expect_version=3 * n + 2),
                        lambda n=n: b.delete(iri, tombstone=tombstone(iri),
                                         expect_version=3 * n + 2)) == ["Gone", "ok"]
        assert a.count_children(PROPOSALS) == 0
    finally:
        a.close()
        b.close()


def test_the_change_log_is_gapless_and_in_commit_order_across_openers(url: str) -> None:
    stores = [PostgresqlStore(url) for _ in range(3)]
    try:
        start = stores[0].changes(limit=1000)[-1].seq
        seen: list[int] = []
        done = threading.Event()

        def follow() -> None:
            # A feed reader: it must never pass a change that commits later.
            cursor = start
            while not done.is_set() or stores[0].changes(after=cursor, limit=1):
                for change in stores[0].changes(after=cursor, limit=50):
                    seen.append(change.seq)
                    cursor = change.seq

        def write(s: PostgresqlStore, name: str) -> None:
            for i in range(40):
                s.put(resource(PROPOSALS + f"{name}{i}"))
                if i % 3 == 0:
                    s.put(resource(PROPOSALS + f"{name}{i}", title="edited"))

        reader = threading.Thread(target=follow)
        reader.start()
        writers = [threading.Thread(target=write, args=(s, n)) for s, n in zip(stores, "xyz")]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        done.set()
        reader.join()
        total = 3 * (40 + 14)
        assert seen == list(range(start + 1, start + total + 1))
        assert stores[1].count_children(PROPOSALS) == 120
        assert stores[2].container_stamp(PROPOSALS) == start + total
    finally:
        for s in stores:
            s.close()


def test_a_batch_commits_together_and_a_failed_step_leaves_no_trace(url: str) -> None:
    store = PostgresqlStore(url)
    other = PostgresqlStore(url)
    try:
        before = store.changes(limit=1000)[-1].seq
        with store.transaction():
            store.put(resource(PROPOSALS + "one"))
            with pytest.raises(PreconditionFailed), store.savepoint():
                store.put(resource(PROPOSALS + "two"))
                store.put(resource(PROPOSALS + "one"), expect_version=0)
            assert store.get(PROPOSALS + "one") is not None  # this thread sees its write
            assert other.get(PROPOSALS + "one") is None  # others: after the COMMIT
        assert other.get(PROPOSALS + "two") is None
        assert [(c.seq, c.iri) for c in other.changes(after=before)] == \
            [(before + 1, PROPOSALS + "one")]
    finally:
        store.close()
        other.close()


def test_a_value_postgresql_cannot_hold_is_refused_not_a_500(url: str) -> None:
    store = PostgresqlStore(url)
    try:
        bad = dataclasses.replace(resource(PROPOSALS + "nul"),
                                  index=IndexFields(states=("acc\x00epted",)))
        with pytest.raises(BadRequest):
            store.put(bad)
        assert store.get(PROPOSALS + "nul") is None
        store.put(resource(PROPOSALS + "fine"))  # the store goes on
    finally:
        store.close()


def test_schema_version_is_recorded_and_a_newer_one_refused(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RuntimeError, match="newer"):
        PostgresqlStore(url)


def test_restart_of_the_server_503_then_serves_again_nothing_lost(server: PostgresServer,
                                                                  url: str) -> None:
    store = PostgresqlStore(url, connect_timeout=2)
    try:
        acknowledged = [store.put(resource(PROPOSALS + f"r{i}")).iri for i in range(5)]
        server.stop()
        with pytest.raises(Unavailable):
            store.put(resource(PROPOSALS + "while-down"))
        with pytest.raises(Unavailable):
            store.get(acknowledged[0])
        server.start()
        # The pooled connections died with the server: the next calls open fresh ones.
        assert all(store.get(iri) is not None for iri in acknowledged)
        store.put(resource(PROPOSALS + "after"))
        assert store.count_children(PROPOSALS) == 6
    finally:
        store.close()
