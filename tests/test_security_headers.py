"""Security headers (issue 9, item 15): every page with CSP, framing and referrer rules;
``nosniff`` on every response; pages with no inline style or script.

Driven by a table of requests over every kind of response the node sends (resource,
container, fixed documents, errors, 304, OPTIONS, CORS preflight, uploaded files),
including hostile ones (an uploaded HTML page, a title that tries to close the head).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ddsnode.http.middleware import PAGE_POLICY
from ddsnode.ldp.html import STYLESHEET
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html"}
TURTLE = {"Accept": "text/turtle"}
HOSTILE_TITLE = '</title><script>alert(1)</script><style>*{display:none}</style>'


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    root: Path = tmp_path_factory.mktemp("headers")
    with local_node(root, settings={"open_containers": "open/"}) as node:
        with node.client() as http:
            iri, body = node.example("a-proposal-school-streets")
            assert http.put(iri, content=body, headers={
                "Content-Type": "application/ld+json", **node.auth()}).status_code == 201
            turtle = f'<{node.url("open/hostile")}> <http://purl.org/dc/terms/title> ' \
                     f'"{HOSTILE_TITLE}"@en .'
            assert http.put("/open/hostile", content=turtle.encode(),
                            headers={"Content-Type": "text/turtle"}).status_code == 201
            for name, media_type, content in (
                    ("page.html", "text/html", b"<script>alert(document.cookie)</script>"),
                    ("drawing.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"),
                    ("notes.txt", "text/plain", b"<script>alert(1)</script>")):
                assert http.put(f"/documents/{name}", content=content, headers={
                    "Content-Type": media_type, **node.auth()}).status_code == 201
        node.proposal = iri  # type: ignore[attr-defined]
        yield node


def send(node: LocalNode, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    with node.client() as http:
        target = node.proposal if path == "{proposal}" else path  # type: ignore[attr-defined]
        return http.request(method, target, headers=headers)


# (case, method, path, request headers, expected status, is it a page?)
PAGES = [
    ("resource as HTML", "GET", "{proposal}", HTML, 200),
    ("container as HTML", "GET", "/proposals/", HTML, 200),
    ("root as HTML", "GET", "/", HTML, 200),
    ("filtered listing as HTML", "GET", "/proposals/?q=bike", HTML, 200),
    ("ontology as HTML", "GET", "/ns", HTML, 200),
    ("storage description as HTML", "GET", "/.well-known/solid", HTML, 200),
    ("a title that tries to close the head", "GET", "/open/hostile", HTML, 200),
    ("HEAD of a page", "HEAD", "/proposals/", HTML, 200),
    ("browser Accept", "GET", "/", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
     200),
    ("an uploaded HTML file", "GET", "/documents/page.html", {}, 200),
    ("an uploaded SVG file", "GET", "/documents/drawing.svg", {}, 200),
]
OTHERS = [
    ("resource as Turtle", "GET", "{proposal}", TURTLE, 200),
    ("resource as JSON-LD", "GET", "{proposal}", {"Accept": "application/ld+json"}, 200),
    ("container as N-Triples", "GET", "/proposals/", {"Accept": "application/n-triples"}, 200),
    ("the JSON-LD context", "GET", "/context/v1", {}, 200),
    ("the stylesheet", "GET", STYLESHEET, {}, 200),
    ("/sparql", "GET", "/sparql?query=ASK%7B%7D", {}, 200),
    ("an uploaded text file", "GET", "/documents/notes.txt", {}, 200),
    ("a 404 problem", "GET", "/proposals/missing", HTML, 404),
    ("a 400 problem", "GET", "/proposals/?q=%00", HTML, 400),
    ("a 405 problem", "DELETE", "/sparql", {}, 405),
    ("a 401 problem", "PUT", "/proposals/x", {"Content-Type": "text/turtle"}, 401),
    ("a 406 problem", "GET", "/", {"Accept": "image/png"}, 406),
    ("OPTIONS", "OPTIONS", "/proposals/", {}, 204),
    ("a CORS preflight", "OPTIONS", "/proposals/", {
        "Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}, 204),
    ("a cross-origin read", "GET", "/", {"Origin": "https://app.example", **TURTLE}, 200),
]


@pytest.mark.parametrize("case, method, path, headers, status", PAGES,
                         ids=[c[0] for c in PAGES])
def test_every_page_carries_the_page_headers(node: LocalNode, case: str, method: str,
                                             path: str, headers: dict[str, str],
                                             status: int) -> None:
    r = send(node, method, path, headers)
    assert r.status_code == status, r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    policies = r.headers.get_list("content-security-policy")
    assert PAGE_POLICY.decode() in policies
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    if path.startswith("/documents/"):
        assert "sandbox" in policies  # an uploaded page also keeps its own sandbox


@pytest.mark.parametrize("case, method, path, headers, status", OTHERS,
                         ids=[c[0] for c in OTHERS])
def test_every_response_is_nosniff(node: LocalNode, case: str, method: str, path: str,
                                   headers: dict[str, str], status: int) -> None:
    r = send(node, method, path, headers)
    assert r.status_code == status, r.text
    assert r.headers.get_list("x-content-type-options") == ["nosniff"]


def test_a_304_is_nosniff_too(node: LocalNode) -> None:
    etag = send(node, "GET", "/proposals/", HTML).headers["etag"]
    r = send(node, "GET", "/proposals/", {**HTML, "If-None-Match": etag})
    assert r.status_code == 304
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["{proposal}", "/proposals/", "/", "/ns", "/open/hostile"])
def test_pages_have_no_inline_style_or_script(node: LocalNode, path: str) -> None:
    """What the policy forbids is not used: style comes from the node's stylesheet."""
    page = send(node, "GET", path, HTML).text
    inline = re.compile(r"<script|<style|\sstyle=|\son\w+=|javascript:", re.IGNORECASE)
    assert not inline.search(page), page
    # Every page links a stylesheet of the node's own: the explorer renders the home,
    # resources and containers (its cards), the LDP layer the rest (its own sheet).
    sheets = re.findall(r'<link rel="stylesheet" href="(/[^"]+)">', page)
    assert sheets and all(sheet.startswith(("/explore/static/", STYLESHEET))
                          for sheet in sheets), page
    for sheet in sheets:
        css = send(node, "GET", sheet, {})
        assert css.headers["content-type"].startswith("text/css")
        assert "font-family" in css.text
        assert send(node, "GET", sheet, {"If-None-Match": css.headers["etag"]}
                    ).status_code == 304


def test_the_stylesheet_is_read_only(node: LocalNode) -> None:
    r = send(node, "PUT", STYLESHEET, {"Content-Type": "text/css", **node.auth()})
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"
