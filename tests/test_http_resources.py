"""LDP resources over HTTP: create, read, replace, delete, conneg, conditions, errors.

The node runs in-process (tests/support/inprocess.py): the app uvicorn serves, without the
socket. Only the unclean request lines need a real server, which reads them off the wire.

Every status code the node answers with has a test here or in the other
``test_http_*`` modules; the problem+json shape is pinned by one test.
"""

from __future__ import annotations

import json
import socket
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
import rdflib
from rdflib.compare import isomorphic

from ddsnode import resources
from ddsnode.problem import MEDIA_TYPE, PROBLEM_BASE
from tests.support.inprocess import (  # noqa: F401 (the "node" and "http" fixtures)
    LocalNode,
    module_node,
    node_client,
)
from tests.support.node import RunningNode, shared_node
from tests.support.rdf import parse_rdf

JSONLD = "application/ld+json"
EXPANDED = 'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"'
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
LDP = "http://www.w3.org/ns/ldp#"




def proposal(node: LocalNode, slug: str | None = None, **extra: object) -> tuple[str, bytes]:
    """A valid proposal at proposals/<slug> (a fresh slug by default)."""
    slug = slug or f"p-{uuid.uuid4().hex[:10]}"
    iri, body = node.example("a-proposal-quai-bike-lane")
    doc = json.loads(body)
    new_iri = node.url(f"proposals/{slug}")
    text = json.dumps({**doc, **extra}).replace(iri, new_iri)
    return new_iri, text.encode()


def put(http: httpx.Client, node: LocalNode, iri: str, body: bytes, media_type: str = JSONLD,
        **headers: str) -> httpx.Response:
    return http.put(iri, content=body, headers={"Content-Type": media_type, **node.auth(),
                                                **headers})


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    body = response.json()
    assert body["status"] == status
    if slug:
        assert body["type"] == PROBLEM_BASE + slug
    return body


# --- the problem document ------------------------------------------------------------

def test_problem_document_shape_is_pinned(node: LocalNode, http: httpx.Client) -> None:
    response = http.get(node.url("proposals/does-not-exist"))
    body = assert_problem(response, 404, "not-found")
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    assert body["title"] == "Not found"
    assert body["instance"] == "/proposals/does-not-exist"
    assert "does-not-exist" in body["detail"]


# --- create, read, replace ----------------------------------------------------------

def test_put_creates_201_then_replaces_204(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    created = put(http, node, iri, body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == iri
    replaced = put(http, node, iri, body)
    assert replaced.status_code == 204
    got = http.get(iri, headers={"Accept": "text/turtle"})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/turtle")


def test_post_honours_slug_and_mints_on_conflict(node: LocalNode, http: httpx.Client) -> None:
    slug = f"Quai Bike {uuid.uuid4().hex[:6]}"
    _, body = proposal(node)
    doc = json.loads(body)
    doc["id"] = ""  # the client names the new resource with a relative IRI
    data = json.dumps(doc).encode()
    headers = {"Content-Type": JSONLD, "Slug": slug, **node.auth()}
    first = http.post(node.url("proposals/"), content=data, headers=headers)
    assert first.status_code == 201, first.text
    location = first.headers["location"]
    assert location == node.url("proposals/" + slug.lower().replace(" ", "-"))
    assert f'<{LDP}RDFSource>; rel="type"' in first.headers["link"]
    second = http.post(node.url("proposals/"), content=data, headers=headers)
    assert second.status_code == 201
    assert second.headers["location"] != location
    assert second.headers["location"].startswith(location + "-")
    graph = parse_rdf(http.get(location, headers={"Accept": "text/turtle"}).content, "turtle")
    assert (rdflib.URIRef(location), rdflib.RDF.type, None) in graph


def test_post_without_slug_mints_an_iri(node: LocalNode, http: httpx.Client) -> None:
    _, body = proposal(node)
    doc = json.loads(body)
    doc["id"] = ""
    response = http.post(node.url("proposals/"), content=json.dumps(doc).encode(),
                         headers={"Content-Type": JSONLD, **node.auth()})
    assert response.status_code == 201
    assert response.headers["location"].startswith(node.url("proposals/"))


def test_client_dates_and_publisher_are_kept_as_sent(node: LocalNode, http: httpx.Client) -> None:
    # Issue 10 item 3: a resource's own dates are data (tests/test_dates_kept.py has more).
    iri, body = proposal(node, created="1999-01-01T00:00:00Z",
                         publisher="https://elsewhere.example/")
    doc = json.loads(body)
    assert put(http, node, iri, body).status_code == 201
    graph = parse_rdf(http.get(iri, headers={"Accept": "text/turtle"}).content, "turtle")
    subject = rdflib.URIRef(iri)
    assert list(graph.objects(subject, DCT.publisher)) == [
        rdflib.URIRef("https://elsewhere.example/")]
    created = list(graph.objects(subject, DCT.created))
    assert [str(c) for c in created] == ["1999-01-01T00:00:00Z"]
    assert len(list(graph.objects(subject, DCT.modified))) == 1
    assert doc["created"].startswith("1999")


def test_write_document_of_every_example_over_http(node: LocalNode, http: httpx.Client) -> None:
    for path in sorted(resources.examples_dir().glob("*.jsonld")):
        iri, body = node.example(path.stem)
        # analysis outputs (x-analysis-*) are written by reviewers (scope review)
        response = put(http, node, iri, body, **node.auth(node.publisher_token))
        assert response.status_code in (201, 204), (path.name, response.text)


# --- content negotiation ------------------------------------------------------------

@pytest.mark.parametrize("accept,fmt", [
    (JSONLD, "json-ld"), (EXPANDED, "json-ld"), ("text/turtle", "turtle"),
    ("application/n-triples", "nt"), ("application/json", "json-ld")])
def test_conneg_round_trips_to_the_same_triples(node: LocalNode, http: httpx.Client, accept: str,
                                                fmt: str) -> None:
    iri, body = node.example("a-proposal-protected-bike-lanes")
    put(http, node, iri, body)
    reference = parse_rdf(http.get(iri, headers={"Accept": "application/n-triples"}).content,
                          "nt")
    response = http.get(iri, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["vary"].startswith("Accept")
    assert response.headers["content-type"].split(";")[0] == accept.split(";")[0]
    graph = parse_rdf(response.content, fmt, base=iri)
    assert isomorphic(graph, reference)
    if accept == EXPANDED:
        assert isinstance(response.json(), list)
        assert "profile=" in response.headers["content-type"]
    if accept == JSONLD:
        assert response.json()["@context"] == node.url("context/v1")


def test_html_is_readable_and_escaped(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    doc = json.loads(body)
    doc["title"] = {"en": "<script>alert(1)</script> & more"}
    put(http, node, iri, json.dumps(doc).encode())
    # The first page a server renders builds its explorer index: a generous timeout, so a
    # busy CI machine is not mistaken for a hang (no timing is asserted here).
    page = http.get(iri, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
                    timeout=60)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page.text
    assert f'href="{node.url("participants/p-19c2")}"' in page.text


def test_default_representation_is_turtle(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    put(http, node, iri, body)
    for accept in (None, "*/*"):
        headers = {"Accept": accept} if accept else {}
        response = http.get(iri, headers=headers)
        assert response.headers["content-type"].startswith("text/turtle")


def test_406_when_nothing_matches(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    put(http, node, iri, body)
    assert_problem(http.get(iri, headers={"Accept": "image/png"}), 406, "not-acceptable")
    assert_problem(http.get(node.url("proposals/"), headers={"Accept": "application/pdf"}), 406)


# --- conditional requests -----------------------------------------------------------

def test_etags_are_strong_per_representation_and_304(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    put(http, node, iri, body)
    turtle = http.get(iri, headers={"Accept": "text/turtle"})
    jsonld = http.get(iri, headers={"Accept": JSONLD})
    assert turtle.headers["etag"].startswith('"') and jsonld.headers["etag"].startswith('"')
    assert turtle.headers["etag"] != jsonld.headers["etag"]
    again = http.get(iri, headers={"Accept": "text/turtle",
                                   "If-None-Match": turtle.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == turtle.headers["etag"]
    other = http.get(iri, headers={"Accept": JSONLD, "If-None-Match": turtle.headers["etag"]})
    assert other.status_code == 200


def test_last_modified_and_if_modified_since(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    put(http, node, iri, body)
    first = http.get(iri)
    assert "GMT" in first.headers["last-modified"]
    again = http.get(iri, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert again.status_code == 304


def test_if_match_412_on_mismatch_and_success_on_match(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    put(http, node, iri, body)
    etag = http.get(iri, headers={"Accept": JSONLD}).headers["etag"]
    assert_problem(put(http, node, iri, body, **{"If-Match": '"not-the-etag"'}), 412,
                   "precondition-failed")
    assert put(http, node, iri, body, **{"If-Match": etag}).status_code == 204
    # The write changed dct:modified, hence the ETag: the old one no longer matches.
    stale = put(http, node, iri, body, **{"If-Match": etag})
    assert stale.status_code in (204, 412)


def test_if_match_on_a_container_compares_its_page_etag(node: LocalNode,
                                                        http: httpx.Client) -> None:
    folder = node.url(f"open/if-match-{uuid.uuid4().hex[:6]}/")
    own = b'<> <http://purl.org/dc/terms/title> "a folder" .'
    assert put(http, node, folder, own, "text/turtle").status_code == 201
    assert put(http, node, folder + "a.ttl", b"<#x> <#y> 1 .", "text/turtle").status_code == 201
    for accept in ("text/turtle", JSONLD):
        etag = http.get(folder, headers={"Accept": accept}).headers["etag"]
        assert_problem(put(http, node, folder, own, "text/turtle", **{"If-Match": '"other"'}), 412)
        assert put(http, node, folder, own, "text/turtle", **{"If-Match": etag}).status_code == 204


def test_if_none_match_star_is_create_only(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    assert put(http, node, iri, body, **{"If-None-Match": "*"}).status_code == 201
    assert_problem(put(http, node, iri, body, **{"If-None-Match": "*"}), 412)


def test_if_match_on_a_missing_resource_is_412(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    assert_problem(put(http, node, iri, body, **{"If-Match": '"abc"'}), 412)


def test_malformed_if_match_is_400(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    assert_problem(put(http, node, iri, body, **{"If-Match": "no-quotes"}), 400, "bad-request")
    assert_problem(http.get(node.url("proposals/"), headers={"If-None-Match": "W/x"}), 400)


# --- headers --------------------------------------------------------------------------

def test_link_allow_and_accept_headers(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    put(http, node, iri, body)
    response = http.get(iri)
    link = response.headers["link"]
    assert f'<{LDP}RDFSource>; rel="type"' in link
    assert f'<{LDP}Resource>; rel="type"' in link
    assert f'<https://w3id.org/dds/shapes#ProposalShape>; rel="{LDP}constrainedBy"' in link
    assert 'rel="http://www.w3.org/ns/solid/terms#storageDescription"' in link
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"
    assert response.headers["accept-patch"] == "text/n3, application/sparql-update"
    container = http.get(node.url("proposals/"))
    assert f'<{LDP}BasicContainer>; rel="type"' in container.headers["link"]
    assert "text/turtle" in container.headers["accept-post"]
    assert "POST" in container.headers["allow"]


def test_head_and_options(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    put(http, node, iri, body)
    get = http.get(iri, headers={"Accept": "text/turtle"})
    head = http.head(iri, headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    options = http.options(iri)
    assert options.status_code == 204
    assert "PATCH" in options.headers["allow"]
    assert options.headers["accept-patch"]


# --- authentication -----------------------------------------------------------------

def test_writes_need_a_token_401_and_scope_403(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    none = http.put(iri, content=body, headers={"Content-Type": JSONLD})
    assert_problem(none, 401, "unauthorized")
    assert none.headers["www-authenticate"].startswith("Bearer")
    bad = http.put(iri, content=body, headers={"Content-Type": JSONLD,
                                               "Authorization": "Bearer dds_nope_nope"})
    assert_problem(bad, 401)
    read_only = http.put(iri, content=body, headers={"Content-Type": JSONLD,
                                                     **node.auth(node.read_token)})
    assert_problem(read_only, 403, "forbidden")
    assert http.get(iri).status_code == 404  # nothing was written


# --- refusals -----------------------------------------------------------------------

def test_405_on_the_root_configured_containers_and_unknown_methods(node: LocalNode,
                                                                   http: httpx.Client) -> None:
    r = http.put(node.url(""), content=b"", headers={"Content-Type": "text/turtle",
                                                     **node.auth()})
    assert_problem(r, 405, "method-not-allowed")
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"
    assert_problem(http.delete(node.url("proposals/"), headers=node.auth()), 405)
    iri, body = proposal(node)
    put(http, node, iri, body)
    assert_problem(http.post(iri, content=body, headers={"Content-Type": JSONLD,
                                                         **node.auth()}), 405)
    assert_problem(http.request("PROPFIND", iri), 405)  # before any credential check


def test_404_outside_any_container(node: LocalNode, http: httpx.Client) -> None:
    assert_problem(http.get(node.url("nowhere/thing")), 404)
    iri, body = proposal(node)
    assert_problem(http.put(node.url("nowhere/thing"), content=body,
                            headers={"Content-Type": JSONLD, **node.auth()}), 404)


def test_409_nested_paths_in_a_shaped_container(node: LocalNode, http: httpx.Client) -> None:
    _, body = proposal(node)
    assert_problem(put(http, node, node.url("proposals/a/b"), body), 409, "conflict")


def test_delete_leaves_a_tombstone_410_and_is_listed_nowhere(node: LocalNode,
                                                             http: httpx.Client) -> None:
    iri, body = proposal(node)
    put(http, node, iri, body)
    assert http.delete(iri, headers=node.auth()).status_code == 204
    gone = assert_problem(http.get(iri), 410, "gone")
    assert gone["formerType"] == ["https://w3id.org/dds/ns#Proposal"]
    assert "deleted" in gone
    assert_problem(http.delete(iri, headers=node.auth()), 410)
    listing = http.get(node.url("proposals/?limit=200"), headers={"Accept": "text/turtle"})
    assert iri not in listing.text
    query = f"ASK {{ <{iri}> ?p ?o }}"
    answer = http.get(node.url("sparql"), params={"query": query},
                      headers={"Accept": "application/sparql-results+json",
                               **node.auth(node.read_token)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["boolean"] is False
    # The IRI may be reused.
    assert put(http, node, iri, body).status_code == 201


def test_413_for_a_body_over_the_limit(node: LocalNode, http: httpx.Client) -> None:
    iri, _ = proposal(node)
    big = b"{" + b" " * 300_000 + b"}"
    assert_problem(put(http, node, iri, big), 413, "payload-too-large")


def test_413_while_streaming_a_body_without_content_length(node: LocalNode,
                                                           http: httpx.Client) -> None:
    iri, _ = proposal(node)

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(64):
            yield b" " * 8192

    response = http.put(iri, content=chunks(), headers={"Content-Type": JSONLD,
                                                        **node.auth()})
    assert_problem(response, 413)


def test_415_for_unsupported_media_types(node: LocalNode, http: httpx.Client) -> None:
    iri, _ = proposal(node)
    response = put(http, node, iri, b"just text", "text/plain")
    assert_problem(response, 415, "unsupported-media-type")
    assert_problem(http.patch(iri, content=b"x", headers={"Content-Type": "text/plain",
                                                          **node.auth()}), 415)


def test_400_for_malformed_bodies_and_headers(node: LocalNode, http: httpx.Client) -> None:
    iri, _ = proposal(node)
    assert_problem(put(http, node, iri, b"{not json"), 400, "bad-request")
    assert_problem(put(http, node, iri, b"<a> <b> .", "text/turtle"), 400)
    _, body = proposal(node)
    assert_problem(http.post(node.url("proposals/"), content=body,
                             headers={"Content-Type": JSONLD, "Slug": "a/b", **node.auth()}),
                   400)
    assert_problem(http.get(node.url("proposals/?limit=many")), 400)


def raw_request(node: RunningNode, line: str) -> tuple[int, bytes]:
    """Send a request line as is (httpx would normalise dot segments away)."""
    host, port = urlsplit(node.base).hostname, urlsplit(node.base).port
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(f"{line}\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


@pytest.mark.slow  # a request line as sent: only uvicorn's parser turns it into the app's path
@pytest.mark.parametrize("path", ["/proposals/../open/x", "/proposals/%2e%2e/x",
                                  "/proposals/%ff", "/proposals//x", "/proposals/%00"])
def test_400_for_unclean_paths(path: str) -> None:
    status, data = raw_request(shared_node(), f"GET {path} HTTP/1.1")
    assert status == 400, data
    assert b"application/problem+json" in data


# --- 422 ------------------------------------------------------------------------------

def test_422_validation_carries_the_shacl_report(node: LocalNode, http: httpx.Client) -> None:
    text = node.rebase((resources.examples_dir() / "invalid" /
                        "proposal-missing-title.jsonld").read_text("utf-8"))
    iri = json.loads(text)["id"]
    body = assert_problem(put(http, node, iri, text.encode()), 422, "validation-failed")
    assert any(e["path"] == str(DCT.title) and e["severity"] == "Violation"
               and e["focusNode"] == iri and e["message"] for e in body["errors"])
    report = parse_rdf(json.dumps(body["report"]), "json-ld")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert (None, rdflib.RDF.type, sh.ValidationReport) in report
    assert (None, sh.conforms, rdflib.Literal(False)) in report
    assert http.get(iri).status_code == 404  # nothing half-written


def test_422_remote_context_says_how_to_use_the_shared_one(node: LocalNode,
                                                           http: httpx.Client) -> None:
    iri, body = proposal(node)
    doc = json.loads(body)
    doc["@context"] = "https://evil.example/context.jsonld"
    response = put(http, node, iri, json.dumps(doc).encode())
    problem = assert_problem(response, 422, "remote-context-refused")
    assert resources.CONTEXT_IRI in problem["detail"]


def test_422_wrong_type_for_the_container(node: LocalNode, http: httpx.Client) -> None:
    _, body = node.example("a-comment-c-101")
    doc = json.loads(body)
    iri = node.url(f"proposals/c-{uuid.uuid4().hex[:8]}")
    doc["id"] = iri
    problem = assert_problem(put(http, node, iri, json.dumps(doc).encode()), 422, "wrong-type")
    assert "dds:Comment" in problem["detail"]


def test_422_foreign_subjects(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    doc = json.loads(body)
    graph_doc = {"@context": doc["@context"], "@graph": [
        {k: v for k, v in doc.items() if k != "@context"},
        {"id": node.url("participants/someone-else"), "type": "Participant", "name": "X"}]}
    problem = assert_problem(put(http, node, iri, json.dumps(graph_doc).encode()), 422,
                             "foreign-subject")
    assert problem["subjects"] == [node.url("participants/someone-else")]


def test_422_when_the_document_is_about_another_iri(node: LocalNode, http: httpx.Client) -> None:
    iri, body = proposal(node)
    other = iri + "-other"
    assert_problem(put(http, node, other, body), 422)


def test_html_never_links_other_schemes(node: LocalNode, http: httpx.Client) -> None:
    iri = node.url(f"open/xss-{uuid.uuid4().hex[:6]}.ttl")
    body = b"<> <http://purl.org/dc/terms/source> <javascript:alert(1)> ."
    assert http.put(iri, content=body, headers={"Content-Type": "text/turtle"}).status_code \
        == 201
    page = http.get(iri, headers={"Accept": "text/html"}).text
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page
