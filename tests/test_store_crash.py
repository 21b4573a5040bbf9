"""The embedded store under SIGKILL: every acknowledged write survives, nothing is half-written.

A child process writes (creates, updates, deletes) in a loop and prints each write after
``put``/``delete`` returned; the test kills it with SIGKILL at random moments, reopens the
store and checks every acknowledged write is there with its full content, and that every
stored resource is internally consistent. Then the SPARQL index is killed mid-replay,
caught up, and rebuilt from scratch.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ddsnode.problem import Unavailable
from ddsnode.store.embedded import EmbeddedStore

ROOT = "http://node.test/"
COUNT = "https://w3id.org/dds/ns#tripleCount"
REPO = Path(__file__).resolve().parents[1]

CHILD = r'''
import hashlib, random, sys
from datetime import datetime, timezone
from pathlib import Path
from ddsnode.store.base import IndexFields, Representation, StoredResource
from ddsnode.store.embedded import EmbeddedStore

ROOT, COUNT = "http://node.test/", "https://w3id.org/dds/ns#tripleCount"
directory, run = Path(sys.argv[1]), sys.argv[2]
store = EmbeddedStore(directory)
now = datetime.now(timezone.utc)

def make(iri, container, kind, n, word):
    lines = [f'<{iri}> <{COUNT}> "{n}" .']
    lines += [f'<{iri}> <https://w3id.org/dds/ns#p{k}> "{word} {k} {"x" * 40}" .'
              for k in range(n - 1)]
    nt = "\n".join(lines) + "\n"
    body = nt.encode()
    etag = '"' + hashlib.sha256(body).hexdigest() + '"'
    reps = {"application/n-triples": Representation("application/n-triples", body, etag),
            "text/plain": Representation("text/plain", body[::-1], etag)}
    return StoredResource(iri, container, kind, nt, reps, now, now,
                          IndexFields(title=word, text=f"{word} {n}"))

if store.get(ROOT) is None:
    store.put(make(ROOT, None, "container", 1, "root"))
rng = random.Random(run)
mine = []
i = 0
while True:
    i += 1
    roll = rng.random()
    if mine and roll < 0.15:
        iri = mine.pop(rng.randrange(len(mine)))
        version = store.get(iri).version
        store.delete(iri, tombstone=make(iri, None, "tombstone", 1, "gone"),
                     expect_version=version)
        print(f"delete {iri} {version + 1}", flush=True)
        continue
    if mine and roll < 0.4:
        iri = rng.choice(mine)
    else:
        iri = f"{ROOT}{run}-{i}"
        mine.append(iri)
    written = store.put(make(iri, ROOT, "rdf", rng.randrange(2, 150), f"w{run}x{i}"))
    print(f"put {iri} {written.version}", flush=True)
'''


def run_child(directory: Path, run: str, seconds: float) -> list[tuple[str, str, int]]:
    """Run the writer, SIGKILL it ``seconds`` after its first write; the acknowledged
    writes it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(directory), run],
                             stdout=subprocess.PIPE, env=env)
    lines: list[bytes] = []
    writing = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in iter(child.stdout.readline, b""):
            lines.append(line)
            writing.set()

    reader = threading.Thread(target=read)
    reader.start()
    writing.wait(60)  # start the clock at the first write, not at a slow interpreter start
    time.sleep(seconds)
    if child.poll() is not None:
        reader.join()
        pytest.fail(f"the writer exited by itself (status {child.returncode}) before the kill")
    child.send_signal(signal.SIGKILL)
    child.wait()
    reader.join()
    assert child.stdout is not None
    child.stdout.close()
    acked = []
    for line in lines:
        if line.endswith(b"\n"):  # a line cut by the kill was never acknowledged
            action, iri, version = line.decode().split()
            acked.append((action, iri, int(version)))
    return acked


def check_consistent(store: EmbeddedStore, acked: list[tuple[str, str, int]]) -> int:
    """Every acknowledged write is present (or superseded); every resource is whole."""
    latest: dict[str, tuple[str, int]] = {}
    for action, iri, version in acked:
        latest[iri] = (action, version)
    for iri, (action, version) in latest.items():
        got = store.get(iri)
        assert got is not None, f"acknowledged {action} of {iri} v{version} lost"
        assert got.version >= version, f"{iri}: v{got.version} < acknowledged v{version}"
        if got.version == version:
            assert got.kind == ("tombstone" if action == "delete" else "rdf")
    live = 0
    seen = set()
    for change in store.changes(limit=10**9):
        if change.iri in seen:
            continue
        seen.add(change.iri)
        got = store.get(change.iri)
        assert got is not None
        body = got.ntriples.encode()
        lines = got.ntriples.splitlines()
        assert f'<{got.iri}> <{COUNT}> "{len(lines)}" .' == lines[0]  # every triple there
        reps = got.representations
        assert set(reps) == {"application/n-triples", "text/plain"}
        assert reps["application/n-triples"].body == body
        assert reps["text/plain"].body == body[::-1]
        etag = '"' + hashlib.sha256(body).hexdigest() + '"'
        assert reps["application/n-triples"].etag == etag == reps["text/plain"].etag
        if got.kind != "tombstone":
            live += 1
            assert got.index.text == f"{got.index.title} {len(lines)}"
    seqs = [c.seq for c in store.changes(limit=10**9)]
    assert seqs == sorted(set(seqs))
    assert store.count_children(ROOT) == live - 1  # the root is not its own member
    return live


def count_graphs(store: EmbeddedStore) -> int:
    r = store.sparql(f"SELECT (COUNT(DISTINCT ?g) AS ?n) {{ GRAPH ?g {{ ?g <{COUNT}> ?c }} }}",
                     accept=["application/sparql-results+json"], timeout=60, limit=10)
    return int(json.loads(r.body)["results"]["bindings"][0]["n"]["value"])


def triples_in_index(store: EmbeddedStore) -> int:
    r = store.sparql("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
                     accept=["application/sparql-results+json"], timeout=60, limit=10)
    return int(json.loads(r.body)["results"]["bindings"][0]["n"]["value"])


@pytest.mark.slow
def test_sigkill_never_loses_or_tears_a_write(tmp_path: Path) -> None:
    directory = tmp_path / "node"
    rng = random.Random(7)
    acked: list[tuple[str, str, int]] = []
    for run in range(3):
        acked += run_child(directory, f"r{run}", rng.uniform(0.2, 0.6))
        store = EmbeddedStore(directory)
        try:
            live = check_consistent(store, acked)
            if run == 2:
                assert store.sync_index(timeout=60) == store.changes(limit=10**9)[-1].seq
        finally:
            store.close()
    assert len(acked) > 100, "the writer acknowledged too few writes to test anything"

    store = EmbeddedStore(directory)
    try:
        # SIGKILL the index worker in the middle of starting and catching up, then catch
        # up for real. No time at all to settle, so it is always caught starting: a
        # budget of 0.5 s was enough to finish on tmpfs (tests/conftest.py).
        with pytest.raises(Unavailable):
            store.sync_index(timeout=0.0)
        pid = store.sparql_index().worker_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while store.sparql_index().worker_pid is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        last = store.changes(limit=10**9)[-1].seq
        assert store.sync_index(timeout=60) == last
        expected = triples_in_sqlite(store)
        assert count_graphs(store) == live
        assert triples_in_index(store) == expected
    finally:
        store.close()
    shutil.rmtree(directory / "index")  # a derived index: rebuilt from the log
    store = EmbeddedStore(directory)
    try:
        assert store.sync_index(timeout=60) == last
        assert count_graphs(store) == live
        assert triples_in_index(store) == expected
    finally:
        store.close()


def triples_in_sqlite(store: EmbeddedStore) -> int:
    """Triples of every live resource, from the source of truth."""
    total = 0
    seen = set()
    for change in store.changes(limit=10**9):
        if change.iri not in seen:
            seen.add(change.iri)
            got = store.get(change.iri)
            if got is not None and got.kind != "tombstone":
                total += len(got.ntriples.splitlines())
    return total


CLOSING = r'''
import sys, threading, time
from datetime import datetime, timezone
from pathlib import Path
from ddsnode.store.base import IndexFields, StoredResource
from ddsnode.store.embedded import EmbeddedStore

ROOT = "http://node.test/"
store = EmbeddedStore(Path(sys.argv[1]))
now = datetime.now(timezone.utc)
store.put(StoredResource(ROOT, None, "container", "", {}, now, now, IndexFields()))
for n in range(1500):
    iri = f"{ROOT}r{n}"
    store.put(StoredResource(iri, ROOT, "resource", f'<{iri}> <{ROOT}p> "{n}" .\n', {},
                             now, now, IndexFields(title=f"r{n}")))
started, outcomes = threading.Barrier(5), []

def read() -> None:
    store.get(f"{ROOT}r7")  # this thread's connection is open before the close
    started.wait()
    try:
        while True:
            store.children(ROOT, limit=1500)
            store.get(f"{ROOT}r7")
    except RuntimeError as e:  # the store closed under this thread: a clean error
        outcomes.append(str(e))

readers = [threading.Thread(target=read) for _ in range(4)]
for t in readers:
    t.start()
started.wait()
time.sleep(0.2)  # the readers are inside their statements
store.close()
for t in readers:
    t.join(30)
print(len(outcomes), sorted(set(outcomes)))
'''


@pytest.mark.slow  # a separate interpreter (tests/support/fastloop.py)
def test_closing_the_store_under_reading_threads_is_a_clean_error(tmp_path: Path) -> None:
    """A catalogue build still reading in its thread when the node stops: closing the
    store must give that thread "store is closed", not free the connection under its
    statement (this killed a CI worker with SIGSEGV in ``children``)."""
    for run in range(2):  # each run hit the fault (SIGSEGV or a raw ProgrammingError)
        done = subprocess.run([sys.executable, "-c", CLOSING, str(tmp_path / f"s{run}")],
                              capture_output=True, text=True, timeout=120, cwd=REPO)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.split()[0] == "4", done.stdout
        assert "store is closed" in done.stdout
