"""Serialising a resource's graph into each media type the node offers.

A resource is stored as N-Triples; its other representations are rendered from them on
first read and kept in a bounded cache (:class:`Renderings`) keyed by the stored bytes
themselves, so an entry is never stale. Rendering is deterministic, and each
representation carries a strong ETag (RFC 9110 8.8.3) that is a hash of its bytes: equal
bytes have equal tags in every process and after a restart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import rdflib
from pyld import jsonld as pyld

from ddsnode import compaction, conneg, html, rdfio, resources
from ddsnode.indexing import title_of
from ddsnode.jsonld import compact
from ddsnode.lru import LRU
from ddsnode.store.base import Representation, StoredResource

# What an RDF resource is rendered as; the JSON offer is served from the JSON-LD bytes.
OFFERS: tuple[str, ...] = (conneg.JSONLD, conneg.JSONLD_EXPANDED, conneg.TURTLE,
                           conneg.NTRIPLES, conneg.HTML)
# Every representation a client may hold an ETag of (If-Match names any of them).
ETAG_OFFERS: tuple[str, ...] = (*OFFERS, conneg.JSON)


def etag(body: bytes) -> str:
    """A strong ETag for ``body``: a quoted hash of the bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def make(offer: str, body: bytes) -> Representation:
    """A Representation of ``body`` for ``offer``, with its Content-Type and ETag."""
    return Representation(conneg.CONTENT_TYPES.get(offer, offer), body, etag(body))


@cache
def prefixes() -> dict[str, str]:
    """Prefix -> namespace of the shared context, for Turtle output."""
    out = {}
    for name, value in resources.context_document()["@context"].items():
        if isinstance(value, str) and not name.startswith("@") and value[-1:] in ("#", "/"):
            out[name] = value
    return out


def ntriples(graph: rdflib.Graph) -> bytes:
    """N-Triples, one triple a line, sorted (equal graphs without blank nodes: equal bytes)."""
    return rdfio.ntriples(graph)


def turtle(graph: rdflib.Graph, main: str | None = None) -> bytes:
    """Turtle with the shared context's prefixes (only those used), ``main`` first."""
    try:
        return rdfio.turtle(graph, prefixes(), main)
    except rdfio.Unrepresentable:
        pass  # an IRI or language tag only rdflib accepts: its serialiser copes
    out = rdflib.Graph(bind_namespaces="none")
    used = {str(t) for triple in graph for t in triple if isinstance(t, rdflib.URIRef)}
    for prefix, ns in prefixes().items():
        if any(u.startswith(ns) for u in used):
            out.bind(prefix, ns)
    for triple in graph:
        out.add(triple)
    return out.serialize(format="turtle", encoding="utf-8")


def expanded(graph: rdflib.Graph, main: str | None = None) -> list[dict[str, Any]]:
    """Expanded JSON-LD (JSON-LD 1.1 API, RDF to object conversion), nodes used once embedded."""
    try:
        return compaction.expanded(graph, main)
    except compaction.Unsupported:
        return pyld_expanded(graph, main)


def pyld_expanded(graph: rdflib.Graph, main: str | None = None) -> list[dict[str, Any]]:
    """:func:`expanded` by pyld's RDF to object conversion (RDF lists become ``@list``)."""
    nquads = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    nodes: list[dict[str, Any]] = pyld.from_rdf(nquads, {"format": "application/n-quads"})
    return _embed(nodes, main)


def _embed(nodes: list[dict[str, Any]], main: str | None) -> list[dict[str, Any]]:
    """Nest every node referenced exactly once inside its referrer (lossless), main first."""
    by_id = {n["@id"]: n for n in nodes}
    refs: dict[str, int] = {}
    for n in nodes:
        for key, values in n.items():
            if key.startswith("@"):
                continue
            for v in values:
                if isinstance(v, dict) and "@id" in v and len(v) == 1:
                    refs[v["@id"]] = refs.get(v["@id"], 0) + 1
    placed: set[str] = set()

    def visit(node: dict[str, Any]) -> None:
        for key, values in node.items():
            if key.startswith("@"):
                continue
            for i, v in enumerate(values):
                target = v.get("@id") if isinstance(v, dict) and len(v) == 1 else None
                if (isinstance(target, str) and target in by_id and target != main
                        and refs.get(target) == 1
                        and target not in placed):
                    placed.add(target)
                    child = by_id[target]
                    if target.startswith("_:"):
                        child = {k: c for k, c in child.items() if k != "@id"}
                    values[i] = child
                    visit(child)

    roots = sorted(nodes, key=lambda n: (n["@id"] != main, n["@id"].startswith("_:"), n["@id"]))
    top = []
    for node in roots:
        if node["@id"] in placed:
            continue
        placed.add(node["@id"])
        visit(node)
        top.append(node)
    return [n for n in top if n["@id"] in placed]


def compacted(graph: rdflib.Graph, main: str | None = None) -> dict[str, Any]:
    """JSON-LD compacted with the shared context (``@context`` is its IRI)."""
    try:
        return compaction.compacted(graph, main)
    except compaction.Unsupported:
        return pyld_compacted(graph, main)


def pyld_compacted(graph: rdflib.Graph, main: str | None = None) -> dict[str, Any]:
    """:func:`compacted` by pyld's general algorithm (the reference, and the fallback)."""
    doc = compact(pyld_expanded(graph, main), compaction.context_for(main))
    graph_nodes = doc.get("@graph")
    if isinstance(graph_nodes, list) and len(graph_nodes) == 1:
        # A single top node: no @graph wrapper (JSON-LD 1.1 API, compaction 9.3).
        return {"@context": doc["@context"], **graph_nodes[0]}
    return doc


def dump_json(value: Any) -> bytes:
    """JSON bytes as the node writes them: UTF-8, two-space indent, key order kept."""
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


Listing = Iterable[tuple[str, str, tuple[str, ...]]]  # (iri, title, types) of members


def _serialisers(graph: rdflib.Graph, main: str, title: str, listing: Listing | None,
                 compact: bool) -> dict[str, Callable[[], bytes]]:
    # Free-form data (open containers) is not in our vocabulary: its JSON-LD is the
    # expanded form, which any client parses without fetching a context.
    as_jsonld: Callable[[], Any] = (lambda: compacted(graph, main)) if compact else \
        (lambda: expanded(graph, main))
    return {
        conneg.JSONLD: lambda: dump_json(as_jsonld()),
        conneg.JSON: lambda: dump_json(as_jsonld()),
        conneg.JSONLD_EXPANDED: lambda: dump_json(expanded(graph, main)),
        conneg.TURTLE: lambda: turtle(graph, main),
        conneg.NTRIPLES: lambda: ntriples(graph),
        conneg.HTML: lambda: html.page(graph, main, title, listing).encode("utf-8"),
    }


def render(graph: rdflib.Graph, main: str, offer: str, *, title: str = "",
           listing: Listing | None = None, compact: bool = True) -> Representation:
    """One representation of ``graph`` (used for container pages, built per request)."""
    body = _serialisers(graph, main, title, listing, compact)[offer]()
    return make(offer, body)


class Renderings:
    """The representations of stored resources, rendered on first read, bounded in bytes.

    The key is (IRI, kind, JSON-LD form, offer, N-Triples): everything the bytes depend
    on, so a new version of a resource is a new key and old entries simply age out.
    Rendering at read time rather than write time keeps writes cheap (a resource is
    seldom read in all five media types) while a resource read often is served from
    memory.
    """

    def __init__(self, capacity_bytes: int) -> None:
        self._cache: LRU[Representation] = LRU(
            capacity_bytes, weigh=lambda rep: len(rep.body) + 256)

    def get(self, resource: StoredResource, offer: str, *,
            compact: bool = True) -> Representation | None:
        """``resource`` as ``offer`` (None when not offered); stored bytes win if present."""
        stored = pick(resource.representations, offer)
        if stored is not None:  # written by an earlier version of the node
            return stored
        if offer == conneg.JSON:
            as_jsonld = self.get(resource, conneg.JSONLD, compact=compact)
            return None if as_jsonld is None else _as_json(as_jsonld)
        if offer not in OFFERS or resource.kind == "container":
            return None
        key = (resource.iri, resource.kind, compact, offer, resource.ntriples)
        return self._cache.get_or_make(key, lambda: _render_stored(resource, offer, compact),
                                       extra=len(resource.ntriples))  # the key holds them

    def etags(self, resource: StoredResource, *, compact: bool = True) -> list[str]:
        """The strong ETag of every representation (If-Match may name any of them)."""
        reps = [self.get(resource, offer, compact=compact) for offer in ETAG_OFFERS]
        return [rep.etag for rep in reps if rep is not None]


def _render_stored(resource: StoredResource, offer: str, compact: bool) -> Representation:
    graph = rdfio.graph_from_ntriples(resource.ntriples)
    main = resource.iri
    title = "Deleted" if resource.kind == "tombstone" else title_of(graph, rdflib.URIRef(main))
    return render(graph, main, offer, title=title, compact=compact)


def _as_json(as_jsonld: Representation) -> Representation:
    # Same bytes, another Content-Type: a distinct strong validator (RFC 9110 8.8.3).
    return Representation(conneg.JSON, as_jsonld.body, as_jsonld.etag[:-1] + '-json"')


def pick(representations: dict[str, Representation], offer: str) -> Representation | None:
    """The stored representation for ``offer`` (JSON is served from the JSON-LD bytes)."""
    if offer == conneg.JSON:
        found = representations.get(conneg.JSONLD)
        return None if found is None else _as_json(found)
    return representations.get(offer)
