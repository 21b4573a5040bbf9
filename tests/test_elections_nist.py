"""``ddsnode import nist`` / ``export nist`` on NIST's own samples (issue 14).

The samples are ``../shared/data/elections/civics-cdf-samples/`` (Apache-2.0, see
SOURCES.md). Nodes are real directories made by ``init``; every document goes through
the validated write path. Exports are checked with a JSON Schema validator against
NIST's schema as published (the shared copy, not the package's).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import rdflib
from rdflib.compare import isomorphic

from ddsnode.cli import main
from ddsnode.commands.demo import load_examples
from ddsnode.commands.node import init_node
from ddsnode.elections.loading import _members, node_graph
from ddsnode.ldp.node import Node
from ddsnode.rdf.vocab import DCTERMS, DDS
from ddsnode.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections"
SAMPLES = SHARED / "civics-cdf-samples"
SCHEMA = json.loads((SHARED / "nist-cdf" / "NIST_V2_election_results_reporting.json")
                    .read_text(encoding="utf-8"))
BASE = "http://127.0.0.1:8000/"
CONTAINERS = ("elections/", "places/", "organisations/", "results/")
PROVENANCE = (DDS.importedAt, DDS.sourceDigest, DCTERMS.created, DCTERMS.modified,
              DCTERMS.publisher)


def schema_errors(report: dict[str, Any]) -> list[str]:
    """NIST's schema, applied by the jsonschema package (draft 4, formats checked)."""
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(report)]


def new_node(path: Path) -> Path:
    """A node directory made like ``ddsnode init`` makes one."""
    init_node(path, base_url=BASE)
    return path


def run(*argv: str) -> int:
    """The CLI in this process."""
    return main(list(argv))


def import_report(node_dir: Path, source: Path, *extra: str) -> dict[str, Any]:
    """Run ``import nist`` and return its JSON report."""
    out = node_dir.parent / f"{node_dir.name}-report.json"
    assert run("import", "nist", str(node_dir), str(source), "--report", str(out), *extra) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def election_graph(node_dir: Path, election: str | None = None) -> rdflib.Graph:
    """What the node holds of its elections, provenance and server stamps left out."""
    node = Node.open(Settings.load(node_dir))
    try:
        graph = node_graph(node, election)
    finally:
        node.close()
    for predicate in PROVENANCE:
        graph.remove((None, predicate, None))
    return graph


def export(node_dir: Path, election: str, fmt: str = "nist") -> str:
    """Run ``export`` to a file and return its text."""
    out = node_dir.parent / f"{node_dir.name}-export.{fmt}"
    assert run("export", fmt, str(node_dir), election, "-o", str(out)) == 0
    return out.read_text(encoding="utf-8")


POST = SAMPLES / "post_election_sample_feed_summary.xml"
MEASURE = SAMPLES / "ballot_measure_contest_sample_feed_with_results.xml"
PRE = SAMPLES / "pre_election_sample_feed.xml"


#: The slug each sample is imported under (its election is ``elections/{slug}-election-1``).
SLUGS = {POST: "va", MEASURE: "measure", PRE: "pre"}
Imported = Callable[[Path], tuple[Path, dict[str, Any]]]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    """A node per sample, each imported once for the module (the tests only read them,
    but for a re-import that must change nothing): (node dir, report)."""
    done: dict[Path, tuple[Path, dict[str, Any]]] = {}

    def get(sample: Path) -> tuple[Path, dict[str, Any]]:
        if sample not in done:
            node_dir = new_node(tmp_path_factory.mktemp(SLUGS[sample]) / "node")
            done[sample] = node_dir, import_report(node_dir, sample, "--slug", SLUGS[sample])
        return done[sample]

    return get


@pytest.fixture(scope="module")
def post_node(imported: Imported) -> tuple[Path, dict[str, Any]]:
    """A node with the post-election sample imported once."""
    return imported(POST)


@pytest.mark.parametrize(("sample", "expected"), [
    (POST, {"unit": 11, "party": 6, "office": 12, "candidate": 24, "contest": 15,
            "election": 1, "result": 15, "person": 27}),
    (MEASURE, {"unit": 2, "contest": 1, "election": 1, "result": 1}),
    (PRE, {"unit": 11, "party": 6, "office": 12, "candidate": 24, "contest": 15,
           "election": 1, "person": 27}),
])
def test_each_sample_imports_whole(imported: Imported, sample: Path,
                                   expected: dict[str, int]) -> None:
    _, report = imported(sample)
    assert {k: v["created"] for k, v in report["counts"].items()} == expected
    assert report["totals"]["rejected"] == 0, report["rejected"]


def test_reimport_writes_nothing(post_node: tuple[Path, dict[str, Any]]) -> None:
    node_dir, first = post_node
    again = import_report(node_dir, POST, "--slug", "va")
    assert again["totals"]["created"] == again["totals"]["updated"] == 0
    assert again["totals"]["unchanged"] == first["totals"]["created"]


def test_every_resource_carries_the_files_sha256(post_node: tuple[Path, dict[str, Any]]) -> None:
    import hashlib
    node_dir, report = post_node
    digest = "sha256:" + hashlib.sha256(POST.read_bytes()).hexdigest()
    assert report["sourceDigest"] == digest
    node = Node.open(Settings.load(node_dir))
    try:
        stored = [node.store.get(iri) for container in CONTAINERS
                  for iri in _members(node, container)]
    finally:
        node.close()
    assert len(stored) == report["totals"]["created"]
    graph = rdflib.Graph()
    for resource in stored:
        assert resource is not None
        graph += rdflib.Graph().parse(data=resource.ntriples, format="nt")
    documents = {rdflib.URIRef(r.iri) for r in stored if r is not None}
    assert {str(o) for s in documents for o in graph.objects(s, DDS.sourceDigest)} == {digest}


def test_units_keep_hierarchy_and_ocd_ids(post_node: tuple[Path, dict[str, Any]]) -> None:
    graph = election_graph(post_node[0])
    virginia = rdflib.URIRef(BASE + "places/va-unit-ru0002")
    assert str(graph.value(virginia, DDS.ocdId)) == "ocd-division/country:us/state:va"
    assert len(set(graph.objects(virginia, DDS.composingUnit))) == 5
    albemarle = rdflib.URIRef(BASE + "places/va-unit-ru0001")
    assert graph.value(albemarle, DDS.partOfUnit) == virginia


def test_vote_counts_per_selection_unit_and_type(post_node: tuple[Path, dict[str, Any]]) -> None:
    graph = election_graph(post_node[0])
    result = rdflib.URIRef(BASE + "results/va-result-cc20002-ru0002-seq-1")
    counts = {(str(graph.value(v, DDS.selection)).rsplit("#")[-1],
               str(graph.value(v, DDS.countType)).rsplit("/")[-1]): int(graph.value(v, DDS.count))
              for v in graph.objects(result, DDS.hasVoteCount)}
    assert counts[("cs10861_a", "electionDay")] == 5054
    assert counts[("cs10861_a", "total")] == 12223
    assert str(graph.value(result, DDS.resultsStatus)).endswith("/unofficialPartial")


@pytest.mark.parametrize("sample", [POST, MEASURE])
def test_export_validates_against_nists_schema(imported: Imported, sample: Path) -> None:
    node_dir, _ = imported(sample)
    report = json.loads(export(node_dir, f"elections/{SLUGS[sample]}-election-1"))
    assert schema_errors(report) == []
    assert report["Election"][0]["Contest"]


def test_round_trip_gives_the_same_graph(post_node: tuple[Path, dict[str, Any]],
                                        tmp_path: Path) -> None:
    """import -> export -> import: the same graph. The sample's GeneratedDate has no time
    zone (NIST requires one), so the first import has no reportedAt and the export says
    when it was made: that triple aside, and entirely from the second trip on."""
    a = post_node[0]
    b, c = (new_node(tmp_path / n) for n in ("b", "c"))
    election = "elections/va-election-1"
    first = tmp_path / "first.json"
    first.write_text(export(a, election), encoding="utf-8")
    import_report(b, first, "--slug", "va")
    second = tmp_path / "second.json"
    second.write_text(export(b, election), encoding="utf-8")
    import_report(c, second, "--slug", "va")
    ga, gb, gc = (election_graph(n, BASE + election) for n in (a, b, c))
    assert isomorphic(gb, gc)
    gb.remove((None, DDS.reportedAt, None))
    assert len(ga) > 400
    assert isomorphic(ga, gb), sorted(set(ga) ^ set(gb), key=str)[:5]


def test_example_election_exports_as_valid_nist(tmp_path: Path) -> None:
    node_dir = new_node(tmp_path / "node")
    _, problems = load_examples(Settings.load(node_dir))
    assert not problems
    report = json.loads(export(node_dir, "elections/municipal-2026"))
    assert schema_errors(report) == []
    contests = {c["@id"]: c for c in report["Election"][0]["Contest"]}
    council = contests["municipal-2026-council"]
    counts = {(s["@id"], v["Type"], v["GpUnitId"]): v["Count"]
              for s in council["ContestSelection"] for v in s.get("VoteCounts", [])}
    # the current publication (sequence 2, a correction) and the first are both exported
    assert counts[("list-rc", "total", "rivemont-secteur-1")] == 11052
    assert report["Status"] == "unofficial-complete"
    assert {u["Name"]["Text"][0]["Content"] for u in report["GpUnit"]} >= {"Rivemont"}


def candidate_report(status: str) -> dict[str, Any]:
    """A one-candidate contest whose candidate has a PostElectionStatus."""
    def text(value: str) -> dict[str, Any]:
        return {"@type": "ElectionResults.InternationalizedText",
                "Text": [{"@type": "ElectionResults.LanguageString", "Content": value,
                          "Language": "en"}]}
    return {
        "@type": "ElectionResults.ElectionReport", "Format": "summary-contest",
        "GeneratedDate": "2026-03-15T22:00:00Z", "Issuer": "t", "IssuerAbbreviation": "t",
        "SequenceStart": 1, "SequenceEnd": 1, "Status": "certified",
        "VendorApplicationId": "t",
        "GpUnit": [{"@id": "u", "@type": "ElectionResults.ReportingUnit", "Type": "city",
                    "Name": text("Town")}],
        "Election": [{"@type": "ElectionResults.Election", "Name": text("Mayor"),
                      "StartDate": "2026-03-15", "EndDate": "2026-03-15", "Type": "general",
                      "ElectionScopeId": "u",
                      "Candidate": [{"@id": "c1", "@type": "ElectionResults.Candidate",
                                     "BallotName": text("A. Person"),
                                     "PostElectionStatus": status}],
                      "Contest": [{"@id": "m", "@type": "ElectionResults.CandidateContest",
                                   "Name": "Mayor", "ElectionDistrictId": "u",
                                   "VotesAllowed": 1,
                                   "ContestSelection": [{
                                       "@id": "s1", "@type": "ElectionResults.CandidateSelection",
                                       "CandidateIds": ["c1"],
                                       "VoteCounts": [{"@type": "ElectionResults.VoteCounts",
                                                       "GpUnitId": "u", "Type": "total",
                                                       "Count": 7}]}]}]}]}


@pytest.mark.parametrize(("status", "rejected"), [("winner", 0), ("advanced-to-runoff", 0),
                                                  ("elected", 1)])
def test_post_election_status_is_kept(tmp_path: Path, status: str, rejected: int) -> None:
    node_dir = new_node(tmp_path / "node")
    source = tmp_path / "mayor.json"
    source.write_text(json.dumps(candidate_report(status)), encoding="utf-8")
    report = import_report(node_dir, source, "--slug", "m")
    assert report["totals"]["rejected"] == rejected
    if rejected:
        assert "postElectionStatus" in report["rejected"][0]["reason"]
        return
    exported = json.loads(export(node_dir, "elections/m-election-1"))
    assert schema_errors(exported) == []
    assert exported["Election"][0]["Candidate"][0]["PostElectionStatus"] == status
