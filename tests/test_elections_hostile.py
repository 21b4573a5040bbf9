"""Hostile election files: a table of inputs, each refused (or its bad part rejected)
while the node runs, nothing of it stored, the node still answering (issue 14).

The node runs in this process (``tests/support/inprocess.py``); the import opens the
same directory from the CLI, as an operator would while the server runs. For each
case: the exit status, what the election containers hold afterwards, and a read of
another resource and a ``/sparql`` query succeed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ddsnode.cli import main
from tests.support.inprocess import LocalNode, local_node

FIXTURES = Path(__file__).parent / "fixtures" / "elections"
SETTINGS = {"elections_max_source_bytes": 64 * 1024, "max_literal_bytes": 4096}
CONTAINERS = ("elections/", "places/", "organisations/", "results/")


def text(value: str) -> dict[str, Any]:
    """A NIST InternationalizedText."""
    return {"@type": "ElectionResults.InternationalizedText",
            "Text": [{"@type": "ElectionResults.LanguageString", "Content": value,
                      "Language": "en"}]}


def report(count: Any = 10, *, unit_id: str = "u", ctype: str = "total",
           contest_type: str = "ElectionResults.BallotMeasureContest",
           name: str = "Unit") -> bytes:
    """A one-contest NIST report whose parts the cases spoil."""
    return json.dumps({
        "@type": "ElectionResults.ElectionReport", "Format": "summary-contest",
        "GeneratedDate": "2026-03-15T22:00:00Z", "Issuer": "t", "IssuerAbbreviation": "t",
        "SequenceStart": 1, "SequenceEnd": 1, "Status": "certified",
        "VendorApplicationId": "t",
        "GpUnit": [{"@id": unit_id, "@type": "ElectionResults.ReportingUnit",
                    "Type": "county", "Name": name}],
        "Election": [{"@type": "ElectionResults.Election", "Name": text("E"),
                      "StartDate": "2026-03-15", "EndDate": "2026-03-15", "Type": "general",
                      "ElectionScopeId": unit_id,
                      "Contest": [{"@id": "m", "@type": contest_type, "Name": "M",
                                   "ElectionDistrictId": unit_id,
                                   "ContestSelection": [{
                                       "@id": "yes",
                                       "@type": "ElectionResults.BallotMeasureSelection",
                                       "Selection": text("Yes"),
                                       "VoteCounts": [{"@type": "ElectionResults.VoteCounts",
                                                       "GpUnitId": unit_id, "Type": ctype,
                                                       "Count": count}]}]}]}]}).encode()


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ElectionReport [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ElectionReport><Election><Name><Text language="en">&xxe;</Text></Name></Election>
</ElectionReport>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ElectionReport SYSTEM "http://127.0.0.1:9/evil.dtd">
<ElectionReport><Status>certified</Status></ElectionReport>"""
QUADRATIC = b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a '" + b"x" * 5000 + \
    b"'>]><ElectionReport>" + b"&a;" * 5000 + b"</ElectionReport>"


@dataclass(frozen=True)
class Case:
    """A hostile file, its name, the exit status and how many resources may be stored."""

    name: str
    file_name: str
    data: bytes
    status: int
    stored: int = 0  # resources the file may leave (its sound part, when a part is refused)
    rejected: int = 0


CASES = [
    Case("billion laughs", "laughs.xml", (FIXTURES / "billion_laughs.xml").read_bytes(), 2),
    Case("quadratic blowup", "quad.xml", QUADRATIC, 2),
    Case("external entity (XXE)", "xxe.xml", XXE, 2),
    Case("external DTD", "dtd.xml", EXTERNAL_DTD, 2),
    Case("XML not well-formed", "bad.xml", b"<ElectionReport><Election>", 2),
    Case("XML of another kind", "other.xml", b"<html><body/></html>", 2),
    Case("JSON that is not a report", "x.json", b'{"@type": "Something"}', 2),
    Case("neither JSON nor XML", "x.json", b"\x00\xff garbage", 2),
    Case("a count that is text", "t.json", report("many"), 2),
    Case("a count that is a fraction", "f.json", report(1.5), 2),
    Case("a count that is true", "b.json", report(True), 2),
    Case("an unknown count type", "c.json", report(ctype="bogus"), 2),
    Case("an unknown contest type", "k.json", report(contest_type="ElectionResults.Poll"), 2),
    Case("a file past elections_max_source_bytes", "big.json",
         report(name="x" * 70_000), 2),
    Case("a negative count (the shapes refuse the result)", "n.json", report(-3), 0,
         stored=3, rejected=1),
    Case("a name past max_literal_bytes (the unit is refused)", "l.json",
         report(name="y" * 5000), 0, stored=3, rejected=1),
    Case("an id that climbs out of its container", "p.json",
         report(unit_id="../../tokens/admin"), 0, stored=4),
]


def still_answers(node: LocalNode, iri: str) -> None:
    """A read of another resource and a /sparql query succeed."""
    with node.client() as http:
        assert http.get(iri, headers={"Accept": "text/turtle"}).status_code == 200
        r = http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"},
                     headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, r.text


def election_members(node: LocalNode) -> list[str]:
    """Every member of the election containers, read over HTTP."""
    out = []
    with node.client() as http:
        for container in CONTAINERS:
            r = http.get("/" + container, headers={"Accept": "application/ld+json"})
            assert r.status_code == 200
            doc = r.json()
            graph = doc.get("@graph", [doc])
            for item in graph:
                contains = item.get("contains", [])
                for member in [contains] if not isinstance(contains, list) else contains:
                    out.append(member["id"] if isinstance(member, dict) else member)
    return out


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One running node for the table (each case checks what it added)."""
    with local_node(tmp_path_factory.mktemp("hostile"), settings=SETTINGS) as n:
        iri, body = n.example("a-proposal-school-streets")
        with n.client() as http:
            assert http.put(iri, content=body, headers={**n.auth(),
                            "Content-Type": "application/ld+json"}).status_code in (200, 201)
        yield n


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_file(node: LocalNode, tmp_path: Path, case: Case,
                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / case.file_name
    path.write_bytes(case.data)
    before = set(election_members(node))
    out = tmp_path / "report.json"
    status = main(["import", "nist", str(node.dir), str(path), "--slug", f"h{abs(hash(case))}",
                   "--report", str(out)])
    assert status == case.status
    after = set(election_members(node))
    assert len(after - before) == case.stored
    if status == 2:
        err = capsys.readouterr().err.strip()
        assert err.startswith("ddsnode: ") and len(err.splitlines()) == 1, err
        assert not out.exists()
    else:
        imported = json.loads(out.read_text(encoding="utf-8"))
        assert imported["totals"]["rejected"] == case.rejected
        assert all(m.startswith(node.base + c) for m in after - before for c in CONTAINERS
                   if m.startswith(node.base + c)) and \
            all(any(m.startswith(node.base + c) for c in CONTAINERS) for m in after - before)
    still_answers(node, node.url("proposals/school-streets"))
