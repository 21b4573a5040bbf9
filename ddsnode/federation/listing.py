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
from typing import Any

import rdflib

from ddsnode.federation.reactions import COUNT_TERMS
from ddsnode.ldp import representation
from ddsnode.ldp.description import container_triples
from ddsnode.ldp.filters import container_filters
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


def _cache_page(db: Any, container: str, filters: Filters, after: int | None,
                limit: int) -> list[tuple[int, Member]]:
    sql = [("SELECT c.seq, c.iri, c.types, c.title, c.states, c.summary, p.base FROM cache c "
            "LEFT JOIN peers p ON p.origin = c.origin WHERE c.container = ? AND "
            "c.status = 'valid'")]
    args: list[Any] = [container]
    if after is not None:
        sql.append("AND c.seq < ?")
        args.append(after)
    for column, value in (("types", filters.type), ("states", filters.state),
                          ("topics", filters.topic), ("areas", filters.area)):
        if value:
            sql.append(f"AND instr(c.{column}, ?) > 0")
            args.append(f" {value} ")
    if filters.platform:
        sql.append("AND c.platform = ?")
        args.append(filters.platform)
    if filters.date_from:
        sql.append("AND c.date >= ?")
        args.append(filters.date_from)
    if filters.date_to:
        sql.append("AND c.date <= ?")
        args.append(filters.date_to + ("T23:59:59Z" if len(filters.date_to) == 10 else ""))
    if filters.bbox:
        min_long, min_lat, max_long, max_lat = filters.bbox
        sql.append("AND c.long BETWEEN ? AND ? AND c.lat BETWEEN ? AND ?")
        args += [min_long, max_long, min_lat, max_lat]
    if filters.text:
        sql.append("AND instr(lower(c.title || ' ' || c.text), ?) > 0")
        args.append(filters.text.lower())
    sql.append("ORDER BY c.seq DESC LIMIT ?")
    args.append(limit)
    import json
    rows = db.connect().execute(" ".join(sql), args).fetchall()
    return [(r[0], Member(r[1], tuple(r[2].split()), r[3], tuple(r[4].split()),
                          r[6] or "", json.loads(r[5] or "{}"))) for r in rows]


MAX_CURSOR = 2048  # characters: a cursor carries one IRI or row number, base64-encoded


def federated_page(node: Any, db: Any, container_iri: str, container_path: str,
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


def _render(node: Any, container_iri: str, members: list[Member], offer: str) -> Representation:
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
