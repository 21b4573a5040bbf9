"""Container paging on the embedded store: 100,000 items in one container.

Fills a fresh store (in a temporary directory unless --dir is given), then times
``children()`` (first page, a deep page by cursor, every filter), ``count_children()``
and ``get()``, and prints p50/p99 in milliseconds. With --compare-oxigraph it also times
the same first page as a SPARQL ``ORDER BY DESC(?seq) LIMIT`` in pyoxigraph, the numbers
docs/storage.md quotes. A script, never a test threshold::

    .venv/bin/python bench/store_paging.py [--items 100000] [--runs 300] [--compare-oxigraph]
                                           [--sparql]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ddsnode.store.base import Filters, IndexFields, Representation, StoredResource, encode_cursor
from ddsnode.store.embedded import EmbeddedStore

ROOT = "http://bench.test/"
C = ROOT + "proposals/"
DDS = "https://w3id.org/dds/ns#"
TYPES = [DDS + t for t in ("Proposal", "Comment", "Meeting", "Petition", "Survey", "Vote",
                           "Debate", "Result", "Decision", "Budget")]
STATES = ["open", "accepted", "rejected", "evaluating", "withdrawn"]
WORDS = ["bike", "lane", "tram", "bus", "housing", "school", "park", "tree", "water", "energy", "solar", "budget", "library", "street", "square", "market", "noise", "safety", "night", "festival"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def item(i: int, rng: random.Random) -> StoredResource:
    """A small proposal-like resource with every index field set."""
    iri = f"{C}p{i}"
    title = " ".join(rng.sample(WORDS, 3))
    nt = (f'<{iri}> <http://purl.org/dc/terms/title> "{title}"@en .\n'
          f'<{iri}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TYPES[i % 10]}> .\n')
    at = T0 + timedelta(minutes=i)
    return StoredResource(
        iri=iri, container=C, kind="rdf", ntriples=nt,
        representations={"application/n-triples": Representation(
            "application/n-triples", nt.encode(), f'"{i}"')},
        created=at, modified=at,
        index=IndexFields(types=(TYPES[i % 10],), topics=(f"t:{i % 20}",),
                          states=(STATES[i % 5],), areas=(f"A{i % 50}",),
                          platform=f"https://platform{i % 3}.example/",
                          lat=rng.uniform(35, 70), long=rng.uniform(-10, 30),
                          date=(T0 + timedelta(hours=i % 8760)).date().isoformat(),
                          title=title, text=title + f" tag{i % 1000}"))


def fill(store: EmbeddedStore, n: int) -> None:
    """Write the root, the container and ``n`` items in batches of 5,000."""
    now = datetime.now(UTC)
    store.put(StoredResource(ROOT, None, "container", "", {}, now, now))
    store.put(StoredResource(C, ROOT, "container", "", {}, now, now))
    rng = random.Random(1)
    for start in range(0, n, 5000):
        store.put_many(item(i, rng) for i in range(start, min(n, start + 5000)))


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(p50, p99) of ``fn`` in ms after a few warm-up calls."""
    for _ in range(5):
        fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def oxigraph_page(n: int, runs: int) -> list[tuple[str, float, float]]:
    """The same first/deep page as SPARQL over pyoxigraph (in memory, n items)."""
    import pyoxigraph as ox
    store = ox.Store()
    d = "urn:ddsnode:"
    quads = []
    for i in range(n):
        s = ox.NamedNode(f"{C}p{i}")
        quads += [ox.Quad(s, ox.NamedNode(d + "container"), ox.NamedNode(C)),
                  ox.Quad(s, ox.NamedNode(d + "seq"), ox.Literal(str(i + 3), datatype=ox.NamedNode(
                      "http://www.w3.org/2001/XMLSchema#integer"))),
                  ox.Quad(s, ox.NamedNode(d + "state"), ox.Literal(STATES[i % 5]))]
    store.bulk_extend(quads)
    first = (f"SELECT ?s ?seq {{ ?s <{d}container> <{C}> ; <{d}seq> ?seq }} "
             "ORDER BY DESC(?seq) LIMIT 51")
    deep = (f"SELECT ?s ?seq {{ ?s <{d}container> <{C}> ; <{d}seq> ?seq FILTER(?seq < 10000) }} "
            "ORDER BY DESC(?seq) LIMIT 51")
    state = (f"SELECT ?s ?seq {{ ?s <{d}container> <{C}> ; <{d}seq> ?seq ; <{d}state> \"open\" }} "
             "ORDER BY DESC(?seq) LIMIT 51")
    def page(query: str) -> Callable[[], object]:
        return lambda: list(store.query(query))  # type: ignore[arg-type]

    return [(f"pyoxigraph {name}", *timed(page(q), max(runs // 10, 10)))
            for name, q in (("first page", first), ("deep page", deep), ("state filter", state))]


def sparql_pages(n: int, runs: int) -> list[tuple[str, float, float]]:
    """The SPARQL backend's pages against ``oxigraph serve`` holding ``n`` items (loaded
    directly into its directory in the backend's layout; writing them through ``put``
    would take 8 ms each)."""
    import gc

    import pyoxigraph as ox

    from ddsnode.store.embedded import index_to_json
    from ddsnode.store.sparql import BUCKET, SparqlStore
    from ddsnode.store.sparql_layout import NS
    from tests.support.sparql_server import SparqlServer

    meta = ox.NamedNode(NS + "meta")
    xint = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

    def p(name: str) -> ox.NamedNode:
        return ox.NamedNode(NS + name)

    with tempfile.TemporaryDirectory() as tmp:
        location = Path(tmp) / "oxigraph"
        store = ox.Store(str(location))
        rng = random.Random(1)
        quads = []
        for i in range(n):
            r, seq = item(i, rng), i + 3
            s = ox.NamedNode(r.iri)
            quads += [ox.Quad(s, p("container"), ox.NamedNode(C), meta),
                      ox.Quad(s, p("kind"), ox.Literal("rdf"), meta),
                      ox.Quad(s, p("seq"), ox.Literal(str(seq), datatype=xint), meta),
                      ox.Quad(s, p("bucket"), ox.Literal(str(seq // BUCKET), datatype=xint),
                              meta),
                      ox.Quad(s, p("modified"), ox.Literal(r.modified.isoformat()), meta),
                      ox.Quad(s, p("index"), ox.Literal(index_to_json(r.index)), meta),
                      ox.Quad(s, p("state"), ox.Literal(r.index.states[0]), meta)]
        quads.append(ox.Quad(p("counter"), p("next"), ox.Literal(str(n + 2), datatype=xint),
                             meta))
        store.bulk_extend(quads)
        store.flush()
        del store
        gc.collect()  # release RocksDB's lock before the server opens the directory
        with SparqlServer(location) as server:
            backend = SparqlStore(server.query_url, server.update_url)
            deep = encode_cursor("s", 3 + n // 10)
            cases = [("sparql first page", lambda: backend.children(C, limit=50)),
                     ("sparql deep page", lambda: backend.children(C, after=deep, limit=50)),
                     ("sparql state filter", lambda: backend.children(
                         C, limit=50, filters=Filters(state="open")))]
            rows = [(name, *timed(fn, max(runs // 5, 20))) for name, fn in cases]
            backend.close()
    return rows


def main() -> None:
    """Fill, time, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--dir", type=Path, help="store directory (default: a temporary one)")
    parser.add_argument("--compare-oxigraph", action="store_true")
    parser.add_argument("--sparql", action="store_true",
                        help="also time the SPARQL backend against oxigraph serve")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp) / "node"
        store = EmbeddedStore(directory)
        if store.count_children(C) < args.items:
            t = time.perf_counter()
            fill(store, args.items)
            print(f"filled {args.items} items in {time.perf_counter() - t:.1f} s "
                  f"({(directory / 'store.sqlite3').stat().st_size / 1e6:.0f} MB)")
        deep = encode_cursor("s", 3 + args.items // 10)  # ~90% of the way down
        rng = random.Random(2)
        cases: list[tuple[str, Callable[[], object]]] = [
            ("first page (50)", lambda: store.children(C, limit=50)),
            ("deep page via cursor", lambda: store.children(C, after=deep, limit=50)),
            ("next page of a random cursor", lambda: store.children(
                C, after=encode_cursor("s", rng.randrange(3, args.items)), limit=50)),
            ("type filter (10%)", lambda: store.children(C, limit=50,
                                                         filters=Filters(type=TYPES[3]))),
            ("state filter, deep", lambda: store.children(C, after=deep, limit=50,
                                                          filters=Filters(state="open"))),
            ("topic+state+area (0.2%)", lambda: store.children(C, limit=50, filters=Filters(
                topic="t:3", state="evaluating", area="A3"))),
            ("bbox (small box)", lambda: store.children(C, limit=50, filters=Filters(
                bbox=(10.0, 50.0, 12.0, 52.0)))),
            ("date range (one month)", lambda: store.children(C, limit=50, filters=Filters(
                date_from="2025-06-01", date_to="2025-06-30"))),
            ("full text (one word)", lambda: store.children(C, limit=50,
                                                            filters=Filters(text="tram"))),
            ("full text (rare: 0.1%)", lambda: store.children(C, limit=50,
                                                              filters=Filters(text="tag42"))),
            ("count_children", lambda: store.count_children(C)),
            ("get by IRI", lambda: store.get(f"{C}p{rng.randrange(args.items)}")),
        ]
        rows = [(name, *timed(fn, args.runs)) for name, fn in cases]
        if args.compare_oxigraph:
            rows += oxigraph_page(args.items, args.runs)
        if args.sparql:
            rows += sparql_pages(args.items, args.runs)
        store.close()
    width = max(len(r[0]) for r in rows)
    print(f"\n{'operation'.ljust(width)}  {'p50 ms':>8}  {'p99 ms':>8}")
    for name, p50, p99 in rows:
        print(f"{name.ljust(width)}  {p50:8.2f}  {p99:8.2f}")


if __name__ == "__main__":
    main()
