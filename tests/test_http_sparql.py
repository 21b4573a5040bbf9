"""The read-only SPARQL endpoint over real HTTP (SPARQL 1.1 Protocol)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.node import RunningNode, shared_node
from tests.support.rdf import parse_rdf

JSON = "application/sparql-results+json"
SELECT = ("SELECT ?s WHERE { ?s a <https://w3id.org/dds/ns#Proposal> } ORDER BY ?s LIMIT 5")


@pytest.fixture(scope="module")
def node() -> RunningNode:
    node = shared_node()
    iri, body = node.example("a-proposal-protected-bike-lanes")
    httpx.put(iri, content=body, headers={"Content-Type": "application/ld+json", **node.auth()})
    return node


def auth(node: RunningNode) -> dict[str, str]:
    # The shared node has a private container, so the union graph needs a read token.
    return node.auth(node.read_token)


def test_get_select_json(node: RunningNode) -> None:
    query = f"SELECT ?t WHERE {{ <{node.url('proposals/protected-bike-lanes')}> a ?t }}"
    r = httpx.get(node.url("sparql"), params={"query": query},
                  headers={"Accept": JSON, **auth(node)})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(JSON)
    types = [b["t"]["value"] for b in r.json()["results"]["bindings"]]
    assert types == ["https://w3id.org/dds/ns#Proposal"]


def test_post_form_and_query_body(node: RunningNode) -> None:
    form = httpx.post(node.url("sparql"), data={"query": SELECT},
                      headers={"Accept": JSON, **auth(node)})
    assert form.status_code == 200
    body = httpx.post(node.url("sparql"), content=SELECT.encode(),
                      headers={"Content-Type": "application/sparql-query", "Accept": "text/csv",
                               **auth(node)})
    assert body.status_code == 200
    assert body.headers["content-type"].startswith("text/csv")


def test_construct_as_turtle(node: RunningNode) -> None:
    query = ("CONSTRUCT { ?s a ?t } WHERE { ?s a ?t . "
             "FILTER(?t = <https://w3id.org/dds/ns#Proposal>) }")
    r = httpx.get(node.url("sparql"), params={"query": query},
                  headers={"Accept": "text/turtle", **auth(node)})
    assert r.status_code == 200
    assert len(parse_rdf(r.content, "turtle")) >= 1


@pytest.mark.parametrize("how", ["form", "body", "query"])
def test_updates_are_refused(node: RunningNode, how: str) -> None:
    update = "INSERT DATA { <http://a.example/> <http://b.example/> 1 }"
    if how == "form":
        r = httpx.post(node.url("sparql"), data={"update": update}, headers=auth(node))
        assert r.status_code == 403
    elif how == "body":
        r = httpx.post(node.url("sparql"), content=update.encode(),
                       headers={"Content-Type": "application/sparql-update", **auth(node)})
        assert r.status_code == 403
    else:
        r = httpx.get(node.url("sparql"), params={"query": update}, headers=auth(node))
        assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"


def test_bad_queries(node: RunningNode) -> None:
    assert httpx.get(node.url("sparql"), headers=auth(node)).status_code == 400
    assert httpx.get(node.url("sparql"), params={"query": "SELEKT"},
                     headers=auth(node)).status_code == 400
    service = "SELECT * WHERE { SERVICE <http://evil.example/> { ?s ?p ?o } }"
    assert httpx.get(node.url("sparql"), params={"query": service},
                     headers=auth(node)).status_code == 400
    assert httpx.put(node.url("sparql"), headers=auth(node)).status_code == 405
    r = httpx.get(node.url("sparql"), params={"query": SELECT},
                  headers={"Accept": "image/png", **auth(node)})
    assert r.status_code == 406


def test_a_private_container_makes_sparql_need_a_token(node: RunningNode) -> None:
    assert httpx.get(node.url("sparql"), params={"query": SELECT}).status_code == 401
