"""THE routes table: every path the node answers, in one place.

The fixed paths are looked up exactly (one dict lookup per request, no pattern
matching on the hot path; a row ending in ``/*`` is a prefix, tried in order after a
miss, and only the explorer's own map tiles have one); every other path is an LDP
resource under the base IRI —
root, containers, members, files and their ``.meta`` descriptions — served by
:class:`ResourceEndpoint`. Each endpoint checks its own methods, so that a wrong
method gets a 405 problem document with ``Allow``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ddsnode import paths, resources
from ddsnode.assembly import Assembly
from ddsnode.explorer.web.clerk import clerk_routes
from ddsnode.explorer.web.routes import explorer_pages, explorer_routes
from ddsnode.http.assets import asset_routes
from ddsnode.http.catalog import catalog_routes
from ddsnode.http.documents import DocumentEndpoint, context_endpoint
from ddsnode.http.exchange import ASGIApp, Receive, Scope, Send
from ddsnode.http.federation import (
    CachedResourceEndpoint,
    FederatedContainers,
    FeedEndpoint,
    InboxEndpoint,
    ReactionsEndpoint,
    TraceEndpoint,
)
from ddsnode.http.intake import intake_routes
from ddsnode.http.ldp import ResourceEndpoint
from ddsnode.http.publication import JwksEndpoint, PublicationPaths
from ddsnode.http.sparql import SparqlEndpoint
from ddsnode.ldp import description as d
from ddsnode.publication.hub import Publication


@dataclass(frozen=True)
class Route:
    """One row of the table: a path, the ASGI endpoint serving it, a name for docs."""

    path: str
    endpoint: ASGIApp
    name: str


def routes(assembly: Assembly) -> list[Route]:
    """The routes of an assembled node; the last row (``/{path}``) catches every other path."""
    node, fed = assembly.node, assembly.federation
    pub = assembly.publication or Publication(node)
    s, base = node.settings, node.base
    return [
        Route("/sparql", SparqlEndpoint(node), "sparql"),
        Route("/" + paths.WELL_KNOWN_SOLID, DocumentEndpoint(
            base + paths.WELL_KNOWN_SOLID, lambda: d.storage_description(s),
            title="Storage description"), "storage-description"),
        Route("/" + paths.WELL_KNOWN_VOID, DocumentEndpoint(
            base + "#dataset", lambda: d.void_description(s), title="VoID description"), "void"),
        Route("/" + paths.ONTOLOGY_PATH, DocumentEndpoint(
            resources.ONTOLOGY_IRI, d.ontology_document,
            title="Democracy Data Space ontology"), "ontology"),
        Route("/" + paths.SHAPES_PATH, DocumentEndpoint(
            resources.SHAPES_IRI, d.shapes_document, title="Democracy Data Space shapes"),
            "shapes"),
        Route("/" + paths.CONTEXT_PATH, context_endpoint(base), "context"),
        *(Route(path, endpoint, name) for path, endpoint, name in asset_routes()),
        # Federation (docs/federation.md).
        Route("/" + paths.FEED_PATH, FeedEndpoint(fed), "feed"),
        Route("/" + paths.INBOX_PATH, InboxEndpoint(fed), "inbox"),
        Route("/" + paths.TRACE_PATH, TraceEndpoint(fed), "trace"),
        Route("/" + paths.CACHE_PATH, CachedResourceEndpoint(fed), "federation-resource"),
        Route("/" + paths.REACTIONS_PATH, ReactionsEndpoint(fed), "federation-reactions"),
        Route("/" + paths.JWKS_PATH, JwksEndpoint(pub), "jwks"),  # docs/election-night.md
        # Election night's intake (docs/election-night.md): tallies, evidence, log, totals.
        *(Route(p, e, n) for p, e, n in (intake_routes(assembly.intake) if assembly.intake
                                         else [])),
        # The clerk's tally page (docs/election-night.md): the intake as a form.
        *(Route(p, e, n) for p, e, n in clerk_routes(assembly.intake)),
        # The open-data portal (docs/catalog.md): /catalog and /catalog/files.
        *(Route(p, e, n) for p, e, n in catalog_routes(assembly.catalog)),
        # The public explorer (docs/explorer.md): /explore, its pages and static files.
        *(Route(path, endpoint, name) for path, endpoint, name in explorer_routes(node)),
        # LDP resources; the federation wrapper adds ?scope=federation listings and the
        # LDN inbox Link header (LDN 2); the explorer's pages answer browsers.
        # Published results of an election ({election}/results/..., served from memory)
        # go before the LDP resources; the election resource gets a Link to its pointer.
        Route("/{path}", PublicationPaths(
            explorer_pages(FederatedContainers(ResourceEndpoint(node), fed), node), pub,
            s.publication_changes_max_generations, base), "resource"),
    ]


class Router:
    """ASGI dispatch over a routes table, plus the lifespan protocol (startup, shutdown)."""

    def __init__(self, table: list[Route], assembly: Assembly) -> None:
        *fixed, fallback = table
        self.exact = {r.path: r.endpoint for r in fixed if not r.path.endswith("/*")}
        # A row whose path ends in "/*" serves every path under it (the explorer's map
        # tiles, /explore/tiles/{z}/{x}/{y}); none by default, so a miss costs nothing more.
        self.under = tuple((r.path[:-1], r.endpoint) for r in fixed if r.path.endswith("/*"))
        self.fallback = fallback.endpoint
        self.assembly = assembly

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.exact.get(scope["path"])
            if endpoint is None:
                endpoint = self.fallback
                for prefix, under in self.under:
                    if scope["path"].startswith(prefix):
                        endpoint = under
                        break
            await endpoint(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self.assembly.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.assembly.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
