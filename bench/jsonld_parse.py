"""How the cost of parsing a JSON-LD body grows with the length of one array.

    .venv/bin/python bench/jsonld_parse.py [--sizes 1000,2000,4000,8000,16000]
                                           [--before-budget 60]

The body is a proposal of the examples whose ``source`` (``dct:source``, an IRI-valued
term of the shared context) holds n values — the shape of issue 9 item 1 (n = 1,000 … 8,000 took 1.8 … 64 s on the write thread).

* before: pyld's ``to_rdf`` with the bundled-context loader, as ddsnode parsed JSON-LD
  until this change (quadratic in n: it compares every new value with the ones already
  in the array, JSON-LD 1.1 API 7.x "add value" on a set);
* after: :func:`ddsnode.rdf.jsonld.parse_document` (pyoxigraph's JSON-LD parser, the
  context inlined, the result in an rdflib graph and its terms checked).

Prints n, time ("after": the best of three runs) and the ratio of each time to the previous size's (2.0 per doubling is
linear, 4.0 quadratic). "before" stops once a size would exceed ``--before-budget``
seconds of the whole run (quadratic: 16,000 values take minutes). A script, never a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pyld import jsonld as pyld

from ddsnode import resources
from ddsnode.rdf import jsonld

BASE = "http://127.0.0.1:8000/proposals/"


def body(n: int) -> bytes:
    """A proposal example with an array of ``n`` IRIs under one property."""
    doc: dict[str, Any] = json.loads(
        (resources.examples_dir() / "a-proposal-school-streets.jsonld").read_text("utf-8"))
    doc["source"] = [f"https://example.org/doc/{i}" for i in range(n)]
    return json.dumps(doc).encode("utf-8")


def before(data: bytes) -> int:
    """pyld's toRdf, as ddsnode called it before (the number of triples)."""
    dataset = pyld.to_rdf(json.loads(data), {"documentLoader": jsonld.document_loader,
                                             "base": BASE})
    return len(dataset.get("@default", []))


def after(data: bytes) -> int:
    """The node's parse (the number of triples)."""
    limits = jsonld.JsonLdLimits(max_values=10_000_000)  # measure, do not refuse
    return len(jsonld.parse_document(data, BASE, limits=limits))


def timed(parse: Any, data: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    triples = parse(data)
    return time.perf_counter() - start, triples


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,2000,4000,8000,16000")
    parser.add_argument("--before-budget", type=float, default=60.0,
                        help="seconds of pyld in all, at most (quadratic sizes skipped)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'n':>7} {'before s':>10} {'ratio':>6} {'after s':>10} {'ratio':>6} {'triples':>8}")
    spent, stopped = 0.0, False
    last_before: float | None = None
    last_after: float | None = None
    for n in sizes:
        data = body(n)
        # The best of three (the machine is shared: the least disturbed run is the cost).
        after_s, triples = min(timed(after, data) for _ in range(3))
        before_s: float | None = None
        # pyld is quadratic: a doubling costs about 4x; stop before the budget is spent.
        projected = 4.5 * last_before if last_before is not None else 0.0
        stopped = stopped or spent + projected > args.before_budget
        if not stopped:
            before_s, before_triples = timed(before, data)
            spent += before_s
            assert before_triples == triples, (before_triples, triples)
        b = f"{before_s:10.3f}" if before_s is not None else f"{'skipped':>10}"
        br = f"{before_s / last_before:6.2f}" if before_s and last_before else f"{'':>6}"
        ar = f"{after_s / last_after:6.2f}" if last_after else f"{'':>6}"
        print(f"{n:>7} {b} {br} {after_s:10.3f} {ar} {triples:>8}", flush=True)
        last_before, last_after = before_s, after_s


if __name__ == "__main__":
    main()
