"""``?scope=federation`` on a container: local members and cached peer members together.

The order is stable: the local members first (the store's order, newest first), then
the cached members of peers whose type belongs in this container (most recently
(re)fetched first). The cursor is composite — ``L`` and the store's own cursor while in
the local part, ``C`` and a cache position after it — so paging never repeats or skips
an item. The same filters as a local listing apply to both parts (``type``, ``topic``,
``state``, ``area``, ``platform``, ``bbox``, ``from``, ``to``, ``q``). Every member is
labelled with its origin node (``dct:publisher``) and carries its types, title and state;
cached members also carry the counts their origin published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import rdflib

from ddsnode.federation.cache import listed
from ddsnode.federation.database import FederationDB, cache_database
from ddsnode.federation.peers import PeerRegistry
from ddsnode.federation.reactions import COUNT_TERMS
from ddsnode.ldp import representation
from ddsnode.ldp.description import container_triples
from ddsnode.ldp.filters import container_filters
from ddsnode.ldp.node import Node
from ddsnode.problem import BadRequest
from ddsnode.rdf.vocab import DCTERMS, DDS, LDP, RDF
from ddsnode.store.base import Filters, Representation, decode_cursor, encode_cursor


@dataclass(frozen=True)
class Member:
    """One member of a federated page."""

    iri: str
    types: tuple[str, ...]
    title: str
    states: tuple[str, ...]
    origin_node: str
    summary: Mapping[str, object]


def _cache_page(db: FederationDB, container: str, filters: Filters, after: int | None,
                limit: int) -> list[tuple[int, Member]]:
    """Cached members (the cache's rows), each labelled with its peer's base IRI."""
    entries = listed(cache_database(db), container, filters, after, limit)  # this machine's
    bases = PeerRegistry(db).bases() if entries else {}
    return [(e.seq, Member(e.iri, e.types, e.title, e.states, bases.get(e.origin, ""),
                           e.summary)) for e in entries]


MAX_CURSOR = 2048  # characters: a cursor carries one IRI or row number, base64-encoded


def federated_page(node: Node, db: FederationDB, container_iri: str, container_path: str,
                   params: Mapping[str, str], offer: str) -> tuple[Representation, str | None,
                                                                   dict[str, str]]:
    """One page of ``container`` with ``scope=federation``: (representation, next cursor,
    the filter parameters for paging links)."""
    params = {k: v for k, v in params.items() if k != "scope"}
    composite = params.pop("cursor", None)
    filters, limit, _, query = container_filters(
        params, page_size=node.settings.page_size, max_page_size=node.settings.max_page_size)
    phase, position = "L", None
    if composite:
        if len(composite) > MAX_CURSOR:
            raise BadRequest("Malformed cursor: longer than any this node makes")
        try:
            phase, position = decode_cursor(composite)
        except ValueError:
            raise BadRequest("Malformed cursor") from None
        # The cache part's position is a row number (SQLite INTEGER): a cursor that is not
        # one this node made is a 400, never an overflow (issue 9, item 16).
        if phase not in ("L", "C") or (phase == "C" and position and not (
                position.isascii() and position.isdigit() and len(position) <= 18)):
            raise BadRequest("Malformed cursor")
    members: list[Member] = []
    next_cursor: str | None = None
    if phase == "L":
        page = node.store.children(container_iri, after=position or None, limit=limit,
                                   filters=filters)
        for child in page.items:
            members.append(Member(child.iri, child.types, child.title, child.index.states,
                                  node.base, {}))
        if page.next:
            next_cursor = encode_cursor("L", page.next)
        else:
            phase, position = "C", ""
    if phase == "C":
        room = limit - len(members)
        after = int(position) if position else None
        cached = _cache_page(db, container_path, filters, after, room + 1)
        for _, member in cached[:room]:
            members.append(member)
        if len(cached) > room:
            # The page is full and more cached members follow: resume after the last one
            # shown (or at the start of the cache part when the local part filled it).
            next_cursor = encode_cursor("C", cached[room - 1][0] if room else "")
    return _render(node, container_iri, members, offer), next_cursor, {**query,
                                                                       "scope": "federation"}


def _render(node: Node, container_iri: str, members: list[Member], offer: str) -> Representation:
    graph = rdflib.Graph()
    subject = rdflib.URIRef(container_iri)
    container_triples(graph, subject, "")
    listing = []
    for m in members:
        member = rdflib.URIRef(m.iri)
        graph.add((subject, LDP.contains, member))
        for t in m.types:
            graph.add((member, RDF.type, rdflib.URIRef(t)))
        if m.title:
            graph.add((member, DCTERMS.title, rdflib.Literal(m.title)))
        for state in m.states:
            graph.add((member, DDS.state, rdflib.URIRef(state)))
        if m.origin_node:
            graph.add((member, DCTERMS.publisher, rdflib.URIRef(m.origin_node)))
        for term in COUNT_TERMS:
            if term in m.summary:
                datatype = rdflib.XSD.dateTime if term == "countsComputedAt" else \
                    rdflib.XSD.nonNegativeInteger
                graph.add((member, DDS[term], rdflib.Literal(str(m.summary[term]),
                                                             datatype=datatype)))
        listing.append((m.iri, m.title, m.types))
    return representation.render(graph, container_iri, offer, title="Federated listing",
                                 listing=listing, compact=True)
