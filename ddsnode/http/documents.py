"""Fixed documents: the ontology (``/ns``), shapes (``/shapes``), the JSON-LD context
(``/context/v1``) and discovery (``/.well-known/solid``, ``/.well-known/void``).

Each RDF document is negotiated like a resource (Turtle, JSON-LD, N-Triples, HTML);
a representation is built on first request and kept, since these change only with
the node's release or settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import anyio.to_thread
import rdflib

from ddsnode import resources
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import Receive, Scope, Send, send_response
from ddsnode.ldp import conneg
from ddsnode.ldp.description import context_url
from ddsnode.ldp.preconditions import Preconditions
from ddsnode.ldp.representation import etag, render
from ddsnode.problem import NotAcceptable
from ddsnode.rdf import compaction
from ddsnode.store.base import Representation


class DocumentEndpoint(FixedMethodsEndpoint):
    """ASGI app serving one fixed RDF graph (or one fixed JSON document) with conneg."""

    def __init__(self, iri: str, graph: Callable[[], rdflib.Graph] | None = None, *,
                 title: str = "", fixed: Representation | None = None) -> None:
        self.iri, self.graph, self.title, self.fixed = iri, graph, title, fixed
        self.cache: dict[str, Representation] = {}

    def _render(self, offer: str) -> Representation:
        assert self.graph is not None
        rep = self.cache.get(offer)
        if rep is None:
            rep = render(self.graph(), self.iri, offer, title=self.title)
            self.cache[offer] = rep
        return rep

    def refusal(self, method: str, path: str) -> str:
        """Every fixed document is read-only."""
        return f"{path} is read-only"

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET or HEAD: the negotiated representation, or 304 on a matching If-None-Match."""
        rep: Representation | None = self.fixed
        if rep is None:
            offer = conneg.negotiate(headers.get("accept"))
            if offer is None:
                raise NotAcceptable("Available: " + ", ".join(conneg.RDF_OFFERS))
            rep = self.cache.get(offer) or await anyio.to_thread.run_sync(self._render, offer)
        assert rep is not None
        out = [(b"etag", rep.etag.encode()), (b"vary", b"Accept, Origin")]
        pre = Preconditions.parse(None, headers.get("if-none-match"))
        if pre.if_none_match is not None and rep.etag in pre.if_none_match:
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        out.append((b"content-type", rep.media_type.encode()))
        await send_response(send, 200, out, rep.body, head=method == "HEAD")


def context_endpoint(base_url: str | None = None) -> DocumentEndpoint:
    """The shared JSON-LD context, served as ``application/ld+json`` (JSON-LD 1.1, 9.1).

    With ``base_url``, compacted documents of that node name this copy as their
    ``@context`` (``description.context_url``) instead of the w3id IRI, which a client
    without Internet access (or behind a firewall) cannot dereference."""
    body = json.dumps(resources.context_document(), ensure_ascii=False, indent=1).encode()
    if base_url is not None:
        compaction.serve_context_at(base_url, context_url(base_url))
    return DocumentEndpoint(resources.CONTEXT_IRI,
                            fixed=Representation(conneg.JSONLD, body, etag(body)))
