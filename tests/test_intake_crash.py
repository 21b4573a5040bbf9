"""``ddsnode serve`` killed with SIGKILL while stations report: no acknowledged tally is lost.

Four clients POST tallies over HTTP to a real server; it is killed mid-load. Then: the
event log's chain is intact and holds every event a client saw acknowledged, with the
hash it was told; every acknowledged result is in the store; the totals rebuilt from the
log (and from stored station results, for a result written just before the kill whose
event was not) count each station once; and a retry of an acknowledged tally replays.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode.assembly import assemble
from ddsnode.intake.log import verify
from ddsnode.intake.submission import Submission
from ddsnode.settings import Settings
from tests.support.node import RunningNode, running_node
from tests.test_intake import ELECTION_DOCS

STATIONS = 120


def _load(node: RunningNode, http: httpx.Client) -> None:
    for name in ELECTION_DOCS:
        iri, body = node.example(name)
        http.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                             **node.auth()}).raise_for_status()
    for i in range(STATIONS):
        doc = {"@context": "https://w3id.org/dds/context/v1", "id": node.url(f"places/s{i}"),
               "type": "PollingStation", "name": f"Station {i}", "gpUnitType": "polling-place",
               "servesUnit": node.url(f"places/rivemont-secteur-{1 + i % 2}")}
        http.put(doc["id"], content=json.dumps(doc), headers={
            "Content-Type": "application/ld+json", **node.auth()}).raise_for_status()


def _tally(node: RunningNode, i: int) -> bytes:
    contest = node.url("elections/municipal-2026-referendum")
    return json.dumps({
        "@context": "https://w3id.org/dds/context/v1", "type": "ContestResult",
        "contest": contest, "reportingUnit": node.url(f"places/s{i}"),
        "voteCounts": [{"type": "VoteCount", "selection": f"{contest}#yes",
                        "countType": "total", "count": 100 + i},
                       {"type": "VoteCount", "selection": f"{contest}#no",
                        "countType": "total", "count": 50}]}).encode()


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_tally(tmp_path: Path) -> None:
    acknowledged: dict[int, dict[str, Any]] = {}  # station -> the answer its client got
    lock = threading.Lock()
    with running_node(tmp_path) as node:
        with node.client() as http:
            _load(node, http)

        def client(n: int) -> None:
            with httpx.Client(base_url=node.base, timeout=30) as http:
                for i in range(n, STATIONS, 4):
                    try:
                        r = http.post("/intake/tallies", content=_tally(node, i), headers={
                            "Content-Type": "application/ld+json", "Idempotency-Key": f"s{i}",
                            **node.auth()})
                    except httpx.HTTPError:
                        return  # the server is gone
                    if r.status_code == 201:
                        with lock:
                            acknowledged[i] = r.json()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(node.process.pid, signal.SIGKILL)
        node.process.wait()
        for t in threads:
            t.join()
        node_dir = node.dir
    assert len(acknowledged) >= 20
    count, faults = verify(node_dir)
    assert faults == []
    a = assemble(Settings.load(node_dir))
    try:
        desk = a.intake
        assert desk is not None
        logged = {e.seq: e for e in desk.log.page(0, 10_000)}
        for answer in acknowledged.values():
            event = logged[answer["event"]]
            assert event.hash == answer["eventHash"] and event.kind == "tally-counted"
            assert a.node.store.get(answer["result"]) is not None
        _, rows = desk.results(node.url("elections/municipal-2026"))
        city = next(r for r in rows if r.unit == node.url("places/rivemont")
                    and r.contest.endswith("referendum"))
        stored = {i for i in range(STATIONS) if a.node.store.get(
            node.url(f"results/municipal-2026-referendum-s{i}-seq-1")) is not None}
        assert set(acknowledged) <= stored
        assert city.stations_reported == len(stored)
        assert dict(city.counts)[node.url("elections/municipal-2026-referendum#yes")] == \
            sum(100 + i for i in stored)
        i = next(iter(acknowledged))
        again = desk.submit(Submission(_tally(node, i), "application/ld+json", f"s{i}",
                                       logged[acknowledged[i]["event"]].subject,
                                       frozenset({"write"})))
        assert again.replayed and again.body == acknowledged[i]
    finally:
        a.close()
