"""Bodies that do not match their Content-Length (issue 9, item 7), in-process.

``exchange.read_body`` returns a body only when it is whole: its length is the declared
one and its last message ends it. The same ASGI app uvicorn serves, driven through
httpx, with lengths no well-behaved client sends; the cuts that need a socket (a client
that hangs up, a chunked body without its final chunk) are in test_hostile_transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.inprocess import LocalNode, local_node

TURTLE = '<{iri}> <http://purl.org/dc/terms/title> "{title}"@en .\n'


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("body")
    with local_node(root, settings={"open_containers": "open/"}) as node:
        yield node


def body(node: LocalNode, path: str, title: str) -> bytes:
    return TURTLE.format(iri=node.url(path), title=title).encode()


# (case, Content-Length as sent, given the real length n)
LENGTHS = [
    ("declared longer than sent", lambda n: str(n * 10)),
    ("declared one byte longer", lambda n: str(n + 1)),
    ("declared shorter than sent", lambda n: str(n // 2)),
    ("declared zero", lambda n: "0"),
    ("not a number", lambda n: "abc"),
    ("negative", lambda n: "-1"),
    ("a sign", lambda n: f"+{n}"),
    ("exponent", lambda n: "1e3"),
    ("hexadecimal", lambda n: "0x10"),
    ("two values", lambda n: f"{n}, {n}"),
    ("non-ASCII digits", lambda n: "١٢"),
]


@pytest.mark.parametrize("case, declared", LENGTHS, ids=[c[0] for c in LENGTHS])
@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH"])
def test_a_body_not_matching_its_length_is_a_400_and_nothing_changes(
        node: LocalNode, case: str, declared: object, method: str) -> None:
    path = "open/kept"
    with node.client() as http:
        original = body(node, path, "as written")
        if http.get(f"/{path}").status_code == 404:
            assert http.put(f"/{path}", content=original,
                            headers={"Content-Type": "text/turtle"}).status_code == 201
        before = http.get(f"/{path}", headers={"Accept": "text/turtle"}).content
        listing = http.get("/open/", headers={"Accept": "text/turtle"}).content
        target = "/open/" if method == "POST" else f"/{path}"
        content = body(node, path, "replaced")
        media_type = "text/turtle"
        if method == "PATCH":
            content = (b"INSERT DATA { <" + node.url(path).encode() +
                       b"> <http://purl.org/dc/terms/title> \"added\"@en . }")
            media_type = "application/sparql-update"
        length = declared(len(content))  # type: ignore[operator]
        r = http.request(method, target, content=content, headers={
            "Content-Type": media_type, "Content-Length": length.encode("utf-8")})
        assert r.status_code == 400, (case, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert http.get(f"/{path}", headers={"Accept": "text/turtle"}).content == before
        assert http.get("/open/", headers={"Accept": "text/turtle"}).content == listing
        assert http.get("/", headers={"Accept": "text/turtle"}).status_code == 200
        assert http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
