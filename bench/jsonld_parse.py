"""How the cost of parsing a JSON-LD body grows with the length of one array, and what
cutting the shared context to a document's terms saves on a typical write.

    .venv/bin/python bench/jsonld_parse.py [--sizes 1000,2000,4000,8000,16000]
                                           [--before-budget 60] [--typical-runs 200]

The body is a proposal of the examples whose ``source`` (``dct:source``, an IRI-valued
term of the shared context) holds n values — the shape of issue 9 item 1 (n = 1,000 … 8,000 took 1.8 … 64 s on the write thread).

* before: pyld's ``to_rdf`` with the bundled-context loader, as ddsnode parsed JSON-LD
  until this change (quadratic in n: it compares every new value with the ones already
  in the array, JSON-LD 1.1 API 7.x "add value" on a set);
* after: :func:`ddsnode.rdf.jsonld.parse_document` (pyoxigraph's JSON-LD parser, the
  context inlined, the result in an rdflib graph and its terms checked).

Prints n, time ("after": the best of three runs) and the ratio of each time to the previous size's (2.0 per doubling is
linear, 4.0 quadratic). "before" stops once a size would exceed ``--before-budget``
seconds of the whole run (quadratic: 16,000 values take minutes).

Then typical bodies — the proposal example as a client POSTs it, and a tally — parsed by
:func:`ddsnode.rdf.jsonld.parse_document` the whole way (``cut_context=False``: the
351 terms of the shared context inline) and the cut way (the default,
:mod:`ddsnode.rdf.context_cut`), the two interleaved in the same run; prints the median
of each and the ratio cut / whole. A script, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def typical() -> dict[str, tuple[bytes, str]]:
    """name -> (body, base) of the writes the node takes most: a proposal and a tally."""
    proposal = (resources.examples_dir() / "a-proposal-school-streets.jsonld").read_bytes()
    contest = "http://127.0.0.1:8000/elections/c"
    tally = {"@context": resources.CONTEXT_IRI, "type": "ContestResult", "contest": contest,
             "reportingUnit": "http://127.0.0.1:8000/places/s1", "ballotsCast": 100,
             "blankBallots": 3, "voteCounts": [
                 {"type": "VoteCount", "selection": f"{contest}#{s}", "countType": "total",
                  "count": n} for s, n in (("yes", 40), ("no", 30))]}
    return {"proposal POST": (proposal, json.loads(proposal)["id"]),
            "tally": (json.dumps(tally).encode(), "http://127.0.0.1:8000/intake/")}


def compare(runs: int) -> None:
    """The whole context against the cut one on typical bodies, interleaved."""
    print(f"\n{'body':<14} {'whole ms':>9} {'cut ms':>8} {'cut/whole':>9} {'triples':>8}"
          f"   (median of {runs}; load average {os.getloadavg()[0]:.2f})")
    for name, (data, base) in typical().items():
        whole_nt = jsonld.parse_document(data, base, cut_context=False).serialize(format="nt")
        cut_nt = jsonld.parse_document(data, base).serialize(format="nt")
        assert sorted(whole_nt.splitlines()) == sorted(cut_nt.splitlines())
        whole: list[float] = []
        cut: list[float] = []
        for _ in range(runs):  # interleaved: both ways see the same moments of the machine
            start = time.perf_counter()
            jsonld.parse_document(data, base, cut_context=False)
            whole.append(time.perf_counter() - start)
            start = time.perf_counter()
            jsonld.parse_document(data, base)
            cut.append(time.perf_counter() - start)
        w, c = statistics.median(whole) * 1e3, statistics.median(cut) * 1e3
        print(f"{name:<14} {w:9.3f} {c:8.3f} {c / w:9.2f} {len(whole_nt.splitlines()):>8}",
              flush=True)


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,2000,4000,8000,16000")
    parser.add_argument("--before-budget", type=float, default=60.0,
                        help="seconds of pyld in all, at most (quadratic sizes skipped)")
    parser.add_argument("--typical-runs", type=int, default=200,
                        help="parses of each typical body each way (0: skip)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        print(f"{'n':>7} {'before s':>10} {'ratio':>6} {'after s':>10} {'ratio':>6} "
              f"{'triples':>8}")
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
    if args.typical_runs > 0:
        compare(args.typical_runs)


if __name__ == "__main__":
    main()
