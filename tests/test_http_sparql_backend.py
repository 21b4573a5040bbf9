"""The HTTP layer over the other storage backend: a node whose store is a SPARQL server.

The core codes against ``ddsnode.store.base.Store`` only; this runs the main LDP paths
against ``store = sparql`` (``oxigraph serve``) to keep it that way.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rdflib
import rdflib.compare

from tests.support.node import RunningNode, running_node
from tests.support.rdf import parse_rdf
from tests.support.sparql_server import SparqlServer, oxigraph_cli

LDP = rdflib.Namespace("http://www.w3.org/ns/ldp#")


def _has_oxigraph() -> bool:
    try:
        return bool(oxigraph_cli())
    except RuntimeError:
        return shutil.which("oxigraph") is not None


pytestmark = [pytest.mark.slow,  # a real oxigraph server and a served node (tests/support/fastloop.py)
              pytest.mark.skipif(not _has_oxigraph(), reason="needs the oxigraph CLI (dev extra)")]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    root: Path = tmp_path_factory.mktemp("sparql-backend")
    with SparqlServer(root / "oxigraph", timeout_s=10) as server, running_node(root, settings={
            "store": "sparql", "sparql_query_url": server.query_url,
            "sparql_update_url": server.update_url, "open_containers": "open/"}) as running:
        yield running


def test_write_read_list_delete(node: RunningNode) -> None:
    iri, body = node.example("a-proposal-protected-bike-lanes")
    put = httpx.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                                **node.auth()})
    assert put.status_code == 201, put.text
    turtle = httpx.get(iri, headers={"Accept": "text/turtle"})
    jsonld = httpx.get(iri, headers={"Accept": "application/ld+json"})
    # The compacted document names this node's context (<base>context/v1), which the
    # parser takes as the bundled one for a document read from this node.
    assert rdflib.compare.isomorphic(parse_rdf(turtle.content, "turtle", base=iri),
                                     parse_rdf(jsonld.content, "json-ld", base=iri))
    assert httpx.get(iri, headers={"If-None-Match": turtle.headers["etag"],
                                   "Accept": "text/turtle"}).status_code == 304
    listing = parse_rdf(httpx.get(node.url("proposals/?state=accepted"),
                                  headers={"Accept": "text/turtle"}).content, "turtle")
    assert (rdflib.URIRef(node.url("proposals/")), LDP.contains, rdflib.URIRef(iri)) in listing
    answer = httpx.get(node.url("sparql"), params={"query": f"ASK {{ <{iri}> ?p ?o }}"},
                       headers={"Accept": "application/sparql-results+json"})
    assert answer.json()["boolean"] is True
    assert httpx.delete(iri, headers=node.auth()).status_code == 204
    assert httpx.get(iri).status_code == 410


def test_open_container_and_patch(node: RunningNode) -> None:
    iri = node.url("open/a/b.ttl")
    assert httpx.put(iri, content=b"<#x> <#y> <#z> .",
                     headers={"Content-Type": "text/turtle"}).status_code == 201
    assert httpx.patch(iri, content=b"INSERT DATA { <#x> <#y> <#w> . }",
                       headers={"Content-Type": "application/sparql-update"}).status_code == 204
    graph = parse_rdf(httpx.get(iri, headers={"Accept": "text/turtle"}).content, "turtle",
                      base=iri)
    assert len(graph) == 2
    assert httpx.delete(node.url("open/a/"), headers={}).status_code == 409
