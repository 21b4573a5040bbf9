"""The SPARQL index of the embedded store: pyoxigraph, derived from SQLite's change log.

The index lives in ``DIR/index/`` and is owned by one worker process (pyoxigraph holds
an exclusive lock on it). The worker replays the change log from the last applied seq —
for each changed IRI it replaces the named graph ``<IRI>`` by the resource's current
N-Triples, or drops it for a tombstone — and moves its marker in the same SPARQL UPDATE,
which pyoxigraph runs as one transaction. Replay is idempotent (it writes current state),
so a worker killed mid-batch just replays that batch. Deleting ``DIR/index/`` rebuilds it.

Why a process: pyoxigraph 0.5 cannot cancel a running query (it releases the GIL but
never checks for signals, and ``ORDER BY``/``GROUP BY``/aggregates run to completion
before the first row). The only way to stop a query at its time limit is to kill the
process running it. :class:`SparqlIndex` does so and starts a fresh worker on the next
call; queries in flight on the killed worker fail with 503 and may be retried.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import IO, Any

from ddsnode.problem import BadRequest, NotAcceptable, Problem, Unavailable
from ddsnode.store.base import QueryResult, QueryTimeout
from ddsnode.store.index_sources import ChangeSource, SqliteLog
from ddsnode.store.readonly import QueryForm
from ddsnode.store.results import negotiate, serialize

# The applied seq is the name of an empty named graph: a triple would show up in the
# union default graph that user queries see; an empty graph only shows up in GRAPH ?g.
MARKER_PREFIX = "urn:ddsnode:index:applied:"
BATCH = 500
POLL_SECONDS = 0.5
START_WAIT_SECONDS = 30.0
CATCH_UP_WAIT_SECONDS = 30.0
FLUSH_EVERY = 2000  # changes applied between flushes: keeps RocksDB's recovery short

log = logging.getLogger(__name__)

READY = -1  # the frame id of the worker's "store open" message
POSTGRESQL = "postgresql"  # the worker's source argument for a PostgreSQL change log
DATABASE_URL_ENV = "DDS_INDEX_DATABASE_URL"  # where that worker finds the database URL

_ERRORS: dict[str, type[Problem]] = {"BadRequest": BadRequest, "NotAcceptable": NotAcceptable}


class SparqlIndex:
    """The parent-side handle on the index worker process.

    Only the query itself runs against ``timeout``: waiting for a worker to start (after
    a kill, RocksDB replays its log) and for the index to catch up with SQLite have their
    own bounds and answer 503 without killing anything, so a restarting index is never
    killed again before it is ready.
    """

    def __init__(self, db_path: Path | str, index_dir: Path | None,
                 env: dict[str, str] | None = None) -> None:
        # ``db_path`` is the SQLite file, or POSTGRESQL (the URL then comes in ``env``, never
        # on the command line where ``ps`` shows it); ``index_dir`` None: in memory.
        self.db_path = db_path
        self.index_dir = index_dir
        self.env = env or {}
        self._lock = threading.Lock()
        self._worker: _Worker | None = None

    def query(self, query: str, *, form: QueryForm, accept: Any, timeout: float,
              limit: int) -> QueryResult:
        """Run a (guarded) query within ``timeout`` seconds and ``limit`` rows."""
        media_type = negotiate(form, accept)
        worker = self._ready(START_WAIT_SECONDS)
        self._wait(worker.submit(("sync",)), CATCH_UP_WAIT_SECONDS,
                   "the SPARQL index is catching up with recent writes; retry")
        future = worker.submit(("query", query, media_type, limit))
        try:
            body, truncated = future.result(timeout)
        except FutureTimeout:
            self.kill(worker)
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped") \
                from None
        return QueryResult(media_type=media_type, body=body, truncated=truncated)

    def sync(self, timeout: float) -> int:
        """Catch up with the change log now; the seq reached (Unavailable if slower)."""
        deadline = time.monotonic() + timeout
        worker = self._ready(timeout)
        return int(self._wait(worker.submit(("sync",)), max(0.0, deadline - time.monotonic()),
                              "the SPARQL index is still catching up"))

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id, if one runs (for operators and crash tests)."""
        worker = self._worker
        return worker.pid if worker is not None and worker.alive() else None

    def kill(self, worker: _Worker | None = None) -> None:
        """SIGKILL the worker (the running one by default); the next call starts another."""
        with self._lock:
            worker = worker or self._worker
            if worker is not None and self._worker is worker:
                self._worker = None
        if worker is not None:
            worker.kill()

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None

    @staticmethod
    def _wait(future: Future[Any], timeout: float, message: str) -> Any:
        try:
            return future.result(timeout)
        except FutureTimeout:
            raise Unavailable(message) from None

    def _ready(self, timeout: float) -> _Worker:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._worker is None or self._worker.gone:
                    if self._worker is not None:
                        self._worker.kill()
                    self._worker = _Worker(self.db_path, self.index_dir, self.env)
                worker = self._worker
            if not worker.settled.wait(max(0.0, deadline - time.monotonic())):
                raise Unavailable("the SPARQL index is starting; retry")
            if not worker.gone:
                return worker
            self.kill(worker)  # the next call starts another
            raise Unavailable(worker.failure or "the SPARQL index stopped while starting; "
                              "retry")


class _Worker:
    """One worker process (``python -m ddsnode.store.index``) and the thread reading it."""

    def __init__(self, db_path: Path | str, index_dir: Path | None,
                 extra_env: dict[str, str]) -> None:
        # A plain subprocess rather than multiprocessing: spawn would re-import the
        # parent's __main__ (a server script, a test), fork would copy a threaded server.
        env = {**os.environ, **extra_env}
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root,
                                                        env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ddsnode.store.index", str(db_path),
             "" if index_dir is None else str(index_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.pid = self._process.pid
        self.settled = threading.Event()  # set when the store is open, or the process gone
        self.gone = False
        self.failure = ""  # why the worker could not open the index
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._send_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name="ddsnode-sparql-index-reader")
        self._reader.start()

    def alive(self) -> bool:
        return not self.gone and self._process.poll() is None

    def submit(self, request: tuple[Any, ...]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._send_lock:
            rid = next(self._ids)
            self._pending[rid] = future
            try:
                send_frame(self._process.stdin, (rid, *request))
            except (OSError, ValueError):
                self._pending.pop(rid, None)
                raise Unavailable("the SPARQL index is restarting; retry") from None
        if self.gone:  # the reader finished before we registered
            _fail(future)
        return future

    def _read(self) -> None:
        while True:
            try:
                rid, ok, payload = recv_frame(self._process.stdout)
            except (EOFError, OSError, ValueError):
                break
            if rid == READY:
                if not ok:
                    self.failure = str(payload)
                self.settled.set()
                continue
            future = self._pending.pop(rid, None)
            if future is None:
                continue
            if ok:
                future.set_result(payload)
            else:
                name, detail = payload
                future.set_exception(_ERRORS.get(name, Problem)(detail))
        self.gone = True
        self.settled.set()
        for future in list(self._pending.values()):
            _fail(future)
        self._pending.clear()

    def kill(self) -> None:
        # SIGKILL: the only way to stop a running pyoxigraph query. The index stays
        # consistent (its marker moves in the same transaction as the data).
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(10)
        self._close_pipes()

    def stop(self) -> None:
        try:
            send_frame(self._process.stdin, None)
            self._process.wait(5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def _close_pipes(self) -> None:
        for pipe in (self._process.stdin, self._process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        self._reader.join(5)


def _fail(future: Future[Any]) -> None:
    try:
        future.set_exception(Unavailable("the SPARQL index stopped; retry"))
    except InvalidStateError:
        pass  # already answered


def send_frame(stream: IO[bytes] | None, message: Any) -> None:
    """Write one length-prefixed pickle (parent and worker are the same code)."""
    assert stream is not None
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "big") + data)
    stream.flush()


def recv_frame(stream: IO[bytes] | None) -> Any:
    """Read one frame written by :func:`send_frame`; EOFError at the end."""
    assert stream is not None
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    size = int.from_bytes(header, "big")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


# -- the worker process ----------------------------------------------------------------


def serve(db_path: str, index_dir: str) -> None:
    """Worker main: own the pyoxigraph store, replay the log, answer requests on
    stdin/stdout (stdout is reserved for frames; anything printed goes to stderr)."""
    import pyoxigraph as ox

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr

    owner = True
    source: ChangeSource
    if db_path == POSTGRESQL:
        # Each process of a PostgreSQL node keeps its own index in memory, rebuilt from the
        # shared change log when it starts (docs/storage.md).
        from ddsnode.store.postgresql_log import PostgresqlLog
        store = ox.Store()
        try:
            source = PostgresqlLog(os.environ[DATABASE_URL_ENV])
        except Exception as e:  # noqa: BLE001 - told to the parent, which answers 503
            why = f"the SPARQL index cannot read the database: {type(e).__name__}"
            send_frame(replies, (READY, False, why))
            os._exit(1)
    else:
        try:
            store = ox.Store(index_dir)
        except OSError as e:  # typically: another process holds the index
            try:
                # A running node owns it and keeps it current (the CLI queries while it
                # runs): read a snapshot; RocksDB's read-only open takes no lock, and
                # replays nothing.
                store, owner = ox.Store.read_only(index_dir), False
            except OSError:
                send_frame(replies, (READY, False,
                                     f"cannot open the SPARQL index {index_dir}: {e}"))
                os._exit(1)
        source = SqliteLog(db_path)
    replay = _Replay(store, source)
    send_lock = threading.Lock()

    def answer(rid: int, ok: bool, payload: Any) -> None:
        with send_lock:
            try:
                send_frame(replies, (rid, ok, payload))
            except (OSError, ValueError):
                os._exit(0)  # the parent is gone

    def handle(rid: int, kind: str, *args: Any) -> None:
        try:
            if kind == "sync":
                answer(rid, True, replay.catch_up() if owner else replay.applied)
                return
            query, media_type, limit = args
            try:
                result = store.query(query, use_default_graph_as_union=True)
            except SyntaxError as e:
                raise BadRequest(f"malformed SPARQL query: {e}") from None
            answer(rid, True, serialize(result, media_type, limit))
        except Problem as e:
            answer(rid, False, (type(e).__name__, e.detail))
        except Exception as e:  # noqa: BLE001 - reported to the caller; the worker keeps serving
            answer(rid, False, ("Problem", f"SPARQL index error: {type(e).__name__}: {e}"))

    def poll() -> None:
        # Keep the index close to the log between queries, so a query rarely waits.
        while True:
            time.sleep(POLL_SECONDS)
            try:
                replay.catch_up()
            except Exception:  # noqa: BLE001 - the next query's sync reports it to a caller
                traceback.print_exc()

    answer(READY, True, replay.applied)
    if owner:
        threading.Thread(target=poll, daemon=True).start()
    while True:
        try:
            message = recv_frame(requests)
        except (EOFError, OSError, ValueError):
            break
        if message is None:
            break
        threading.Thread(target=handle, args=message, daemon=True).start()
    os._exit(0)  # skip interpreter teardown: queries may still be running in threads


class _Replay:
    """Applies the change log to the pyoxigraph store, one batch per transaction."""

    def __init__(self, store: Any, source: ChangeSource) -> None:
        self.store = store
        self.source = source
        self.lock = threading.Lock()
        self.applied = self._read_marker()
        self.unflushed = 0

    def _read_marker(self) -> int:
        marks = [int(g.value[len(MARKER_PREFIX):]) for g in self.store.named_graphs()
                 if g.value.startswith(MARKER_PREFIX)]
        return max(marks, default=0)

    def catch_up(self) -> int:
        """Apply every change committed so far; the seq reached."""
        with self.lock:
            latest = self.source.latest()
            if latest < self.applied:  # the SQLite file was replaced (a restore): rebuild
                self.store.clear()
                self.applied = 0
            while self._batch():
                pass
            if self.unflushed >= FLUSH_EVERY:
                self.store.flush()
                self.unflushed = 0
            return self.applied

    def _batch(self) -> bool:
        rows, states = self.source.read(self.applied, BATCH)
        if not rows:
            return False
        last = rows[-1][0]
        groups = [ops for n, (iri, state) in enumerate(states.items())
                  if (ops := _resource_ops(iri, state, n))]
        marker = [f"DROP SILENT GRAPH <{MARKER_PREFIX}{self.applied}>",
                  f"CREATE SILENT GRAPH <{MARKER_PREFIX}{last}>"]
        try:
            self.store.update(" ;\n".join([*itertools.chain(*groups), *marker]))  # one transaction
        except (SyntaxError, ValueError, OSError) as e:
            # One resource the index refuses must not stop the whole batch, nor every later
            # query: apply the batch resource by resource and skip those that fail.
            log.warning("index batch up to seq %d failed (%s); applying it resource by "
                        "resource", last, e)
            for ops in groups:
                try:
                    self.store.update(" ;\n".join(ops))
                except (SyntaxError, ValueError, OSError) as e2:
                    log.warning("quarantined from the SPARQL index: %s (%s)",
                                ops[0].removeprefix("DROP SILENT GRAPH "), e2)
            self.store.update(" ;\n".join(marker))
        self.unflushed += len(rows)
        self.applied = last
        return True


def _resource_ops(iri: str, state: tuple[str, str] | None, n: int) -> list[str]:
    """The UPDATE operations that make the named graph ``<iri>`` the resource's current
    state; none (logged) for a resource the index cannot take — an old store may hold one
    written before the write path checked terms (ddsnode.rdf.rdfterms), and it must not make
    every ``/sparql`` query fail. Its named graph is dropped: stale triples are not served."""
    import pyoxigraph as ox

    try:
        graph = str(ox.NamedNode(iri))
    except ValueError as e:
        log.warning("quarantined from the SPARQL index: %r is not an IRI (%s)", iri, e)
        return []
    ops = [f"DROP SILENT GRAPH {graph}"]
    if state is not None and state[0] != "tombstone" and state[1].strip():
        try:
            triples = _renamed(state[1], n)
        except (SyntaxError, ValueError) as e:
            log.warning("quarantined from the SPARQL index: %s holds triples that are not "
                        "valid RDF 1.1 (%s); fix or delete the resource", graph, e)
            return ops
        ops.append(f"INSERT DATA {{ GRAPH {graph} {{\n{triples}\n}} }}")
    return ops


def _renamed(ntriples: str, n: int) -> str:
    """The triples with blank nodes relabelled per resource: SPARQL UPDATE forbids one
    blank-node label in two INSERT DATA blocks of a request."""
    import pyoxigraph as ox

    def term(t: Any) -> str:
        if isinstance(t, ox.BlankNode):
            return f"_:r{n}_{t.value}"
        if isinstance(t, ox.Triple):
            return f"<< {term(t.subject)} {term(t.predicate)} {term(t.object)} >>"
        return str(t)

    quads = ox.parse(ntriples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return "\n".join(f"{term(q.subject)} {term(q.predicate)} {term(q.object)} ." for q in quads)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
