"""A container's page for people: its members as cards (title, kind, date, summary)
with previous/next links, instead of the LDP listing's triple table.

The members and their order are the LDP page's (``Store.children``: keyset paging, the
same cursors as the ``Link: rel=next`` of the container's RDF, LDP Paging 7.1); titles,
dates and summaries come from the search index, so a page costs one listing query and
one indexed lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import rdflib

from ddsnode.explorer.labels import local_name
from ddsnode.explorer.search import Hit
from ddsnode.explorer.web.site import Reading, Site
from ddsnode.ldp.filters import container_filters
from ddsnode.ldp.indexing import title_of
from ddsnode.rdf.rdfio import graph_from_ntriples


@dataclass(frozen=True)
class Listing:
    """One page of a container: its title, member cards, total and paging links."""

    iri: str
    title: str
    members: list[Hit]
    total: int
    next_url: str | None
    prev_url: str | None


def listing(site: Site, read: Reading, resource: Any) -> Listing:
    """The page of ``resource`` (a container) that ``read`` asks for (``cursor``,
    ``limit`` and the container filters; 400 on anything else, as the LDP endpoint)."""
    node = site.node
    params = dict(read.pairs)
    filters, limit, cursor, query = container_filters(
        params, page_size=int(site.settings.page_size),
        max_page_size=int(site.settings.max_page_size))
    # The root is the home page, never listed here (it would hide private containers).
    page = node.store.children(resource.iri, after=cursor, limit=limit, filters=filters)
    known = site.index.hits(c.iri for c in page.items)
    members = []
    for child in page.items:
        hit = known.get(child.iri)
        if hit is None:
            # Not indexed (yet, or a nested container or a file): what the listing knows.
            hit = Hit(child.iri, node.base, (child.types or ("",))[0],
                      {"": child.title or local_name(child.iri)}, {}, None, None, None)
        members.append(hit)
    graph = graph_from_ntriples(resource.ntriples) if resource.ntriples else None
    title = (title_of(graph, rdflib.URIRef(resource.iri), read.lang) if graph is not None
             else "") or local_name(resource.iri)
    path: str = "/" + resource.iri[len(node.base):]
    keep = [("lang", read.lang)] if read.explicit else []

    def url(cursor_value: str | None) -> str | None:
        if cursor_value is None:
            return None
        return path + "?" + urlencode([*query.items(), ("cursor", cursor_value), *keep])
    total = node.store.count_children(resource.iri)
    return Listing(resource.iri, title, members, total, url(page.next), url(page.prev))


def container_page(site: Site, read: Reading, resource: Any) -> bytes:
    """The HTML page of container ``resource``."""
    return site.render("container.html", read, page=listing(site, read, resource))
