"""The explorer's endpoints: search (HTML or JSON-LD), peer resource pages, static files,
and the HTML pages that replace the triple tables for browsers on LDP resources.

Raw ASGI like the rest of ``ddsnode.http``; every error is a Problem rendered as
problem+json by the shared renderer (``ddsnode.http.errors``).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from ddsnode import resources as bundled
from ddsnode.clock import stamp
from ddsnode.explorer import i18n
from ddsnode.explorer.clusters import FACET as CLUSTER
from ddsnode.explorer.labels import local_name, pick, term_label, vocabulary_label
from ddsnode.explorer.query import FACETS, SearchQuery, parse
from ddsnode.explorer.search import Hit, Results
from ddsnode.explorer.web.containers import container_page
from ddsnode.explorer.web.pages import resource_page
from ddsnode.explorer.web.results_map import results_map
from ddsnode.explorer.web.site import STATIC, Reading, Site, host, reading
from ddsnode.explorer.web.topics import topics_panel
from ddsnode.http.assets import AssetEndpoint
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.errors import send_problem
from ddsnode.http.exchange import ASGIApp, Receive, Scope, Send, request_headers, send_response
from ddsnode.ldp import conneg
from ddsnode.ldp.access import reader_for
from ddsnode.ldp.description import context_url
from ddsnode.problem import BadRequest, NotFound, Problem
from ddsnode.rdf.rdfio import graph_from_ntriples

HTML = b"text/html; charset=utf-8"
JSONLD = b"application/ld+json"
HYDRA = "http://www.w3.org/ns/hydra/core#"
FACETS_IRI = "urn:ddsnode:explorer:facets"


def wants_jsonld(accept: str | None) -> bool:
    """Whether ``Accept`` prefers JSON-LD (or JSON) to HTML; HTML when nothing is said."""
    best: dict[str, float] = {}
    for part in (accept or "")[:2048].split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        best[media] = max(best.get(media, 0.0), quality)
    data = max(best.get("application/ld+json", 0.0), best.get("application/json", 0.0))
    page = max(best.get("text/html", 0.0), best.get("application/xhtml+xml", 0.0))
    return data > 0 and data > page


@cache
def _type_terms() -> dict[str, str]:
    """Class IRI -> its term in the shared context (``…#Proposal`` -> ``Proposal``)."""
    context = bundled.context_document()["@context"]
    out: dict[str, str] = {}
    for name, value in context.items():
        if isinstance(value, str) and ":" in value and name[:1].isupper():
            prefix, _, rest = value.partition(":")
            namespace = context.get(prefix)
            if isinstance(namespace, str):
                out[namespace + rest] = name
    return out


class SearchEndpoint(FixedMethodsEndpoint):
    """``/explore``: search with facets; HTML for browsers, JSON-LD for programs."""

    def __init__(self, site: Site) -> None:
        self.site = site

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """The results page (keyset paging) of the query in the URL."""
        site = self.site
        read = reading(scope, headers)
        query = parse(read.pairs, site.limits)
        await site.synced()
        jsonld = wants_jsonld(headers.get("accept"))

        def made() -> tuple[bytes, bytes]:
            results = site.index.search(query)
            # The tag hashes what the page shows beyond its URL (results, language, labels
            # moving with the generation), not the query's words (page_cache.Render).
            tagged = repr((results, read.lang, read.explicit,
                           site.index.generation)).encode("utf-8")
            if jsonld:
                return json.dumps(self.collection(query, results), ensure_ascii=False,
                                  indent=1).encode("utf-8"), b"jsonld" + tagged
            return self.page(read, query, results), b"html" + tagged
        # Kept per URL, language and index generation with their tags: a popular search
        # is a lookup (ddsnode.explorer.web.page_cache).
        await site.serve(send, read, ("search", tuple(read.pairs),
                                      "jsonld" if jsonld else (read.lang, read.explicit)),
                         made, media_type=JSONLD if jsonld else HTML, head=method == "HEAD")

    def page(self, read: Reading, query: SearchQuery, results: Results) -> bytes:
        """The HTML results page."""
        site = self.site
        t = i18n.Translator(read.lang)
        values = [v for vs in results.facets.values() for v, _ in vs]
        names = site.index.labels(values)
        peers = {p.origin: p.name for p in site.fed.peers.all()}

        def value_label(facet: str, value: str) -> str:
            if facet == "kind":
                return t.messages.get(local_name(value)) or term_label(value, t.lang)
            if facet == "language":
                return t.language_name(value)
            if facet == "node":
                return t.gettext("this node") if value == site.node.base else \
                    peers.get(value) or host(value)
            if facet == "platform":
                return pick(names.get(value), t.lang) or host(value)
            return pick(names.get(value), t.lang) or vocabulary_label(value, t.lang)

        def facet_label(facet: str) -> str:
            return t.gettext({"kind": "Kind", "topic": "Topic", "place": "Place",
                              "platform": "Source platform", "node": "Node", "state": "State",
                              "language": "Language"}[facet])

        extra = [("lang", read.lang)] if read.explicit else []
        bbox = query.params()
        return site.render(
            "search.html", read, query=query, results=results,
            map=results_map(site, read, query),
            # The analysis's topics have a panel of their own (explorer.web.topics).
            facets=[(f, results.facets.get(f, [])) for f in FACETS if f != CLUSTER],
            topics=topics_panel(site, query, results, read.lang, extra),
            clusters=query.filters.get(CLUSTER, ()),
            value_label=value_label, facet_label=facet_label,
            next_url=query.url("/explore", extra, cursor=results.next)
            if results.next else None,
            prev_url=query.url("/explore", extra, cursor=results.prev)
            if results.prev else None,
            self_url=query.url("/explore"),
            bbox_value=next((v for k, v in bbox if k == "bbox"), ""))

    def collection(self, query: SearchQuery, results: Results) -> dict[str, Any]:
        """The same results as a JSON-LD hydra:Collection (Hydra Core, 5.1), with the
        page in ``hydra:view`` and the facet counts as a JSON literal."""
        base = self.site.node.base.rstrip("/")
        terms = _type_terms()

        def member(hit: Hit) -> dict[str, Any]:
            out: dict[str, Any] = {"id": hit.iri}
            if hit.kind:
                out["type"] = terms.get(hit.kind, hit.kind)
            titles = {k: v for k, v in hit.titles.items() if k}
            if titles:
                out["title"] = titles
            return out

        view: dict[str, Any] = {"@id": base + query.url("/explore", cursor=None),
                                "@type": "hydra:PartialCollectionView"}
        if results.next:
            view["hydra:next"] = {"@id": base + query.url("/explore", cursor=results.next)}
        if results.prev:
            view["hydra:previous"] = {"@id": base + query.url("/explore",
                                                               cursor=results.prev)}
        return {
            "@context": [context_url(self.site.node.base),
                         {"hydra": HYDRA, "facetCounts": {"@id": FACETS_IRI,
                                                          "@type": "@json"}}],
            "@id": base + query.url("/explore"),
            "@type": "hydra:Collection",
            "hydra:totalItems": results.total,
            "hydra:member": [member(h) for h in results.hits],
            "hydra:view": view,
            "facetCounts": {f: dict(v) for f, v in results.facets.items() if v},
        }


class PeerResourceEndpoint(FixedMethodsEndpoint):
    """``/explore/resource?iri=…``: the page of a resource this node holds a copy of
    (a peer's, from the cache, linking to its origin IRI) or one of its own."""

    def __init__(self, site: Site) -> None:
        self.site = site

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """The page, or 404 when the node holds no copy."""
        site = self.site
        read = reading(scope, headers)
        iri = next((v for k, v in read.pairs if k == "iri"), "")
        if not iri.startswith(("http://", "https://")) or len(iri) > 2048:
            raise BadRequest("Give the resource as ?iri=http…")
        if iri.startswith(site.node.base):
            await send_response(send, 303, [(b"location", iri.encode("utf-8"))])
            return
        entry = await asyncio.to_thread(site.fed.cache.get, iri)
        if entry is None:
            raise NotFound("This node holds no copy of that resource")
        await site.synced()
        reader = reader_for(site.node.tokens, headers.get("authorization"))
        chain = await site.chain(iri, entry.types, reader)
        fetched = i18n.Translator(read.lang).date(
            stamp(datetime.fromtimestamp(entry.fetched_at, UTC)))
        await site.serve(
            send, read, ("peer", iri, entry.fetched_at, read.lang, read.explicit),
            lambda: resource_page(site, read, iri, entry.graph(), chain=chain,
                                  peer={"origin": entry.origin, "age": fetched}),
            media_type=HTML, head=method == "HEAD")


def static_files() -> list[tuple[str, AssetEndpoint]]:
    """(path, endpoint) of every static file of the explorer."""
    types = {".css": b"text/css; charset=utf-8", ".js": b"text/javascript; charset=utf-8",
             ".txt": b"text/plain; charset=utf-8", ".svg": b"image/svg+xml"}
    folder = resources.files("ddsnode.explorer") / "static"
    out = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        suffix = "." + item.name.rsplit(".", 1)[-1]
        if item.is_file() and suffix in types:
            out.append((STATIC + item.name, AssetEndpoint(
                item.name, types[suffix], package="ddsnode.explorer", folder="static")))
    return out


class ExplorerPages:
    """Wraps the LDP endpoint: a browser (``Accept`` preferring HTML) gets the explorer's
    home at ``/`` and a readable page for every resource; programs get the LDP answer
    unchanged, and so does anything the pages do not cover (files, private containers,
    missing resources: the LDP endpoint answers those with its own statuses)."""

    def __init__(self, app: ASGIApp, site: Site) -> None:
        self.app, self.site = app, site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        headers = request_headers(scope)
        if conneg.negotiate(headers.get("accept")) != conneg.HTML:
            await self.app(scope, receive, send)
            return
        try:
            handled = await self._page(scope, send, headers)
        except Problem as problem:
            await send_problem(send, problem, instance=scope["path"],
                               head=scope["method"] == "HEAD")
            return
        if not handled:
            await self.app(scope, receive, send)

    async def _page(self, scope: Scope, send: Send, headers: dict[str, str]) -> bool:
        site, node = self.site, self.site.node
        path: str = scope["path"]
        try:
            target = node.target(node.base + path[1:])
        except Problem:
            return False
        container = target.container
        if container is not None and container.private:
            return False  # the read rule and the LDP endpoint's own page apply
        head = scope["method"] == "HEAD"
        if target.path == "":
            read = reading(scope, headers)
            await site.synced()
            await site.serve(send, read, ("home", read.lang, read.explicit),
                             lambda: home_page(site, read), media_type=HTML, head=head)
            return True
        try:
            found = node.read(target)  # a primary-key lookup, on the loop as in http/ldp.py
        except Problem:
            return False
        resource = found.resource
        if resource.kind == "container" and not found.description:
            # Members as cards, paged by the LDP listing's own cursors. No index sync
            # first: the members and titles are the listing's (always current); the
            # index adds days and summaries once any search has indexed them, and a
            # listing is not made to wait for a replay of every write since.
            read = reading(scope, headers)
            stamp = await asyncio.to_thread(node.store.container_stamp, resource.iri)
            key = ("container", resource.iri, resource.version, stamp, tuple(read.pairs),
                   read.lang, read.explicit)
            body = await asyncio.to_thread(
                (lambda: container_page(site, read, resource)) if stamp is None else
                (lambda: site.cached(key, lambda: container_page(site, read, resource))))
            await site.send_page(send, read, body, media_type=HTML, head=head)
            return True
        if resource.kind != "rdf" or found.description:
            return False  # files keep the LDP endpoint's answer
        read = reading(scope, headers)
        await site.synced()
        reader = reader_for(node.tokens, headers.get("authorization"))
        chain = await site.chain(resource.iri, resource.index.types, reader)
        await site.serve(
            send, read, ("resource", resource.iri, resource.version, read.lang,
                         read.explicit, reader.reads_private),
            lambda: resource_page(site, read, resource.iri,
                                  graph_from_ntriples(resource.ntriples), chain=chain),
            media_type=HTML, head=head)
        return True


def home_page(site: Site, read: Reading) -> bytes:
    """The explorer's home page."""
    index = site.index
    return site.render("home.html", read, kinds=index.kind_counts(),
                       latest=index.latest(int(site.settings.explorer_home_latest)),
                       peers=site.fed.peers.all(),
                       map=results_map(site, read, parse([], site.limits)))
