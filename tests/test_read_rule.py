"""One read rule on every read path (issue 9, items 11-12): walks the routes table.

A node with a private container ``private/`` holds ``private/hidden-1``, which amends a
public proposal and is amended by a public amendment; ``private/hidden-2`` does not
exist, and a twin public amendment points at it. Every route of
:func:`ddsnode.http.routes.routes` is asked about both, with no token, a bogus token and
a token without scope ``read``: no status, header or body may tell the existing private
resource from the missing one, and its title never shows. With a read token it is
readable wherever the route serves resources. A route added to the table without a row
in ``REQUESTS`` fails ``test_every_route_is_walked``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ddsnode.http.routes import routes
from ddsnode.ldp.tokens import TokenRegistry
from tests.support.inprocess import LocalNode, local_node

DDS = "https://w3id.org/dds/ns#"
TITLE = "Zanzibar-Quokka"  # the private resource's title: must never leak
HIDDEN, MISSING = "hidden-1", "hidden-2"  # same length: bodies compare byte for byte
PUBLIC = "proposals/school-streets"


@dataclass(frozen=True)
class Ask:
    """One request about ``private/<name>``; ``reveals``: a read token shows the title."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    reveals: bool = False


def _sparql(node: LocalNode, name: str, path: str) -> list[Ask]:
    iri = node.url(f"private/{name}")
    return [Ask("GET", "/sparql", {"query": f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"},
                reveals=True),
            Ask("GET", "/sparql", {"query": f"ASK {{ <{iri}> ?p ?o }}"}),
            Ask("POST", "/sparql", {"query": f"SELECT ?s WHERE {{ ?s ?p <{iri}> }}"}),
            Ask("GET", "/sparql", {"query": f"SELECT ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}"}),
            Ask("GET", "/sparql", {"query": f"DESCRIBE <{iri}>"},
                headers={"Accept": "text/turtle"})]


def _fixed(node: LocalNode, name: str, path: str) -> list[Ask]:
    """A route whose answer does not depend on the query: asked about the IRI anyway."""
    return [Ask("GET", path), Ask("GET", path, headers={"Accept": "text/html"}),
            Ask("HEAD", path), Ask("OPTIONS", path),
            Ask("GET", path, {"iri": node.url(f"private/{name}")})]


def _feed(node: LocalNode, name: str, path: str) -> list[Ask]:
    # The feed never announces a private change, not even to a token holder (peers read
    # it): reveals stays False and the title and IRI are checked absent below.
    return [Ask("GET", "/feed"), Ask("GET", "/feed", {"after": "0"}),
            Ask("GET", "/feed", {"after": "0", "limit": "1000"})]


def _trace(node: LocalNode, name: str, path: str) -> list[Ask]:
    return [Ask("GET", "/trace", {"iri": node.url(f"private/{name}")}, reveals=True),
            Ask("GET", "/trace", {"iri": node.url(f"private/{name}#part")}),
            Ask("GET", "/trace", {"iri": node.url(f"private/{name}/")}),
            Ask("GET", "/trace", {"iri": node.url(f"private/{name}?a=1")}),
            Ask("GET", "/trace", {"iri": node.url(f"%70rivate/{name}")}),
            Ask("GET", "/trace", {"iri": node.url(f"private/{name}").upper()}),
            Ask("HEAD", "/trace", {"iri": node.url(f"private/{name}")}),
            # from the public amendment that points at it, and from the public proposal
            Ask("GET", "/trace", {"iri": node.url(f"proposals/amends-{name}")}, reveals=True),
            Ask("GET", "/trace", {"iri": node.url(PUBLIC)})]


def _cached(node: LocalNode, name: str, path: str) -> list[Ask]:
    return [Ask("GET", "/federation/resource", {"iri": node.url(f"private/{name}")})]


def _reactions(node: LocalNode, name: str, path: str) -> list[Ask]:
    iri = node.url(f"private/{name}")
    return [Ask("GET", "/federation/reactions", {"iri": iri}, reveals=True),
            Ask("HEAD", "/federation/reactions", {"iri": iri}),
            Ask("GET", "/federation/reactions", {"iri": iri + "#x"}),
            Ask("GET", "/federation/reactions", {"iri": iri + ".meta"}),
            Ask("GET", "/federation/reactions", {"iri": node.url(f"%70rivate/{name}")})]


def _resource(node: LocalNode, name: str, path: str) -> list[Ask]:
    path = f"/private/{name}"  # the route's path is /{path}: any resource
    return [Ask("GET", path, reveals=True),
            Ask("GET", path, headers={"Accept": "text/html"}, reveals=True),
            Ask("GET", path, headers={"Accept": "application/ld+json"}, reveals=True),
            Ask("HEAD", path), Ask("OPTIONS", path), Ask("GET", path + ".meta"),
            Ask("OPTIONS", path, headers={"Origin": "https://evil.example",
                                          "Access-Control-Request-Method": "GET"}),
            Ask("GET", f"/%70rivate/{name}"), Ask("GET", f"/Private/{name}"),
            Ask("GET", path + "/"), Ask("GET", path, {"scope": "federation"}),
            Ask("GET", path, headers={"If-None-Match": '"x"'}),
            Ask("GET", "/private/", {"q": TITLE}), Ask("GET", "/private/", {"q": name}),
            Ask("GET", "/private/", {"scope": "federation"}),
            Ask("GET", "/proposals/", {"q": TITLE}),
            Ask("GET", "/proposals/", {"q": TITLE, "scope": "federation"}),
            Ask("GET", "/proposals/", headers={"Accept": "text/html"}),
            Ask("GET", "/", headers={"Accept": "text/html"})]


def _explore(node: LocalNode, name: str, path: str) -> list[Ask]:
    # The explorer's search index holds no private resource (docs/explorer.md).
    html, jsonld = {"Accept": "text/html"}, {"Accept": "application/ld+json"}
    return [Ask("GET", "/explore", {"q": TITLE}, html), Ask("GET", "/explore", {"q": name}),
            Ask("GET", "/explore", {"q": TITLE}, jsonld),
            Ask("GET", "/explore", {"kind": DDS + "Amendment"}, jsonld),
            Ask("GET", "/explore", {"place": node.url(f"private/{name}")}, html)]


def _explore_resource(node: LocalNode, name: str, path: str) -> list[Ask]:
    return [Ask("GET", "/explore/resource", {"iri": node.url(f"private/{name}")},
                {"Accept": "text/html"})]


def _directory(node: LocalNode, name: str, path: str) -> list[Ask]:
    # The directory reads organisations with the reader's rights (docs/directory.md).
    html, jsonld = {"Accept": "text/html"}, {"Accept": "application/ld+json"}
    private = node.url(f"private/{name}")
    return [Ask("GET", "/explore/directory", {}, html),
            Ask("GET", "/explore/directory", {}, jsonld),
            Ask("GET", "/explore/directory/organisation", {"id": private}, html),
            Ask("GET", "/explore/directory/organisation", {"id": private}, jsonld),
            Ask("GET", "/explore/directory/map.svg"),
            Ask("GET", "/explore/directory/map.geojson")]


def _intake(node: LocalNode, name: str, path: str) -> list[Ask]:
    # The intake's log and totals hold tallies of public contests only (docs/election-night.md).
    iri = node.url(f"private/{name}")
    return [Ask("GET", path), Ask("HEAD", path), Ask("OPTIONS", path), Ask("POST", path),
            Ask("GET", path, {"election": iri}), Ask("GET", path, {"sha256": iri}),
            Ask("GET", path, {"after": "0"}), Ask("POST", path, {"contest": iri})]


def _clerk(node: LocalNode, name: str, path: str) -> list[Ask]:
    # The clerk's page lists contests and stations as the intake reads them (public only).
    iri = node.url(f"private/{name}")
    return [Ask("GET", path, {}, {"Accept": "text/html"}), Ask("GET", path, {"contest": iri}),
            Ask("GET", path, {"q": TITLE}), Ask("POST", path, {"contest": iri}),
            Ask("POST", path, {"contest": iri, "station": iri, "token": "x"},
                {"Accept": "text/html"})]


def _clerk_review(node: LocalNode, name: str, path: str) -> list[Ask]:
    # The supervisor's page lists the intake's queue (public contests only) to a review token.
    iri = node.url(f"private/{name}")
    html = {"Accept": "text/html"}
    return [Ask("GET", path, {}, html), Ask("POST", path, {"action": "list", "token": "x"}, html),
            Ask("POST", path, {"action": "accept", "contest": iri, "station": iri, "event": "1",
                               "reason": "r", "token": "x"}, html)]


def _catalog(node: LocalNode, name: str, path: str) -> list[Ask]:
    # The open-data files hold public containers only (docs/catalog.md): built once the
    # node is filled (the module's fixture), the walk writes nothing (test_a_walk_...).
    html, turtle = {"Accept": "text/html"}, {"Accept": "text/turtle"}
    return [Ask("GET", "/catalog", {}, turtle), Ask("GET", "/catalog", {}, html),
            Ask("GET", "/catalog", {"iri": node.url(f"private/{name}")}),
            Ask("GET", "/catalog/files", {"name": "node.csv"}),
            # The whole node's JSON-LD holds the public amendment, which names the IRI
            # (``about`` is ignored by the endpoint: it says so to the leak check).
            Ask("GET", "/catalog/files", {"name": "node.jsonld",
                                          "about": node.url(f"proposals/amends-{name}")}),
            Ask("GET", "/catalog/files", {"name": f"container-private-{name}.csv"})]


def _vote(node: LocalNode, name: str, path: str) -> list[Ask]:
    # The voter lookup is computed from public resources only (docs/voter.md).
    iri = node.url(f"private/{name}")
    return [Ask("GET", "/explore/vote", {"unit": iri}, {"Accept": "text/html"}),
            Ask("GET", "/explore/vote.json", {"unit": iri}),
            Ask("GET", "/explore/vote", {"q": TITLE}, {"Accept": "application/json"}),
            Ask("GET", "/explore/vote/ballot", {"contest": iri}),
            Ask("GET", "/explore/vote/results", {"unit": iri})]


# One row per route name of the routes table: how to ask it about private/<name>. A
# fixed document (or any route whose answer ignores the query) can take _fixed.
Builder = Callable[[LocalNode, str, str], list[Ask]]
REQUESTS: dict[str, Builder] = {
    "sparql": _sparql,
    "storage-description": _fixed,
    "void": _fixed,
    "ontology": _fixed,
    "shapes": _fixed,
    "context": _fixed,
    "stylesheet": _fixed,
    "feed": _feed,
    "inbox": _fixed,
    "trace": _trace,
    "federation-resource": _cached,
    "federation-reactions": _reactions,
    "intake-tallies": _intake,
    "intake-evidence": _intake,
    "intake-log": _intake,
    "intake-totals": _intake,
    "clerk": _clerk,
    "clerk-review": _clerk_review,
    "jwks": _fixed,
    "resource": _resource,
    "catalog": _catalog,
    "catalog-files": _catalog,
    "explore-search": _explore,
    "explore-resource": _explore_resource,
    "explore-static": _fixed,
    "favicon": _fixed,
    "directory": _directory,
    "directory-organisation": _directory,
    "directory-map-svg": _directory,
    "directory-map-geojson": _directory,
    "vote": _vote,
    "vote-json": _vote,
    "vote-ballot": _vote,
    "vote-results": _vote,
}


def _route_paths(node: LocalNode) -> dict[str, str]:
    """Route name -> path, from the table the app's router serves (same node)."""
    return {route.name: route.path
            for route in routes(node.app.assembly)}  # type: ignore[attr-defined]


def _asks(node: LocalNode, route: str, name: str) -> list[Ask]:
    return REQUESTS[route](node, name, _route_paths(node)[route])


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("read-rule"),
                    settings={"private_containers": "private/"}) as running:
        with running.client() as http:
            _fill(running, http)
        running.app.assembly.catalog.rebuild()  # type: ignore[attr-defined]
        yield running


def _fill(node: LocalNode, http: httpx.Client) -> None:
    public_iri, body = node.example("a-proposal-school-streets")
    assert public_iri == node.url(PUBLIC)
    _ok(http.put(public_iri, content=body, headers={"Content-Type": "application/ld+json",
                                                    **node.auth()}))
    hidden = node.url(f"private/{HIDDEN}")
    ttl = (f'<{hidden}> a <{DDS}Amendment> ; <http://purl.org/dc/terms/title> "{TITLE}"@en ;'
           f' <{DDS}amends> <{public_iri}> .')
    _ok(http.put(hidden, content=ttl, headers={"Content-Type": "text/turtle", **node.auth()}))
    _, amendment = node.example("a-proposal-protected-bike-lanes-amendment-1")
    for name in (HIDDEN, MISSING):
        doc = json.loads(amendment)
        doc["id"] = node.url(f"proposals/amends-{name}")
        doc["amends"] = node.url(f"private/{name}")
        _ok(http.put(doc["id"], content=json.dumps(doc).encode(),
                     headers={"Content-Type": "application/ld+json", **node.auth()}))


def _ok(response: httpx.Response) -> None:
    assert response.status_code in (201, 204), response.text


def _send(http: httpx.Client, ask: Ask, token: str | None) -> httpx.Response:
    headers = dict(ask.headers)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if ask.method == "POST":
        return http.post(ask.path, data=ask.params, headers=headers)
    return http.request(ask.method, ask.path, params=ask.params, headers=headers)


def _same(text: str) -> str:
    return re.sub(f"{HIDDEN}|{MISSING}", "hidden-N", text, flags=re.IGNORECASE)


def _shape(response: httpx.Response) -> tuple[int, list[tuple[str, str]], str]:
    headers = sorted((k, _same(v)) for k, v in response.headers.items() if k != "date")
    return response.status_code, headers, _same(response.text)


def test_every_route_is_walked(node: LocalNode) -> None:
    assert set(_route_paths(node)) == set(REQUESTS), "give every route a row in REQUESTS"


def _readers(node: LocalNode) -> list[tuple[str, str | None]]:
    write_only = TokenRegistry(node.dir).create(["write"], label="read-rule-write-only")
    return [("anonymous", None), ("bogus token", "dds_" + "0" * 43),
            ("malformed token", "not a token \x7f"), ("write-only token", write_only)]


@pytest.mark.parametrize("route", sorted(REQUESTS))
def test_without_a_read_token_private_is_missing(node: LocalNode, route: str) -> None:
    with node.client() as http:
        for who, token in _readers(node):
            for hidden, missing in zip(_asks(node, route, HIDDEN), _asks(node, route, MISSING),
                                       strict=True):
                a, b = _send(http, hidden, token), _send(http, missing, token)
                where = f"{who}: {hidden.method} {hidden.path} {hidden.params} {hidden.headers}"
                assert a.status_code < 500, (where, a.text)
                if a.status_code >= 400:  # RFC 9457, the node's one error renderer
                    assert a.headers["content-type"].startswith("application/problem+json"), \
                        where
                assert _shape(a) == _shape(b), where
                # The title never shows; the IRI only where the request (or the public
                # amendment asked about, which names it) does: a listing, the feed or the
                # trace of the public proposal it amends must not bring it up.
                asked = str(hidden.params) + hidden.path
                asked += f"private/{HIDDEN}" if f"amends-{HIDDEN}" in asked else ""
                for leak in (x for x in (TITLE, f"private/{HIDDEN}") if x not in asked):
                    assert leak not in a.text, (where, a.text)
                    assert leak not in str(a.headers), where
        _still_answers(node, http)


@pytest.mark.parametrize("route", sorted(REQUESTS))
def test_with_a_read_token_private_is_readable(node: LocalNode, route: str) -> None:
    with node.client() as http:
        for ask in _asks(node, route, HIDDEN):
            r = _send(http, ask, node.read_token)
            where = f"{ask.method} {ask.path} {ask.params} {ask.headers}"
            assert r.status_code < 500, (where, r.text)
            if ask.reveals:
                assert r.status_code == 200, (where, r.text)
                assert f"private/{HIDDEN}" in r.text or TITLE in r.text, where
                if route in ("resource", "sparql", "trace") and "amends" not in str(ask.params):
                    assert TITLE in r.text, where
            if route == "feed":
                assert f"private/{HIDDEN}" not in r.text and TITLE not in r.text, where
        trace = http.get("/trace", params={"iri": node.url(PUBLIC)},
                         headers=node.auth(node.read_token)).json()
        assert {"subject": node.url(f"private/{HIDDEN}"), "relation": DDS + "amends",
                "object": node.url(PUBLIC)} in [
            {k: link[k] for k in ("subject", "relation", "object")} for link in trace["links"]]


def test_a_walk_changes_nothing(node: LocalNode) -> None:
    with node.client() as http:
        before = http.get(f"/private/{HIDDEN}", headers=node.auth(node.read_token))
        for route in sorted(REQUESTS):
            for ask in _asks(node, route, HIDDEN):
                _send(http, ask, None)
        after = http.get(f"/private/{HIDDEN}", headers=node.auth(node.read_token))
        assert before.headers["etag"] == after.headers["etag"]
        assert http.get(f"/private/{MISSING}",
                        headers=node.auth(node.read_token)).status_code == 404


def _still_answers(node: LocalNode, http: httpx.Client) -> None:
    assert http.get("/" + PUBLIC).status_code == 200
    r = http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"},
                 headers={"Accept": "application/sparql-results+json",
                          **node.auth(node.read_token)})
    assert r.status_code == 200 and r.json()["boolean"] is True


def test_the_cli_walks_as_the_operator(tmp_path: Path, node: LocalNode) -> None:
    # `ddsnode trace` runs with the node directory: whoever holds it reads everything.
    from ddsnode.ldp.access import OPERATOR, ReadRule
    from ddsnode.ldp.access import PUBLIC as ANYONE
    from ddsnode.ldp.containers import ContainerRegistry
    rule = ReadRule(node.base, ContainerRegistry(private_containers="private/"))
    hidden = node.url(f"private/{HIDDEN}")
    assert rule.may_read(hidden, OPERATOR) and not rule.may_read(hidden, ANYONE)
    assert rule.may_read(node.url(PUBLIC), ANYONE)
    assert not rule.may_read(node.url("private/"), ANYONE)
    assert rule.may_read("https://elsewhere.example/private/x", ANYONE)


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "text/html"])
def test_the_root_does_not_advertise_private_containers(node: LocalNode, accept: str) -> None:
    # The same page for every reader (it is cached once): token holders know the
    # container from the settings; the node description leaves it out as well.
    with node.client() as http:
        for token in (None, node.read_token):
            headers = {"Accept": accept, **(node.auth(token) if token else {})}
            root = http.get("/", headers=headers)
            assert root.status_code == 200
            assert node.url("private/") not in root.text, (token, accept)
            assert node.url("proposals/") in root.text
