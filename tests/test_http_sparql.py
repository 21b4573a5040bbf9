"""The read-only SPARQL endpoint over HTTP (SPARQL 1.1 Protocol), on an in-process node."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.inprocess import (  # noqa: F401 (the "http" fixture)
    LocalNode,
    local_node,
    node_client,
)
from tests.support.node import SHARED_SETTINGS
from tests.support.rdf import parse_rdf

JSON = "application/sparql-results+json"
SELECT = ("SELECT ?s WHERE { ?s a <https://w3id.org/dds/ns#Proposal> } ORDER BY ?s LIMIT 5")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    """One node with one proposal, for queries that only read."""
    with local_node(tmp_path_factory.mktemp("sparql"), settings=SHARED_SETTINGS) as running:
        iri, body = running.example("a-proposal-protected-bike-lanes")
        with running.client() as client:
            client.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                                   **running.auth()})
        yield running



def auth(node: LocalNode) -> dict[str, str]:
    # The node has a private container, so the union graph needs a read token.
    return node.auth(node.read_token)


def test_get_select_json(node: LocalNode, http: httpx.Client) -> None:
    query = f"SELECT ?t WHERE {{ <{node.url('proposals/protected-bike-lanes')}> a ?t }}"
    r = http.get(node.url("sparql"), params={"query": query},
                 headers={"Accept": JSON, **auth(node)})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(JSON)
    types = [b["t"]["value"] for b in r.json()["results"]["bindings"]]
    assert types == ["https://w3id.org/dds/ns#Proposal"]


def test_post_form_and_query_body(node: LocalNode, http: httpx.Client) -> None:
    form = http.post(node.url("sparql"), data={"query": SELECT},
                     headers={"Accept": JSON, **auth(node)})
    assert form.status_code == 200
    body = http.post(node.url("sparql"), content=SELECT.encode(),
                     headers={"Content-Type": "application/sparql-query", "Accept": "text/csv",
                              **auth(node)})
    assert body.status_code == 200
    assert body.headers["content-type"].startswith("text/csv")


def test_construct_as_turtle(node: LocalNode, http: httpx.Client) -> None:
    query = ("CONSTRUCT { ?s a ?t } WHERE { ?s a ?t . "
             "FILTER(?t = <https://w3id.org/dds/ns#Proposal>) }")
    r = http.get(node.url("sparql"), params={"query": query},
                 headers={"Accept": "text/turtle", **auth(node)})
    assert r.status_code == 200
    assert len(parse_rdf(r.content, "turtle")) >= 1


@pytest.mark.parametrize("how", ["form", "body", "query"])
def test_updates_are_refused(node: LocalNode, http: httpx.Client, how: str) -> None:
    update = "INSERT DATA { <http://a.example/> <http://b.example/> 1 }"
    if how == "form":
        r = http.post(node.url("sparql"), data={"update": update}, headers=auth(node))
        assert r.status_code == 403
    elif how == "body":
        r = http.post(node.url("sparql"), content=update.encode(),
                      headers={"Content-Type": "application/sparql-update", **auth(node)})
        assert r.status_code == 403
    else:
        r = http.get(node.url("sparql"), params={"query": update}, headers=auth(node))
        assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"


def test_bad_queries(node: LocalNode, http: httpx.Client) -> None:
    assert http.get(node.url("sparql"), headers=auth(node)).status_code == 400
    assert http.get(node.url("sparql"), params={"query": "SELEKT"},
                    headers=auth(node)).status_code == 400
    service = "SELECT * WHERE { SERVICE <http://evil.example/> { ?s ?p ?o } }"
    assert http.get(node.url("sparql"), params={"query": service},
                    headers=auth(node)).status_code == 400
    assert http.put(node.url("sparql"), headers=auth(node)).status_code == 405
    r = http.get(node.url("sparql"), params={"query": SELECT},
                 headers={"Accept": "image/png", **auth(node)})
    assert r.status_code == 406


def test_a_private_container_makes_sparql_need_a_token(node: LocalNode, http: httpx.Client) -> None:
    assert http.get(node.url("sparql"), params={"query": SELECT}).status_code == 401
