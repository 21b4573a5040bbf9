"""Published results generations in the catalogue (issue 15): datasets of the series.

A node publishing its election's results (``publication_elections = "*"``) has
generations; after a catalogue build, the current one is a ``dcat:Dataset`` in the
election's ``dcat:DatasetSeries`` whose distributions are the generation's files (as
its signed manifest lists them) and the manifest itself: each downloads with the size
and SHA-256 the catalogue states, and the catalogue still validates against DCAT-AP.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import httpx
import pytest
import rdflib

from ddsnode.catalog.check import check
from tests.support.inprocess import LocalNode, local_node
from tests.test_catalog import DCAT, DCT, SHARED_DCAT_AP, SPDX, TURTLE, fill, portal_of

ELECTION = "elections/municipal-2026"


def _pointer(http: httpx.Client) -> dict[str, object]:
    """The results pointer once it names a generation holding every stored result (the
    publisher runs every 0.2 s here; its first generation may come before the results,
    with no contest files)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = http.get(f"/{ELECTION}/results/current")
        if r.status_code == 200:
            snapshot = http.get(f"/{ELECTION}/results/g/{r.json()['generation']}/results.json",
                                headers={"Accept-Encoding": "identity"})
            if snapshot.status_code == 200 and len(snapshot.json()["results"]) >= 2:
                return r.json()  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("no generation with the results was published")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("catalog-generations"),
                    settings={"publication_elections": "*",
                              "publication_interval_seconds": 0.2,
                              "catalog_rebuild_seconds": 0}) as running:
        fill(running)
        with running.client() as http:
            _pointer(http)
        portal_of(running).rebuild()
        yield running


def test_current_generation_is_a_dataset_of_the_series(node: LocalNode) -> None:
    with node.client() as http:
        graph = rdflib.Graph().parse(data=http.get("/catalog", headers=TURTLE).text,
                                     format="turtle")
        series = next(graph.subjects(rdflib.RDF.type, DCAT.DatasetSeries))
        members = list(graph.subjects(DCAT.inSeries, series))
        generations = [d for d in members if graph.value(d, DCAT.version) is not None]
        assert len(members) >= 2 and generations
        dataset = generations[-1]
        landing = str(graph.value(dataset, DCAT.landingPage))
        assert landing.startswith(node.url(f"{ELECTION}/results/g/"))
        names = set()
        for dist in graph.objects(dataset, DCAT.distribution):
            url = str(graph.value(dist, DCAT.downloadURL))
            body = http.get(url, headers={"Accept-Encoding": "identity"}).content
            assert int(graph.value(dist, DCAT.byteSize)) == len(body), url
            checksum = graph.value(dist, SPDX.checksum)
            assert str(graph.value(checksum, SPDX.checksumValue)) == \
                hashlib.sha256(body).hexdigest(), url
            names.add(url.rsplit("/", 1)[1])
        assert {"manifest.jws", "results.json", "diff.json"} <= names
        assert not [n for n in names if n.endswith(".gz")]
        assert any(n.endswith(".nist.json") for n in names)
        standards = {str(s) for d in graph.objects(dataset, DCAT.distribution)
                     for s in graph.objects(d, DCT.conformsTo)}
        assert "https://www.rfc-editor.org/rfc/rfc7515" in standards
        # the snapshot files conform to the format of the manifest that lists them (v2:
        # the two-level manifest this node writes), not to a hard-coded v1
        assert "https://w3id.org/dds/publication/manifest/v2" in standards
        assert "https://w3id.org/dds/publication/manifest/v1" not in standards
        keys = graph.value(dataset, rdflib.URIRef("http://xmlns.com/foaf/0.1/page"))
        assert str(keys) == node.url(".well-known/jwks.json")
        assert http.get(str(keys)).json()["keys"]
    assert check(graph, SHARED_DCAT_AP) == []


def test_the_page_lists_the_generation(node: LocalNode) -> None:
    with node.client() as http:
        page = http.get("/catalog", headers={"Accept": "text/html", "Accept-Language": "fr"})
    assert page.status_code == 200
    assert "génération" in page.text and "manifest.jws" in page.text
