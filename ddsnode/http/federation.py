"""The federation endpoints (raw ASGI), the routes that serve them and the lifespan hook.

* ``GET /feed`` and ``/feed?after=SEQ`` — the change feed (ActivityStreams 2.0)
* ``POST /inbox`` — the LDN inbox (signed notifications only); ``GET /inbox`` lists ids
* ``GET /trace?iri=…`` — the traceability chain of a resource, across nodes
* ``GET /federation/resource?iri=…`` — a peer resource from the cache, with its age
* ``GET /federation/reactions?iri=…`` — the reactions counted for one of our resources
* ``?scope=federation`` on any container — :class:`FederatedContainers` wraps the LDP
  endpoint; it also adds ``Link: <…/inbox>; rel="http://www.w3.org/ns/ldp#inbox"`` to
  every resource response (LDN 2: discovery).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread

from ddsnode import conneg
from ddsnode.cache import Quarantined
from ddsnode.federated_listing import federated_page
from ddsnode.federation import Federation
from ddsnode.feed import MEDIA_TYPE as AS_MEDIA_TYPE
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.errors import send_problem
from ddsnode.http.exchange import (
    ASGIApp,
    Headers,
    Receive,
    Scope,
    Send,
    link,
    query_params,
    read_body,
    request_headers,
    send_response,
)
from ddsnode.http.ldp import ResourceEndpoint
from ddsnode.peers import CACHE_PATH, FEED_PATH, INBOX_PATH, REACTIONS_PATH, TRACE_PATH
from ddsnode.problem import BadRequest, NotAcceptable, NotFound, Problem
from ddsnode.representation import dump_json, render
from ddsnode.trace import Tracer

LDP_INBOX = "http://www.w3.org/ns/ldp#inbox"
MAX_NOTIFICATION = 256 * 1024


# ledger kinds -> context terms of the ontology's classes
REACTION_TYPES = {"support": "Support", "like": "Endorsement", "follow": "Follow",
                  "comment": "Comment"}


class _Endpoint(FixedMethodsEndpoint):
    def __init__(self, fed: Federation) -> None:
        self.fed = fed


async def _send_json(send: Send, value: Any, media_type: str, *, head: bool = False,
                     extra: Headers | None = None) -> None:
    await send_response(send, 200, [(b"content-type", media_type.encode()),
                                    (b"cache-control", b"no-cache"),
                                    (b"vary", b"Accept, Origin"), *(extra or [])],
                        dump_json(value), head=head)


class FeedEndpoint(_Endpoint):
    """``/feed``: the collection, or a page with ``?after=SEQ[&limit=N]``."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        params = query_params(scope)
        feed = self.fed.feed
        if "after" in params:
            try:
                after, limit = int(params["after"]), int(params.get("limit", "200"))
            except ValueError:
                raise BadRequest("after and limit are whole numbers") from None
            body = await anyio.to_thread.run_sync(partial(feed.page, max(0, after), limit))
        else:
            body = await anyio.to_thread.run_sync(feed.collection)
        await _send_json(send, body, AS_MEDIA_TYPE, head=method == "HEAD")


class InboxEndpoint(_Endpoint):
    """``/inbox``: verify, acknowledge (202), then process in the background."""

    allow = "GET, HEAD, OPTIONS, POST"

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        fed = self.fed
        iri = fed.base + INBOX_PATH
        if method in ("GET", "HEAD"):
            ids = await anyio.to_thread.run_sync(fed.inbox.recent)
            await _send_json(send, {"@context": "http://www.w3.org/ns/ldp", "@id": iri,
                                    "@type": "ldp:Container",
                                    "contains": [{"@id": i} for i in ids]},
                             conneg.JSONLD, head=method == "HEAD")
            return
        body = await read_body(scope, receive, headers, MAX_NOTIFICATION)
        query = scope.get("query_string", b"").decode("latin-1")
        url = iri + (f"?{query}" if query else "")
        admitted = await fed.inbox.admit("POST", url, headers, body)
        if admitted.new:
            fed.spawn(fed.handle(admitted.activity, admitted.sender))
        await send_response(send, 202, [(b"content-type", b"application/json")],
                            json.dumps({"accepted": admitted.activity["id"],
                                        "duplicate": not admitted.new}).encode())


class TraceEndpoint(_Endpoint):
    """``/trace?iri=…``: the chain of trace links, each with where it came from."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        iri = query_params(scope).get("iri", "")
        if "://" not in iri:
            raise BadRequest("Give the resource as ?iri=…")
        chain = await Tracer(self.fed).walk(iri)
        await _send_json(send, chain.as_jsonld(), conneg.JSONLD, head=method == "HEAD")


class CachedResourceEndpoint(_Endpoint):
    """``/federation/resource?iri=…``: a peer resource as this node holds it, with its age."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        iri = query_params(scope).get("iri", "")
        fed = self.fed
        if "://" not in iri:
            raise BadRequest("Give the peer resource as ?iri=…")
        held = fed.cache.get(iri, quarantined=True)
        if held is not None and held.status == "quarantined":
            quarantined = Quarantined(f"{iri} is quarantined: it did not conform to the shapes",
                                      url=iri)
            quarantined.extra.update(json.loads(held.report or "{}"))
            raise quarantined
        if held is None or not held.fresh:
            if fed.peers.get(iri) is None:
                raise NotFound(f"{iri} is not in this node's cache and not on a peer")
            held = await fed.cache.fetch(iri)
        offer = conneg.negotiate(headers.get("accept"))
        if offer is None:
            raise NotAcceptable("Available: " + ", ".join(conneg.RDF_OFFERS))
        rep = await anyio.to_thread.run_sync(partial(render, held.graph(), iri, offer,
                                                     title=held.title))
        ttl = int(held.max_age - held.age)
        status = f'ddsnode; hit; ttl={ttl}'
        if held.stale_error:
            status += '; detail="stale-if-error"'  # RFC 9211 2; RFC 5861 4
        out: Headers = [(b"content-type", rep.media_type.encode()),
                        (b"age", str(int(held.age)).encode()),  # RFC 9111 5.1
                        (b"cache-status", status.encode()),
                        (b"link", link(iri, "canonical").encode()),
                        (b"etag", rep.etag.encode()), (b"vary", b"Accept, Origin")]
        await send_response(send, 200, out, rep.body, head=method == "HEAD")


class ReactionsEndpoint(_Endpoint):
    """``/federation/reactions?iri=…``: the reactions counted for one of our resources."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        iri = query_params(scope).get("iri", "")
        fed = self.fed
        if not iri.startswith(fed.base):
            raise BadRequest("Give one of this node's resources as ?iri=…")

        def build() -> dict[str, Any]:
            stored = fed.node.store.get(iri)
            if stored is None or stored.kind == "tombstone":
                raise NotFound(f"Nothing at {iri}")
            counted = fed.ledger.is_counted(iri)
            return {"@context": "https://w3id.org/dds/context/v1", "id": iri,
                    **(fed.ledger.counts(iri) if counted else {}),
                    # Only context terms: each reaction's class, who made it, and the
                    # node that publishes it ("local" ones are this node's own).
                    "reactions": [{"id": r, "type": REACTION_TYPES.get(kind, "Reaction"),
                                   "actor": actor,
                                   "publisher": fed.base if origin == "local" else origin}
                                  for r, actor, kind, origin in fed.ledger.remote(iri)]}

        body = await anyio.to_thread.run_sync(build)
        await _send_json(send, body, conneg.JSONLD, head=method == "HEAD")


class FederatedContainers:
    """Wraps the LDP endpoint: ``?scope=federation`` listings; and gives it the inbox
    Link header (LDN 2: the inbox of every resource is the node's)."""

    def __init__(self, app: ResourceEndpoint, fed: Federation) -> None:
        self.app, self.fed = app, fed
        self.inbox_link = link(fed.base + INBOX_PATH, LDP_INBOX)
        app.extra_links.append(self.inbox_link)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method in ("GET", "HEAD") and b"scope=federation" in scope.get("query_string", b""):
            try:
                await self.listing(scope, send, head=method == "HEAD")
            except Problem as problem:
                await send_problem(send, problem, instance=scope["path"], head=method == "HEAD")
            return
        await self.app(scope, receive, send)

    async def listing(self, scope: Scope, send: Send, *, head: bool) -> None:
        node = self.fed.node
        params = query_params(scope)
        if params.get("scope") != "federation":
            raise BadRequest("scope must be 'federation'")
        path = scope["path"][1:]
        container = node.containers.get(path)
        if container is None or path != container.path:
            raise NotFound("?scope=federation lists a top-level container")
        if container.private:
            node.authorize("read", request_headers(scope).get("authorization"))
        offer = conneg.negotiate(request_headers(scope).get("accept"))
        if offer is None:
            raise NotAcceptable("Available: " + ", ".join(conneg.RDF_OFFERS))
        iri = node.base + path
        rep, next_cursor, query = await anyio.to_thread.run_sync(partial(
            federated_page, node, self.fed.db, iri, container.path, params, offer))
        links = [link(iri + "?" + urlencode(query), "first"), self.inbox_link]
        if next_cursor:
            links.append(link(iri + "?" + urlencode({**query, "cursor": next_cursor}), "next"))
        await send_response(send, 200, [(b"content-type", rep.media_type.encode()),
                                        (b"link", ", ".join(links).encode()),
                                        (b"vary", b"Accept, Authorization, Origin")],
                          rep.body, head=head)


def federation_routes(node: Any) -> list[tuple[str, ASGIApp, str]]:
    """(path, endpoint, name) of the federation routes of ``node``, for the routes table."""
    fed = Federation.for_node(node)
    return [("/" + FEED_PATH, FeedEndpoint(fed), "feed"),
            ("/" + INBOX_PATH, InboxEndpoint(fed), "inbox"),
            ("/" + TRACE_PATH, TraceEndpoint(fed), "trace"),
            ("/" + CACHE_PATH, CachedResourceEndpoint(fed), "federation-resource"),
            ("/" + REACTIONS_PATH, ReactionsEndpoint(fed), "federation-reactions")]


def federated(app: ResourceEndpoint, node: Any) -> ASGIApp:
    """The LDP endpoint wrapped for ``?scope=federation`` and the inbox Link header."""
    return FederatedContainers(app, Federation.for_node(node))


async def start_federation(node: Any) -> None:
    """Lifespan startup: run the federation loops (push, delivery, sync)."""
    await Federation.for_node(node).start()


async def stop_federation(node: Any) -> None:
    """Lifespan shutdown: stop the loops, close the outbound client."""
    await Federation.for_node(node).stop()
