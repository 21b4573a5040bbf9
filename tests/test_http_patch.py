"""PATCH over HTTP: Solid N3 Patch and SPARQL Update, on shaped and open containers (an
in-process node, tests/support/inprocess.py)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import rdflib

from tests.support.inprocess import (  # noqa: F401 (the "node" and "http" fixtures)
    LocalNode,
    module_node,
    node_client,
)
from tests.support.rdf import parse_rdf

N3 = "text/n3"
SPARQL = "application/sparql-update"
PREFIXES = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            "@prefix dct: <http://purl.org/dc/terms/>.\n"
            "@prefix ex: <http://example.org/>.\n")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
EX = rdflib.Namespace("http://example.org/")




@pytest.fixture
def proposal(node: LocalNode, http: httpx.Client) -> str:
    base, body = node.example("a-proposal-quai-bike-lane")
    iri = node.url(f"proposals/patch-{uuid.uuid4().hex[:8]}")
    r = http.put(iri, content=body.decode().replace(base, iri).encode(),
                 headers={"Content-Type": "application/ld+json", **node.auth()})
    assert r.status_code == 201
    return iri


def patch(http: httpx.Client, node: LocalNode, iri: str, body: str, media_type: str,
          **headers: str) -> httpx.Response:
    return http.patch(iri, content=body.encode(), headers={"Content-Type": media_type,
                                                           **node.auth(), **headers})


def graph(http: httpx.Client, iri: str) -> rdflib.Graph:
    return parse_rdf(http.get(iri, headers={"Accept": "text/turtle"}).content, "turtle")


def test_n3_patch_inserts_and_deletes_with_where(node: LocalNode, http: httpx.Client,
                                                 proposal: str) -> None:
    body = PREFIXES + """
    _:patch a solid:InsertDeletePatch;
      solid:where { ?p dct:identifier ?id. };
      solid:deletes { ?p dct:identifier ?id. };
      solid:inserts { ?p dct:identifier "RIV-NEW-1". }."""
    response = patch(http, node, proposal, body, N3)
    assert response.status_code == 204, response.text
    assert list(graph(http, proposal).objects(rdflib.URIRef(proposal), DCT.identifier)) == \
        [rdflib.Literal("RIV-NEW-1")]


def test_n3_patch_409_when_deletes_do_not_match(node: LocalNode, http: httpx.Client,
                                                proposal: str) -> None:
    before = graph(http, proposal)
    body = PREFIXES + f"""
    _:patch a solid:InsertDeletePatch;
      solid:deletes {{ <{proposal}> dct:identifier "not-this-one". }}."""
    response = patch(http, node, proposal, body, N3)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert len(graph(http, proposal)) == len(before)


def test_n3_patch_409_when_where_matches_no_or_many(node: LocalNode, http: httpx.Client,
                                                    proposal: str) -> None:
    none = PREFIXES + """_:p a solid:InsertDeletePatch;
      solid:where { ?s ex:nothing ?o. }; solid:inserts { ?s ex:x 1. }."""
    assert patch(http, node, proposal, none, N3).status_code == 409
    many = PREFIXES + """_:p a solid:InsertDeletePatch;
      solid:where { ?s ?p ?o. }; solid:inserts { ?s ex:x 1. }."""
    assert patch(http, node, proposal, many, N3).status_code == 409


def test_n3_patch_422_when_the_result_is_invalid(node: LocalNode, http: httpx.Client,
                                                 proposal: str) -> None:
    body = PREFIXES + f"""_:p a solid:InsertDeletePatch;
      solid:where {{ <{proposal}> dct:title ?t. }};
      solid:deletes {{ <{proposal}> dct:title ?t. }}."""
    # Delete every title: where must match one binding, so first keep one title only.
    g = graph(http, proposal)
    titles = list(g.objects(rdflib.URIRef(proposal), DCT.title))
    if len(titles) > 1:
        for extra in titles[1:]:
            drop = PREFIXES + f"""_:p a solid:InsertDeletePatch;
              solid:deletes {{ <{proposal}> dct:title {extra.n3()}. }}."""
            assert patch(http, node, proposal, drop, N3).status_code == 204
    response = patch(http, node, proposal, body, N3)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("validation-failed")
    assert any(e["path"] == str(DCT.title) for e in problem["errors"])


def test_n3_patch_malformed_400_and_not_a_patch_422(node: LocalNode, http: httpx.Client,
                                                    proposal: str) -> None:
    assert patch(http, node, proposal, "this is { not n3", N3).status_code == 400
    assert patch(http, node, proposal, PREFIXES + "ex:a ex:b ex:c.", N3).status_code == 422


def test_sparql_update_insert_and_delete_data(node: LocalNode, http: httpx.Client,
                                              proposal: str) -> None:
    r = patch(http, node, proposal, f'INSERT DATA {{ <{proposal}> <http://purl.org/dc/terms/'
                              f'identifier> "EXTRA" }}', SPARQL)
    assert r.status_code == 204, r.text
    assert rdflib.Literal("EXTRA") in set(graph(http, proposal).objects(rdflib.URIRef(proposal),
                                                                  DCT.identifier))
    r = patch(http, node, proposal, f'DELETE DATA {{ <{proposal}> <http://purl.org/dc/terms/'
                              f'identifier> "EXTRA" }}', SPARQL)
    assert r.status_code == 204
    assert rdflib.Literal("EXTRA") not in set(graph(http, proposal).objects(rdflib.URIRef(proposal),
                                                                      DCT.identifier))


def test_sparql_update_delete_insert_where(node: LocalNode, http: httpx.Client,
                                           proposal: str) -> None:
    update = ("PREFIX dct: <http://purl.org/dc/terms/> DELETE { ?s dct:identifier ?i } "
              "INSERT { ?s dct:identifier \"RIV-W\" } WHERE { ?s dct:identifier ?i }")
    assert patch(http, node, proposal, update, SPARQL).status_code == 204
    assert list(graph(http, proposal).objects(rdflib.URIRef(proposal), DCT.identifier)) == \
        [rdflib.Literal("RIV-W")]


def test_sparql_update_409_when_delete_data_is_absent(node: LocalNode, http: httpx.Client,
                                                      proposal: str) -> None:
    r = patch(http, node, proposal, "DELETE DATA { <http://x.example/a> <http://x.example/b> 1 }",
              SPARQL)
    assert r.status_code == 409


@pytest.mark.parametrize("update", [
    "LOAD <http://example.org/data>",
    "INSERT DATA { GRAPH <http://example.org/g> { <http://a> <http://b> <http://c> } }",
    "INSERT { <http://a> <http://b> ?o } WHERE { SERVICE <http://evil.example/sparql> "
    "{ ?s ?p ?o } }",
    "CLEAR ALL",
    "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
])
def test_sparql_update_outside_the_resource_is_refused(node: LocalNode, http: httpx.Client,
                                                       proposal: str, update: str) -> None:
    response = patch(http, node, proposal, update, SPARQL)
    assert response.status_code == 422, response.text


def test_sparql_update_malformed_400(node: LocalNode, http: httpx.Client, proposal: str) -> None:
    assert patch(http, node, proposal, "INSERT DATTA { }", SPARQL).status_code == 400


def test_patch_creates_in_an_open_container(node: LocalNode, http: httpx.Client) -> None:
    iri = node.url(f"open/patch-{uuid.uuid4().hex[:6]}/new.ttl")
    r = http.patch(iri, content=b"INSERT DATA { <#a> <#b> <#c> . }",
                   headers={"Content-Type": SPARQL})
    assert r.status_code == 201
    g = graph(http, iri)
    assert (rdflib.URIRef(iri + "#a"), rdflib.URIRef(iri + "#b"), rdflib.URIRef(iri + "#c")) in g


def test_patch_with_if_match(node: LocalNode, http: httpx.Client, proposal: str) -> None:
    update = f'INSERT DATA {{ <{proposal}> <http://purl.org/dc/terms/identifier> "X2" }}'
    assert patch(http, node, proposal, update, SPARQL, **{"If-Match": '"stale"'}).status_code == 412
    etag = http.get(proposal).headers["etag"]
    assert patch(http, node, proposal, update, SPARQL, **{"If-Match": etag}).status_code == 204


def test_patch_on_a_file_is_415(node: LocalNode, http: httpx.Client) -> None:
    iri = node.url(f"open/file-{uuid.uuid4().hex[:6]}.txt")
    http.put(iri, content=b"hello", headers={"Content-Type": "text/plain"})
    r = http.patch(iri, content=b"INSERT DATA { <#a> <#b> <#c> }",
                   headers={"Content-Type": SPARQL})
    assert r.status_code == 415
    assert json.loads(r.text)["status"] == 415
