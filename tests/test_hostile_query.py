"""Hostile query strings (issue 9, item 16): control characters and bad percent-encoding.

Every endpoint reads its query through ``exchange.query_params`` (and the /sparql form
through ``exchange.parse_query``), so the class is refused in one place: a NUL or another
control character in any name or value, a ``%`` that does not start two hex digits,
percent-encoded bytes that are not UTF-8, raw bytes outside ASCII. Each case: a 400
problem document (never 500), nothing stored, and the node still answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.inprocess import LocalNode, local_node

PATHS = ["proposals/", "open/", "", "sparql", "feed", "trace", "federation/resource",
         "federation/reactions"]

# (query string, as sent on the wire)
QUERIES = [
    "q=%00", "q=bike%00lanes", "q=%01", "q=%1b%5b31m", "q=%7f", "q=%c2%80", "q=%c2%9f",
    "type=%00", "topic=%00", "state=%0b", "cursor=%00", "limit=%00", "after=%00",
    "iri=%00", "query=%00", "%00=x", "q%00=x", "q%0a=x",
    "q=%zz", "q=%", "q=%4", "q=100%", "q=%%30", "%=1",
    "q=%ff", "q=%c3%28", "q=%ed%a0%80", "q=%f8%88%80%80%80",
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("query")
    with local_node(root, settings={"open_containers": "open/"}) as node:
        yield node


def still_answers(node: LocalNode) -> None:
    """A read of another resource and a /sparql query succeed."""
    with node.client() as http:
        assert http.get("/", headers={"Accept": "text/turtle"}).status_code == 200
        r = http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"},
                     headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, r.text


def stored(node: LocalNode) -> int:
    """How many triples the node holds (must not change)."""
    with node.client() as http:
        r = http.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                     headers={"Accept": "application/sparql-results+json"})
        return int(r.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("path", PATHS)
def test_a_hostile_query_string_is_a_400_problem(node: LocalNode, path: str, query: str
                                                 ) -> None:
    before = stored(node)
    with node.client() as http:
        # httpx would re-encode a query given as params: put the raw bytes in the URL.
        r = http.get(f"/{path}?{query}", headers={"Accept": "text/turtle"})
    assert r.status_code == 400, (path, query, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 400
    assert stored(node) == before
    still_answers(node)


def test_raw_bytes_outside_ascii_are_a_400(node: LocalNode) -> None:
    """A query string with raw (not percent-encoded) bytes, as a client may send it."""
    from ddsnode.http.exchange import query_params
    from ddsnode.problem import BadRequest

    for raw in (b"q=caf\xc3\xa9", b"q=\xff", b"q=a\x00b"):
        with pytest.raises(BadRequest):
            query_params({"query_string": raw})


@pytest.mark.parametrize("form", [
    "query=ASK%20%7B%7D%00", "query=%zz", "query=%ff", "query=ASK%7B%7D&query=ASK%7B%7D",
    "query%00=ASK%7B%7D",
])
def test_a_hostile_sparql_form_is_a_400_problem(node: LocalNode, form: str) -> None:
    with node.client() as http:
        r = http.post("/sparql", content=form.encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    still_answers(node)


@pytest.mark.parametrize("query", [
    "q=bike%20lanes", "q=caf%C3%A9", "q=%E2%80%AF%C2%AB%C2%A0v%C3%A9lo%C2%A0%C2%BB",
    "q=%F0%9F%9A%B2", "q=a%2Bb", "q=a+b", "limit=5", "q=",
])
def test_ordinary_query_strings_still_work(node: LocalNode, query: str) -> None:
    """Text with accents, no-break spaces, emoji, '+': a 200 (or a 400 only for q=)."""
    with node.client() as http:
        r = http.get(f"/proposals/?{query}", headers={"Accept": "text/turtle"})
    assert r.status_code == (400 if query == "q=" else 200), r.text


def test_a_sparql_query_over_several_lines_still_works(node: LocalNode) -> None:
    """Line breaks and tabs are whitespace in a query: not refused as controls."""
    query = "ASK {\n\t?s ?p ?o\r\n}"
    with node.client() as http:
        for r in (http.get("/sparql", params={"query": query},
                           headers={"Accept": "application/sparql-results+json"}),
                  http.post("/sparql", data={"query": query},
                            headers={"Accept": "application/sparql-results+json"})):
            assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["proposals/%00", "proposals/a%00b", "open/%ff", "%2e%2e/",
                                  "open/a%0d%0aSet-Cookie:x=1"])
def test_a_hostile_path_is_a_4xx_problem_not_a_500(node: LocalNode, path: str) -> None:
    before = stored(node)
    with node.client() as http:
        r = http.get(f"/{path}", headers={"Accept": "text/turtle"})
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert stored(node) == before
    still_answers(node)
