"""The directory pages: matrix counts equal the data, filters, organisation page, JSON-LD,
escaping of hostile names, parameters refused, and organisations cached from a peer.

The node runs in-process with the example directory imported through the CLI; expected
figures are computed from the spreadsheet itself, not typed in.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import rdflib
from markupsafe import escape

from ddsnode import resources
from ddsnode.cli import main
from ddsnode.explorer.directory_import import row_document
from ddsnode.explorer.directory_terms import cluster_of, kind_of, level_of
from ddsnode.federation.cache import PeerCache
from ddsnode.federation.database import FederationDB
from ddsnode.ldp.containers import ContainerRegistry
from ddsnode.rdf.jsonld import parse_document
from ddsnode.rdf.vocab import FOAF, ORG, RDF
from tests.support.inprocess import LocalNode, local_node
from tests.support.mock_peer import mock_client

EXAMPLE = resources.examples_dir() / "directory" / "organisations.csv"
CELL = re.compile(r'data-cluster="(\w+)" data-level="(\w+)" data-initiatives="(\d+)" '
                  r'data-organisations="(\d+)"')
LISTED = re.compile(r'<li class="dds-organisation">\s*<a class="govuk-link" href="[^"]*">'
                    r'([^<]*)</a>')


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))))


def _clusters(row: dict[str, str]) -> set[str]:
    found = [cluster_of(t) for t in re.split(r"[;|]", row["clusters"]) if t.strip()]
    return {c.word for c in found if c is not None}


def _initiatives(row: dict[str, str]) -> list[str]:
    return [t for t in (p.strip() for p in row["initiatives"].split("|")) if t]


def _import(node: LocalNode, source: Path = EXAMPLE) -> None:
    assert main(["import", "directory", str(node.dir), str(source)]) == 0


def _listed(page: str) -> set[str]:
    return {html.unescape(n) for n in LISTED.findall(page)}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> LocalNode:
    with local_node(tmp_path_factory.mktemp("directory")) as running:
        _import(running)
        yield running


def test_matrix_counts_equal_the_data(node: LocalNode) -> None:
    initiatives: Counter[tuple[str, str]] = Counter()
    orgs: dict[tuple[str, str], set[str]] = {}
    for row in _rows():
        level = level_of(row["IAP2 level"])
        assert level is not None
        for cluster in _clusters(row):
            initiatives[(cluster, level.word)] += len(_initiatives(row))
            orgs.setdefault((cluster, level.word), set()).add(row["name"])
    with node.client() as http:
        page = http.get("/explore/directory?lang=en")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    cells = {(c, lv): (int(i), int(o)) for c, lv, i, o in CELL.findall(page.text)}
    assert len(cells) == 25
    assert cells == {key: (initiatives[key], len(orgs.get(key, ()))) for key in cells}
    assert sum(i for i, _ in cells.values()) > 0


def test_a_matrix_cell_links_to_its_organisations_and_initiatives(node: LocalNode) -> None:
    expected = {r["name"] for r in _rows() if "oversightAndRedress" in _clusters(r)
                and level_of(r["IAP2 level"]).word == "collaborate"}  # type: ignore[union-attr]
    with node.client() as http:
        page = http.get("/explore/directory?lang=en").text
        href = re.search(r'href="([^"]*cluster=oversightAndRedress&amp;level=collaborate[^"]*)"',
                         page)
        assert href is not None
        listed = http.get(html.unescape(href.group(1))).text
    assert _listed(listed) == expected and len(expected) == 2
    assert listed.count('class="dds-initiative"') == sum(
        len(_initiatives(r)) for r in _rows() if r["name"] in expected)


@pytest.mark.parametrize("params", [
    {"country": "GB"}, {"country": "ES", "kind": "localGovernment"},
    {"cluster": "publicInterestTechnology"}, {"level": "empower"},
    {"country": "FR", "cluster": "oversightAndRedress", "level": "involve"},
])
def test_filters_select_what_the_data_says(node: LocalNode, params: dict[str, str]) -> None:
    def keep(row: dict[str, str]) -> bool:
        level = level_of(row["IAP2 level"])
        return ((params.get("country") in (None, row["country"]))
                and (params.get("kind") in (None, kind_of(row["type"])))
                and (params.get("cluster") in (None, *_clusters(row)))
                and (params.get("level") in (None, level.word if level else None)))
    expected = {r["name"] for r in _rows() if keep(r)}
    with node.client() as http:
        page = http.get("/explore/directory?" + urlencode(params))
    assert page.status_code == 200
    assert _listed(page.text) == expected and expected
    for name, value in params.items():  # the form shows the state it was given
        assert re.search(rf'<option value="{value}" selected>', page.text), name


def test_same_url_as_json_ld(node: LocalNode) -> None:
    with node.client() as http:
        page = http.get("/explore/directory?country=GB")
        data = http.get("/explore/directory?country=GB",
                        headers={"Accept": "application/ld+json"})
    assert data.headers["content-type"].startswith("application/ld+json")
    graph = parse_document(data.content, node.url("explore/directory"))
    names = {str(graph.value(s, FOAF.name)) for s in graph.subjects(RDF.type, ORG.Organization)}
    assert names == _listed(page.text) == {r["name"] for r in _rows() if r["country"] == "GB"}


def test_organisation_page_and_its_refusals(node: LocalNode) -> None:
    row = next(r for r in _rows() if len(_initiatives(r)) == 2)
    with node.client() as http:
        listing = http.get("/explore/directory?lang=fr").text
        href = re.search(r'<a class="govuk-link" href="([^"]*)">' + re.escape(
            html.escape(row["name"], quote=False)) + "</a>", listing)
        assert href is not None
        page = http.get(html.unescape(href.group(1)))
        assert page.status_code == 200 and '<html lang="fr"' in page.text
        for title in _initiatives(row):
            assert html.escape(title, quote=False) in page.text
        assert f'href="{row["website"]}"' in page.text
        again = http.get(html.unescape(href.group(1)),
                         headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304
        missing = http.get("/explore/directory/organisation?id=" + node.url("organisations/x"))
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert http.get("/explore/directory/organisation").status_code == 400


@pytest.mark.parametrize("query", ["cluster=smartCity", "level=decide", "country=FRA",
                                   "kind=<b>", "cluster=a&cluster=b", "country=%ff"])
def test_parameters_outside_the_schemes_are_refused(node: LocalNode, query: str) -> None:
    with node.client() as http:
        r = http.get("/explore/directory?" + query)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")


def test_hostile_names_are_escaped_everywhere(tmp_path: Path) -> None:
    header = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    name = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    line = ",".join(['"' + name.replace('"', '""') + '"', "https://x.example/?a=%3Cb%3E", "FR",
                     "civil society", "<i>Lyon</i>", "45.7", "4.8", "audit", "consult",
                     '"<svg onload=alert(3)>"', "javascript:alert(4)", "en"])
    source = tmp_path / "hostile.csv"
    source.write_text(header + "\n" + line + "\n", encoding="utf-8")
    with local_node(tmp_path) as running:
        _import(running, source)
        with running.client() as http:
            page = http.get("/explore/directory?country=FR").text
            org = http.get("/explore/directory/organisation?" + urlencode(
                {"id": running.url("organisations/") + "script-alert-1-script-img-src-x-onerror-"
                 "alert-2"})).text
            svg = http.get("/explore/directory/map.svg").text
    for text in (page, org, svg):
        assert "<script>" not in text and "<img" not in text and "<svg onload" not in text
    assert str(escape(name)) in page
    assert "&lt;svg onload=alert(3)&gt;" in org and "&lt;i&gt;Lyon&lt;/i&gt;" in org
    assert 'href="javascript:' not in page + org + svg


def test_peer_organisations_are_listed_with_their_origin(tmp_path: Path) -> None:
    peer = "http://peer.test/"
    row = ["Kommune Fjellby", "https://fjellby.example/", "NO", "local government", "Bergen",
           "60.39", "5.32", "co-design", "empower", "Digital participatory budget", "", "en"]
    header = EXAMPLE.read_text(encoding="utf-8").splitlines()[0].split(",")
    columns = {c: i for i, c in enumerate(["name", "website", "country", "type", "city",
                                            "latitude", "longitude", "clusters", "level",
                                            "initiatives", "description", "language"])}
    assert len(header) == len(columns)
    iri = peer + "organisations/kommune-fjellby"
    doc, _ = row_document(row, columns, iri, lang="en", max_bytes=4096, base=peer)

    def answer(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == iri
        return httpx.Response(200, content=json.dumps(doc).encode(),
                              headers={"Content-Type": "application/ld+json"})

    with local_node(tmp_path) as running:
        _import(running)
        cache = PeerCache(FederationDB(running.dir), mock_client(
            answer, [], allowed_origins={"http://peer.test:80"}), ContainerRegistry())
        asyncio.run(cache.fetch(iri, learned=True))
        with running.client() as http:
            page = http.get("/explore/directory?cluster=publicServiceCodesign&level=empower")
            data = http.get("/explore/directory?country=NO",
                            headers={"Accept": "application/ld+json"})
            org = http.get("/explore/directory/organisation?" + urlencode({"id": iri}))
    assert "Kommune Fjellby" in _listed(page.text)
    assert "From the node http://peer.test" in page.text
    graph = parse_document(data.content, running.url("explore/directory"))
    assert set(graph.subjects(RDF.type, ORG.Organization)) == {rdflib.URIRef(iri)}
    assert org.status_code == 200 and f'href="{iri}"' in org.text


def test_catalogues_have_the_same_messages() -> None:
    folder = Path(resources.__file__).parent / "explorer" / "locales" / "directory"
    keys = {lang: set(json.loads((folder / f"{lang}.json").read_text("utf-8")))
            for lang in ("en", "fr", "ca", "es")}
    assert keys["en"] and all(k == keys["en"] for k in keys.values())


def test_a_private_organisations_container_stays_private(tmp_path: Path) -> None:
    gb = {r["name"] for r in _rows() if r["country"] == "GB"}
    with local_node(tmp_path, settings={"private_containers": "organisations/"}) as running:
        _import(running)
        iri = running.url("organisations/northbridge-city-council")
        with running.client() as http:
            public = http.get("/explore/directory?country=GB")
            public_data = http.get("/explore/directory?country=GB",
                                   headers={"Accept": "application/ld+json"})
            public_geo = http.get("/explore/directory/map.geojson?country=GB")
            public_org = http.get("/explore/directory/organisation?" + urlencode({"id": iri}))
            reader = running.auth(running.read_token)
            private = http.get("/explore/directory?country=GB", headers=reader)
            private_org = http.get("/explore/directory/organisation?" + urlencode({"id": iri}),
                                   headers=reader)
    assert public.status_code == 200 and _listed(public.text) == set()
    assert not any(n in public.text for n in gb)
    assert {int(i) for _, _, i, _ in CELL.findall(public.text)} == {0}
    assert json.loads(public_data.content)["@graph"] == []
    assert json.loads(public_geo.content)["features"] == []
    assert public_org.status_code == 404
    assert _listed(private.text) == gb and private_org.status_code == 200
    assert public.headers["etag"] != private.headers["etag"]
    assert "Authorization" in public.headers["vary"]


def test_the_pages_follow_writes_and_deletes(tmp_path: Path) -> None:
    header = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    extra = tmp_path / "one.csv"
    extra.write_text(header + "\nNew Org,https://new.example/,LU,academia,Luxembourg,49.61,6.13,"
                     "regulation,consult,,,en\n", encoding="utf-8")
    with local_node(tmp_path) as running:
        _import(running)
        with running.client() as http:
            assert _listed(http.get("/explore/directory?lang=en").text) == {
                r["name"] for r in _rows()}
            _import(running, extra)  # another process's write (the CLI opens the store)
            assert "New Org" in _listed(http.get("/explore/directory").text)
            gone = running.url("organisations/new-org")
            assert http.delete(gone, headers=running.auth()).status_code == 204
            assert "New Org" not in _listed(http.get("/explore/directory").text)
