"""Issue 9 item 13: an open container's resources speak only of themselves.

Anyone may write to an open container (``open_containers``), so a document there may
describe only its own IRI, its fragments and blank nodes — the rule of shaped
containers. A table of anonymous writes that state a "HIJACKED" title or an "accepted"
state about the node's own proposal (or about anything else) is refused with 422, nothing
is stored, and ``/sparql`` never shows the claim.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.inprocess import LocalNode, local_node

TURTLE = "text/turtle"
JSONLD = "application/ld+json"
SPARQL_UPDATE = "application/sparql-update"
DCT = "http://purl.org/dc/terms/"
DDS = "https://w3id.org/dds/ns#"
VICTIM = "proposals/x"


@dataclass(frozen=True)
class Case:
    """An anonymous write to the open container; ``{victim}`` and ``{self}`` are IRIs."""

    name: str
    method: str
    path: str
    media_type: str
    body: str


CASES = [
    Case("turtle-title", "PUT", "open/a", TURTLE,
         f'<> <{DCT}title> "mine" . <{{victim}}> <{DCT}title> "HIJACKED"@en .'),
    Case("turtle-relative", "PUT", "open/b", TURTLE,
         f'<../{VICTIM}> <{DCT}title> "HIJACKED"@en .'),
    Case("turtle-state", "PUT", "open/c", TURTLE,
         f"<{{victim}}> <{DDS}state> <https://w3id.org/dds/state/accepted> ."),
    Case("jsonld-graph", "PUT", "open/d", JSONLD,
         json.dumps({"@graph": [{"@id": "", f"{DCT}title": "mine"},
                                {"@id": "{victim}", f"{DCT}title": "HIJACKED"}]})),
    Case("jsonld-reverse", "PUT", "open/e", JSONLD,
         json.dumps({"@id": "", "@reverse": {f"{DCT}title": {"@id": "{victim}"}},
                     f"{DCT}title": "HIJACKED"})),
    Case("prefix-lookalike", "PUT", "open/f", TURTLE,
         f'<> <{DCT}title> "ok" . <{{self}}-evil> <{DCT}title> "HIJACKED" .'),
    Case("post-minted", "POST", "open/", TURTLE,
         f'<> <{DCT}title> "mine" . <{{victim}}> <{DCT}title> "HIJACKED" .'),
    Case("nested-container", "PUT", "open/sub/", TURTLE,
         f'<{{victim}}> <{DCT}title> "HIJACKED" .'),
    Case("patch-insert", "PATCH", "open/existing", SPARQL_UPDATE,
         f'INSERT DATA {{ <{{victim}}> <{DCT}title> "HIJACKED" }}'),
    Case("patch-where", "PATCH", "open/existing", SPARQL_UPDATE,
         f'INSERT {{ ?s <{DCT}title> "HIJACKED" }} WHERE {{ BIND(IRI("{{victim}}") AS ?s) }}'),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("hostile-open")
    with local_node(root, settings={"open_containers": "open/"}) as n:
        iri, body = n.example("a-proposal-protected-bike-lanes")
        body = body.replace(iri.encode(), n.url(VICTIM).encode())
        with n.client() as http:
            r = http.put(f"/{VICTIM}", content=body,
                         headers={"Content-Type": JSONLD, **n.auth()})
            assert r.status_code == 201, r.text
            r = http.put("/open/existing", content=f'<> <{DCT}title> "existing" .',
                         headers={"Content-Type": TURTLE})
            assert r.status_code == 201, r.text
        yield n


def _hijacked(http: object) -> bool:
    r = http.get("/sparql", params={  # type: ignore[attr-defined]
        "query": f'ASK {{ ?s <{DCT}title> ?t FILTER(STR(?t) = "HIJACKED") }}'},
        headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_open_container_document_speaks_only_of_itself(node: LocalNode, case: Case) -> None:
    iri = node.url(case.path)
    body = case.body.replace("{victim}", node.url(VICTIM)).replace("{self}", iri)
    with node.client() as http:
        before = http.get(f"/{case.path}", headers={"Accept": "application/n-triples"})
        listing = http.get("/open/", headers={"Accept": "application/n-triples"})
        victim = http.get(f"/{VICTIM}", headers={"Accept": "application/n-triples"})
        r = http.request(case.method, f"/{case.path}", content=body.encode(),
                         headers={"Content-Type": case.media_type})  # anonymous
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/foreign-subject")
        after = http.get(f"/{case.path}", headers={"Accept": "application/n-triples"})
        assert (after.status_code, after.content) == (before.status_code, before.content)
        assert http.get("/open/", headers={"Accept": "application/n-triples"}).content \
            == listing.content
        assert http.get(f"/{VICTIM}", headers={"Accept": "application/n-triples"}).content \
            == victim.content
        assert not _hijacked(http)


def test_open_container_keeps_its_own_fragments_and_blank_nodes(node: LocalNode) -> None:
    """What the rule allows: the resource, its fragments, blank nodes, links to others."""
    body = (f'<> <{DCT}title> "mine" ; <{DCT}references> <{node.url(VICTIM)}> , [ <{DCT}title> '
            f'"a blank node" ] . <#part> <{DCT}title> "a fragment" .')
    with node.client() as http:
        r = http.put("/open/fine", content=body, headers={"Content-Type": TURTLE})
        assert r.status_code == 201, r.text
        q = http.get("/sparql", params={"query": f"SELECT ?t WHERE {{ ?s <{DCT}title> ?t }}"},
                     headers={"Accept": "application/sparql-results+json"})
        titles = {b["t"]["value"] for b in q.json()["results"]["bindings"]}
        assert {"mine", "a blank node", "a fragment"} <= titles


def test_open_container_may_describe_iris_off_this_node(node: LocalNode) -> None:
    """A Solid pod holds documents about any IRI (the Solid CRUD suite stores one about
    ``http://store.example.com/``); the statements stay in the writer's own named graph."""
    body = f'<http://store.example.com/> <{DCT}title> "Links Bike Shop" .'
    with node.client() as http:
        r = http.put("/open/store", content=body, headers={"Content-Type": TURTLE})
        assert r.status_code == 201, r.text
        q = http.get("/sparql", params={"query": (
            f"SELECT ?g WHERE {{ GRAPH ?g {{ <http://store.example.com/> <{DCT}title> ?t }} }}")},
            headers={"Accept": "application/sparql-results+json"})
        assert [b["g"]["value"] for b in q.json()["results"]["bindings"]] \
            == [node.url("open/store")]
