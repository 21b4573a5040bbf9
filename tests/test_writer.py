"""The writer thread (ddsnode/ldp/writer.py) over a real embedded store.

A batch commits together; a failed write leaves no trace and does not stop the others;
a transaction the database drops midway fails the whole batch and stores nothing of it;
an exception a request must never see on the event loop becomes an ordinary error; the
thread outlives all of these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ddsnode.ldp.writer import Writer
from ddsnode.problem import PreconditionFailed, Unavailable
from ddsnode.store.base import IndexFields, StoredResource
from ddsnode.store.embedded import EmbeddedStore

ROOT = "http://node.test/"
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def record(iri: str, container: str | None = ROOT, kind: str = "rdf") -> StoredResource:
    nt = f'<{iri}> <http://purl.org/dc/terms/title> "{iri}" .\n'
    return StoredResource(iri=iri, container=container, kind=kind,  # type: ignore[arg-type]
                          ntriples=nt, representations={}, created=T0, modified=T0,
                          index=IndexFields(title=iri))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(tmp_path / "store")
    s.put(record(ROOT, None, "container"), expect_version=0)
    yield s
    s.close()


def gate(writer: Writer) -> threading.Event:
    """Hold the writer on a first job until the event is set, so the next ones queue up
    and run as one batch."""
    release = threading.Event()
    writer.submit(lambda: release.wait(10))
    return release


def put(store: EmbeddedStore, iri: str) -> Callable[[], Any]:
    return lambda: store.put(record(iri), expect_version=0)


def test_a_batch_commits_together_and_a_failed_write_leaves_no_trace(
        store: EmbeddedStore, tmp_path: Path) -> None:
    writer = Writer(store)
    release = gate(writer)
    ok = [writer.submit(put(store, ROOT + f"r{i}")) for i in range(5)]

    def half_then_fail() -> None:
        store.put(record(ROOT + "half"), expect_version=0)
        raise ValueError("this request failed after writing")

    failed = writer.submit(half_then_fail)
    taken = writer.submit(put(store, ROOT + "r0"))  # sees r0 of the same batch: 412
    release.set()
    assert [f.result(10).version for f in ok] == [1] * 5
    with pytest.raises(ValueError):
        failed.result(10)
    with pytest.raises(PreconditionFailed):
        taken.result(10)
    writer.close()
    store.close()
    again = EmbeddedStore(tmp_path / "store")
    try:
        assert all(again.get(ROOT + f"r{i}") is not None for i in range(5))
        assert again.get(ROOT + "half") is None
        assert again.count_children(ROOT) == 5
    finally:
        again.close()


def test_a_transaction_lost_midway_fails_the_whole_batch(store: EmbeddedStore) -> None:
    writer = Writer(store)
    release = gate(writer)
    before = writer.submit(put(store, ROOT + "before"))

    def lose_the_transaction() -> None:
        store.put(record(ROOT + "lost"), expect_version=0)
        # What SQLite does by itself on SQLITE_FULL or an I/O error: the whole
        # transaction is rolled back under the writer's feet.
        store._conn().execute("ROLLBACK")

    lost = writer.submit(lose_the_transaction)
    after = writer.submit(put(store, ROOT + "after"))
    release.set()
    for future in (before, lost):  # the batch they were in is gone: both told so
        with pytest.raises(Unavailable):
            future.result(10)
    # The batch stopped there; the next write ran in a new transaction of its own.
    assert after.result(10).version == 1
    assert [store.get(ROOT + n) is None for n in ("before", "lost", "after")] == \
        [True, True, False]
    writer.close()


def test_exceptions_the_event_loop_must_not_see_become_errors(store: EmbeddedStore) -> None:
    writer = Writer(store)

    def exits() -> None:
        raise SystemExit(3)

    def stops() -> None:
        raise StopIteration

    for work in (exits, stops):
        with pytest.raises(RuntimeError):
            writer.submit(work).result(10)
    assert writer.submit(put(store, ROOT + "still")).result(10).version == 1
    writer.close()


def test_a_write_cancelled_while_queued_never_runs(store: EmbeddedStore) -> None:
    writer = Writer(store)
    release = gate(writer)
    queued: Future[Any] = writer.submit(put(store, ROOT + "cancelled"))
    assert queued.cancel()
    done = writer.submit(put(store, ROOT + "kept"))
    release.set()
    assert done.result(10).version == 1
    writer.close()
    assert store.get(ROOT + "cancelled") is None


def test_close_finishes_what_is_queued_and_refuses_more(store: EmbeddedStore) -> None:
    writer = Writer(store)
    futures = [writer.submit(put(store, ROOT + f"q{i}")) for i in range(20)]
    writer.close()
    assert all(f.result(0).version == 1 for f in futures)
    with pytest.raises(RuntimeError):
        writer.submit(put(store, ROOT + "late"))


def test_the_stores_group_commit_fails_a_batch_whose_transaction_was_lost(
        store: EmbeddedStore) -> None:
    # Writes from threads other than the writer (the CLI, federation) are batched by the
    # store itself: the same savepoints, so the same rule when SQLite drops the batch.
    from ddsnode.store.base import TransactionLost
    from ddsnode.store.embedded import _put
    release, started = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}

    def leader(conn: Any) -> None:
        started.set()
        release.wait(10)

    def lose(conn: Any) -> None:
        _put(conn, record(ROOT + "lost"), 0)
        conn.execute("ROLLBACK")

    def run(name: str, work: Callable[[Any], Any]) -> None:
        try:
            outcomes[name] = store._group.run(work)
        except Exception as e:
            outcomes[name] = e

    first = threading.Thread(target=run, args=("leader", leader))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=run, args=("lose", lose)),
              threading.Thread(target=run, args=(
                  "after", lambda conn: _put(conn, record(ROOT + "after"), 0)))]
    for t in others:
        t.start()
    while len(store._group._queue) < 2:  # both queued behind the leader: the next batch
        threading.Event().wait(0.01)
    release.set()
    for t in (first, *others):
        t.join(10)
    assert isinstance(outcomes["lose"], TransactionLost)
    assert isinstance(outcomes["after"], TransactionLost)  # told so, and indeed not stored
    assert store.get(ROOT + "lost") is None and store.get(ROOT + "after") is None
