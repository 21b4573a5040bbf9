"""The open-data portal (issue 15, "Open-data portal"): /catalog and its files.

A node holding every example (participation data and an election) builds its files;
its DCAT-AP catalogue validates with 0 violations against the official DCAT-AP 3.0.1
shapes in ``../shared/data/dcat-ap/`` (SEMIC's release files), and every distribution
it lists downloads with the size and SHA-256 it states, parses in its format, and
holds what the dataset says. Private containers stay out of every file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib

from ddsnode import resources
from ddsnode.catalog.check import SHAPE_FILES, SHAPES_DIR, check
from ddsnode.catalog.portal import Portal
from ddsnode.commands.demo import rebase
from ddsnode.elections.export import schema_errors
from ddsnode.federation.push import PUSH_CURSOR
from ddsnode.rdf.jsonld import parse_rdf
from tests.support.cluster import wait_for
from tests.support.inprocess import LocalNode, local_node

SHARED_DCAT_AP = Path(__file__).resolve().parents[2] / "shared" / "data" / "dcat-ap"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
TURTLE = {"Accept": "text/turtle"}


def fill(running: LocalNode) -> None:
    """Every example, through the validated write path."""
    core = running.app.node  # type: ignore[attr-defined]
    for path in sorted(resources.examples_dir().glob("*.jsonld")):
        text = rebase(path.read_text(encoding="utf-8"), running.base)
        core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")


def portal_of(running: LocalNode) -> Portal:
    """The node's open-data portal (the composition root made it)."""
    portal = running.app.assembly.catalog  # type: ignore[attr-defined]
    assert isinstance(portal, Portal)
    return portal


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("catalog"),
                    settings={"name": "Rivemont participe", "operator": "Ville de Rivemont",
                              "operator_url": "https://rivemont.example/",
                              "catalog_contact_email": "opendata@rivemont.example",
                              "catalog_spatial": "http://publications.europa.eu/resource/"
                                                 "authority/country/FRA",
                              "private_containers": "participants/",
                              "catalog_rebuild_seconds": 0}) as running:
        fill(running)
        # The federation's push loop counts the examples' reactions after their writes
        # and restates their targets' counts (one more write each): the dumps are built
        # once it has turned every change into activities, or they miss those counts.
        federation = running.app.assembly.federation  # type: ignore[attr-defined]
        wait_for(lambda: int(federation.db.get_meta(PUSH_CURSOR, "0") or 0)
                 >= federation.feed.latest(), what="the push loop caught up")
        portal_of(running).rebuild()
        yield running


def catalog_graph(running: LocalNode, page: int = 1) -> rdflib.Graph:
    with running.client() as http:
        r = http.get("/catalog", params={"page": str(page)}, headers=TURTLE)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/turtle")
    return rdflib.Graph().parse(data=r.text, format="turtle")


def test_catalogue_validates_against_the_official_dcat_ap_shapes(node: LocalNode) -> None:
    """0 results of any severity against DCAT-AP 3.0.1 (shapes + ranges from shared/)."""
    assert (SHARED_DCAT_AP / "dcat-ap-SHACL.ttl").is_file(), SHARED_DCAT_AP
    graph = catalog_graph(node)
    assert len(list(graph.subjects(rdflib.RDF.type, DCAT.Distribution))) > 20
    assert check(graph, SHARED_DCAT_AP) == []


def test_bundled_shapes_are_the_official_files() -> None:
    """The CLI's bundled copy is byte for byte SEMIC's release (shared/data/dcat-ap/)."""
    for name in SHAPE_FILES:
        assert (SHAPES_DIR / name).read_bytes() == (SHARED_DCAT_AP / name).read_bytes()


@pytest.mark.parametrize("planted", ["no-title", "two-checksums", "literal-license",
                                     "bad-byte-size"])
def test_check_finds_planted_violations(node: LocalNode, planted: str) -> None:
    """The validation bites: a catalogue broken in one place gets a violation there."""
    graph = catalog_graph(node)
    dataset = next(graph.subjects(DCT.identifier, rdflib.Literal("node")))
    dist = next(iter(graph.objects(dataset, DCAT.distribution)))
    if planted == "no-title":
        graph.remove((dataset, DCT.title, None))
    elif planted == "two-checksums":
        graph.add((dist, SPDX.checksum, rdflib.BNode()))
    elif planted == "literal-license":
        graph.remove((dist, DCT.license, None))
        graph.add((dist, DCT.license, rdflib.Literal("CC-BY")))
    else:
        graph.set((dist, DCAT.byteSize, rdflib.Literal("big")))
    findings = check(graph, SHARED_DCAT_AP)
    assert findings and all(f.severity == "Violation" for f in findings), findings
    assert {f.focus for f in findings} & {str(dataset), str(dist)}, findings


def _download(running: LocalNode, url: str) -> bytes:
    with running.client() as http:
        r = http.get(url)
    assert r.status_code == 200, (url, r.text[:300])
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.headers["etag"] == '"' + hashlib.sha256(r.content).hexdigest() + '"'
    return r.content


def test_every_distribution_is_what_the_catalogue_says(node: LocalNode) -> None:
    """Size, SHA-256, media type; each file parses in its format."""
    graph = catalog_graph(node)
    seen = set()
    for dist in graph.subjects(rdflib.RDF.type, DCAT.Distribution):
        url = str(graph.value(dist, DCAT.downloadURL))
        body = _download(node, url)
        assert int(graph.value(dist, DCAT.byteSize)) == len(body)
        checksum = graph.value(dist, SPDX.checksum)
        assert str(graph.value(checksum, SPDX.checksumValue)) == \
            hashlib.sha256(body).hexdigest()
        assert graph.value(dist, DCT.license) == rdflib.URIRef(
            "https://creativecommons.org/licenses/by/4.0/")
        media = str(graph.value(dist, DCAT.mediaType)).rsplit("media-types/", 1)[1]
        if graph.value(dist, DCAT.compressFormat) is not None:
            body = gzip.decompress(body)
        if media == "application/n-triples":
            rdflib.Graph().parse(data=body.decode(), format="nt")
        elif media == "application/ld+json":
            parse_rdf(body, "json-ld", base=url)
        elif media == "text/csv":
            rows = list(csv.reader(io.StringIO(body.decode())))
            assert rows and rows[0]
        else:
            json.loads(body)
        seen.add(media)
    assert seen == {"application/n-triples", "application/ld+json", "text/csv",
                    "application/csvm+json", "application/json"}


def test_dumps_hold_every_public_resource_and_no_private_one(node: LocalNode) -> None:
    """The node's dumps: N-Triples, JSON-LD and CSV agree; participants/ is private."""
    core = node.app.node  # type: ignore[attr-defined]
    nt = gzip.decompress(_download(node, "/catalog/files?name=node.nt.gz")).decode()
    triples = rdflib.Graph().parse(data=nt, format="nt")
    from_jsonld = parse_rdf(_download(node, "/catalog/files?name=node.jsonld"), "json-ld",
                            base=node.base)
    assert len(from_jsonld) == len(triples)
    rows = list(csv.DictReader(io.StringIO(_download(
        node, "/catalog/files?name=node.csv").decode())))
    subjects = {str(s) for s in triples.subjects()}
    assert {row["iri"] for row in rows} <= subjects
    proposal = node.url("proposals/school-streets")
    assert proposal in {row["iri"] for row in rows}
    assert not [s for s in subjects if s.startswith(node.url("participants/"))]
    assert "pieton-du-plateau" not in nt  # a participant's nickname: private here
    written = core.store.count_children(node.url("proposals/"))
    proposals = [r for r in rows if r["iri"].startswith(node.url("proposals/"))]
    assert len(proposals) == written
    graph = catalog_graph(node)
    assert graph.value(predicate=DCT.identifier, object=rdflib.Literal(
        "container-participants")) is None
    # An empty container is no dataset: every container listed has rows.
    listed = [str(i) for i in graph.objects(None, DCT.identifier)
              if str(i).startswith("container-")]
    assert listed
    for key in listed:
        rows = _download(node, f"/catalog/files?name={key}.csv").decode().splitlines()
        assert len(rows) > 1, key


def test_blank_nodes_of_two_resources_stay_apart(node: LocalNode) -> None:
    """Each stored resource labels its blank nodes _:b0…: in a dump they must not merge."""
    nt = gzip.decompress(_download(node, "/catalog/files?name=node.nt.gz")).decode()
    graph = rdflib.Graph().parse(data=nt, format="nt")
    core = node.app.node  # type: ignore[attr-defined]
    expected = 0
    for row in csv.DictReader(io.StringIO(_download(
            node, "/catalog/files?name=node.csv").decode())):
        expected += len(rdflib.Graph().parse(data=core.store.get(row["iri"]).ntriples,
                                             format="nt"))
    assert len(graph) == expected


def test_csv_has_its_csvw_dictionary(node: LocalNode) -> None:
    """Link rel=describedby (CSVW 5.2) names a dictionary whose columns are the CSV's."""
    with node.client() as http:
        r = http.get("/catalog/files", params={"name": "container-proposals.csv"})
        described = r.headers["link"].split(">", 1)[0].lstrip("<")
        meta = http.get(described).json()
    header = next(csv.reader(io.StringIO(r.text)))
    assert meta["@context"][0] == "http://www.w3.org/ns/csvw"
    assert meta["url"] == node.url("catalog/files?name=container-proposals.csv")
    assert [c["name"] for c in meta["tableSchema"]["columns"]] == header
    assert meta["tableSchema"]["primaryKey"] == "iri"


def test_election_is_a_series_with_nist_cdf(node: LocalNode) -> None:
    """Each election: a dcat:DatasetSeries, its data a dataset in it, NIST CDF valid."""
    graph = catalog_graph(node)
    series = list(graph.subjects(rdflib.RDF.type, DCAT.DatasetSeries))
    assert len(series) == 1
    dataset = next(graph.subjects(DCAT.inSeries, series[0]))
    assert str(graph.value(series[0], DCAT.landingPage)) == node.url("elections/municipal-2026")
    formats = {}
    for dist in graph.objects(dataset, DCAT.distribution):
        formats[str(graph.value(dist, DCT["format"])).rsplit("/", 1)[1]] = dist
    assert {"RDF_N_TRIPLES", "JSON_LD", "CSV", "JSON"} <= set(formats)
    cdf = [d for d in graph.objects(dataset, DCAT.distribution)
           if str(graph.value(d, DCT.conformsTo)).endswith("NIST.SP.1500-100r2")]
    assert len(cdf) == 1
    report = json.loads(_download(node, str(graph.value(cdf[0], DCAT.downloadURL))))
    assert schema_errors(report) == []
    assert report["@type"] == "ElectionResults.ElectionReport"
    period = graph.value(series[0], DCT.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2026-03-15"


def test_processes_have_their_own_dataset(node: LocalNode) -> None:
    """Participation data by process: what names the process with dds:inSpace."""
    graph = catalog_graph(node)
    process = rdflib.URIRef(node.url("processes/mobility-2026"))
    dataset = next(graph.subjects(DCAT.landingPage, process))
    dist = next(d for d in graph.objects(dataset, DCAT.distribution)
                if str(graph.value(d, DCAT.downloadURL)).endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO(_download(
        node, str(graph.value(dist, DCAT.downloadURL))).decode())))
    assert node.url("proposals/school-streets") in {r["iri"] for r in rows}
    assert all(not r["iri"].startswith(node.url("elections/")) for r in rows)


def test_catalogue_in_rdf_xml_for_harvesters(node: LocalNode) -> None:
    """RDF/XML (ckanext-dcat's default format): the same graph, just as valid."""
    with node.client() as http:
        r = http.get("/catalog", headers={"Accept": "application/rdf+xml"})
        forced = http.get("/catalog", params={"format": "rdfxml"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/rdf+xml"
    assert forced.content == r.content
    graph = rdflib.Graph().parse(data=r.content, format="xml")
    assert len(graph) == len(catalog_graph(node))
    assert check(graph, SHARED_DCAT_AP) == []


def test_catalogue_in_json_ld_and_html(node: LocalNode) -> None:
    """The same catalogue as JSON-LD; a page in French and in English for people."""
    with node.client() as http:
        jsonld = http.get("/catalog", headers={"Accept": "application/ld+json"})
        fr = http.get("/catalog", headers={"Accept": "text/html", "Accept-Language": "fr"})
        en = http.get("/catalog", params={"lang": "en"}, headers={"Accept": "text/html"})
        forced = http.get("/catalog", params={"format": "jsonld"},
                          headers={"Accept": "text/html"})
    assert jsonld.status_code == 200
    graph = parse_rdf(jsonld.content, "json-ld", base=node.url("catalog"))
    assert len(graph) == len(catalog_graph(node))
    assert forced.headers["content-type"].startswith("application/ld+json")
    assert fr.status_code == 200 and en.status_code == 200
    assert "Données ouvertes" in fr.text and 'lang="fr"' in fr.text
    assert "Open data" in en.text and 'lang="en"' in en.text
    assert "node.nt.gz" in en.text and "Rivemont participe" in en.text
    assert "Propositions, amendements et débats" in fr.text
    assert "Proposals, amendments and debates" in en.text
    titles = {(str(t), t.language) for t in catalog_graph(node).objects(
        rdflib.URIRef(node.url("catalog#container-proposals")), DCT.title)}
    assert titles == {("Proposals, amendments and debates", "en"),
                      ("Propositions, amendements et débats", "fr")}


def test_message_catalogues_have_the_same_messages() -> None:
    """fr, en, ca and es name the same msgids."""
    from ddsnode.catalog.messages import LANGUAGES, catalogue
    assert len({frozenset(catalogue(lang)) for lang in LANGUAGES}) == 1


def test_cli_check_passes(node: LocalNode, capsys: pytest.CaptureFixture[str]) -> None:
    """``ddsnode catalog check DIR`` validates every page and says which shapes."""
    from ddsnode.cli import main
    assert main(["catalog", "check", str(node.dir), "--shapes", str(SHARED_DCAT_AP)]) == 0
    out = capsys.readouterr().out
    assert "catalog check: 0 violations" in out and "DCAT-AP 3.0.1" in out
