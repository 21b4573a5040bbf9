"""What a tally costs on election night: the incremental totals, and the whole intake.

    .venv/bin/python bench/intake.py [--stations 100000] [--tallies 200]

1. Totals: a country of ``--stations`` polling stations (10 regions × N districts ×
   100 stations, 5 selections) in memory; every station reports once, then 2,000
   corrections. Prints microseconds per tally for the incremental update
   (``intake.totals.Totals.apply``, the station and its ancestors) beside the cost of
   recounting one contest's national total from every station (what an origin that
   recomputes per update does), and their ratio.
2. The intake end to end on a fresh node (300 stations written as places): ``--tallies``
   submissions through ``Desk.submit`` (parse, plausibility, the node's write path with
   the shapes and write hooks, the fsync'd log event) beside the same ContestResults
   written with ``Node.write_document`` alone (the baseline, measured in the same run).
A script, never a test; well under two minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ddsnode.assembly import assemble
from ddsnode.commands.node import init_node
from ddsnode.intake.geography import ContestInfo, Geography, UnitInfo
from ddsnode.intake.submission import Submission
from ddsnode.intake.tally import Tally
from ddsnode.intake.totals import CORRECTION, COUNTED, Totals
from ddsnode.settings import Settings

SELECTIONS = [f"s{i}" for i in range(5)]
BASE = "http://127.0.0.1:8000/"
CTX = "https://w3id.org/dds/context/v1"


def country(stations: int) -> Geography:
    """10 regions, districts of 100 stations."""
    units = {"nation": UnitInfo("nation", "country", False)}
    districts = max(1, stations // 1000)
    n = 0
    for r in range(10):
        units[f"r{r}"] = UnitInfo(f"r{r}", "region", False, parent="nation")
        for d in range(districts):
            units[f"r{r}d{d}"] = UnitInfo(f"r{r}d{d}", "district", False, parent=f"r{r}")
            for s in range(100):
                units[f"st{n}"] = UnitInfo(f"st{n}", "polling-place", True, parent=f"r{r}d{d}")
                n += 1
    return Geography(units, {"c": ContestInfo("c", "e", "nation", 1, frozenset(SELECTIONS))})


def bench_totals(stations: int) -> None:
    geo = country(stations)
    names = sorted(geo.stations_of("c"))
    tallies = {st: Tally("c", st, tuple((sel, "total", (i * 7 + j) % 400)
                                        for j, sel in enumerate(SELECTIONS)), cast=2000)
               for i, st in enumerate(names)}
    totals = Totals(geo)
    start = time.perf_counter()
    for st, t in tallies.items():
        totals.apply(t, COUNTED, "2026-03-15T20:00:00Z")
    first = (time.perf_counter() - start) / len(tallies)
    start = time.perf_counter()
    for i in range(2000):
        st = names[(i * 7919) % len(names)]
        totals.apply(Tally("c", st, tuple((sel, "total", i % 300) for sel in SELECTIONS)),
                     CORRECTION, "2026-03-15T21:00:00Z")
    again = (time.perf_counter() - start) / 2000
    start = time.perf_counter()
    recount: dict[str, int] = {}
    for t in tallies.values():
        for sel, votes in t.totals().items():
            recount[sel] = recount.get(sel, 0) + votes
    full = time.perf_counter() - start
    print(f"totals, {len(names):,} stations, depth {len(geo.ancestors(names[0]))}:")
    print(f"  incremental, first reports   {first * 1e6:9.1f} µs/tally")
    print(f"  incremental, corrections     {again * 1e6:9.1f} µs/tally")
    print(f"  recount of the national total {full * 1e6:9.1f} µs  "
          f"(ratio recount/incremental: {full / again:,.0f})")


def station_doc(i: int) -> dict[str, object]:
    return {"@context": CTX, "id": f"{BASE}places/st-{i}", "type": "PollingStation",
            "name": f"Station {i}", "gpUnitType": "polling-place", "identifier": str(i),
            "servesUnit": f"{BASE}places/district-{i // 100}"}


def referendum(stations: int) -> tuple[str, list[dict[str, object]]]:
    """A one-question election over ``stations`` polling stations, 100 per district under
    one nation: (the contest's IRI, the documents to write)."""
    contest = f"{BASE}elections/contest"
    return contest, [
        {"@context": CTX, "id": f"{BASE}places/nation", "type": "ElectoralDistrict",
         "name": "Nation", "gpUnitType": "country"},
        *({"@context": CTX, "id": f"{BASE}places/district-{d}", "type": "GpUnit",
           "name": f"District {d}", "gpUnitType": "district",
           "partOfUnit": f"{BASE}places/nation"} for d in range((stations + 99) // 100)),
        *(station_doc(i) for i in range(stations)),
        {"@context": CTX, "id": f"{BASE}elections/e", "type": "Election",
         "title": {"en": "Bench"}, "electionType": "general", "startDate": "2026-03-15",
         "endDate": "2026-03-15", "contests": [contest]},
        {"@context": CTX, "id": contest, "type": "BallotMeasureContest",
         "title": {"en": "Q"}, "election": f"{BASE}elections/e",
         "electoralDistrict": f"{BASE}places/nation", "votesAllowed": 1,
         "selections": [{"id": f"{contest}#{s}", "type": "BallotMeasureSelection",
                         "selectionText": {"en": s}} for s in ("yes", "no")]}]


def bench_desk(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        node_dir = Path(tmp) / "node"
        init_node(node_dir, base_url=BASE)
        settings = Settings.load(node_dir)
        a = assemble(settings)
        contest, docs = referendum(300)
        for doc in docs:
            a.node.write_document(str(doc["id"]), json.dumps(doc).encode(), "application/ld+json")
        a.close()
        a = assemble(settings)
        desk = a.intake
        assert desk is not None

        def tally(i: int) -> dict[str, object]:
            return {"@context": CTX, "type": "ContestResult", "contest": contest,
                    "reportingUnit": f"{BASE}places/st-{i % 300}", "ballotsCast": 100,
                    "voteCounts": [{"type": "VoteCount", "selection": f"{contest}#yes",
                                    "countType": "total", "count": 40 + i % 7},
                                   {"type": "VoteCount", "selection": f"{contest}#no",
                                    "countType": "total", "count": 50}]}

        start = time.perf_counter()
        for i in range(count):
            doc = tally(i)
            doc.update(id=f"{BASE}results/base-{i}", sequence=1, resultsStatus="unofficialComplete")
            a.node.write_document(str(doc["id"]), json.dumps(doc).encode(), "application/ld+json")
        baseline = (time.perf_counter() - start) / count
        start = time.perf_counter()
        for i in range(count):
            # the first 300 are first reports, the rest corrections (new sequences)
            desk.submit(Submission(json.dumps(tally(i)).encode(), "application/ld+json",
                                   f"k{i}", "bench", frozenset({"write", "review"}),
                                   reason="bench" if i >= 300 else ""))
        intake = (time.perf_counter() - start) / count
        a.close()
    print(f"intake end to end, {count} tallies on 300 stations:")
    print(f"  Node.write_document alone     {baseline * 1e3:7.2f} ms/tally")
    print(f"  Desk.submit                   {intake * 1e3:7.2f} ms/tally  "
          f"(ratio to the write alone: {intake / baseline:.2f}; {1 / intake:,.0f} tallies/s)")


def main() -> None:
    """Print both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=100_000)
    parser.add_argument("--tallies", type=int, default=200)
    args = parser.parse_args()
    bench_totals(args.stations)
    bench_desk(args.tallies)


if __name__ == "__main__":
    main()
