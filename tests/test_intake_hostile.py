"""More hostile tallies and tally sheets: too complex, lists that lie, evidence in disguise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ddsnode.intake.evidence import sniff
from tests.support.inprocess import LocalNode, local_node
from tests.test_intake import COUNCIL, events, load_election, post, tally, totals


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("hostile")) as running:
        with running.client() as http:
            load_election(running, http)
        yield running


def test_a_deeply_nested_tally_is_refused_before_it_is_parsed(node: LocalNode) -> None:
    doc = json.loads(tally(node, "bureau-101", 5, 3, 2))
    deep: dict[str, object] = {"type": "VoteCount"}
    for _ in range(200):
        deep = {"type": "VoteCount", "selection": deep}
    doc["voteCounts"].append(deep)
    with node.client() as http:
        r = post(node, http, json.dumps(doc).encode(), "deep")
        assert r.status_code == 413, r.text
        assert events(http)[-1]["details"]["status"] == 413


def test_a_remote_context_is_never_fetched(node: LocalNode) -> None:
    doc = json.loads(tally(node, "bureau-101", 5, 3, 2))
    doc["@context"] = "https://evil.example/context.jsonld"
    with node.client() as http:
        r = post(node, http, json.dumps(doc).encode(), "remote")
        assert r.status_code == 422 and "context" in r.json()["detail"].lower()


def _eml(node: LocalNode, selections: str) -> bytes:
    return f"""<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="510b"><Count><Election>
      <ElectionIdentifier Id="x"/><Contests><Contest><ReportingUnitVotes>
      <ReportingUnitIdentifier Id="104">Bureau 104</ReportingUnitIdentifier>
      {selections}<Cast>100</Cast></ReportingUnitVotes></Contest></Contests>
      </Election></Count></EML>""".encode()


@pytest.mark.parametrize("case,selections,reason", [
    ("list-lies", '<Selection><AffiliationIdentifier Id="rc"/><ValidVotes>50</ValidVotes>'
     '</Selection><Selection><Candidate><CandidateIdentifier Id="1"/></Candidate>'
     '<ValidVotes>20</ValidVotes></Selection>', "candidates add up"),
    ("not-a-number", '<Selection><AffiliationIdentifier Id="rc"/><ValidVotes>5e3</ValidVotes>'
     '</Selection>', "whole number"),
    ("orphan-candidate", '<Selection><Candidate><CandidateIdentifier Id="1"/></Candidate>'
     '<ValidVotes>20</ValidVotes></Selection>', "neither a list"),
    ("twice", '<Selection><AffiliationIdentifier Id="rc"/><ValidVotes>5</ValidVotes>'
     '</Selection><Selection><AffiliationIdentifier Id="rc"/><ValidVotes>5</ValidVotes>'
     '</Selection>', "counted twice"),
])
def test_eml_fragments_that_do_not_add_up(node: LocalNode, case: str, selections: str,
                                          reason: str) -> None:
    with node.client() as http:
        r = http.post("/intake/tallies", params={"contest": node.url(COUNCIL)},
                      content=_eml(node, selections),
                      headers={"Content-Type": "application/xml", "Idempotency-Key": case,
                               **node.auth()})
        assert r.status_code == 422 and reason in r.json()["detail"], r.text


def test_an_eml_file_of_many_stations_is_not_one_tally(node: LocalNode) -> None:
    one = '<ReportingUnitVotes><ReportingUnitIdentifier Id="{i}"/><Selection>' \
          '<AffiliationIdentifier Id="rc"/><ValidVotes>1</ValidVotes></Selection>' \
          '</ReportingUnitVotes>'
    body = ('<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="510b"><Count><Election>'
            '<Contests><Contest>' + one.format(i=101) + one.format(i=104) +
            '</Contest></Contests></Election></Count></EML>').encode()
    with node.client() as http:
        r = http.post("/intake/tallies", params={"contest": node.url(COUNCIL)}, content=body,
                      headers={"Content-Type": "application/xml", "Idempotency-Key": "many",
                               **node.auth()})
        assert r.status_code == 422 and "exactly one ReportingUnitVotes" in r.json()["detail"]
        _, rows = totals(node, http)
        assert rows[("municipal-2026-council", "rivemont")]["stations_reported"] == 0


@pytest.mark.parametrize("head,expected", [
    (b"%PDF-1.7\n", "application/pdf"), (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00", "image/png"), (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"<svg onload=alert(1)>", None), (b"GIF89a", None), (b"", None),
    (b"RIFF\x10\x00\x00\x00WAVEfmt ", None)])
def test_sniffing_knows_tally_sheets_only(head: bytes, expected: str | None) -> None:
    assert sniff(head) == expected


def test_headers_that_are_not_what_they_say(node: LocalNode) -> None:
    body = tally(node, "bureau-201", 5, 3, 2)
    with node.client() as http:
        for name, value in (("Revises", "-1"), ("Revises", "1" * 30), ("Evidence", "../x"),
                            ("Idempotency-Key", "k" * 300)):
            headers = {"Content-Type": "application/ld+json", "Idempotency-Key": "h",
                       **node.auth(), name: value}
            assert http.post("/intake/tallies", content=body,
                             headers=headers).status_code == 400, name
        r = http.post("/intake/tallies", content=body, headers=httpx.Headers([
            (b"content-type", b"application/ld+json"), (b"idempotency-key", b"latin"),
            (b"authorization", node.auth()["Authorization"].encode()),
            (b"correction-reason", b"caf\xe9")]))
        assert r.status_code == 400 and "UTF-8" in r.json()["detail"]


def test_a_tally_posted_elsewhere_or_with_another_method(node: LocalNode) -> None:
    with node.client() as http:
        assert http.get("/intake/tallies").status_code == 405
        assert http.put("/intake/log", content=b"{}", headers=node.auth()).status_code == 405
        r = http.options("/intake/tallies")
        assert r.status_code == 204 and "application/ld+json" in r.headers["accept-post"]


def test_a_huge_page_of_the_log_is_cut(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"intake_log_max_page": 2}) as node:
        with node.client() as http:
            load_election(node, http)
            for i, station in enumerate(("bureau-101", "bureau-104", "bureau-201")):
                post(node, http, tally(node, station, i, 1, 1), f"k{i}")
            page = http.get("/intake/log", params={"limit": "1000"}).json()
            assert len(page["events"]) == 2 and page["next"].endswith("after=2&limit=2")
