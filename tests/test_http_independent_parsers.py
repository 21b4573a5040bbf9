"""Our representations read the same to independent implementations.

Every example is written to a real node; its compacted JSON-LD, expanded JSON-LD, Turtle
and N-Triples are then parsed by jsonld.js and N3.js (npm, installed by
``tests/support/judges.py``) and must give the same triples as the node's own N-Triples.
A container page is checked the same way.
"""

from __future__ import annotations

import json
import uuid

import pytest
import rdflib
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from ddsnode import resources
from tests.support.judges import node_available, parse_many
from tests.support.node import RunningNode, shared_node

pytestmark = [pytest.mark.slow,  # conformance judges: Node.js parsers and a served node (tests/support/fastloop.py)
              pytest.mark.skipif(not node_available(), reason="node and npm are needed")]

FORMATS = {
    "application/ld+json": "json-ld",
    'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"': "json-ld",
    "text/turtle": "turtle",
    "application/n-triples": "n-triples",
}
EXAMPLES = sorted(p.stem for p in resources.examples_dir().glob("*.jsonld"))


@pytest.fixture(scope="module")
def node() -> RunningNode:
    return shared_node()


@pytest.fixture(scope="module")
def written(node: RunningNode) -> dict[str, str]:
    """Each example written under a fresh IRI; example name -> IRI."""
    suffix = uuid.uuid4().hex[:6]
    out: dict[str, str] = {}
    with node.client() as client:
        for name in EXAMPLES:
            iri, body = node.example(name)
            new_iri = f"{iri}-{name[:2]}{suffix}"  # two hosts may share a path
            text = body.decode("utf-8").replace(f'"{iri}', f'"{new_iri}')
            r = client.put(new_iri, content=text.encode("utf-8"),
                           headers={**node.auth(node.publisher_token),  # x-analysis: review
                                    "Content-Type": "application/ld+json"})
            assert r.status_code == 201, (name, r.status_code, r.text[:500])
            out[name] = new_iri
    return out


def _diff(a: rdflib.Graph, b: rdflib.Graph) -> str:
    _, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
    return (f"only ours: {sorted(only_a)[:5]}\nonly theirs: {sorted(only_b)[:5]}")


@pytest.fixture(scope="module")
def fetched(node: RunningNode, written: dict[str, str]) -> dict[str, list[tuple[str, rdflib.Graph,
                                                                              rdflib.Graph]]]:
    """For each example and the proposals page: (Accept, our N-Triples graph, their graph)."""
    targets = {name: iri for name, iri in written.items()}
    targets["<page>"] = node.url("proposals/")
    jobs: list[tuple[str, str, bytes, str, str]] = []
    ours: dict[str, rdflib.Graph] = {}
    with node.client() as client:
        for name, iri in targets.items():
            nt = client.get(iri, headers={"Accept": "application/n-triples"})
            assert nt.status_code == 200, (name, nt.status_code)
            ours[name] = rdflib.Graph().parse(data=nt.text, format="nt")
            for accept, fmt in FORMATS.items():
                r = client.get(iri, headers={"Accept": accept})
                assert r.status_code == 200, (name, accept, r.status_code)
                jobs.append((name, accept, r.content, fmt, iri))
    graphs = parse_many([(body, fmt, base) for _, _, body, fmt, base in jobs])
    out: dict[str, list[tuple[str, rdflib.Graph, rdflib.Graph]]] = {}
    for (name, accept, *_), theirs in zip(jobs, graphs, strict=True):
        out.setdefault(name, []).append((accept, ours[name], theirs))
    return out


@pytest.mark.parametrize("name", [*EXAMPLES, "<page>"])
def test_every_representation_parses_to_the_same_graph(
        fetched: dict[str, list[tuple[str, rdflib.Graph, rdflib.Graph]]], name: str) -> None:
    for accept, ours, theirs in fetched[name]:
        assert len(ours) > 0
        assert isomorphic(ours, theirs), f"{name} as {accept}:\n{_diff(ours, theirs)}"


def test_the_page_lists_members(node: RunningNode,
                                fetched: dict[str, list[tuple[str, rdflib.Graph, rdflib.Graph]]]
                                ) -> None:
    _, ours, _ = fetched["<page>"][0]
    assert (rdflib.URIRef(node.url("proposals/")), rdflib.URIRef(
        "http://www.w3.org/ns/ldp#contains"), None) in ours


def test_the_shared_context_served_by_the_node_is_the_bundled_one(node: RunningNode) -> None:
    with node.client() as client:
        r = client.get("/context/v1")
    assert r.status_code == 200 and json.loads(r.content) == resources.context_document()
