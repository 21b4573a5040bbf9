"""Access and cross-cutting behaviour over HTTP: CORS, private and open containers,
Solid container rules, and the 500 problem (an in-process node, tests/support/inprocess.py)."""

from __future__ import annotations

import uuid

import httpx

from ddsnode.http.errors import ProblemMiddleware
from ddsnode.http.exchange import Receive, Scope, Send
from tests.support.inprocess import (  # noqa: F401 (the "node" and "http" fixtures)
    LocalNode,
    module_node,
    node_client,
)


def test_cors_preflight(node: LocalNode, http: httpx.Client) -> None:
    r = http.options(node.url("proposals/"), headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "PUT" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-allow-headers"] == "authorization, content-type"


def test_cors_on_reads_exposes_ldp_headers(node: LocalNode, http: httpx.Client) -> None:
    r = http.get(node.url("proposals/"), headers={"Origin": "https://app.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    exposed = r.headers["access-control-expose-headers"]
    for name in ("Link", "ETag", "Location", "Allow", "Accept-Patch", "Accept-Post",
                 "Last-Modified"):
        assert name in exposed
    problem = http.get(node.url("proposals/none"), headers={"Origin": "https://app.example"})
    assert problem.headers["access-control-allow-origin"] == "*"


def test_private_container_needs_a_token_to_read(node: LocalNode, http: httpx.Client) -> None:
    iri = node.url(f"private/note-{uuid.uuid4().hex[:6]}.ttl")
    assert http.put(iri, content=b"<#a> <#b> <#c> .",
                    headers={"Content-Type": "text/turtle"}).status_code == 401
    assert http.put(iri, content=b"<#a> <#b> <#c> .",
                    headers={"Content-Type": "text/turtle",
                             **node.auth(node.read_token)}).status_code == 403
    assert http.put(iri, content=b"<#a> <#b> <#c> .",
                    headers={"Content-Type": "text/turtle", **node.auth()}).status_code == 201
    assert http.get(iri).status_code == 401
    assert http.get(node.url("private/")).status_code == 401
    assert http.get(iri, headers=node.auth(node.read_token)).status_code == 200
    root = http.get(node.base, headers={"Accept": "text/turtle"}).text
    assert "instanceContainer <" + node.url("private/") not in root


def test_open_container_solid_rules(node: LocalNode, http: httpx.Client) -> None:
    folder = node.url(f"open/solid-{uuid.uuid4().hex[:6]}/")
    put = http.put(folder + "a/b/c.txt", content=b"hi", headers={"Content-Type": "text/plain"})
    assert put.status_code == 201
    assert http.get(folder + "a/b/").status_code == 200  # intermediate containers
    assert http.delete(folder + "a/").status_code == 409  # not empty
    clash = http.put(folder + "a/b", content=b"x", headers={"Content-Type": "text/plain"})
    assert clash.status_code == 409  # a resource and a container cannot share a name
    made = http.post(folder, content=b"", headers={
        "Content-Type": "text/turtle", "Slug": "box",
        "Link": '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'})
    assert made.status_code == 201 and made.headers["location"] == folder + "box/"
    contains = http.put(folder + "box/", content=f"<> <http://www.w3.org/ns/ldp#contains> "
                        f"<{folder}x> .".encode(), headers={"Content-Type": "text/turtle"})
    assert contains.status_code == 409
    assert http.delete(folder + "a/b/c.txt").status_code == 204
    assert http.get(folder + "a/b/c.txt").status_code == 404  # open containers forget
    assert http.delete(folder + "a/b/").status_code == 204


def test_unexpected_errors_are_500_without_internals() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app = ProblemMiddleware(broken)
    transport = httpx.ASGITransport(app=app)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/anything")

    import asyncio
    response = asyncio.run(call())
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text
    assert response.json()["type"].endswith("internal-error")
