"""Election night's intake over HTTP: tallies in, idempotency, corrections, the log, totals.

The example election (Rivemont, examples/e-*.jsonld) is written to an in-process node;
bureaux 101 and 104 serve secteur 1, bureau 201 secteur 2, both secteurs make up
Rivemont. Every request goes through the same ASGI app uvicorn serves.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode.intake.log import verify
from ddsnode.ldp.tokens import TokenRegistry
from tests.support.inprocess import LocalNode, local_node

ELECTION_DOCS = ("e-organisation-party-ar", "e-organisation-party-rc", "e-organisation-party-res",
                 "e-place-rivemont", "e-place-rivemont-secteur-1", "e-place-rivemont-secteur-2",
                 "e-place-bureau-101", "e-place-bureau-104", "e-place-bureau-201",
                 "e-election-municipal-2026", "e-election-municipal-2026-council",
                 "e-election-municipal-2026-referendum")
COUNCIL = "elections/municipal-2026-council"
ELECTION = "elections/municipal-2026"


def load_election(node: LocalNode, http: httpx.Client) -> None:
    """Write the example election's places, parties, election and contests."""
    for name in ELECTION_DOCS:
        iri, body = node.example(name)
        r = http.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                                 **node.auth()})
        assert r.status_code in (200, 201, 204), (name, r.text)


def tally(node: LocalNode, station: str, rc: int, ar: int, res: int, *, cast: int | None = None,
          blank: int = 10, invalid: int = 5) -> bytes:
    """A JSON-LD ContestResult for the council contest at ``station``."""
    contest = node.url(COUNCIL)
    doc: dict[str, Any] = {
        "@context": "https://w3id.org/dds/context/v1", "type": "ContestResult",
        "contest": contest, "reportingUnit": node.url(f"places/{station}"),
        "ballotsCast": cast if cast is not None else rc + ar + res + blank + invalid,
        "blankBallots": blank, "invalidBallots": invalid,
        "voteCounts": [{"type": "VoteCount", "selection": f"{contest}#list-{name}",
                        "countType": "total", "count": n}
                       for name, n in (("rc", rc), ("ar", ar), ("res", res))]}
    return json.dumps(doc).encode()


def post(node: LocalNode, http: httpx.Client, body: bytes, key: str, *, token: str | None = None,
         media: str = "application/ld+json", **headers: str) -> httpx.Response:
    extra = {k.replace("_", "-"): v for k, v in headers.items()}
    return http.post("/intake/tallies", content=body,
                     headers={"Content-Type": media, "Idempotency-Key": key,
                              **node.auth(token), **extra})


def totals(node: LocalNode, http: httpx.Client, since: int = 0) -> tuple[int, dict[str, Any]]:
    r = http.get("/intake/totals", params={"election": node.url(ELECTION), "since": str(since)})
    assert r.status_code == 200, r.text
    data = r.json()
    return data["mark"], {(x["contest"].rsplit("/", 1)[-1], x["unit"].rsplit("/", 1)[-1]): x
                          for x in data["results"]}


def events(http: httpx.Client) -> list[dict[str, Any]]:
    r = http.get("/intake/log", params={"limit": "1000"})
    assert r.status_code == 200
    return list(r.json()["events"])


def votes(row: dict[str, Any]) -> dict[str, int]:
    return {s.rsplit("-", 1)[-1]: n for s, n in row["counts"]}


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
    with local_node(tmp_path) as running:
        with running.client() as http:
            load_election(running, http)
        yield running


def test_a_tally_is_counted_written_and_aggregated_upwards(node: LocalNode) -> None:
    with node.client() as http:
        r = post(node, http, tally(node, "bureau-101", 500, 300, 200), "k-101")
        assert r.status_code == 201, r.text
        result = r.headers["location"]
        assert r.json()["status"] == "counted" and r.json()["sequence"] == 1
        stored = http.get(result, headers={"Accept": "application/ld+json"}).json()
        assert stored["type"] == "ContestResult" and int(stored["sequence"]) == 1
        assert stored["resultsStatus"] == "unofficialComplete"
        post(node, http, tally(node, "bureau-104", 100, 50, 25), "k-104")
        post(node, http, tally(node, "bureau-201", 7, 8, 9), "k-201")
        _, rows = totals(node, http)
    council = "municipal-2026-council"
    assert votes(rows[(council, "bureau-101")]) == {"rc": 500, "ar": 300, "res": 200}
    assert votes(rows[(council, "rivemont-secteur-1")]) == {"rc": 600, "ar": 350, "res": 225}
    assert votes(rows[(council, "rivemont")]) == {"rc": 607, "ar": 358, "res": 234}
    city = rows[(council, "rivemont")]
    assert (city["stations_reported"], city["stations_total"]) == (3, 3)
    assert city["ballots_cast"] == 1000 + 15 + 175 + 15 + 24 + 15
    assert city["status"] == "unofficialComplete" and city["level"] == "municipality"
    assert city["registered"] == 83910  # the unit's own figure
    sector = rows[(council, "rivemont-secteur-2")]
    assert (sector["stations_reported"], sector["stations_total"]) == (1, 1)
    referendum = rows[("municipal-2026-referendum", "rivemont")]
    assert referendum["stations_reported"] == 0 and referendum["status"] == "preElection"


def test_since_returns_only_what_changed(node: LocalNode) -> None:
    with node.client() as http:
        post(node, http, tally(node, "bureau-101", 5, 3, 2), "a")
        mark, _ = totals(node, http)
        post(node, http, tally(node, "bureau-201", 1, 1, 1), "b")
        later, changed = totals(node, http, since=mark)
        assert later > mark
        assert set(changed) == {("municipal-2026-council", u)
                                for u in ("bureau-201", "rivemont-secteur-2", "rivemont")}
        assert totals(node, http, since=later)[1] == {}


def test_a_retry_with_the_same_key_is_never_counted_twice(node: LocalNode) -> None:
    body = tally(node, "bureau-101", 500, 300, 200)
    with node.client() as http:
        first = post(node, http, body, "retry-me")
        again = post(node, http, body, "retry-me")
        assert again.status_code == first.status_code == 201
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        _, rows = totals(node, http)
        assert votes(rows[("municipal-2026-council", "rivemont")])["rc"] == 500
        assert [e["kind"] for e in events(http)].count("tally-counted") == 1


def test_the_same_key_with_another_body_is_refused_and_logged(node: LocalNode) -> None:
    with node.client() as http:
        assert post(node, http, tally(node, "bureau-101", 5, 3, 2), "k").status_code == 201
        r = post(node, http, tally(node, "bureau-101", 6, 3, 2), "k")
        assert r.status_code == 422
        assert r.json()["type"].endswith("/idempotency-key-reused")
        last = events(http)[-1]
        assert (last["kind"], last["disposition"]) == ("tally-refused", "refused")
        assert last["details"]["problem"] == "idempotency-key-reused"


def test_concurrent_submissions_with_one_key_count_once(node: LocalNode) -> None:
    body = tally(node, "bureau-104", 40, 30, 20)
    with node.client() as http:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: post(node, http, body, "same"), range(8)))
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["event"] for a in answers}) == 1
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 7
        assert [e["kind"] for e in events(http)].count("tally-counted") == 1
        _, rows = totals(node, http)
        assert votes(rows[("municipal-2026-council", "rivemont")])["rc"] == 40


def test_a_different_tally_for_a_counted_station_is_a_conflict(node: LocalNode) -> None:
    with node.client() as http:
        post(node, http, tally(node, "bureau-101", 5, 3, 2), "one")
        same = post(node, http, tally(node, "bureau-101", 5, 3, 2), "two")
        assert same.status_code == 200 and same.json()["status"] == "unchanged"
        other = post(node, http, tally(node, "bureau-101", 9, 3, 2), "three")
        assert other.status_code == 409 and "Correction-Reason" in other.json()["detail"]


def test_a_correction_is_a_new_event_and_a_new_sequence(node: LocalNode) -> None:
    review = TokenRegistry(node.dir).create(["write", "review"], label="supervisor")
    with node.client() as http:
        first = post(node, http, tally(node, "bureau-101", 500, 300, 200), "t1")
        post(node, http, tally(node, "bureau-104", 100, 100, 100), "t2")
        fixed = tally(node, "bureau-101", 450, 300, 200)
        assert post(node, http, fixed, "c0",
                    Correction_Reason="typo").status_code == 403  # write scope only
        stale = post(node, http, fixed, "c1", token=review, Correction_Reason="typo",
                     Revises="999")
        assert stale.status_code == 409
        r = post(node, http, fixed, "c2", token=review,
                 Correction_Reason="Sheet misread: 450, not 500 (PV page 2)",
                 Revises=str(first.json()["event"]))
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "corrected" and r.json()["sequence"] == 2
        assert r.json()["revises"] == first.json()["event"]
        new = http.get(r.headers["location"], headers={"Accept": "application/ld+json"}).json()
        assert new["resultsStatus"] == "correction" and int(new["sequence"]) == 2
        old = http.get(first.headers["location"], headers={"Accept": "application/ld+json"})
        assert old.status_code == 200 and int(old.json()["sequence"]) == 1  # nothing overwritten
        logged = events(http)[-1]
        assert logged["kind"] == "tally-correction"
        assert logged["details"]["revises"] == first.json()["event"]
        assert logged["details"]["reason"].startswith("Sheet misread")
        _, rows = totals(node, http)
    sector = rows[("municipal-2026-council", "rivemont-secteur-1")]
    assert votes(sector) == {"rc": 550, "ar": 400, "res": 300}  # 500 out, 450 in
    assert sector["stations_reported"] == 2 and sector["status"] == "correction"


@pytest.mark.parametrize("case", ["station-elsewhere", "not-a-station", "foreign-selection",
                                  "unknown-contest", "two-results", "negative"])
def test_tallies_that_do_not_belong_are_refused_and_logged(node: LocalNode, case: str) -> None:
    doc = json.loads(tally(node, "bureau-101", 5, 3, 2))
    if case == "station-elsewhere":
        doc["reportingUnit"] = "https://elsewhere.example/places/bureau-101"
    elif case == "not-a-station":
        doc["reportingUnit"] = node.url("places/rivemont-secteur-1")
    elif case == "foreign-selection":
        doc["voteCounts"][0]["selection"] = node.url(
            "elections/municipal-2026-referendum#yes")
    elif case == "unknown-contest":
        doc["contest"] = node.url("elections/nope")
    elif case == "two-results":
        doc = {"@context": doc["@context"], "@graph": [
            {k: v for k, v in doc.items() if k != "@context"} | {"id": node.url(f"x/{i}")}
            for i in (1, 2)]}
    elif case == "negative":
        doc["voteCounts"][0]["count"] = -5
    with node.client() as http:
        r = post(node, http, json.dumps(doc).encode(), "k")
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        last = events(http)[-1]
        assert last["disposition"] == "refused" and last["details"]["status"] == 422
        _, rows = totals(node, http)
        assert rows[("municipal-2026-council", "rivemont")]["stations_reported"] == 0


def test_counts_that_do_not_add_up_are_implausible(node: LocalNode) -> None:
    with node.client() as http:
        r = post(node, http, tally(node, "bureau-101", 500, 300, 200, cast=900), "k")
        assert r.status_code == 422
        assert r.json()["type"].endswith("/implausible-result")
        assert r.json()["findings"][0]["code"] == "counted-over-cast"


def test_without_the_right_token_nothing_is_taken(node: LocalNode) -> None:
    body = tally(node, "bureau-101", 5, 3, 2)
    with node.client() as http:
        before = len(events(http))
        r = http.post("/intake/tallies", content=body,
                      headers={"Content-Type": "application/ld+json", "Idempotency-Key": "k"})
        assert r.status_code == 401
        assert post(node, http, body, "k", token="dds_0000_bogus").status_code == 401
        assert post(node, http, body, "k", token=node.read_token).status_code == 403
        r = http.post("/intake/evidence", content=b"%PDF-1.4\n",
                      headers={"Content-Type": "application/pdf"})
        assert r.status_code == 401
        assert len(events(http)) == before  # anyone could fill the log with these


def test_malformed_too_big_and_keyless_submissions(node: LocalNode) -> None:
    with node.client() as http:
        assert post(node, http, b'{"@context": ', "k1").status_code == 400
        assert post(node, http, b"{}", "k2").status_code in (400, 422)
        r = post(node, http, tally(node, "bureau-101", 5, 3, 2), "")
        assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"]
        assert post(node, http, b"x" * (256 * 1024 + 1), "k3").status_code == 413
        assert post(node, http, b"<x/>", "k4", media="text/plain").status_code == 415
        dtd = (b'<?xml version="1.0"?><!DOCTYPE EML [<!ENTITY x "boom">]>'
               b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="510b">&x;</EML>')
        r = post(node, http, dtd, "k5", media="application/xml")
        assert r.status_code == 400 and "DTD" in r.json()["detail"]


EML = """<?xml version="1.0" encoding="UTF-8"?>
<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="510b" SchemaVersion="5">
 <Count><Election><ElectionIdentifier Id="GR2026"><ElectionName>Rivemont</ElectionName>
  </ElectionIdentifier><Contests><Contest><ContestIdentifier Id="alle"/>
  <ReportingUnitVotes>
   <ReportingUnitIdentifier Id="{station}">Bureau {station}</ReportingUnitIdentifier>
   <Selection><AffiliationIdentifier Id="rc"><RegisteredName>RC</RegisteredName>
    </AffiliationIdentifier><ValidVotes>{rc}</ValidVotes></Selection>
   <Selection><AffiliationIdentifier Id="ar"><RegisteredName>AR</RegisteredName>
    </AffiliationIdentifier><ValidVotes>20</ValidVotes></Selection>
   <Selection><AffiliationIdentifier Id="res"><RegisteredName>RES</RegisteredName>
    </AffiliationIdentifier><ValidVotes>10</ValidVotes></Selection>
   <Cast>100</Cast><RejectedVotes ReasonCode="blanco">2</RejectedVotes>
   <RejectedVotes ReasonCode="ongeldig">1</RejectedVotes>
  </ReportingUnitVotes></Contest></Contests></Election></Count>
</EML>"""


def test_an_eml_510_fragment_is_a_tally(node: LocalNode) -> None:
    with node.client() as http:
        url = "/intake/tallies?" + httpx.QueryParams({"contest": node.url(COUNCIL)}).__str__()
        r = http.post(url, content=EML.format(station="201", rc=60).encode(),
                      headers={"Content-Type": "application/xml", "Idempotency-Key": "e1",
                               **node.auth()})
        assert r.status_code == 201, r.text
        stored = http.get(r.headers["location"], headers={"Accept": "application/ld+json"})
        assert int(stored.json()["ballotsCast"]) == 100 and int(stored.json()["blankBallots"]) == 2
        _, rows = totals(node, http)
        assert votes(rows[("municipal-2026-council", "rivemont-secteur-2")]) == \
            {"rc": 60, "ar": 20, "res": 10}
        r = http.post(url, content=EML.format(station="999", rc=60).encode(),
                      headers={"Content-Type": "application/xml", "Idempotency-Key": "e2",
                               **node.auth()})
        assert r.status_code == 422 and "999" in r.json()["detail"]
        r = http.post("/intake/tallies", content=EML.format(station="201", rc=60).encode(),
                      headers={"Content-Type": "application/xml", "Idempotency-Key": "e3",
                               **node.auth()})
        assert r.status_code == 422 and "contest" in r.json()["detail"]


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_evidence_is_stored_by_its_hash_and_linked_from_the_result(node: LocalNode) -> None:
    with node.client() as http:
        r = http.post("/intake/evidence", content=PDF,
                      headers={"Content-Type": "application/pdf", **node.auth()})
        assert r.status_code == 201, r.text
        digest = r.json()["sha256"]
        again = http.post("/intake/evidence", content=PDF,
                          headers={"Content-Type": "application/pdf", **node.auth()})
        assert again.status_code == 200 and again.json()["sha256"] == digest
        got = http.get("/intake/evidence", params={"sha256": digest})
        assert got.content == PDF and got.headers["content-type"] == "application/pdf"
        assert "immutable" in got.headers["cache-control"]
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]
        r = post(node, http, tally(node, "bureau-101", 5, 3, 2), "with-pv", Evidence=digest)
        assert r.status_code == 201, r.text
        doc = http.get(r.headers["location"], headers={"Accept": "application/ld+json"}).json()
        assert doc["sourceDigest"] == "sha256:" + digest
        assert doc["source"].endswith(f"intake/evidence?sha256={digest}")
        missing = post(node, http, tally(node, "bureau-104", 5, 3, 2), "no-pv",
                       Evidence="0" * 64)
        assert missing.status_code == 422


def test_hostile_evidence_is_refused(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"intake_evidence_max_bytes": 1024}) as node:
        with node.client() as http:
            def send(body: bytes, media: str) -> httpx.Response:
                return http.post("/intake/evidence", content=body,
                                 headers={"Content-Type": media, **node.auth()})
            assert send(PDF + b" " * 2000, "application/pdf").status_code == 413
            assert send(b"<html><script>alert(1)</script>", "image/png").status_code == 415
            assert send(PDF, "image/png").status_code == 415  # bytes and label disagree
            assert http.get("/intake/evidence", params={"sha256": "../admin.db"}
                            ).status_code == 404
            refused = [e for e in events(http) if e["kind"] == "evidence-refused"]
            assert [e["details"]["status"] for e in refused] == [415, 415]  # 413: read cut


def test_double_entry_counts_only_two_matching_entries(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"intake_double_entry": ELECTION}) as node:
        second = TokenRegistry(node.dir).create(["write"], label="clerk 2")
        third = TokenRegistry(node.dir).create(["write"], label="clerk 3")
        with node.client() as http:
            load_election(node, http)
            right, wrong = tally(node, "bureau-101", 5, 3, 2), tally(node, "bureau-101", 5, 8, 2)
            first = post(node, http, right, "a")
            assert first.status_code == 202 and first.json()["status"] == "awaiting-second-entry"
            assert post(node, http, right, "b").status_code == 409  # same clerk again
            mismatch = post(node, http, wrong, "c", token=second)
            assert mismatch.status_code == 202 and mismatch.json()["status"] == "mismatch"
            assert mismatch.json()["differs"] == [first.json()["event"]]
            _, rows = totals(node, http)
            assert rows[("municipal-2026-council", "rivemont")]["stations_reported"] == 0
            counted = post(node, http, right, "d", token=third)
            assert counted.status_code == 201 and counted.json()["status"] == "counted"
            _, rows = totals(node, http)
            assert votes(rows[("municipal-2026-council", "rivemont")]) == \
                {"rc": 5, "ar": 3, "res": 2}
            kinds = [e["kind"] for e in events(http)]
            assert kinds.count("double-entry-mismatch") == 1 and kinds.count("tally-counted") == 1


def test_the_log_is_public_paged_and_chained(node: LocalNode) -> None:
    with node.client() as http:
        for i, station in enumerate(("bureau-101", "bureau-104", "bureau-201")):
            post(node, http, tally(node, station, i, 1, 1), f"k{i}")
        page = http.get("/intake/log", params={"limit": "2"}).json()
        assert [e["sequence"] for e in page["events"]] == [1, 2] and page["next"]
        rest = http.get(page["next"]).json()
        assert [e["sequence"] for e in rest["events"]] == [3] and rest["next"] is None
        chain = page["events"] + rest["events"]
        assert chain[0]["previousHash"] == "0" * 64
        assert all(b["previousHash"] == a["hash"] for a, b in zip(chain, chain[1:]))
        assert rest["head"] == {"sequence": 3, "hash": chain[-1]["hash"]}
        for bad in ({"after": "-1"}, {"after": "9" * 30}, {"limit": "x"}):
            assert http.get("/intake/log", params=bad).status_code == 400


def verify_log(node_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ddsnode", "intake", "verify-log",
                           str(node_dir)], capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # ddsnode intake verify-log as typed (tests/support/fastloop.py)
def test_verify_log_finds_a_garbled_event(node: LocalNode) -> None:
    with node.client() as http:
        for i, station in enumerate(("bureau-101", "bureau-104", "bureau-201")):
            assert post(node, http, tally(node, station, 10 + i, 1, 1), f"k{i}").status_code == 201
    ok = verify_log(node.dir)
    assert ok.returncode == 0, ok.stderr
    assert "3 events" in ok.stdout
    with sqlite3.connect(node.dir / "intake.db") as db:
        db.execute("UPDATE events SET details = replace(details, '\"total\",10]', "
                   "'\"total\",99]') WHERE seq = 1")
    bad = verify_log(node.dir)
    assert bad.returncode == 1
    assert "event 1" in bad.stdout and "changed after it was written" in bad.stdout
    with sqlite3.connect(node.dir / "intake.db") as db:
        db.execute("DELETE FROM events WHERE seq = 2")
    gone = verify_log(node.dir)
    assert gone.returncode == 1 and "event 3" in gone.stdout and "missing" in gone.stdout


def test_a_body_cut_short_is_refused_and_nothing_is_counted(node: LocalNode) -> None:
    body = tally(node, "bureau-101", 5, 3, 2)
    headers = [(b"content-type", b"application/ld+json"), (b"idempotency-key", b"cut"),
               (b"authorization", node.auth()["Authorization"].encode()),
               (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/intake/tallies",
             "raw_path": b"/intake/tallies", "query_string": b"", "root_path": "",
             "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
             "headers": headers}
    messages = [{"type": "http.request", "body": body[:20], "more_body": True},
                {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run_coroutine_threadsafe(node.app(scope, receive, send), node.loop).result(30)
    assert sent[0]["status"] == 400
    assert b"incomplete-body" in b"".join(m.get("body", b"") for m in sent[1:])
    with node.client() as http:
        assert events(http) == []
        _, rows = totals(node, http)
        assert rows[("municipal-2026-council", "rivemont")]["stations_reported"] == 0


def test_a_node_with_private_elections_keeps_its_intake_private(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"private_containers": "elections/"}) as node:
        with node.client() as http:
            load_election(node, http)
            assert post(node, http, tally(node, "bureau-101", 5, 3, 2), "k").status_code == 201
            for path, params in (("/intake/log", {}), ("/intake/totals",
                                                       {"election": node.url(ELECTION)}),
                                 ("/intake/evidence", {"sha256": "0" * 64})):
                assert http.get(path, params=params).status_code == 401, path
            r = http.get("/intake/log", headers=node.auth(node.read_token))
            assert r.status_code == 200 and r.json()["head"]["sequence"] == 1


def test_double_entry_applies_to_the_elections_it_names(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"intake_double_entry": "elections/another"}) as node:
        with node.client() as http:
            load_election(node, http)
            r = post(node, http, tally(node, "bureau-101", 5, 3, 2), "a")
            assert r.status_code == 201 and r.json()["status"] == "counted"


def test_a_result_written_without_its_event_is_finished_not_doubled(node: LocalNode) -> None:
    """As after a failure between the store's commit and the log's: the result exists,
    its event does not. The same numbers finish it; other numbers are a conflict."""
    with node.client() as http:
        assert post(node, http, tally(node, "bureau-104", 1, 1, 1), "start").status_code == 201
        for station, numbers, expected in (("bureau-101", (5, 3, 2), 201),
                                           ("bureau-201", (9, 9, 9), 409)):
            doc = json.loads(tally(node, station, 5, 3, 2))
            iri = node.url(f"results/municipal-2026-council-{station}-seq-1")
            doc.update(id=iri, sequence=1, resultsStatus="unofficialComplete")
            assert http.put(iri, content=json.dumps(doc), headers={
                "Content-Type": "application/ld+json", **node.auth()}).status_code == 201
            r = post(node, http, tally(node, station, *numbers), f"k-{station}")
            assert r.status_code == expected, r.text
        _, rows = totals(node, http)
        assert votes(rows[("municipal-2026-council", "rivemont")]) == {"rc": 6, "ar": 4, "res": 3}


def test_concurrent_tallies_for_several_stations_count_each_once(node: LocalNode) -> None:
    stations = ("bureau-101", "bureau-104", "bureau-201")
    jobs = [(s, i) for s in stations for i in range(4)]  # four keys per station, same numbers
    with node.client() as http:
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda job: (job[0], post(
                node, http, tally(node, job[0], 10, 20, 30), f"{job[0]}-{job[1]}")), jobs))
        for station in stations:
            codes = sorted(r.status_code for s, r in answers if s == station)
            assert codes == [200, 200, 200, 201], (station, codes)
        kinds = [e["kind"] for e in events(http)]
        assert kinds.count("tally-counted") == 3 and kinds.count("tally-unchanged") == 9
        _, rows = totals(node, http)
        assert votes(rows[("municipal-2026-council", "rivemont")]) == \
            {"rc": 30, "ar": 60, "res": 90}
    assert verify_log_ok(node)


def verify_log_ok(node: LocalNode) -> bool:
    count, faults = verify(node.dir)
    return count > 0 and not faults
