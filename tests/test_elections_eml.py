"""``ddsnode import eml``: the Kiesraad's 510 count file (Dutch profile) and variants.

The file is ``../shared/data/elections/kiesraad-eml/Fake_test_data_Telling_TK2023_
gemeente_Dordrecht.eml.xml`` (synthetic test data of the Kiesraad, EUPL-1.2, see
SOURCES.md): the municipality's totals and one polling station's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rdflib

from ddsnode.cli import main
from ddsnode.commands.node import init_node
from ddsnode.elections.loading import load_any, node_graph
from ddsnode.elections.verify import verify
from ddsnode.ldp.node import Node
from ddsnode.rdf.vocab import DDS
from ddsnode.settings import Settings
from tests.test_elections_nist import export, schema_errors

KIESRAAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections" / \
    "kiesraad-eml"
COUNT = KIESRAAD / "Fake_test_data_Telling_TK2023_gemeente_Dordrecht.eml.xml"
BASE = "http://127.0.0.1:8000/"


def import_eml(tmp: Path, data: bytes) -> tuple[int, Path, dict[str, Any]]:
    """Import ``data`` as a 510 file into a new node: (status, node dir, report or {})."""
    node_dir = tmp / "node"
    if not node_dir.exists():
        init_node(node_dir, base_url=BASE)
    source = tmp / "count.eml.xml"
    source.write_bytes(data)
    out = tmp / "report.json"
    out.unlink(missing_ok=True)
    status = main(["import", "eml", str(node_dir), str(source), "--slug", "tk",
                   "--report", str(out)])
    return status, node_dir, json.loads(out.read_text()) if out.exists() else {}


def test_count_file_imports_whole(tmp_path: Path) -> None:
    status, _, report = import_eml(tmp_path, COUNT.read_bytes())
    assert status == 0
    assert {k: v["created"] for k, v in report["counts"].items()} == {
        "unit": 3, "party": 4, "contest": 1, "election": 1, "result": 2}
    assert report["totals"]["rejected"] == 0 and report["findings"] == []
    again = import_eml(tmp_path, COUNT.read_bytes())[2]
    assert again["totals"]["unchanged"] == 11


def test_counts_and_ballots(tmp_path: Path) -> None:
    _, node_dir, _ = import_eml(tmp_path, COUNT.read_bytes())
    node = Node.open(Settings.load(node_dir))
    try:
        graph = node_graph(node)
    finally:
        node.close()
    station = rdflib.URIRef(BASE + "results/tk-result-14-0505-sb1")
    assert int(graph.value(station, DDS.ballotsCast)) == 72100
    assert int(graph.value(station, DDS.blankBallots)) == 2
    assert int(graph.value(station, DDS.invalidBallots)) == 3
    counts = {str(graph.value(v, DDS.selection)).rsplit("#", 1)[-1]: int(graph.value(v, DDS.count))
              for v in graph.objects(station, DDS.hasVoteCount)}
    assert counts["list-1"] == 25205 and counts["list-1-candidate-1"] == 7080
    unit = rdflib.URIRef(BASE + "places/tk-unit-0505-sb1")
    assert (unit, rdflib.RDF.type, DDS.PollingStation) in graph
    assert graph.value(unit, DDS.partOfUnit) == rdflib.URIRef(BASE + "places/tk-unit-0505")


def test_exports_as_valid_nist_and_verifies_clean(tmp_path: Path) -> None:
    _, node_dir, _ = import_eml(tmp_path, COUNT.read_bytes())
    report = json.loads(export(node_dir, "elections/tk-election-tk2023"))
    assert schema_errors(report) == []
    found = verify(load_any(str(node_dir)))
    assert found.compared == 1 and found.findings == []


def test_a_station_that_does_not_add_up(tmp_path: Path) -> None:
    """The station's first candidate gets one vote more: its list no longer adds up (a
    finding of the import) and the municipality no longer equals its station (verify)."""
    text = COUNT.read_text(encoding="utf-8")
    station = text.index("<ReportingUnitVotes>")
    seeded = text[:station] + text[station:].replace("<ValidVotes>7080</ValidVotes>",
                                                     "<ValidVotes>7081</ValidVotes>", 1)
    status, node_dir, report = import_eml(tmp_path, seeded.encode("utf-8"))
    assert status == 0
    assert [f["code"] for f in report["findings"]] == ["list-does-not-add-up"]
    found = verify(load_any(str(node_dir)))
    assert [f.code for f in found.findings] == ["sub-units-do-not-add-up"]
    assert main(["verify", str(node_dir)]) == 1


HOSTILE = [
    ("a DTD", (b'<?xml version="1.0"?><!DOCTYPE EML [<!ENTITY a "b">]>'
               b'<EML xmlns="urn:oasis:names:tc:evs:schema:eml" Id="510b">&a;</EML>')),
    ("an EML message this importer does not read (a 120 nomination)",
     (KIESRAAD / "Verkiezingsdefinitie_PS2023_Drenthe.eml.xml").read_bytes()
     .replace(b'Id="110a"', b'Id="120"', 1)),
    ("votes that are not a number",
     COUNT.read_bytes().replace(b"<ValidVotes>25205</ValidVotes>",
                                b"<ValidVotes>25k</ValidVotes>", 1)),
    ("not well-formed", COUNT.read_bytes()[:5000]),
]


@pytest.mark.parametrize(("name", "data"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_refused_whole(tmp_path: Path, name: str, data: bytes,
                       capsys: pytest.CaptureFixture[str]) -> None:
    status, node_dir, report = import_eml(tmp_path, data)
    assert status == 2 and report == {}
    err = capsys.readouterr().err.strip()
    assert err.startswith("ddsnode: ") and len(err.splitlines()) == 1
    node = Node.open(Settings.load(node_dir))
    try:
        assert len(node_graph(node)) == 0  # nothing of it stored
    finally:
        node.close()


def test_candidate_list_names_the_counts_candidates(tmp_path: Path) -> None:
    """A 230b list gives the candidates a 510 count names only by list and position: same
    slug, same IRIs. (The two shared files are of different elections; what is tested is
    the naming contract between the two kinds of file.)"""
    status, node_dir, _ = import_eml(tmp_path, COUNT.read_bytes())
    assert status == 0
    status, _, listed = import_eml(tmp_path, (KIESRAAD / "eml230b_test.eml.xml").read_bytes())
    assert status == 0 and listed["counts"]["candidate"]["created"] == 18
    node = Node.open(Settings.load(node_dir))
    try:
        graph = node_graph(node)
        stored = node.store.get(BASE + "elections/tk-candidate-1-2")
    finally:
        node.close()
    assert stored is not None
    assert "K. de Blikkert" in stored.ntriples
    assert "female" not in stored.ntriples and "Heemdamseburg" not in stored.ntriples
    named = set(graph.objects(None, DDS.candidate))
    candidate = rdflib.URIRef(BASE + "elections/tk-candidate-1-2")
    assert candidate in named


@pytest.mark.parametrize(("tamper", "expected_status"), [(False, 0), (True, 2)])
def test_sha256_ties_the_file_to_its_published_hash(tmp_path: Path, tamper: bool,
                                                    expected_status: int,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``--sha256``: the hash the authority published is checked before anything is read;
    a file changed by one vote is refused whole."""
    import hashlib
    published = hashlib.sha256(COUNT.read_bytes()).hexdigest()
    data = COUNT.read_bytes()
    if tamper:
        data = data.replace(b"<ValidVotes>25205</ValidVotes>", b"<ValidVotes>25206</ValidVotes>", 1)
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    source = tmp_path / "count.eml.xml"
    source.write_bytes(data)
    status = main(["import", "eml", str(node_dir), str(source), "--slug", "tk", "--quiet",
                   "--sha256", "sha256:" + published.upper()])
    assert status == expected_status
    node = Node.open(Settings.load(node_dir))
    try:
        stored = len(node_graph(node))
    finally:
        node.close()
    if tamper:
        assert "not the expected" in capsys.readouterr().err and stored == 0
    else:
        assert stored > 0


def test_sha256_that_is_not_a_hash_is_refused(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    init_node(tmp_path / "node", base_url=BASE)
    assert main(["import", "eml", str(tmp_path / "node"), str(COUNT), "--sha256", "abc"]) == 2
    assert "64 hexadecimal digits" in capsys.readouterr().err
