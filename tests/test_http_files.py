"""Non-RDF sources and the served vocabulary documents, over HTTP (an in-process node)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import rdflib

from ddsnode import resources
from tests.support.inprocess import (  # noqa: F401 (the "node" and "http" fixtures)
    LocalNode,
    module_node,
    node_client,
)
from tests.support.rdf import parse_rdf

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")




def test_post_a_pdf_creates_the_file_and_its_description(node: LocalNode,
                                                         http: httpx.Client) -> None:
    slug = f"council-minutes-{uuid.uuid4().hex[:6]}"
    r = http.post(node.url("documents/"), content=PDF,
                  headers={"Content-Type": "application/pdf", "Slug": slug, **node.auth()})
    assert r.status_code == 201, r.text
    iri = r.headers["location"]
    assert iri == node.url(f"documents/{slug}")
    assert f'<{iri}.meta>; rel="describedby"' in ",".join(r.headers.get_list("link"))
    got = http.get(iri)
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert '<http://www.w3.org/ns/ldp#NonRDFSource>; rel="type"' in got.headers["link"]
    assert f'<{iri}.meta>; rel="describedby"' in got.headers["link"]
    assert http.get(iri, headers={"If-None-Match": got.headers["etag"]}).status_code == 304
    meta = http.get(iri + ".meta", headers={"Accept": "text/turtle"})
    assert meta.status_code == 200
    assert f'<{iri}>; rel="describes"' in meta.headers["link"]
    g = parse_rdf(meta.content, "turtle")
    assert (rdflib.URIRef(iri), DCAT.mediaType, rdflib.Literal("application/pdf")) in g
    assert str(g.value(rdflib.URIRef(iri), DCAT.byteSize)) == str(len(PDF))
    listing = http.get(node.url("documents/"), headers={"Accept": "text/turtle"}).text
    assert iri in listing and iri + ".meta" not in listing


def test_put_replaces_a_file_and_delete_leaves_a_tombstone(node: LocalNode,
                                                           http: httpx.Client) -> None:
    iri = node.url(f"documents/photo-{uuid.uuid4().hex[:6]}")
    auth = node.auth()
    assert http.put(iri, content=b"\x89PNG one", headers={"Content-Type": "image/png",
                                                         **auth}).status_code == 201
    assert http.put(iri, content=b"\x89PNG two", headers={"Content-Type": "image/png",
                                                         **auth}).status_code == 204
    assert http.get(iri).content == b"\x89PNG two"
    assert http.delete(iri + ".meta", headers=auth).status_code == 409
    assert http.delete(iri, headers=auth).status_code == 204
    assert http.get(iri).status_code == 410


def test_documents_take_files_not_rdf(node: LocalNode, http: httpx.Client) -> None:
    r = http.post(node.url("documents/"), content=b"<a> <b> <c> .",
                  headers={"Content-Type": "text/turtle", **node.auth()})
    assert r.status_code == 415
    r = http.post(node.url("proposals/"), content=PDF,
                  headers={"Content-Type": "application/pdf", **node.auth()})
    assert r.status_code == 415


def test_the_context_is_served_as_json_ld(node: LocalNode, http: httpx.Client) -> None:
    r = http.get(node.url("context/v1"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/ld+json"
    assert r.json() == resources.context_document()


@pytest.mark.parametrize("path", ["ns", "shapes"])
def test_the_ontology_and_shapes_are_served_with_conneg(node: LocalNode, http: httpx.Client,
                                                        path: str) -> None:
    r = http.get(node.url(path), headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    graph = parse_rdf(r.content, "turtle")
    assert len(graph) > 100
    html = http.get(node.url(path), headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    again = http.get(node.url(path), headers={"Accept": "text/turtle",
                                              "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert http.put(node.url(path), content=b"", headers=node.auth()).status_code == 405
    assert json.loads(http.delete(node.url(path)).text)["status"] == 405
