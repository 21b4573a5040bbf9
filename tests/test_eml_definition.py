"""``ddsnode import eml`` of OASIS EML 110a election definitions (Dutch profile, issue 14).

The files are the Kiesraad's (``../shared/data/elections/kiesraad-eml/``, EUPL-1.2, see
SOURCES.md): the 2026 municipal council of Stadskanaal (one region) and the 2023
provincial council of Drenthe (province, kieskring, twelve municipalities). Variants are
derived here: a definition of the Dordrecht 510's election (the same resources as the
count), a region removed (a tombstone), and broken files (nothing written).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import rdflib

from ddsnode.cli import main
from ddsnode.commands.node import init_node
from ddsnode.elections.loading import node_graph
from ddsnode.ldp.node import Node
from ddsnode.rdf.vocab import DDS
from ddsnode.settings import Settings
from tests.test_elections_nist import export, schema_errors

KIESRAAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections" / \
    "kiesraad-eml"
DRENTHE = KIESRAAD / "Verkiezingsdefinitie_PS2023_Drenthe.eml.xml"
STADSKANAAL = KIESRAAD / "Verkiezingsdefinitie_GR2026_Stadskanaal.eml.xml"
COUNT = KIESRAAD / "Fake_test_data_Telling_TK2023_gemeente_Dordrecht.eml.xml"
BASE = "http://127.0.0.1:8000/"
SCHEMA = rdflib.Namespace("https://schema.org/")


def run_import(node_dir: Path, text: str, name: str = "def.eml.xml") -> tuple[int, dict[str, Any]]:
    if not node_dir.exists():
        init_node(node_dir, base_url=BASE)
    source = node_dir.parent / name
    source.write_text(text, encoding="utf-8")
    out = node_dir.parent / f"{name}.report.json"
    out.unlink(missing_ok=True)
    status = main(["import", "eml", str(node_dir), str(source), "--slug", "nl", "--quiet",
                   "--report", str(out)])
    return status, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def graph_of(node_dir: Path) -> rdflib.Graph:
    node = Node.open(Settings.load(node_dir))
    try:
        return node_graph(node)
    finally:
        node.close()


def unit(ident: str) -> rdflib.URIRef:
    return rdflib.URIRef(f"{BASE}places/nl-unit-{ident}")


def test_drenthe_region_tree(tmp_path: Path) -> None:
    status, report = run_import(tmp_path / "node", DRENTHE.read_text(encoding="utf-8"))
    assert status == 0
    assert {k: v["created"] for k, v in report["counts"].items()} == {
        "unit": 14, "contest": 1, "election": 1}
    assert report["totals"]["rejected"] == 0
    g = graph_of(tmp_path / "node")
    election = rdflib.URIRef(BASE + "elections/nl-election-ps2023-drenthe")
    contest = rdflib.URIRef(BASE + "elections/nl-contest-ps2023-drenthe-geen")
    assert str(g.value(election, SCHEMA.startDate)) == "2023-03-15"
    assert str(g.value(election, DDS.electionType)) == "PS"
    assert g.value(election, DDS.electionScope) == unit("provincie-3")
    assert int(g.value(contest, DDS.numberElected)) == 43
    assert int(g.value(contest, DDS.votesAllowed)) == 1
    assert g.value(contest, DDS.electoralDistrict) == unit("provincie-3")
    assert g.value(unit("0106"), DDS.partOfUnit) == unit("district-1")  # Assen
    assert g.value(unit("district-1"), DDS.partOfUnit) == unit("provincie-3")
    assert len(set(g.objects(unit("district-1"), DDS.composingUnit))) == 12
    kinds = {str(g.value(unit(i), DDS.gpUnitType)) for i in ("0106", "district-1", "provincie-3")}
    assert kinds == {"municipality", "electoral-district", "province"}
    assert any("RegisteredParties" in n for n in report["notes"])


def test_stadskanaal_is_one_municipality_with_23_seats(tmp_path: Path) -> None:
    status, report = run_import(tmp_path / "node", STADSKANAAL.read_text(encoding="utf-8"))
    assert status == 0 and report["totals"]["created"] == 3
    g = graph_of(tmp_path / "node")
    assert (unit("0037"), rdflib.RDF.type, DDS.ElectoralDistrict) in g
    contest = rdflib.URIRef(BASE + "elections/nl-contest-gr2026-stadskanaal-geen")
    assert int(g.value(contest, DDS.numberElected)) == 23


def test_definition_exports_as_valid_nist(tmp_path: Path) -> None:
    run_import(tmp_path / "node", DRENTHE.read_text(encoding="utf-8"))
    report = json.loads(export(tmp_path / "node", "elections/nl-election-ps2023-drenthe"))
    assert schema_errors(report) == []
    assert report["Election"][0]["Contest"][0]["NumberElected"] == 43
    assert len(report["GpUnit"]) == 14


def dordrecht_definition() -> str:
    """Drenthe's definition rewritten for the Dordrecht count's election: TK2023, the
    municipality 0505 in kieskring 14."""
    text = DRENTHE.read_text(encoding="utf-8").replace("PS2023_Drenthe", "TK2023")
    text = re.sub(r'RegionNumber="106" RegionCategory="GEMEENTE" SuperiorRegionNumber="1"',
                  'RegionNumber="505" RegionCategory="GEMEENTE" SuperiorRegionNumber="14"', text)
    return text.replace('RegionNumber="1" RegionCategory="KIESKRING"',
                        'RegionNumber="14" RegionCategory="KIESKRING"')


def test_definition_and_count_describe_the_same_resources(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    status, _ = run_import(node_dir, dordrecht_definition())
    assert status == 0
    status, count = run_import(node_dir, COUNT.read_text(encoding="utf-8"), "count.eml.xml")
    assert status == 0
    # The count writes the election, the kieskring and the municipality the definition
    # wrote (updated, not created beside them), and tombstones nothing of the definition.
    assert count["counts"]["election"]["updated"] == 1
    assert count["counts"]["unit"]["updated"] == 2
    assert count["totals"]["tombstoned"] == 0
    g = graph_of(node_dir)
    assert (unit("0505"), rdflib.RDF.type, None) in g
    assert g.value(unit("0505"), DDS.partOfUnit) == unit("district-14")


def test_region_removed_is_tombstoned(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    text = DRENTHE.read_text(encoding="utf-8")
    run_import(node_dir, text)
    cut = re.sub(r'\s*<kr:Region RegionNumber="1731".*?</kr:Region>', "", text, flags=re.S)
    status, report = run_import(node_dir, cut)
    assert status == 0
    assert report["counts"]["unit"]["tombstoned"] == 1
    node = Node.open(Settings.load(node_dir))
    try:
        stored = node.store.get(str(unit("1731")))
    finally:
        node.close()
    assert stored is not None and stored.kind == "tombstone"


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: re.sub(r"<kr:ElectionTree>.*</kr:ElectionTree>", "", t, flags=re.S),
     "no kr:ElectionTree"),
    (lambda t: t.replace("<kr:NumberOfSeats>43", "<kr:NumberOfSeats>4x3"),
     "is not a whole number"),
    (lambda t: t.replace('RegionNumber="3" RegionCategory="PROVINCIE"', 'RegionNumber="3"'),
     "without RegionCategory"),
    (lambda t: t.replace('<ElectionIdentifier Id="PS2023_Drenthe">', "<ElectionIdentifier>"),
     "ElectionIdentifier Id"),
    (lambda t: t[: len(t) // 2], "not well-formed"),
    (lambda t: t.replace('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
                         '<?xml version="1.0"?><!DOCTYPE EML [<!ENTITY x "y">]>'), "DTD"),
])
def test_broken_definitions_write_nothing(tmp_path: Path, change: Any, message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run_import(tmp_path / "node", change(DRENTHE.read_text(encoding="utf-8")))
    assert status == 2
    assert message in capsys.readouterr().err
    assert len(graph_of(tmp_path / "node")) == 0


def test_too_many_regions_is_refused_whole(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    init_node(tmp_path / "node", base_url=BASE, extra={"elections_max_rows": 10})
    status, _ = run_import(tmp_path / "node", DRENTHE.read_text(encoding="utf-8"))
    assert status == 2
    assert "elections_max_rows" in capsys.readouterr().err
    assert len(graph_of(tmp_path / "node")) == 0
