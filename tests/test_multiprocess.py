"""Several processes, one node, one PostgreSQL (issue 16): real ``ddsnode serve`` processes.

Two or three independent processes on their own ports (so a test chooses which one it
talks to) share a node directory and a database; one test runs ``serve --workers 3``.
What must hold whichever process takes a request: conditional writes never both win,
a write is readable at once through another process, listings and ``/sparql`` agree
across processes, exactly one process runs the background loops and another takes over
when it is SIGKILLed, and a PostgreSQL restart under load gives clear 503s and loses no
acknowledged write.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.pg_nodes import (
    PgNode,
    Processes,
    children,
    loop_owner,
    pg_node,
    wait_for_owner,
    wait_ready,
)
from tests.support.postgres import MISSING, PostgresServer, server_binaries

pytestmark = pytest.mark.slow

PROPOSAL = """@prefix dds: <https://w3id.org/dds/ns#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix schema: <https://schema.org/> .
<> a dds:Proposal ;
  dct:title "{title}"@en ;
  schema:text "{text}"@en ;
  dds:inSpace <{base}processes/p1> ;
  dct:subject <https://w3id.org/dds/topic/mobility> .
"""
TURTLE = {"Content-Type": "text/turtle"}
DDS = "https://w3id.org/dds/ns#"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    if server_binaries() is None:
        pytest.skip(MISSING)
    with PostgresServer() as s:
        yield s


@pytest.fixture
def node(server: PostgresServer, tmp_path: Path) -> PgNode:
    return pg_node(tmp_path, server.database(), {"loop_lease_seconds": 0.5})


def body(node: PgNode, title: str, text: str = "x") -> bytes:
    return PROPOSAL.format(title=title, text=text, base=node.base).encode()


def test_conditional_writes_through_two_processes_lose_no_update(node: PgNode) -> None:
    with Processes(node) as procs:
        a, b = procs.start(node.port), procs.start()
        headers = {**node.auth(), **TURTLE}
        with httpx.Client(timeout=30, headers=headers) as http:
            r = http.post(a + "proposals/", content=body(node, "start"), headers={"Slug": "cas"})
            assert r.status_code == 201, r.text
            iri = r.headers["location"]
            path = iri[len(node.base):]
            rounds, lost = 25, 0
            for n in range(rounds):
                etag = http.get(a + path, headers={"Accept": "text/turtle"}).headers["etag"]
                results: dict[str, int] = {}

                def put(url: str, title: str, etag: str = etag,
                        results: dict[str, int] = results) -> None:
                    results[title] = http.put(url + path, content=body(node, title),
                                              headers={"If-Match": etag}).status_code

                threads = [threading.Thread(target=put, args=(u, f"{name}{n}"))
                           for u, name in ((a, "A"), (b, "B"))]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                assert sorted(results.values()) == [204, 412], results
                winner = next(t for t, s in results.items() if s == 204)
                stored = http.get(b + path, headers={"Accept": "text/turtle"}).text
                lost += winner not in stored
            assert lost == 0
            # create-only through both at once: one 201, one 412
            for n in range(10):
                codes: list[int] = []

                def create(url: str, n: int = n, codes: list[int] = codes) -> None:
                    codes.append(http.put(url + f"proposals/new-{n}",
                                          content=body(node, f"new {n}"),
                                          headers={"If-None-Match": "*"}).status_code)

                threads = [threading.Thread(target=create, args=(u,)) for u in (a, b)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                assert sorted(codes) == [201, 412], codes


def test_read_your_writes_listings_and_sparql_through_other_processes(node: PgNode) -> None:
    with Processes(node) as procs:
        urls = [procs.start(node.port), procs.start(), procs.start()]
        headers = {**node.auth(), **TURTLE}
        delays = []
        with httpx.Client(timeout=60, headers=headers) as http:
            for url in urls:  # each process starts its index on first use (503 until then)
                deadline = time.monotonic() + 120
                while http.get(url + "sparql", params={"query": "ASK {}"}).status_code != 200:
                    assert time.monotonic() < deadline, "a SPARQL index did not start"
                    time.sleep(0.5)
            for n in range(12):
                writer, reader = urls[n % 3], urls[(n + 1) % 3]
                r = http.post(writer + "proposals/", content=body(node, f"ryw {n}"),
                              headers={"Slug": f"ryw-{n}"})
                assert r.status_code == 201, r.text
                path = r.headers["location"][len(node.base):]
                got = http.get(reader + path, headers={"Accept": "text/turtle"})
                assert got.status_code == 200 and f"ryw {n}" in got.text, \
                    (got.status_code, got.text[:500])  # at once
                listing = http.get(reader + "proposals/", headers={"Accept": "text/turtle"})
                assert path.rsplit("/", 1)[1] in listing.text, listing.text[:500]
                started = time.monotonic()
                while True:  # the other process's index replays the shared change log
                    ask = http.get(reader + "sparql", params={
                        "query": f'ASK {{ ?s <http://purl.org/dc/terms/title> "ryw {n}"@en }}'},
                        headers={"Accept": "application/sparql-results+json"})
                    assert ask.status_code == 200, ask.text
                    if ask.json()["boolean"]:
                        break
                    assert time.monotonic() - started < 10, "index not current within 10 s"
                    time.sleep(0.05)
                delays.append(time.monotonic() - started)
            # every process lists the same members, in the same order
            pages = {u: http.get(u + "proposals/", headers={"Accept": "text/turtle"}).text
                     for u in urls}
            assert len(set(pages.values())) == 1, pages
        print(f"sparql visibility through another process: max {max(delays):.3f} s")


def test_one_loop_owner_and_takeover_after_sigkill(node: PgNode) -> None:
    with Processes(node) as procs:
        procs.start(node.port, workers=3)
        supervisor = procs.procs[0]
        deadline = time.monotonic() + 60
        while len(children(supervisor.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = children(supervisor.pid)
        assert len(workers) == 3
        owner, _ = wait_for_owner(node.database_url)
        assert owner in workers
        for _ in range(2):
            os.kill(owner, signal.SIGKILL)
            new_owner, waited = wait_for_owner(node.database_url, other_than=owner)
            assert new_owner != owner
            print(f"takeover after SIGKILL of the loop owner: {waited:.2f} s")
            owner = new_owner
        # the supervisor replaced the killed workers; the node still answers
        deadline = time.monotonic() + 60
        while len(children(supervisor.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(children(supervisor.pid)) == 3
        wait_ready(procs.urls[0], supervisor)
        assert loop_owner(node.database_url) in children(supervisor.pid)


def test_postgresql_restart_under_load(server: PostgresServer, node: PgNode) -> None:
    acknowledged: dict[str, str] = {}
    statuses: list[int] = []
    bad: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with Processes(node) as procs:
        urls = [procs.start(node.port), procs.start()]

        def client(n: int) -> None:
            with httpx.Client(timeout=60, headers={**node.auth(), **TURTLE}) as http:
                i = 0
                while not stop.is_set():
                    i += 1
                    title = f"load {n}-{i}"
                    r = http.post(urls[n % 2] + "proposals/", content=body(node, title),
                                  headers={"Slug": f"l{n}-{i}"})
                    with lock:
                        statuses.append(r.status_code)
                        if r.status_code == 201:
                            acknowledged[r.headers["location"]] = title
                        elif r.status_code != 503 or \
                                r.headers.get("content-type") != "application/problem+json":
                            bad.append(f"{r.status_code} {r.headers.get('content-type')} "
                                       f"{r.text[:300]}")
                    if r.status_code == 503:
                        time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            while len(acknowledged) < 20:
                time.sleep(0.05)
            server.stop()
            time.sleep(2)
            server.start()
            before = len(statuses)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # writes succeed again after the restart
                with lock:
                    if statuses[before:].count(201) >= 10:
                        break
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert bad == []
        assert 503 in statuses and statuses[-1] == 201
        with httpx.Client(timeout=30) as http:
            for iri, title in acknowledged.items():
                path = iri[len(node.base):]
                r = http.get(urls[1] + path, headers={"Accept": "text/turtle"})
                assert r.status_code == 200 and title in r.text, (iri, r.status_code)
        print(f"restart under load: {len(acknowledged)} acknowledged writes, all readable; "
              f"{statuses.count(503)} answered 503")


def test_init_on_postgresql_import_while_serving_and_workers_need_it(
        server: PostgresServer, tmp_path: Path) -> None:
    from tests.support.decidim_variants import small_export
    from tests.support.node import REPO, free_port

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    port = free_port()
    base = f"http://127.0.0.1:{port}/"

    def ddsnode(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ddsnode", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600, check=False)

    url = server.database()
    made = ddsnode("init", str(tmp_path / "pg"), "--base-url", base, "--database-url", url)
    assert made.returncode == 0, made.stderr
    settings = (tmp_path / "pg" / "settings.toml").read_text()
    assert 'store = "postgresql"' in settings and url in settings
    with Processes(PgNode(tmp_path / "pg", base, port, "", url, env)) as procs:
        served = procs.start(port, workers=2)
        # an admin command writes to the same database while two workers serve it (the
        # nightly export's main files, every proposal, some others cut short: the whole
        # export is imported by tests/test_decidim_import.py)
        export = small_export(tmp_path / "export")
        imported = ddsnode("import", "decidim", str(tmp_path / "pg"), str(export), "--quiet")
        assert imported.returncode == 0, imported.stderr[-2000:]
        with httpx.Client(timeout=30) as http:
            page = http.get(served + "proposals/", params={"limit": 200},
                            headers={"Accept": "text/turtle"}).text
            assert page.count("nightly-decidim-org-") >= 45
            count = http.get(served + "sparql", params={"query": (
                "SELECT (COUNT(?p) AS ?n) { ?p a <https://w3id.org/dds/ns#Proposal> }")},
                headers={"Accept": "application/sparql-results+json"}).json()
            # every process's index replays what the import wrote to the shared log
            from ddsnode.store.base import Filters
            from ddsnode.store.postgresql import PostgresqlStore
            store = PostgresqlStore(url)
            try:
                typed, after = 0, None
                while True:
                    got = store.children(base + "proposals/", after=after, limit=100,
                                         filters=Filters(type=DDS + "Proposal"))
                    typed += len(got.items)
                    if got.next is None:
                        break
                    after = got.next
            finally:
                store.close()
            assert typed > 0
            assert int(count["results"]["bindings"][0]["n"]["value"]) == typed
    # a database that cannot be reached: one line, exit 2, no half-made directory left
    unreachable = ddsnode("init", str(tmp_path / "nowhere"), "--database-url",
                          f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    assert unreachable.returncode == 2 and "unreachable" in unreachable.stderr
    assert not (tmp_path / "nowhere").exists()
    # several workers on the embedded store: refused in one line, exit 2
    ddsnode("init", str(tmp_path / "embedded"))
    refused = ddsnode("serve", str(tmp_path / "embedded"), "--workers", "2")
    assert refused.returncode == 2 and "postgresql" in refused.stderr
