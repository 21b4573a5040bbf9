"""How long reads of a small resource take while a large one is rendered for the first time.

    .venv/bin/python bench/render_cost.py [--before REV] [--readers 4]

One node in this process (the ASGI app served on its own event loop, as uvicorn would,
driven through ``tests/support/inprocess``). A large resource is PUT in Turtle, then
one client asks for it in the slow media types (JSON-LD, expanded JSON-LD, HTML) — each a
first render — retrying on 503 as Retry-After says, while ``--readers`` clients read a
small, already rendered resource in a loop. Prints, per shape of large resource, how long
the renders took and the small reads' p50/p99/max (issue 9, item 3: before, a first
render ran on the event loop and every other request waited for it); then how the
JSON-LD render of an RDF list grows with its length (quadratic before, linear after).

``--before REV`` runs the same on the tree of git revision REV (``git archive`` into a
temporary directory) first, for a before/after table. A script, never a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
EX = "http://example.org/"
SLOW_OFFERS = ("application/ld+json",
               'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"',
               "text/html")


def shapes() -> list[tuple[str, bytes]]:
    """(name, Turtle) of the large resources: 1 MB of subjects, and an RDF list."""
    typical = "".join(f'<#n{i}> <{EX}p{i % 7}> "value number {i} with some text" .\n'
                      for i in range(11_500))
    items = " ".join(f'"item {i} of a long list"' for i in range(2_500))
    return [("1 MB, 11,500 triples", typical.encode()),
            ("RDF list, 2,500 items", f"<#it> <{EX}list> ({items}) .\n".encode())]


def run(tree: Path, readers: int) -> list[tuple[str, float, int, float, float, float]]:
    """Rows (shape, render seconds, small reads, p50 ms, p99 ms, max ms) on ``tree``."""
    sys.path.insert(0, str(tree))
    from tests.support.inprocess import local_node

    rows = []
    for n, (name, body) in enumerate(shapes()):
        with tempfile.TemporaryDirectory() as tmp, \
                local_node(Path(tmp), settings={"open_containers": "open/"}) as node, \
                node.client() as http:
            assert http.put("open/small", content=f'<#it> <{EX}t> "small" .'.encode(),
                            headers={"Content-Type": "text/turtle"}).status_code == 201
            assert http.put(f"open/big{n}", content=body,
                            headers={"Content-Type": "text/turtle"}).status_code == 201
            assert http.get("open/small",
                            headers={"Accept": "application/ld+json"}).status_code == 200
            done = threading.Event()
            latencies: list[float] = []
            lock = threading.Lock()

            def read_small(done: threading.Event = done, lock: threading.Lock = lock,
                           latencies: list[float] = latencies) -> None:
                with node.client() as mine:
                    while not done.is_set():
                        started = time.perf_counter()
                        r = mine.get("open/small", headers={"Accept": "application/ld+json"})
                        took = time.perf_counter() - started
                        assert r.status_code == 200
                        with lock:
                            latencies.append(took)

            threads = [threading.Thread(target=read_small) for _ in range(readers)]
            for t in threads:
                t.start()
            time.sleep(0.2)
            started = time.perf_counter()
            for accept in SLOW_OFFERS:
                while True:
                    r = http.get(f"open/big{n}", headers={"Accept": accept})
                    if r.status_code != 503:
                        assert r.status_code == 200, r.text[:200]
                        break
                    time.sleep(0.2)
            render = time.perf_counter() - started
            time.sleep(0.2)
            done.set()
            for t in threads:
                t.join()
            ms = sorted(x * 1000 for x in latencies)
            p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
            rows.append((name, render, len(ms), statistics.median(ms), p99, ms[-1]))
    return rows


def growth(tree: Path) -> list[tuple[int, float]]:
    """(items, seconds) of the JSON-LD render of an RDF list of growing length on ``tree``
    (the fallback through pyld: its N-Quads step was quadratic)."""
    sys.path.insert(0, str(tree))
    import rdflib

    from ddsnode.ldp import representation

    rows = []
    for n in (500, 1000, 2000, 4000):
        items = " ".join(f'"item {i} of a long list"' for i in range(n))
        graph = rdflib.Graph().parse(data=f"<#it> <{EX}list> ({items}) .", format="turtle",
                                     publicID="http://n/open/big")
        started = time.perf_counter()
        representation.render(graph, "http://n/open/big", SLOW_OFFERS[0])
        rows.append((n, time.perf_counter() - started))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision to measure first (before the change)")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # internal: measure this tree
    args = parser.parse_args()
    if args.tree:
        for row in run(Path(args.tree), args.readers):
            print("\t".join(str(v) for v in row))
        for n, seconds in growth(Path(args.tree)):
            print(f"growth\t{n}\t{seconds}")
        return
    results: list[tuple[str, list[list[str]]]] = []
    trees: list[tuple[str, Path]] = [("after", HERE.parent)]
    scratch = tempfile.TemporaryDirectory()
    if args.before:
        archive = subprocess.run(["git", "archive", args.before], cwd=HERE.parent,
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(scratch.name, filter="data")
        trees.insert(0, (f"before ({args.before})", Path(scratch.name)))
    for label, tree in trees:
        out = subprocess.run([sys.executable, __file__, "--tree", str(tree),
                              "--readers", str(args.readers)], check=True,
                             capture_output=True, text=True, cwd=tree).stdout
        results.append((label, [line.split("\t") for line in out.splitlines() if line]))
    print(f"{'tree':<22} {'large resource':<24} {'renders s':>9} {'reads':>6} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for label, rows in results:
        for name, render, count, p50, p99, top in (r for r in rows if r[0] != "growth"):
            print(f"{label:<22} {name:<24} {float(render):>9.2f} {int(count):>6} "
                  f"{float(p50):>8.1f} {float(p99):>8.1f} {float(top):>8.1f}")
    print(f"\n{'tree':<22} {'RDF list items':>14} {'JSON-LD s':>10} {'ratio':>6}")
    for label, rows in results:
        previous = None
        for _, n, seconds in (r for r in rows if r[0] == "growth"):
            ratio = f"{float(seconds) / previous:.1f}" if previous else ""
            print(f"{label:<22} {int(n):>14} {float(seconds):>10.3f} {ratio:>6}")
            previous = float(seconds)
    scratch.cleanup()


if __name__ == "__main__":
    main()
