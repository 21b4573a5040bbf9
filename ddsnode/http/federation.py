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

from ddsnode.federation.cache import Quarantined
from ddsnode.federation.feed import MEDIA_TYPE as AS_MEDIA_TYPE
from ddsnode.federation.hub import Federation
from ddsnode.federation.listing import federated_page
from ddsnode.federation.trace import Tracer
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.errors import send_problem
from ddsnode.http.exchange import (
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
from ddsnode.ldp import conneg
from ddsnode.ldp.access import ReadRule, needs_token, reader_for
from ddsnode.ldp.representation import dump_json, render
from ddsnode.paths import INBOX_PATH
from ddsnode.problem import BadRequest, NotAcceptable, NotFound, Problem

LDP = "http://www.w3.org/ns/ldp#"
LDP_INBOX = LDP + "inbox"
ACCEPT_POST = "application/ld+json, application/activity+json"
MAX_SEQ = 2**63 - 1  # SQLite INTEGER: a larger cursor names no change (and cannot be bound)


def cursor_param(params: dict[str, str], name: str, largest: int, *,
                 default: int | None = None) -> int:
    """A whole-number cursor parameter, 0 … ``largest``; BadRequest otherwise (issue 9,
    item 16: ``/feed?after=`` with 20 digits answered 500)."""
    raw = params.get(name)
    if raw is None and default is not None:
        return default
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise BadRequest(f"{name} is a whole number from 0 to {largest}",
                         extra={"parameter": name})
    value = int(raw)
    if value > largest:
        raise BadRequest(f"{name} is a whole number from 0 to {largest}",
                         extra={"parameter": name})
    return value


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
            after = cursor_param(params, "after", MAX_SEQ)
            limit = cursor_param(params, "limit", MAX_SEQ, default=200)  # page() caps it
            body = await anyio.to_thread.run_sync(partial(feed.page, after, max(1, limit)))
        else:
            body = await anyio.to_thread.run_sync(feed.collection)
        await _send_json(send, body, AS_MEDIA_TYPE, head=method == "HEAD")


class InboxEndpoint(_Endpoint):
    """``/inbox``: verify, acknowledge (202), then process in the background."""

    allow = "GET, HEAD, OPTIONS, POST"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            # LDN 3.2: a receiver advertises the media types it takes with Accept-Post.
            await send_response(send, 204, [(b"allow", self.allow.encode()),
                                            (b"accept-post", ACCEPT_POST.encode())])
            return
        await super().__call__(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        fed = self.fed
        iri = fed.base + INBOX_PATH
        if method in ("GET", "HEAD"):
            ids = await anyio.to_thread.run_sync(fed.inbox.recent)
            # LDN 3.2.1: an ldp:Container listing with ldp:contains. Full IRIs and no
            # @context: a remote context (http://www.w3.org/ns/ldp) is unreadable to an
            # offline client (issue 10, item 5); this document needs none.
            await _send_json(send, {"@id": iri, "@type": [LDP + "Container", LDP + "BasicContainer"],
                                    LDP + "contains": [{"@id": i} for i in ids]},
                             conneg.JSONLD, head=method == "HEAD",
                             extra=[(b"accept-post", ACCEPT_POST.encode())])
            return
        body = await read_body(scope, receive, headers, int(fed.node.settings.inbox_max_bytes))
        query = scope.get("query_string", b"").decode("latin-1")
        url = iri + (f"?{query}" if query else "")
        admitted = await fed.inbox.admit("POST", url, headers, body)
        if admitted.new and admitted.activity["type"] in ("Follow", "Undo"):
            # A follower is recorded before the 202: once the sender sees it accepted, our
            # pushes reach it and its feed read misses nothing (issue 10, item 1).
            await fed.handle(admitted.activity, admitted.sender)
        elif admitted.new:
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
        # The read rule (ddsnode.ldp.access): without a read token, private resources are
        # walked as missing ones, and links stated in them are not listed.
        reader = reader_for(self.fed.node.tokens, headers.get("authorization"))
        chain = await Tracer(self.fed, reader=reader).walk(iri)
        await _send_json(send, chain.as_jsonld(), conneg.JSONLD, head=method == "HEAD",
                         extra=[(b"vary", b"Authorization")])


class CachedResourceEndpoint(_Endpoint):
    """``/federation/resource?iri=…``: a peer resource as this node holds it, with its age."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        iri = query_params(scope).get("iri", "")
        fed = self.fed
        if "://" not in iri:
            raise BadRequest("Give the peer resource as ?iri=…")
        if len(iri) > MAX_IRI:
            raise BadRequest(f"An IRI of more than {MAX_IRI} characters is not a peer resource")
        held = fed.cache.get(iri, quarantined=True)
        if held is not None and held.status == "quarantined":
            raise _quarantined(iri, held.report)
        if held is None or not held.fresh:
            if fed.peers.get(iri) is None:
                raise NotFound(f"{iri} is not in this node's cache and not on a peer")
            # Only an IRI the cache has learned from the peer is fetched; others are 404
            # without any request (PeerCache.fetch, issue 9 item 5).
            held = await fed.cache.fetch(iri)
        offer = conneg.negotiate(headers.get("accept"))
        if offer is None:
            raise NotAcceptable("Available: " + ", ".join(conneg.RDF_OFFERS))
        entry = held

        def rendered() -> Any:
            try:
                graph = entry.graph()
            except Exception:  # noqa: BLE001 — a copy that no longer parses is not served
                raise _quarantined(iri, json.dumps({"detail": "the cached copy is unreadable"})
                                   ) from None
            return render(graph, iri, offer, title=entry.title)

        rep = await anyio.to_thread.run_sync(rendered)
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


MAX_IRI = 4096


def _quarantined(iri: str, report: str | None) -> Quarantined:
    problem = Quarantined(f"{iri} is quarantined: the peer's document did not pass the "
                          "node's checks (RDF terms, shapes)", url=iri)
    try:
        extra = json.loads(report or "{}")
    except ValueError:
        extra = {}
    if isinstance(extra, dict):
        problem.extra.update({k: v for k, v in extra.items() if k not in ("url",)})
    return problem


class ReactionsEndpoint(_Endpoint):
    """``/federation/reactions?iri=…``: the reactions counted for one of our resources."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        iri = query_params(scope).get("iri", "")
        fed = self.fed
        if not iri.startswith(fed.base):
            raise BadRequest("Give one of this node's resources as ?iri=…")
        reader = reader_for(fed.node.tokens, headers.get("authorization"))

        def build() -> dict[str, Any]:
            # A private resource the reader may not read gets the answer of a missing
            # one (issue 9, item 12), before the store is even asked.
            readable = ReadRule(fed.base, fed.node.containers).may_read(iri, reader)
            stored = fed.node.store.get(iri) if readable else None
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
        await _send_json(send, body, conneg.JSONLD, head=method == "HEAD",
                         extra=[(b"vary", b"Authorization")])


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
        if needs_token(container):  # the read rule (ddsnode.ldp.access)
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
