"""``ddsnode import popolo``: Popolo persons, organizations, memberships; candidate -> person.

The files are Popolo's own examples (``../shared/data/popolo/examples/``, CC-BY 4.0, see
SOURCES.md), one object each or embedding others, and a collection built here from them
(``{"persons": [...], "organizations": [...], "memberships": [...]}``). The candidates
are NIST's Virginia sample (``civics-cdf-samples``), whose candidates name a PersonId.
Hostile inputs: not JSON, nested past the parser, too many objects, too big, values past
``max_literal_bytes``, objects that are not objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rdflib

from ddsnode.cli import main
from ddsnode.commands.node import init_node
from ddsnode.elections.loading import node_graph
from ddsnode.ldp.node import Node
from ddsnode.rdf.vocab import DDS, FOAF, ORG
from ddsnode.settings import Settings
from tests.test_elections_nist import export, schema_errors

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXAMPLES = SHARED / "popolo" / "examples"
PRE = SHARED / "elections" / "civics-cdf-samples" / "pre_election_sample_feed.xml"
BASE = "http://127.0.0.1:8000/"
SCHEMA = rdflib.Namespace("https://schema.org/")
XSD = rdflib.Namespace("http://www.w3.org/2001/XMLSchema#")


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def collection() -> dict[str, Any]:
    """Popolo's person, organization and membership examples as one collection, with a
    party the person is a member of."""
    party = {"id": "party-green", "name": "Green Party", "classification": "political party"}
    return {"persons": [example("person")],
            "organizations": [example("organization"), party],
            "memberships": [example("membership"),
                            {"id": "m-green", "person_id": "john-q-public",
                             "organization_id": "party-green", "role": "member",
                             "start_date": "1990"}]}


def run_import(node_dir: Path, data: Any, name: str = "popolo.json", *extra: str,
               settings: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    if not node_dir.exists():
        init_node(node_dir, base_url=BASE, extra=settings or {})
    source = node_dir.parent / name
    source.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode("utf-8"))
    out = node_dir.parent / "report.json"
    out.unlink(missing_ok=True)
    status = main(["import", "popolo", str(node_dir), str(source), "--slug", "p", "--quiet",
                   "--report", str(out), *extra])
    return status, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def stored_graph(node_dir: Path) -> rdflib.Graph:
    node = Node.open(Settings.load(node_dir))
    try:
        graph = rdflib.Graph()
        page = node.store.children(node.base + "organisations/", after=None, limit=500)
        for child in page.items:
            found = node.store.get(child.iri)
            if found is not None and found.kind == "rdf":
                graph.parse(data=found.ntriples, format="nt")
        return graph
    finally:
        node.close()


def test_collection_imports_persons_organizations_memberships(tmp_path: Path) -> None:
    status, report = run_import(tmp_path / "node", collection())
    assert status == 0
    assert {k: v["created"] for k, v in report["counts"].items()} == {
        "person": 1, "organization": 2, "membership": 2}
    assert report["totals"]["rejected"] == 0
    graph = stored_graph(tmp_path / "node")
    person = rdflib.URIRef(BASE + "organisations/p-person-john-q-public")
    assert (person, rdflib.RDF.type, FOAF.Person) in graph
    assert str(graph.value(person, FOAF.name)) == "Mr. John Q. Public, Esq."
    green = rdflib.URIRef(BASE + "organisations/p-organization-party-green")
    assert (green, rdflib.RDF.type, DDS.Party) in graph
    abc = rdflib.URIRef(BASE + "organisations/p-organization-abc-inc")
    assert (abc, rdflib.RDF.type, DDS.Party) not in graph
    membership = rdflib.URIRef(BASE + "organisations/p-membership-593")
    assert graph.value(membership, ORG.member) == person
    assert graph.value(membership, ORG.organization) == abc
    assert str(graph.value(membership, SCHEMA.roleName)) == "Kitchen assistant"
    start = graph.value(membership, SCHEMA.startDate)
    assert isinstance(start, rdflib.Literal) and start.datatype == XSD.gYearMonth
    assert graph.value(rdflib.URIRef(BASE + "organisations/p-membership-m-green"),
                       SCHEMA.startDate).datatype == XSD.gYear


def test_personal_data_is_not_imported(tmp_path: Path) -> None:
    _, report = run_import(tmp_path / "node", collection())
    text = " ".join(str(o) for o in stored_graph(tmp_path / "node").objects())
    for private in ("jqpublic@xyz.example.com", "046454286", "1920-01", "+1-555-555-0100",
                    "Scottish", "male", "Dragonsbane", "jqpublic.gif"):
        assert private not in text
    assert any(n.startswith("personal data not imported: ") and "email" in n
               for n in report["notes"])


@pytest.mark.parametrize(("name", "created"), [
    ("person", {"person": 1}),
    ("organization", {"organization": 1}),
    ("embedding-membership", {"person": 1, "organization": 1, "membership": 1}),
    ("embedding-person", {"person": 1, "membership": 2}),
    ("embedding-organization", {"organization": 1, "membership": 2}),
    ("embedding-post", {"organization": 1, "membership": 1}),
])
def test_each_popolo_example_imports(tmp_path: Path, name: str,
                                     created: dict[str, int]) -> None:
    status, report = run_import(tmp_path / "node", example(name), f"{name}.json")
    assert status == 0
    assert {k: v["created"] for k, v in report["counts"].items()} == created
    assert report["totals"]["rejected"] == 0


def test_memberships_split_across_files_link_by_slug(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    run_import(node_dir, example("embedding-person"), "person.json")
    _, report = run_import(node_dir, example("organization"), "org.json")
    assert report["totals"]["created"] == 1
    graph = stored_graph(node_dir)
    membership = rdflib.URIRef(BASE + "organisations/p-membership-700")
    organization = graph.value(membership, ORG.organization)
    assert (organization, rdflib.RDF.type, ORG.Organization) in graph


def test_reimport_is_idempotent_and_tombstones_what_left(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    run_import(node_dir, collection())
    _, again = run_import(node_dir, collection())
    assert again["totals"]["unchanged"] == 5 and again["totals"]["created"] == 0
    fewer = collection()
    fewer["memberships"] = fewer["memberships"][:1]
    _, third = run_import(node_dir, fewer)
    assert third["counts"]["membership"]["tombstoned"] == 1


def test_nist_candidates_link_to_persons(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    out = tmp_path / "nist.json"
    assert main(["import", "nist", str(node_dir), str(PRE), "--slug", "va", "--quiet",
                 "--report", str(out)]) == 0
    assert json.loads(out.read_text())["counts"]["person"]["created"] == 27
    node = Node.open(Settings.load(node_dir))
    try:
        graph = node_graph(node)
    finally:
        node.close()
    candidate = rdflib.URIRef(BASE + "elections/va-candidate-can10861a")
    person = graph.value(candidate, DDS.person)
    assert person == rdflib.URIRef(BASE + "organisations/va-person-per10861a")
    assert (person, rdflib.RDF.type, FOAF.Person) in graph
    assert str(graph.value(person, FOAF.name))
    # No contact details: the sample gives this person a White House address and phones.
    assert "202-456-1111" not in " ".join(str(o) for o in graph.objects())
    # The export names the person (NIST Person, FullName) and stays schema-valid.
    report = json.loads(export(node_dir, "elections/va-election-el0110"))
    assert schema_errors(report) == []
    persons = {p["@id"] for p in report.get("Person", [])}
    cands = {c["@id"]: c for c in report["Election"][0]["Candidate"]}
    assert cands["can10861a"]["PersonId"] in persons
    # A Popolo file of the same slug describes the same person: one resource, two sources.
    popolo = {"persons": [{"id": "per10861a", "name": "Barack Obama"}],
              "organizations": [{"id": "dem", "name": "Democratic Party",
                                 "classification": "party"}],
              "memberships": [{"person_id": "per10861a", "organization_id": "dem"}]}
    status, preport = run_import(node_dir, popolo, "popolo.json", "--slug", "va")
    assert status == 0 and preport["totals"]["rejected"] == 0
    graph = stored_graph(node_dir)
    assert str(graph.value(person, FOAF.name)) == "Barack Obama"
    assert graph.value(predicate=ORG.member, object=person) is not None


@pytest.mark.parametrize(("data", "message"), [
    (b"{not json", "not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    (b"42", "a JSON object or a list"),
    (b'{"persons": [1, 2]}', "must be a JSON object"),
    (b'{"persons": []}', "no Popolo person"),
])
def test_unreadable_files_write_nothing(tmp_path: Path, data: bytes, message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run_import(tmp_path / "node", data)
    assert status == 2
    assert message in capsys.readouterr().err
    assert len(stored_graph(tmp_path / "node")) == 0


def test_too_many_objects_is_refused_whole(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run_import(tmp_path / "node", collection(),
                           settings={"elections_max_rows": 3})
    assert status == 2
    assert "elections_max_rows" in capsys.readouterr().err
    assert len(stored_graph(tmp_path / "node")) == 0


def test_too_large_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run_import(tmp_path / "node", collection(),
                           settings={"elections_max_source_bytes": 100})
    assert status == 2
    assert "elections_max_source_bytes" in capsys.readouterr().err


def test_oversized_name_and_nameless_person_are_rejected(tmp_path: Path) -> None:
    data = {"persons": [{"id": "a", "name": "x" * 70_000}, {"id": "b"},
                        {"id": "c", "name": "Ok"}, {"name": "No id"}]}
    status, report = run_import(tmp_path / "node", data,
                                settings={"max_literal_bytes": 65_536})
    assert status == 0
    reasons = {r["id"]: r["reason"] for r in report["rejected"]}
    assert "max_literal_bytes" in reasons["a"]
    assert "needs a name" in reasons["b"]
    assert "needs an id" in reasons["No id"]
    assert report["counts"]["person"]["created"] == 1


def test_areas_become_units(tmp_path: Path) -> None:
    """Popolo's area example (no id: named by its OCD identifier), in a collection with
    its parent."""
    boston = {"id": "boston", "name": "Boston", "classification": "city",
              "identifier": "ocd-division/country:us/state:ma/place:boston"}
    status, report = run_import(tmp_path / "node", {"areas": [boston, example("area")]})
    assert status == 0 and report["counts"]["area"]["created"] == 2
    node = Node.open(Settings.load(tmp_path / "node"))
    try:
        graph = node_graph(node)
        ward_iri = BASE + "places/p-unit-ocd-division-country-us-state-ma-place-boston-ward-1"
        stored = node.store.get(ward_iri)
        assert stored is not None
        graph.parse(data=stored.ntriples, format="nt")
        stored = node.store.get(BASE + "places/p-unit-boston")
        assert stored is not None
        graph.parse(data=stored.ntriples, format="nt")
    finally:
        node.close()
    ward = rdflib.URIRef(ward_iri)
    assert str(graph.value(ward, DDS.gpUnitType)) == "ward"
    assert str(graph.value(ward, DDS.ocdId)) == "ocd-division/country:us/state:ma/place:boston/ward:1"
    assert graph.value(ward, DDS.partOfUnit) == rdflib.URIRef(BASE + "places/p-unit-boston")
