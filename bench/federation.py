"""Federation benchmark: cold sync, warm re-sync, and reaction latency across two nodes.

    .venv/bin/python bench/federation.py [--resources 10000] [--reactions 50]

1. **Cold sync.** Node A (a real ``ddsnode serve``) holds N proposals (cloned at store
   level from one validated write, so filling is fast). Node B's federation runtime (in
   this process, so its outbound requests can be counted) adds A as a peer and reads
   A's feed from 0, dereferencing every resource.
2. **Warm re-sync.** The same, again, with nothing changed: one feed page.
3. **Revalidation without the feed.** B's cursor is reset to 0: every resource is
   re-requested conditionally (If-None-Match) — the cost the feed saves.
4. **Reaction latency.** A and B both served; B writes a support for a proposal of A;
   time until A publishes the new count (p50, p99 over the reactions), and until B's
   cached copy shows it (the full round trip: B → A's inbox → A fetches from B → A
   recounts → A's feed/push → B revalidates).
5. **Follow latency** (``--only follow``). Two served nodes with a 600 s poll; in each
   trial B adds A as a peer, then A adds B (``peer add`` as the CLI runs it), A creates a
   proposal at once, and the time until B holds a valid copy is measured from the end of
   the second ``peer add`` (p50, p99 over ``--trials``); then both remove each other.
   ``--refused`` first lets B's Follow be refused until B's circuit breaker opens (the
   case issue 10 item 1 describes: a Follow held back for tens of seconds).
6. **Ingest** (``--only ingest``). One node in this process and a fake peer serving a
   proposal with n fragment nodes; while the node ingests it (fetch, parse, term check,
   validation), local resources are read in a loop: the table gives n, the document's
   size, the ingest time, its ratio to the previous n, the reads answered meanwhile and
   the slowest of them (issue 9 item 1: the parse ran on the event loop and stalled
   every request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ddsnode import resources
from ddsnode.commands.node import init_node
from ddsnode.federation.hub import Federation
from ddsnode.ldp import representation
from ddsnode.ldp.node import Node
from ddsnode.outbound import FetchResult, OutboundClient
from ddsnode.rdf.jsonld import parse_rdf
from ddsnode.settings import Settings
from ddsnode.store.base import Representation
from tests.support.node import free_port

EXAMPLE = "https://participa.rivemont.example/"


class CountingClient(OutboundClient):
    """The outbound client, counting requests by final status."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts: dict[int, int] = {}

    async def fetch(self, url: str, **kwargs: Any) -> FetchResult:  # type: ignore[override]
        """Count, then fetch."""
        try:
            result = await super().fetch(url, **kwargs)
        except Exception:
            self.counts[0] = self.counts.get(0, 0) + 1
            raise
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        return result

    def total(self) -> int:
        """Requests made so far."""
        return sum(self.counts.values())


def _cli(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "ddsnode", *args], cwd=REPO, env=env,
                          check=True, capture_output=True, text=True).stdout


def _serve(node_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = (node_dir / "serve.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "ddsnode", "serve", str(node_dir),
                                "--port", str(port)], cwd=REPO, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("node did not start")


def _example(base: str, name: str) -> tuple[str, str]:
    text = (resources.examples_dir() / f"{name}.jsonld").read_text("utf-8")
    for old in (EXAMPLE, "https://voisins.rivemont.example/"):
        text = text.replace(old, base)
    return json.loads(text)["id"], text


def fill(node_dir: Path, count: int) -> None:
    """``count`` proposals on the node: one validated write, then store-level clones."""
    node = Node.open(Settings.load(node_dir))
    try:
        iri, text = _example(node.base, "a-proposal-school-streets")
        turtle = parse_rdf(text, "json-ld", base=iri).serialize(format="turtle")
        node.write_document(iri, turtle.encode(), "text/turtle")
        template = node.store.get(iri)
        assert template is not None
        for i in range(count - 1):
            new = f"{iri}-{i}"
            reps = {}
            for key, rep in template.representations.items():
                body = rep.body.replace(iri.encode(), new.encode())
                reps[key] = Representation(rep.media_type, body, representation.etag(body))
            node.store.put(replace(template, iri=new, representations=reps, version=0, seq=0,
                                   ntriples=template.ntriples.replace(iri, new)),
                           expect_version=0)
    finally:
        node.close()


async def sync_bench(b_dir: Path, a_base: str, count: int,
                     concurrency: int = 16) -> dict[str, Any]:
    """Cold sync, warm re-sync and feedless revalidation of A from B (in this process)."""
    node = Node.open(Settings.load(b_dir))
    fed = Federation(node, sync_concurrency=concurrency)
    client = CountingClient(allowed_origins=fed.peers.origins, signer=fed.client._signer)
    await fed.client.aclose()
    fed.client = fed.cache.client = fed.outbox.client = client
    out: dict[str, Any] = {}
    try:
        peer = await fed.add_peer(a_base)
        for label in ("cold", "warm", "revalidate"):
            if label == "revalidate":
                with fed.db.connect() as db:
                    db.execute("UPDATE peers SET cursor = 0")
            peer = fed.peers.get(peer.origin) or peer
            client.counts.clear()
            started = time.perf_counter()
            stats = await fed.sync_peer(peer)
            out[label] = {"seconds": round(time.perf_counter() - started, 2),
                          "requests": client.total(), "by_status": dict(client.counts),
                          **stats}
        out["cached"] = fed.cache.count()
        assert out["cached"] >= count, out
    finally:
        await client.aclose()
        node.close()
    return out


def latency_bench(a_dir: Path, b_dir: Path, a_base: str, b_base: str,
                  reactions: int) -> dict[str, Any]:
    """Reaction latency B → A (count published) and B → A → B (B's cache shows it)."""
    _cli("peer", "add", str(b_dir), a_base)
    _cli("peer", "add", str(a_dir), b_base)
    token_a = _cli("token", "create", str(a_dir)).strip()
    token_b = _cli("token", "create", str(b_dir)).strip()
    http = httpx.Client(timeout=30)
    iri, text = _example(a_base, "a-proposal-quai-bike-lane")
    doc = json.loads(text.replace(iri, iri + "-latency"))
    iri = doc["id"]
    for term in ("supportCount", "likeCount", "followCount", "commentCount",
                 "countsComputedAt"):
        doc.pop(term, None)  # counted from zero by A
    created = http.put(iri, content=json.dumps(doc).encode(), headers={
        "Authorization": f"Bearer {token_a}", "Content-Type": "application/ld+json"})
    assert created.status_code == 201, created.text
    cache_url = b_base + "federation/resource"
    _, template = _example(b_base, "b-reaction-s-77")

    def count_on(url: str, **params: str) -> int:
        doc = http.get(url, params=params or None, headers={"Accept": "application/ld+json"})
        return int(doc.json().get("supportCount", -1)) if doc.status_code == 200 else -1

    deadline = time.monotonic() + 30
    while count_on(cache_url, iri=iri) == -1 and time.monotonic() < deadline:
        time.sleep(0.05)
    to_a: list[float] = []
    round_trip: list[float] = []
    for i in range(reactions):
        doc = json.loads(template)
        doc["id"] = f"{b_base}reactions/bench-{i}"
        doc["actor"] = f"{b_base}participants/bench-{i}"
        doc["reactsTo"] = iri
        started = time.perf_counter()
        response = http.put(doc["id"], content=json.dumps(doc).encode(), headers={
            "Authorization": f"Bearer {token_b}", "Content-Type": "application/ld+json"})
        assert response.status_code == 201, response.text
        while count_on(iri) < i + 1:
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"reaction {i} not counted on A within 30 s")
            time.sleep(0.005)
        to_a.append(time.perf_counter() - started)
        while count_on(cache_url, iri=iri) < i + 1:
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"reaction {i} not visible on B within 30 s")
            time.sleep(0.005)
        round_trip.append(time.perf_counter() - started)
    return {"reactions": reactions, "to_a_ms": _percentiles(to_a),
            "round_trip_ms": _percentiles(round_trip)}


def _peer(node_dir: Path, action: str, url: str) -> None:
    """``ddsnode peer add|remove DIR URL`` as the CLI runs it, without a new interpreter."""
    from ddsnode.commands.peer import open_federation
    node, fed = open_federation(node_dir)

    async def run() -> None:
        try:
            if action == "add":
                await fed.add_peer(url)
                return
            peer = fed.peers.get(url)
            if peer is not None:
                fed.unfollow(peer)
                await asyncio.wait_for(fed.outbox.deliver_due(), timeout=10)
                fed.peers.remove(peer.origin)
        finally:
            await fed.client.aclose()

    try:
        asyncio.run(run())
    finally:
        node.close()


def _db_rows(node_dir: Path, query: str, args: tuple[Any, ...] = ()) -> list[Any]:
    import sqlite3
    with sqlite3.connect(f"file:{node_dir / 'federation.db'}?mode=ro", uri=True,
                         timeout=30) as conn:
        return conn.execute(query, args).fetchall()


def follow_bench(a_dir: Path, b_dir: Path, a_base: str, b_base: str, trials: int,
                 refused: bool, give_up: float = 60.0) -> dict[str, Any]:
    """Time from ``peer add`` on both sides to a new proposal of A held by B."""
    token_a = _cli("token", "create", str(a_dir)).strip()
    http = httpx.Client(timeout=30)
    iri, text = _example(a_base, "a-proposal-school-streets")
    latencies: list[float] = []
    after_put: list[float] = []
    timeouts = 0
    for trial in range(trials):
        _peer(b_dir, "add", a_base)
        if refused:
            deadline = time.monotonic() + 60
            while not _db_rows(b_dir, "SELECT 1 FROM breakers WHERE failures >= 5"):
                if time.monotonic() > deadline:
                    raise RuntimeError("B's Follow was not refused five times")
                time.sleep(0.05)
        _peer(a_dir, "add", b_base)
        added = time.perf_counter()
        new = f"{iri}-follow-{trial}-{time.time_ns()}"
        response = http.put(new, content=text.replace(iri, new).encode(), headers={
            "Authorization": f"Bearer {token_a}", "Content-Type": "application/ld+json"})
        assert response.status_code == 201, response.text
        put = time.perf_counter()
        while not _db_rows(b_dir, "SELECT 1 FROM cache WHERE iri = ? AND status = 'valid'",
                           (new,)):
            if time.perf_counter() - added > give_up:
                timeouts += 1  # counted as give_up seconds (a lower bound)
                break
            time.sleep(0.005)
        latencies.append(time.perf_counter() - added)
        after_put.append(time.perf_counter() - put)
        _peer(a_dir, "remove", b_base)
        _peer(b_dir, "remove", a_base)
        with_breakers = _db_rows(b_dir, "SELECT count(*) FROM breakers")[0][0]
        if with_breakers:  # the next trial starts from a clean slate
            import sqlite3
            with sqlite3.connect(b_dir / "federation.db", timeout=30) as conn:
                conn.execute("DELETE FROM breakers")
    http.close()
    return {"trials": trials, "refused_first": refused, "timeouts": timeouts,
            "from_peer_add_ms": _percentiles(latencies),
            "from_write_ms": _percentiles(after_put),
            "each_ms": [round(v * 1000) for v in latencies]}


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else [
        ordered[0]] * 99
    return {"p50": round(q[49] * 1000, 1), "p99": round(q[98] * 1000, 1),
            "max": round(ordered[-1] * 1000, 1)}


def main() -> None:
    """Run the three measurements and print them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--reactions", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16,
                        help="resources dereferenced at once during a sync")
    parser.add_argument("--only", choices=("all", "follow", "ingest"), default="all")
    parser.add_argument("--sizes", default="1000,2000,4000,8000",
                        help="fragment counts of the ingested peer documents")
    parser.add_argument("--trials", type=int, default=20, help="follow-latency trials")
    parser.add_argument("--refused", action="store_true",
                        help="follow latency after B's Follow was refused (breaker open)")
    args = parser.parse_args()
    if args.only == "follow":
        print(json.dumps(follow_main(args.trials, args.refused), indent=2))
        return
    if args.only == "ingest":
        rows = ingest_main([int(n) for n in args.sizes.split(",")])
        print(f"{'n':>6} {'KiB':>6} {'ingest s':>9} {'ratio':>6} {'reads':>6} "
              f"{'slowest read ms':>16}")
        for r in rows:
            print(f"{r['n']:>6} {r['kib']:>6} {r['ingest_s']:>9} {r['ratio'] or '-':>6} "
                  f"{r['reads']:>6} {r['slowest_read_ms']:>16}")
        return
    root = Path(tempfile.mkdtemp(prefix="ddsnode-bench-fed-",
                                 dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    port_a, port_b = free_port(), free_port()
    a_base, b_base = f"http://127.0.0.1:{port_a}/", f"http://127.0.0.1:{port_b}/"
    init_node(root / "a", base_url=a_base, name="bench A")
    init_node(root / "b", base_url=b_base, name="bench B")
    started = time.perf_counter()
    fill(root / "a", args.resources)
    report: dict[str, Any] = {"resources": args.resources,
                              "fill_seconds": round(time.perf_counter() - started, 1)}
    a = _serve(root / "a", port_a)
    b = None
    try:
        report["sync"] = asyncio.run(sync_bench(root / "b", a_base, args.resources,
                                                args.concurrency))
        b = _serve(root / "b", port_b)
        report["latency"] = latency_bench(root / "a", root / "b", a_base, b_base,
                                          args.reactions)
    finally:
        for process in (a, b):
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(report, indent=2))


def ingest_main(sizes: list[int]) -> list[dict[str, Any]]:
    """Ingest peer documents of growing size while reading local resources."""
    from ddsnode.federation.peers import read_description
    from tests.support.fake_peer import running_fake_peer
    from tests.support.inprocess import local_node
    context = "https://w3id.org/dds/context/v1"
    rows: list[dict[str, Any]] = []
    root = Path(tempfile.mkdtemp(prefix="ddsnode-bench-ingest-"))
    try:
        with running_fake_peer() as fake, local_node(root, settings={
                "peer_poll_seconds": 600.0, "peer_max_document_bytes": 64 * 1024 * 1024}) as node:
            fed = Federation.for_node(node.app.node)  # type: ignore[attr-defined]
            fed.peers.allow(fake.base)
            fed.peers.save(read_description(fake.description(), "text/turtle", fake.base))
            local, body = node.example("a-proposal-school-streets")
            with node.client() as http:
                assert http.put(local, content=body, headers={
                    **node.auth(), "Content-Type": "application/ld+json"}).status_code == 201
                previous = None
                for n in sizes:
                    iri = f"{fake.base}proposals/ingest-{n}"
                    doc = {"@context": context, "@graph": [
                        {"id": iri, "type": "Proposal", "title": {"en": "Large"},
                         "state": "evaluating", "created": "2026-03-12T07:58:30Z"},
                        *({"id": f"{iri}#part-{i}", "title": {"en": f"part {i}"}}
                          for i in range(n))]}
                    data = json.dumps(doc).encode()
                    fake.serve(f"/proposals/ingest-{n}", data)
                    started = time.perf_counter()
                    job = asyncio.run_coroutine_threadsafe(
                        fed.cache.fetch(iri, revalidate=True, learned=True), node.loop)
                    reads: list[float] = []
                    while not job.done():
                        begun = time.perf_counter()
                        assert http.get(local, headers={"Accept": "text/turtle"}
                                        ).status_code == 200
                        reads.append(time.perf_counter() - begun)
                    try:
                        job.result()
                    except Exception:  # noqa: BLE001, S110 — quarantined is fine here
                        pass
                    took = time.perf_counter() - started
                    rows.append({"n": n, "kib": len(data) // 1024, "ingest_s": round(took, 2),
                                 "ratio": round(took / previous, 2) if previous else None,
                                 "reads": len(reads),
                                 "slowest_read_ms": round(max(reads, default=0) * 1000, 1)})
                    previous = took
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def follow_main(trials: int, refused: bool) -> dict[str, Any]:
    """Serve two fresh nodes (poll 600 s: only pushes count) and run :func:`follow_bench`."""
    root = Path(tempfile.mkdtemp(prefix="ddsnode-bench-follow-",
                                 dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    port_a, port_b = free_port(), free_port()
    a_base, b_base = f"http://127.0.0.1:{port_a}/", f"http://127.0.0.1:{port_b}/"
    processes = []
    try:
        for name, base in (("a", a_base), ("b", b_base)):
            init_node(root / name, base_url=base, name=f"bench {name.upper()}",
                      extra={"peer_poll_seconds": 600.0})
        processes = [_serve(root / "a", port_a), _serve(root / "b", port_b)]
        return follow_bench(root / "a", root / "b", a_base, b_base, trials, refused)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
