"""From a tally's 201 to its appearance in a published generation, under steady arrivals.

    .venv/bin/python bench/intake_latency.py [--stations 2000] [--contests 2] [--rate 50]
                                             [--seconds 20] [--interval 1]
                                             [--keep DIR | --prepared DIR]

A fresh node with ``--stations`` polling stations in districts of 100 and ``--contests``
contests (``--stations 100000 --contests 10`` is the issue's scale). The stations are
written through the node's write path (shapes, hooks) as N-Triples filled in from one
station's parsed JSON-LD, 2,000 a transaction: about 3 ms each, some five minutes at
100,000 (JSON-LD one by one took twenty). ``--keep DIR`` copies the written node there,
``--prepared DIR`` starts from such a copy instead of writing one. The node's app runs
in this process (as uvicorn would) with the publisher every ``--interval`` seconds (P).
The intake starts with the app, in the background; the script prints when its first
tally was counted (tallies before that get 503 and are sent again after Retry-After).
Tallies arrive at ``--rate`` per second over HTTP (``POST /intake/tallies``) for
``--seconds``, after a warm-up (one tally per contest and the generation holding them,
off the clock); a reader follows the pointer and, for each new generation, reads the
diffs since the last one it saw and notes which stations' tallies they hold (a diff
lists every changed record, whatever the snapshot's parts). Prints the latency from
each 201 to the first generation holding it — p50, p95, max — beside P (the issue's
target is P + 2 s at p95), and the intake's own answer time. A script, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from ddsnode.assembly import assemble  # noqa: E402
from ddsnode.commands.node import init_node  # noqa: E402
from ddsnode.http.app import create_app  # noqa: E402
from ddsnode.ldp.tokens import TokenRegistry  # noqa: E402
from ddsnode.rdf.jsonld import parse_document  # noqa: E402
from ddsnode.settings import Settings  # noqa: E402

BASE = "http://127.0.0.1:8000/"
CTX = "https://w3id.org/dds/context/v1"
CONTESTS = ["mayor", "measure"]


class Generations(logging.Handler):
    """The publisher's figures of each generation it built (its log record's
    ``generation_stats``: build and write seconds, files listed and written)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.stats: list[tuple[float, dict[str, float]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        stats = getattr(record, "generation_stats", None)
        if isinstance(stats, dict):
            self.stats.append((time.monotonic(), stats))

    def report(self, since: float) -> None:
        """Print the figures of the generations built after ``since``."""
        timed = [s for t, s in self.stats if t >= since]
        if not timed:
            print("  generations: none logged (a publisher without figures)")
            return
        def mid(key: str) -> str:
            values = sorted(float(s.get(key, 0)) for s in timed)
            return f"{statistics.median(values):.2f} (max {values[-1]:.2f})"
        print(f"  generations in the timed run: {len(timed)}; build s {mid('build_seconds')}; "
              f"write s {mid('write_seconds')}; files listed {mid('files')}; files "
              f"written {mid('objects_written')}; hard links {mid('linked')}")


def _documents(stations: int) -> list[dict[str, Any]]:
    """The election, its districts (100 stations each) and stations, as JSON-LD; a
    station's ``id`` and ``name`` use the placeholders of :func:`_templated`."""
    districts = max(1, (stations + 99) // 100)
    return [
        {"@context": CTX, "id": f"{BASE}places/city", "type": "ElectoralDistrict",
         "name": "City", "gpUnitType": "municipality"},
        *({"@context": CTX, "id": f"{BASE}places/d{d}", "type": "GpUnit", "name": f"D{d}",
           "gpUnitType": "district", "partOfUnit": f"{BASE}places/city"}
          for d in range(districts)),
        {"@context": CTX, "id": f"{BASE}elections/e", "type": "Election",
         "title": {"en": "Bench"}, "electionType": "general", "startDate": "2026-03-15",
         "endDate": "2026-03-15", "contests": [f"{BASE}elections/{c}" for c in CONTESTS]},
        *({"@context": CTX, "id": f"{BASE}elections/{c}", "type": "BallotMeasureContest",
           "title": {"en": c}, "election": f"{BASE}elections/e",
           "electoralDistrict": f"{BASE}places/city", "votesAllowed": 1,
           "selections": [{"id": f"{BASE}elections/{c}#{s}", "type": "BallotMeasureSelection",
                           "selectionText": {"en": s}} for s in ("yes", "no")]}
          for c in CONTESTS)]


def _templated() -> str:
    """One station's N-Triples with ``__N__`` (the station) and ``__D__`` (its district)
    to fill in: parsed once from the JSON-LD a client would send, so every station is
    the same data the JSON-LD gives, written without parsing JSON-LD 100,000 times."""
    doc = {"@context": CTX, "id": f"{BASE}places/s__N__", "type": "PollingStation",
           "name": "S__N__", "gpUnitType": "polling-place",
           "servesUnit": f"{BASE}places/d__D__"}
    return str(parse_document(json.dumps(doc), BASE).serialize(format="nt"))


def setup(node_dir: Path, stations: int, interval: float) -> None:
    """The election and its stations, through the node's write path (shapes, hooks):
    stations as N-Triples (a third of the JSON-LD write's cost), 2,000 a transaction."""
    init_node(node_dir, base_url=BASE, extra={"publication_elections": "*",
                                               "publication_interval_seconds": interval})
    a = assemble(Settings.load(node_dir))
    template = _templated()
    with a.node.store.transaction():
        for doc in _documents(stations):
            a.node.write_document(doc["id"], json.dumps(doc).encode(), "application/ld+json")
    for start in range(0, stations, 2000):
        with a.node.store.transaction():
            for i in range(start, min(stations, start + 2000)):
                nt = template.replace("__N__", str(i)).replace("__D__", str(i // 100))
                a.node.write_document(f"{BASE}places/s{i}", nt.encode(),
                                      "application/n-triples")
    a.close()


def tally(i: int) -> tuple[str, bytes]:
    """(station IRI, body) of tally ``i``."""
    contest = f"{BASE}elections/{CONTESTS[i % len(CONTESTS)]}"
    station = f"{BASE}places/s{i // len(CONTESTS)}"
    return station + "|" + contest, json.dumps({
        "@context": CTX, "type": "ContestResult", "contest": contest, "reportingUnit": station,
        "ballotsCast": 100, "voteCounts": [
            {"type": "VoteCount", "selection": f"{contest}#yes", "countType": "total",
             "count": 40 + i % 9},
            {"type": "VoteCount", "selection": f"{contest}#no", "countType": "total",
             "count": 30}]}).encode()


async def run(node_dir: Path, rate: float, seconds: float,
              drain: float) -> tuple[list[float], list[float]]:
    token = TokenRegistry(node_dir).create(["write"], label="bench")
    generations = Generations()
    publication_log = logging.getLogger("ddsnode.publication")
    publication_log.addHandler(generations)
    publication_log.setLevel(logging.INFO)
    app = create_app(Settings.load(node_dir))
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    life = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                   inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    await outbox.get()
    started = time.monotonic()
    starts: list[float] = []  # when a tally got 503 (the intake still starting)
    acked: dict[str, float] = {}
    seen: dict[str, float] = {}
    answer_times: list[float] = []
    done = asyncio.Event()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE,
                                 timeout=60, headers={"Accept-Encoding": "identity"}) as http:

        async def send(i: int) -> None:
            key, body = tally(i)
            t0 = time.monotonic()
            while True:
                r = await http.post("/intake/tallies", content=body, headers={
                    "Content-Type": "application/ld+json", "Idempotency-Key": f"t{i}",
                    "Authorization": f"Bearer {token}"})
                if r.status_code != 503:
                    break
                starts.append(time.monotonic())  # the intake is starting: as a client would
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))
            if r.status_code == 201:
                acked[key] = time.monotonic()
                answer_times.append(acked[key] - t0)

        async def follow() -> None:
            last = 0
            # Until every acknowledged tally is seen (not a count: the diffs read from
            # generation 1 also hold the warm-up's tallies, which are not acknowledged).
            while not done.is_set() or not acked.keys() <= seen.keys():
                r = await http.get("/elections/e/results/current")
                if r.status_code == 200 and r.json()["generation"] > last:
                    now = time.monotonic()
                    newest = r.json()["generation"]
                    for n in range(last + 1, newest + 1):
                        diff = (await http.get(f"/elections/e/results/g/{n}/diff.json")).json()
                        for rec in diff["changed"]:
                            key = rec["unit"] + "|" + rec["contest"]
                            if rec["level"] == "polling-place" and rec["stationsReported"] \
                                    and key not in seen:
                                seen[key] = now
                    last = newest
                await asyncio.sleep(0.02)

        # Warm-up, off the clock: the intake starts with the server, in the background
        # (it loads the geography, replays the log and seeds the totals: seconds at
        # 20,000 stations; a tally meanwhile gets 503 and is sent again after its
        # Retry-After), and the first tally of each contest switches the contest to the
        # intake's totals (all its units published once: a whole rebuild of that
        # contest). Two stations the timed run does not use report every contest, one
        # after the other, and the clock starts once a generation holds the second's.
        n_contests = len(CONTESTS)
        first = -(-int(rate * seconds) // n_contests) * n_contests
        last = 0
        for round_ in (1, 2):
            # Two rounds: the first tallies may be published from the stored results
            # before the next tick switches their contests to the intake's totals (that
            # generation holds every unit of every contest); the second round's
            # generation comes after the switch's.
            base = first + (round_ - 1) * n_contests
            warm = {tally(base + k)[0] for k in range(n_contests)}
            for k in range(n_contests):
                await send(base + k)
            if round_ == 1:
                print(f"intake start: first tally counted {time.monotonic() - started:.1f} s "
                      f"after the server started ({len(starts)} answers 503 before)")
            t0 = time.monotonic()
            while warm:
                r = await http.get("/elections/e/results/current")
                newest = r.json()["generation"] if r.status_code == 200 else 0
                for n in range(last + 1, newest + 1):
                    diff = (await http.get(f"/elections/e/results/g/{n}/diff.json")).json()
                    warm -= {rec["unit"] + "|" + rec["contest"] for rec in diff["changed"]
                             if rec["stationsReported"]}  # holding the tally, not only listed
                last = newest
                await asyncio.sleep(0.1)
            print(f"warm-up {round_}: {n_contests} tallies (one a contest) published "
                  f"{time.monotonic() - t0:.1f} s after their 201s (generation {last})")
        acked.clear()
        answer_times.clear()
        follower = asyncio.create_task(follow())
        tasks = []
        start = time.monotonic()
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(send(i)))
        await asyncio.gather(*tasks)
        done.set()
        timed_from = start
        try:
            await asyncio.wait_for(follower, drain)
        except asyncio.TimeoutError:  # report what was published; the node still stops
            print(f"NOT all published {drain:g} s after the last arrival: {len(seen)} of "
                  f"{len(acked)} acknowledged tallies were")
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await life
    generations.report(timed_from)
    return [seen[k] - acked[k] for k in acked if k in seen], answer_times


def main() -> None:
    """Print the latencies."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--contests", type=int, default=2,
                        help="contests (each station reports each; 10 at the issue's scale)")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--drain", type=float, default=120.0,
                        help="seconds after the last arrival to wait for generations holding "
                             "every acknowledged tally (what is not published by then is "
                             "counted as such)")
    parser.add_argument("--prepared", type=Path, default=None,
                        help="a node directory this script wrote before (same --stations "
                             "and --contests): copied and used instead of writing a new one")
    parser.add_argument("--keep", type=Path, default=None,
                        help="also copy the node written here to this directory, before "
                             "any tally (for --prepared)")
    args = parser.parse_args()
    if args.contests != 2:
        CONTESTS[:] = [f"c{n}" for n in range(args.contests)]
    with tempfile.TemporaryDirectory() as tmp:
        node_dir = Path(tmp) / "node"
        t0 = time.monotonic()
        if args.prepared is not None:
            shutil.copytree(args.prepared, node_dir)
            print(f"{args.stations:,} stations × {len(CONTESTS)} contests copied from "
                  f"{args.prepared} in {time.monotonic() - t0:.1f} s")
        else:
            setup(node_dir, args.stations, args.interval)
            print(f"{args.stations:,} stations × {len(CONTESTS)} contests written in "
                  f"{time.monotonic() - t0:.1f} s")
            if args.keep is not None:
                shutil.copytree(node_dir, args.keep)
        latencies, answers = asyncio.run(run(node_dir, args.rate, args.seconds, args.drain))
    if len(latencies) < 2 or len(answers) < 2:
        print(f"{len(latencies)} tallies published, {len(answers)} answered: too few to rank")
        return
    # A tally never published counts as later than any that was (p95 over all of them).
    ranked = latencies + [float("inf")] * (len(answers) - len(latencies))
    q = statistics.quantiles(ranked, n=20) if len(ranked) > len(latencies) else \
        statistics.quantiles(latencies, n=20)
    qa = statistics.quantiles(answers, n=20)
    print(f"{len(latencies)} of {len(answers)} counted tallies published, at {args.rate:g}/s, "
          f"P = {args.interval:g} s")
    print(f"  201 -> in a published generation: p50 {statistics.median(ranked):.2f} s, "
          f"p95 {q[18]:.2f} s, max {max(latencies):.2f} s  (target p95 <= P + 2 = "
          f"{args.interval + 2:g} s)")
    print(f"  intake answer time: p50 {statistics.median(answers) * 1000:.0f} ms, "
          f"p95 {qa[18] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
