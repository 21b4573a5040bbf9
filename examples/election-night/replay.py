"""Replay Rivemont's election night: stations report, generations appear, one is corrected.

    python examples/election-night/replay.py [--speed 60] [--dir DIR]

A fresh node (in ``DIR``, else a temporary directory) gets the example election
(``examples/e-*.jsonld``: Rivemont, two secteurs, the council and the referendum) and
21 more polling stations, 24 in all. From 20:00 to 22:00 each station reports its two
tallies through ``POST /intake/tallies`` (one with a photo of its tally sheet); at 21:55
a supervisor corrects bureau 101's council tally. The node publishes a signed generation
at most every 10 s; ``--speed`` compresses time (60: the two hours in two minutes; the
tests use thousands). It runs the node's ASGI app in this process, as uvicorn would.

At the end it checks, and exits 1 if anything fails: the intake's event log chain
(``ddsnode intake verify-log``), the last generation's signature and every file's
SHA-256 against its manifest, that generation's totals against the tallies sent, the
correction visible as one, and ``ddsnode verify DIR`` (every result plausible).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from ddsnode.commands.demo import rebase  # noqa: E402
from ddsnode.commands.node import init_node  # noqa: E402
from ddsnode.elections.run import verify_source  # noqa: E402
from ddsnode.http.app import create_app  # noqa: E402
from ddsnode.intake.log import verify as verify_log  # noqa: E402
from ddsnode.ldp.tokens import TokenRegistry  # noqa: E402
from ddsnode.publication.jws import verify as verify_jws  # noqa: E402
from ddsnode.publication.keyring import keys_of  # noqa: E402
from ddsnode.resources import examples_dir  # noqa: E402
from ddsnode.settings import Settings  # noqa: E402

BASE = "http://127.0.0.1:8000/"
CTX = "https://w3id.org/dds/context/v1"
ELECTION = "elections/municipal-2026"
COUNCIL, REFERENDUM = BASE + "elections/municipal-2026-council", \
    BASE + "elections/municipal-2026-referendum"
SETUP = ("e-organisation-party-ar", "e-organisation-party-rc", "e-organisation-party-res",
         "e-place-rivemont", "e-place-rivemont-secteur-1", "e-place-rivemont-secteur-2",
         "e-place-bureau-101", "e-place-bureau-104", "e-place-bureau-201",
         "e-election-municipal-2026", "e-election-municipal-2026-council",
         "e-election-municipal-2026-referendum")
NIGHT_MINUTES = 120  # 20:00 to 22:00
PDF = b"%PDF-1.4\n% tally sheet of bureau 101 (a stand-in)\ntrailer<<>>\n%%EOF\n"


def stations() -> list[tuple[str, str]]:
    """(name, secteur) of the 24 polling stations: 12 per secteur."""
    return [(f"bureau-{s}{n:02d}", f"rivemont-secteur-{s}") for s in (1, 2) for n in
            range(1, 13)]


def station_doc(name: str, secteur: str) -> dict[str, Any]:
    """A polling station the example does not have (101, 104 and 201 it has)."""
    number = name.split("-")[1]
    return {"@context": CTX, "id": f"{BASE}places/{name}", "type": "PollingStation",
            "name": f"Bureau {number}", "gpUnitType": "polling-place", "identifier": number,
            "servesUnit": f"{BASE}places/{secteur}"}


def tally(contest: str, station: str, rng: random.Random) -> dict[str, Any]:
    """A plausible tally: about 1,750 registered, 55% turnout."""
    cast = rng.randint(850, 1100)
    blank, invalid = rng.randint(5, 25), rng.randint(2, 12)
    valid = cast - blank - invalid
    if contest == COUNCIL:
        rc = valid * rng.randint(42, 52) // 100
        ar = (valid - rc) * rng.randint(50, 65) // 100
        split = {"list-rc": rc, "list-ar": ar, "list-res": valid - rc - ar}
    else:
        yes = valid * rng.randint(50, 60) // 100
        split = {"yes": yes, "no": valid - yes}
    return {"@context": CTX, "type": "ContestResult", "contest": contest,
            "reportingUnit": f"{BASE}places/{station}", "ballotsCast": cast,
            "blankBallots": blank, "invalidBallots": invalid,
            "voteCounts": [{"type": "VoteCount", "selection": f"{contest}#{s}",
                            "countType": "total", "count": n} for s, n in split.items()]}


def timeline(rng: random.Random) -> list[tuple[float, str, str, dict[str, Any]]]:
    """(minute, station, contest, tally): stations report from 20:05 to 21:45."""
    out = []
    for i, (name, _) in enumerate(stations()):
        minute = 5 + i * 100 / len(stations()) + rng.random() * 3
        out.append((minute, name, COUNCIL, tally(COUNCIL, name, rng)))
        out.append((minute + 0.5, name, REFERENDUM, tally(REFERENDUM, name, rng)))
    return out


class Lifespan:
    """The ASGI lifespan protocol, as uvicorn drives it (starts the publisher)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __aenter__(self) -> None:
        self.task = asyncio.create_task(self.app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                                 self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        assert (await self.outbox.get())["type"] == "lifespan.startup.complete"

    async def __aexit__(self, *exc: object) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        await self.task


async def night(node_dir: Path, speed: float) -> list[str]:
    """Run the night; the list of failed checks (empty: all passed)."""
    interval = max(0.2, 10.0 / speed)
    init_node(node_dir, base_url=BASE, extra={"publication_elections": "*",
                                               "publication_interval_seconds": interval})
    tokens = TokenRegistry(node_dir)
    clerk = {"Authorization": "Bearer " + tokens.create(["write"], label="clerks")}
    supervisor = {"Authorization": "Bearer " + tokens.create(["write", "review"],
                                                             label="supervisor")}
    app = create_app(Settings.load(node_dir))
    failed: list[str] = []
    rng = random.Random(2026)
    sent: dict[tuple[str, str], dict[str, Any]] = {}
    async with Lifespan(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE, timeout=60,
            headers={"Accept-Encoding": "identity"}) as http:
        docs = [(rebase((examples_dir() / f"{n}.jsonld").read_text("utf-8"), BASE))
                for n in SETUP]
        docs += [json.dumps(station_doc(n, s)) for n, s in stations()
                 if n not in ("bureau-101", "bureau-104", "bureau-201")]
        for text in docs:
            r = await http.put(json.loads(text)["id"], content=text.encode(),
                               headers={"Content-Type": "application/ld+json", **clerk})
            r.raise_for_status()
        sheet = (await http.post("/intake/evidence", content=PDF,
                                 headers={"Content-Type": "application/pdf", **clerk})).json()
        print(f"20:00  polls close; {len(stations())} stations, 2 contests "
              f"(a minute lasts {60 / speed:.3g} s)")
        start = time.monotonic()
        events = timeline(rng)
        events.append((115.0, "bureau-101", COUNCIL, {}))  # the correction, below
        first_101 = 0
        for minute, station, contest, doc in sorted(events, key=lambda e: e[0]):
            await asyncio.sleep(max(0.0, start + minute * 60 / speed - time.monotonic()))
            clock = f"{20 + int(minute) // 60}:{int(minute) % 60:02d}"
            headers = {"Content-Type": "application/ld+json", **clerk,
                       "Idempotency-Key": f"{station}-{contest[-10:]}-{minute:.1f}"}
            if not doc:  # 21:55: bureau 101's council tally was misread
                doc = json.loads(json.dumps(sent[(station, contest)]))
                doc["voteCounts"][0]["count"] -= 40
                doc["voteCounts"][1]["count"] += 40
                headers.update(supervisor, **{"Correction-Reason":
                                              "RC and AR columns misread on the sheet",
                                              "Revises": str(first_101)})
            elif station == "bureau-101" and contest == COUNCIL:
                headers["Evidence"] = sheet["sha256"]
            r = await http.post("/intake/tallies", content=json.dumps(doc).encode(),
                                headers=headers)
            if r.status_code not in (200, 201):
                failed.append(f"{station} {contest}: {r.status_code} {r.text[:200]}")
                continue
            answer = r.json()
            if station == "bureau-101" and contest == COUNCIL and not first_101:
                first_101 = answer["event"]
            sent[(station, contest)] = doc
            pointer = await http.get(f"/{ELECTION}/results/current")
            generation = pointer.json()["generation"] if pointer.status_code == 200 else 0
            print(f"{clock}  {station} {contest.rsplit('-', 1)[-1]:<10} {answer['status']:<9} "
                  f"event {answer['event']:<3} published generation {generation}")
        failed += await check_publication(http, sent)
    count, faults = verify_log(node_dir)
    print(f"event log: {count} events, chain {'intact' if not faults else 'BROKEN'}")
    failed += [f"log event {f.seq}: {f.problem}" for f in faults]
    verification = verify_source(str(node_dir))
    print(f"ddsnode verify: {verification.text().splitlines()[0]}")
    failed += [f.message for f in verification.findings]
    return failed


async def check_publication(http: httpx.AsyncClient,
                            sent: dict[tuple[str, str], Any]) -> list[str]:
    """Wait for the generation with every tally and the correction; check it."""
    expected: dict[str, dict[str, int]] = {COUNCIL: {}, REFERENDUM: {}}
    for (_, contest), doc in sent.items():
        for vc in doc["voteCounts"]:
            expected[contest][vc["selection"]] = expected[contest].get(vc["selection"], 0) + \
                vc["count"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pointer = (await http.get(f"/{ELECTION}/results/current")).json()
        path = f"/{ELECTION}/results/g/{pointer['generation']}/"
        snapshot = (await http.get(path + "results.json")).json()
        city = {r["contest"]: r for r in snapshot["results"]
                if r["unit"] == BASE + "places/rivemont"}
        if all(c in city and dict(city[c]["counts"]) == expected[c] for c in expected):
            break
        await asyncio.sleep(0.1)
    else:
        return ["no generation ever held every tally and the correction"]
    jwks = keys_of((await http.get("/.well-known/jwks.json")).json(), production=False)
    jws = (await http.get(f"/{ELECTION}/results/{pointer['manifest']}")).text
    manifest = json.loads(verify_jws(jws, jwks))
    failed = []
    for entry in manifest["files"]:
        body = (await http.get(path + entry["path"])).content
        if hashlib.sha256(body).hexdigest() != entry["sha256"]:
            failed.append(f"{entry['path']}: its SHA-256 is not the manifest's")
    council = city[COUNCIL]
    if council["status"] != "correction":
        failed.append(f"the corrected council result says {council['status']}")
    if (council["stationsReported"], council["stationsTotal"]) != (24, 24):
        failed.append(f"{council['stationsReported']}/{council['stationsTotal']} stations")
    print(f"end    generation "
          f"{pointer['generation']}: signature and {len(manifest['files'])} file hashes "
          f"verified; Rivemont council {council['status']}, "
          f"{council['stationsReported']}/{council['stationsTotal']} stations")
    for contest, row in city.items():
        votes = ", ".join(f"{s.rsplit('#', 1)[-1]} {n:,}" for s, n in row["counts"])
        print(f"       {contest.rsplit('/', 1)[-1]}: {votes}")
    return failed


def main() -> int:
    """Run the replay; 0 when every check passed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed", type=float, default=60.0,
                        help="time compression (60: a minute of the night per second)")
    parser.add_argument("--dir", type=Path, help="node directory to create and keep")
    args = parser.parse_args()
    if args.speed <= 0:
        parser.error("--speed must be positive")
    tmp = None if args.dir else Path(tempfile.mkdtemp(prefix="election-night-"))
    node_dir = args.dir or (tmp / "node" if tmp else Path("node"))
    try:
        failed = asyncio.run(night(node_dir, args.speed))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    for problem in failed:
        print(f"FAILED: {problem}")
    print("replay: every check passed" if not failed else f"replay: {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
