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

from ddsnode import representation, resources
from ddsnode.commands.node import init_node
from ddsnode.federation import Federation
from ddsnode.jsonld import parse_rdf
from ddsnode.node import Node
from ddsnode.outbound import FetchResult, OutboundClient
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
