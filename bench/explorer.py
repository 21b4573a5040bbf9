"""Benchmark of the explorer (issue 12): search-with-facets pages and resource pages.

    .venv/bin/python bench/explorer.py [--size 10000] [--duration 10] [--connections 16]
                                       [--node DIR] [--only resource,search] [--stalls]

Builds a node from the real Decidim export (``../shared/data/decidim-nightly``, imported
through ``ddsnode import decidim``'s validated path), then grows it to ``--size``
contributions by cloning the imported records under new IRIs (``bench/fill.py``'s way:
the pages read do not depend on how the rows got there); ``--peer-share`` of them go
into the peer cache instead, as a peer's cached copies. It builds the explorer's search
index (timed), serves the node, and drives with wrk at ``--connections``:

* search pages with facets (HTML): about 1,700 URLs (each a word of the index, a kind and
  one of 20 page sizes: after the first few seconds, page-cache hits that share result
  sets); URLs never asked before (one or two words, a kind, maybe a topic, a page size:
  200,000 of them, so that almost every request renders its page and most count their
  facets anew); then ten popular ones, served from the page cache;
* the same query as JSON-LD;
* resource pages (HTML), rotating over 200 proposals;
* the bare-stack ceiling of the same run (bench/bare_app.py: a fixed 2 KB JSON body).

It prints req/s, p50, p95 and p99 and each req/s as a fraction of the ceiling;
``--connections 8,16,64`` repeats every scenario and the ceiling at each, ``--stalls``
serves the node through ``bench/stalls.py`` and prints, per scenario, where the tail
comes from (``docs/explorer.md``, Tails). With
``--cost`` it instead serves the node's app in this process and prints the CPU time
(``time.process_time``: every thread of the process) per request of each kind, hits and
misses apart: a figure the load other processes put on the machine distorts far less
than latency. A script, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.run import PY, Servers, ensure_wrk, free_port, wait_http
from bench.stalls import print_report, request_report

NIGHTLY = ROOT.parent / "shared" / "data" / "decidim-nightly"
DDS = "https://w3id.org/dds/ns#"


def grow(node_dir: Path, base: str, size: int, peer_share: float) -> dict[str, int]:
    """Clone the imported contributions until the node holds ``size`` of them."""
    from bench.fill import _clone
    from ddsnode.federation.database import FederationDB
    from ddsnode.ldp.node import Node
    from ddsnode.settings import Settings
    from ddsnode.store.embedded import EmbeddedStore

    node = Node.open(Settings.load(node_dir))
    try:
        store = node.store
        assert isinstance(store, EmbeddedStore)
        rows = store._conn().execute(
            "SELECT iri FROM resources WHERE kind = 'rdf' ORDER BY seq").fetchall()
        templates = [r for r in (store.get(row[0]) for row in rows) if r is not None]
        own = len(templates)
        target_peer = int(size * peer_share)
        target_own = size - target_peer
        batch: list = []
        made = 0
        while own + made < target_own:
            template = templates[made % len(templates)]
            new = f"{template.iri}-c{made}"
            batch.append(_clone(template, template.iri, new))
            made += 1
            if len(batch) >= 5000:
                store.put_many(batch)
                batch = []
        if batch:
            store.put_many(batch)
        # A peer's copies: the same records under the peer's IRIs, as the cache keeps them.
        peer = "https://peer.example"
        db = FederationDB(node_dir).connect()
        with db:
            for i in range(target_peer):
                template = templates[i % len(templates)]
                iri = peer + "/" + template.iri[len(base):] + f"-p{i}"
                fields = template.index
                db.execute(
                    "INSERT OR REPLACE INTO cache (iri, origin, fetched_from, status, "
                    "max_age, fetched_at, ntriples, types, title, text) VALUES "
                    "(?, ?, ?, 'valid', 60, ?, ?, ?, ?, ?)",
                    (iri, peer + ":443", iri, time.time(),
                     template.ntriples.replace(template.iri, iri),
                     " " + " ".join(fields.types) + " ", fields.title, fields.text[:8192]))
        return {"imported": own, "cloned": made, "peer": target_peer}
    finally:
        node.close()


def build_index(node_dir: Path) -> float:
    """Build the explorer's index from scratch; seconds taken."""
    from ddsnode.explorer.search import SearchIndex
    from ddsnode.ldp.node import Node
    from ddsnode.settings import Settings

    node = Node.open(Settings.load(node_dir))
    try:
        started = time.perf_counter()
        SearchIndex(node_dir, node.store, node.base, node.containers).sync()
        return time.perf_counter() - started
    finally:
        node.close()


def wrk(url: str, paths: list[str], accept: str, duration: int,
        connections: int) -> dict[str, float]:
    """req/s, p50, p95, p99 (ms) of wrk rotating over ``paths`` of ``url``."""
    with tempfile.NamedTemporaryFile("w", suffix=".paths") as listing:
        listing.write("\n".join(paths) + "\n")
        listing.flush()
        out = subprocess.run(
            [ensure_wrk(), "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
             "--latency", "-s", str(HERE / "wrk" / "explore.lua"), url],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PATHS_FILE": listing.name, "ACCEPT": accept}).stdout
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def ms(pattern: str) -> float:
        m = re.search(pattern, out)
        return float(m.group(1)) * unit[m.group(2)] if m else float("nan")

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50": ms(r"\s50%\s+([\d.]+)(us|ms|s)"), "p95": ms(r"p95 ([\d.]+)(ms)"),
            "p99": ms(r"p99 ([\d.]+)(ms)"), "errors": int(bad.group(1)) if bad else 0}


def never_asked(vocabulary: list[str], kinds: list[str], topics: list[str],
                count: int) -> list[str]:
    """``count`` different search URLs (one or two words, a kind, a topic one time in
    three, a page size), in a fixed random order."""
    pick = random.Random(7)
    out: set[str] = set()
    while len(out) < count and vocabulary and kinds:
        words = pick.sample(vocabulary, pick.choice((1, 2)))
        params = [("q", " ".join(words)), ("kind", pick.choice(kinds))]
        if topics and pick.random() < 1 / 3:
            params.append(("topic", pick.choice(topics)))
        out.add("/explore?" + urlencode(params + [("size", str(pick.randrange(5, 40)))]))
    return sorted(out, key=lambda _: pick.random())


async def asgi_get(app: Any, path: str, accept: str = "text/html",
                   server: tuple[str, int] = ("127.0.0.1", 80)) -> bytes:
    """The body of ``GET path`` (a query after ``?``) from ``app`` in this process; the
    status must be 200. ``server`` is the host and port the request names."""
    path, _, query = path.partition("?")
    host = server[0] if server[1] == 80 else f"{server[0]}:{server[1]}"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 1),
             "headers": [(b"host", host.encode()), (b"accept", accept.encode())],
             "server": server}
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        else:
            out["body"] += message.get("body", b"")
    await app(scope, receive, send)
    assert out["status"] == 200, (path, out["status"])
    return bytes(out["body"])


def serve_node(servers: Servers, node_dir: Path, port: int, stalls: bool,
               ) -> tuple[subprocess.Popen[bytes], Path]:
    """``ddsnode serve`` on ``node_dir`` (through bench/stalls.py with ``stalls``), up
    and answering; the process and the file the stall instruments report to."""
    report = servers.tmp / "stalls.json"
    command = [PY, str(HERE / "stalls.py"), str(node_dir), "--port", str(port), "--report",
               str(report)] if stalls else \
        [PY, "-m", "ddsnode", "serve", str(node_dir), "--port", str(port)]
    server = subprocess.Popen(command, env={**os.environ, "DDS_LOG_LEVEL": "warning"})
    servers.procs.append(server)
    wait_http(f"http://127.0.0.1:{port}/", timeout=600)
    return server, report


def cost(node_dir: Path, rounds: int) -> None:
    """CPU ms per request (all threads), the node's app driven in this process."""
    from ddsnode.http.app import create_app
    from ddsnode.settings import Settings

    settings = Settings.load(node_dir)
    base = settings.base_url
    app = create_app(settings)

    async def get(path: str, accept: str = "text/html") -> bytes:
        return await asgi_get(app, path, accept)

    async def measure(name: str, paths: list[str], accept: str = "text/html") -> None:
        started, clock = time.process_time(), time.perf_counter()
        for path in paths:
            await get(path, accept)
        spent, wall = time.process_time() - started, time.perf_counter() - clock
        print(f"{name:44} {len(paths):6} {1000 * spent / len(paths):9.3f} "
              f"{1000 * wall / len(paths):9.3f}")

    async def main() -> None:
        data = json.loads(await get("/explore", "application/ld+json"))  # catch up
        kinds = [k for k, _ in sorted(data["facetCounts"]["kind"].items(),
                                      key=lambda kv: -kv[1])][:4]
        topics = list(data["facetCounts"].get("topic", {}))[:3]
        listing = json.loads(await get("/explore?" + urlencode(
            {"kind": DDS + "Proposal", "size": "100"}), "application/ld+json"))
        pages = ["/" + m["id"][len(base):] for m in listing["hydra:member"]
                 if m["id"].startswith(base)][:rounds]
        # simplemma loads each language's dictionary at its first use (about 10 s for the
        # four): a word none of them knows loads them all before anything is measured.
        await get("/explore?q=zzqxwv")
        with sqlite3.connect(node_dir / "explorer.sqlite3") as db:
            vocabulary = [r[0] for r in db.execute(
                "SELECT word FROM vocab WHERE length(word) > 4 ORDER BY word LIMIT 4000")]
        fresh: list[str] = []
        other: list[str] = []
        for n, path in enumerate(never_asked(vocabulary, kinds, topics, 2 * rounds)):
            (fresh if n % 2 else other).append(path)
        print(f"{'request':44} {'n':>6} {'cpu ms':>9} {'wall ms':>9}")
        await measure("resource page, first render", pages)
        await measure("resource page, again (page cache)", pages * 5)
        await measure("search, never the same URL (HTML)", fresh)
        await measure("search, again (page cache, HTML)", fresh * 5)
        await measure("search, never the same URL (JSON-LD)",
                      other, "application/ld+json")
        await measure("home page, again", ["/"] * rounds)

    asyncio.run(main())
    app.assembly.close()  # type: ignore[attr-defined]


def print_table(rows: list[tuple[str, dict[str, float]]], width: int) -> None:
    """The wrk rows, each with its share of the last row's req/s (the ceiling of the run)."""
    top = rows[-1][1]["rps"]
    print(f"{'scenario':{width}} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'of ceiling':>10} {'errors':>6}")
    for name, r in rows:
        print(f"{name:{width}} {r['rps']:9.0f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
              f"{r['rps'] / top:10.3f} {r['errors']:6.0f}")


def load_options(ap: argparse.ArgumentParser, connections: str, words: str) -> None:
    """``--connections``, ``--only`` and ``--stalls``, as every load benchmark takes them."""
    ap.add_argument("--connections", default=connections,
                    help="wrk connections; several separated by commas (8,16,64): every "
                         "scenario and the ceiling at each")
    ap.add_argument("--only", default="",
                    help="run only the scenarios whose name contains one of these words "
                         f"(comma-separated: {words}); the ceiling always")
    ap.add_argument("--stalls", action="store_true",
                    help="serve through bench/stalls.py and print, per scenario, the "
                         "event-loop lag, collections, handler time and stall stacks")


def run_concurrencies(scenarios: list[tuple[str, str, list[str], str]],
                      bare: tuple[str, str, list[str], str], connections: str, duration: int,
                      stalls: tuple[int, Path] | None, width: int,
                      ) -> dict[str, dict[str, dict[str, float]]]:
    """Every scenario and then the bare ceiling at each of the comma-separated
    ``connections``, a table printed per concurrency; with ``stalls`` (the server's pid
    and report file), the node's own instruments printed after each scenario."""
    every: dict[str, dict[str, dict[str, float]]] = {}
    for count in (int(c) for c in connections.split(",")):
        rows = []
        for name, url, paths, accept in [*scenarios, bare]:
            if stalls and name != bare[0]:
                request_report(*stalls)  # a fresh start of the instruments
            rows.append((name, wrk(url, paths, accept, duration, count)))
            if stalls and name != bare[0]:
                print_report(name, request_report(*stalls))
        print(f"\n{count} connections (load average "
              f"{', '.join(f'{x:.2f}' for x in os.getloadavg())})\n")
        print_table(rows, width)
        every[str(count)] = dict(rows)
    return every


def main() -> int:
    """Build, serve, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--peer-share", type=float, default=0.1)
    ap.add_argument("--duration", type=int, default=10)
    load_options(ap, "16", "search,resource,JSON-LD")
    ap.add_argument("--node", type=Path, metavar="DIR",
                    help="build the node here and keep it; reuse it when it exists")
    ap.add_argument("--cost", type=int, metavar="N", default=0,
                    help="print CPU ms per request over N requests of each kind, in this "
                         "process, instead of driving a server with wrk")
    args = ap.parse_args()
    servers = Servers()
    try:
        node_dir = args.node or servers.tmp / "node"
        if node_dir.exists():
            from ddsnode.settings import Settings
            base = Settings.load(node_dir).base_url
            port = int(base.rsplit(":", 1)[1].strip("/"))
            counts, imported_s, index_s = json.loads((node_dir / "bench.json").read_text())
        else:
            port = free_port()
            base = f"http://127.0.0.1:{port}/"
            subprocess.run([PY, "-m", "ddsnode", "init", str(node_dir), "--base-url", base],
                           check=True, stdout=subprocess.DEVNULL)
            started = time.perf_counter()
            subprocess.run([PY, "-m", "ddsnode", "import", "decidim", str(node_dir),
                            str(NIGHTLY)], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            imported_s = time.perf_counter() - started
            counts = grow(node_dir, base, args.size, args.peer_share)
            index_s = build_index(node_dir)
            (node_dir / "bench.json").write_text(json.dumps([counts, imported_s, index_s]))
        if args.cost:
            cost(node_dir, args.cost)
            return 0
        server, report = serve_node(servers, node_dir, port, args.stalls)
        ceiling = servers.start_bare()
        import httpx
        with httpx.Client(timeout=120) as client:
            client.get(base + "explore", headers={"Accept": "text/html"})  # catch up, warm
            data = client.get(base + "explore", headers={"Accept": "application/ld+json"}).json()
            facets = data["facetCounts"]
            members = client.get(base + "explore", params={"kind": DDS + "Proposal",
                                                           "size": "100"},
                                 headers={"Accept": "application/ld+json"}).json()
        kinds = [k for k, _ in sorted(facets.get("kind", {}).items(), key=lambda kv: -kv[1])][:4]
        topics = list(facets.get("topic", {}))[:3]
        words = ["participation", "propuesta", "ciutat", "project", "meeting", "budget"]
        searches = []
        for i, word in enumerate(words):
            params = [("q", word)]
            if kinds:
                params.append(("kind", kinds[i % len(kinds)]))
            if topics and i % 2:
                params.append(("topic", topics[i % len(topics)]))
            searches.append("/explore?" + urlencode(params))
        searches += ["/explore?" + urlencode([("kind", k)]) for k in kinds]
        pages = ["/" + m["id"][len(base):] for m in members["hydra:member"]
                 if m["id"].startswith(base)][:200]
        with httpx.Client(timeout=120) as client:  # every page once: nothing cold measured
            for path in searches + pages:
                for accept in ("text/html", "application/ld+json"):
                    client.get(base + path.lstrip("/"), headers={"Accept": accept})
        # Thousands of different searches (words of the index, each with a kind facet):
        # almost every request misses the page and facet-count caches.
        with sqlite3.connect(node_dir / "explorer.sqlite3") as db:
            vocabulary = [r[0] for r in db.execute(
                "SELECT word FROM vocab WHERE length(word) > 4 ORDER BY word LIMIT 4000")]
        # 20 page sizes x the vocabulary: about 80,000 different URLs, picked at random.
        fresh = ["/explore?" + urlencode([("q", w), ("kind", kinds[i % len(kinds)]),
                                          ("size", str(size))])
                 for i, w in enumerate(vocabulary) for size in range(10, 30)] \
            if kinds else searches
        scenarios = [
            ("search, vocabulary x 20 sizes (HTML)", base, fresh, "text/html"),
            ("search, never the same URL (HTML)", base,
             never_asked(vocabulary, kinds, topics, 200_000), "text/html"),
            ("search + facets (HTML)", base, searches, "text/html"),
            ("search + facets (JSON-LD)", base, searches, "application/ld+json"),
            ("resource page (HTML)", base, pages or ["/"], "text/html"),
        ]
        only = [w for w in args.only.split(",") if w]
        scenarios = [s for s in scenarios if not only or any(w in s[0] for w in only)]
        bare = ("bare-stack ceiling", ceiling.rsplit("/", 1)[0] + "/", ["/x"],
                "application/json")
        total = counts["imported"] + counts["cloned"] + counts["peer"]
        print(f"\nnode: {total} contributions ({counts['imported']} imported from the Decidim "
              f"export in {imported_s:.0f} s, {counts['cloned']} clones, {counts['peer']} "
              f"cached peer copies); index built in {index_s:.1f} s "
              f"({total / index_s:.0f}/s); {args.duration} s each")
        every = run_concurrencies(scenarios, bare, args.connections, args.duration,
                                  (server.pid, report) if args.stalls else None, 38)
        json.dump({"counts": counts, "index_seconds": index_s, "rows": every}, sys.stderr)
        print(file=sys.stderr)
    finally:
        servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
