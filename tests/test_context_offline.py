"""Issue 10 item 4: the node's data is readable with nothing but the node.

Compacted JSON-LD names the context where the node serves it (``<base>context/v1``), not
``https://w3id.org/dds/context/v1``, which a client offline cannot fetch; the node reads
both names as the bundled context, so what it serves can be written back unchanged.
jsonld.js, with every address but loopback refused, reads every example's compacted
representation (and a container page) to the graph of the node's N-Triples.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import rdflib
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from ddsnode import resources
from ddsnode.rdf import jsonld, rdfio
from tests.support.inprocess import LocalNode, local_node
from tests.support.judges import node_available, parse_many
from tests.support.node import RunningNode, running_node

JSONLD = "application/ld+json"
NTRIPLES = "application/n-triples"
EXAMPLES = sorted(p.stem for p in resources.examples_dir().glob("*.jsonld"))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("context")) as n:
        yield n


def test_the_node_serves_the_bundled_context(node: LocalNode) -> None:
    with node.client() as http:
        r = http.get("/context/v1")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(JSONLD)
    assert json.loads(r.content) == resources.context_document()


def test_compacted_documents_name_the_nodes_context(node: LocalNode) -> None:
    iri, body = node.example("a-proposal-school-streets")
    with node.client() as http:
        assert http.put(iri, content=body, headers={"Content-Type": JSONLD,
                                                    **node.auth()}).status_code == 201
        resource = http.get(iri, headers={"Accept": JSONLD}).json()
        page = http.get("/proposals/", headers={"Accept": JSONLD}).json()
    assert resource["@context"] == node.url("context/v1")
    assert page["@context"] == node.url("context/v1")


def test_plain_json_links_its_context(node: LocalNode) -> None:
    """JSON-LD 1.1, 6.1: application/json names its context in a Link header."""
    iri, body = node.example("a-proposal-quai-bike-lane")
    with node.client() as http:
        assert http.put(iri, content=body, headers={"Content-Type": JSONLD,
                                                    **node.auth()}).status_code == 201
        plain = http.get(iri, headers={"Accept": "application/json"})
        ld = http.get(iri, headers={"Accept": JSONLD})
    wanted = f'<{node.url("context/v1")}>; rel="http://www.w3.org/ns/json-ld#context"'
    assert plain.status_code == 200 and wanted in plain.headers["link"]
    assert wanted not in ld.headers["link"]  # 6.1: ignored (and not sent) for ld+json


def test_what_the_node_serves_can_be_written_back(node: LocalNode) -> None:
    """The node's own context URL parses as the bundled context: GET then PUT round-trips."""
    iri, body = node.example("a-comment-c-101")
    with node.client() as http:
        assert http.put(iri, content=body, headers={"Content-Type": JSONLD,
                                                    **node.auth()}).status_code == 201
        before = http.get(iri, headers={"Accept": NTRIPLES}).text
        served = http.get(iri, headers={"Accept": JSONLD}).content
        assert json.loads(served)["@context"] == node.url("context/v1")
        r = http.put(iri, content=served, headers={"Content-Type": JSONLD, **node.auth()})
        assert r.status_code in (200, 204), r.text
        after = http.get(iri, headers={"Accept": NTRIPLES}).text
    mine = {line for line in before.splitlines() if "/terms/modified>" not in line}
    assert mine == {line for line in after.splitlines() if "/terms/modified>" not in line}
    # The same document parses alike under either name of the context.
    doc = json.loads(served)
    doc["@context"] = resources.CONTEXT_IRI
    assert isomorphic(jsonld.parse_document(served, iri),
                      jsonld.parse_document(json.dumps(doc), iri))


# --- jsonld.js with only the node reachable (a real server: jsonld.js fetches over TCP) ---


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    with running_node(tmp_path_factory.mktemp("context-served")) as n:
        yield n


def _diff(a: rdflib.Graph, b: rdflib.Graph) -> str:
    _, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
    return f"only ours: {sorted(only_a)[:5]}\nonly theirs: {sorted(only_b)[:5]}"


@pytest.mark.slow
@pytest.mark.skipif(not node_available(), reason="node and npm are needed")
def test_jsonld_js_offline_reads_every_example(served: RunningNode) -> None:
    suffix = uuid.uuid4().hex[:6]
    targets: dict[str, str] = {}
    with served.client() as client:
        for name in EXAMPLES:
            iri, body = served.example(name)
            new_iri = f"{iri}-{name[:2]}{suffix}"
            text = body.decode("utf-8").replace(f'"{iri}', f'"{new_iri}')
            r = client.put(new_iri, content=text.encode("utf-8"),
                           headers={**served.auth(served.publisher_token),  # x-analysis: review
                                    "Content-Type": JSONLD})
            assert r.status_code == 201, (name, r.text[:300])
            targets[name] = new_iri
        targets["<page>"] = served.url("proposals/")
        jobs, ours = [], []
        for name, iri in targets.items():
            compacted = client.get(iri, headers={"Accept": JSONLD})
            assert json.loads(compacted.content)["@context"] == served.url("context/v1")
            jobs.append((compacted.content, "json-ld", iri))
            nt = client.get(iri, headers={"Accept": NTRIPLES}).text
            ours.append((name, rdfio.graph_from_ntriples(nt)))
    theirs = parse_many(jobs, bundled=False)  # no w3id copy: the node's URL or nothing
    for (name, mine), graph in zip(ours, theirs, strict=True):
        assert len(mine) > 0
        assert isomorphic(mine, graph), f"{name}:\n{_diff(mine, graph)}"


@pytest.mark.slow
@pytest.mark.skipif(not node_available(), reason="node and npm are needed")
def test_jsonld_js_offline_cannot_read_the_w3id_name(served: RunningNode) -> None:
    """The guard holds: the same document naming the w3id IRI is refused offline (so the
    test above passes because of the node's URL, not because something was fetched)."""
    body = json.dumps({"@context": resources.CONTEXT_IRI, "id": served.url("x"),
                       "title": {"en": "x"}}).encode()
    with pytest.raises(AssertionError, match="w3id.org/dds/context/v1"):
        parse_many([(body, "json-ld", None)], bundled=False)
