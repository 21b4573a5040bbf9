"""Traceability: walk the links from a contribution to its decision and implementation.

Breadth-first from an IRI over the subproperties of ``dds:traceLink`` (read from the
ontology, never typed here) in both directions — amendments, meetings it was discussed
at, the decision that answers it, budget projects, results and milestones — across
nodes. Each resource is read from the local store first, then from the peer cache, and
only then dereferenced through the cache (bounded by ``max_fetches``), so the walk works
while a peer is down. Every link says where it came from: ``local``, ``cache`` (with
the origin and when it was fetched) or ``fetched`` (now). The walk is bounded by depth,
number of resources and peer fetches (settings ``trace_max_*``), and applies the read
rule (:mod:`ddsnode.ldp.access`) for whoever asks.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import rdflib

from ddsnode.clock import TIMESTAMP
from ddsnode.ldp.access import OPERATOR, Reader, ReadRule
from ddsnode.rdf import rdfio
from ddsnode.rdf.vocab import DDS, OWL, RDFS, ontology_graph

NOT_HERE = "not on this node"  # a missing, deleted or unreadable resource: one answer
LINKS_PER_RESOURCE = 500  # incoming local links listed per resource of a level


@cache
def trace_predicates() -> tuple[str, ...]:
    """Every subproperty of dds:traceLink (transitively), from the ontology."""
    g = ontology_graph()
    found: set[rdflib.term.Node] = set()
    frontier: list[rdflib.term.Node] = [DDS.traceLink]
    while frontier:
        prop = frontier.pop()
        for sub in g.subjects(RDFS.subPropertyOf, prop):
            if sub not in found:
                found.add(sub)
                frontier.append(sub)
    return tuple(sorted(str(p) for p in found if isinstance(p, rdflib.URIRef)))


@cache
def inverses() -> dict[str, str]:
    """owl:inverseOf pairs among the trace links, both ways."""
    g = ontology_graph()
    links = set(trace_predicates())
    out: dict[str, str] = {}
    for a, b in g.subject_objects(OWL.inverseOf):
        if str(a) in links or str(b) in links:
            out[str(a)], out[str(b)] = str(b), str(a)
    return out


@dataclass
class Source:
    """Where a resource's description was read."""

    kind: str  # local | cache | fetched | unavailable
    origin: str | None = None
    fetched_at: float | None = None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        """The ``source`` object of a link."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.origin:
            out["origin"] = self.origin
        if self.fetched_at is not None:
            out["fetchedAt"] = datetime.fromtimestamp(self.fetched_at, UTC).strftime(
                TIMESTAMP)
            out["age"] = int(max(0.0, time.time() - self.fetched_at))
        if self.detail:
            out["detail"] = self.detail[:300]
        return out


@dataclass
class Chain:
    """The result of a walk: resources visited and links found."""

    start: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)

    def as_jsonld(self) -> dict[str, Any]:
        """The chain as a JSON-LD document (its own small context)."""
        return {
            "@context": {"dds": "https://w3id.org/dds/ns#", "id": "@id", "type": "@type",
                         "start": {"@id": "dds:traceStart", "@type": "@id"},
                         "subject": {"@type": "@id"}, "object": {"@type": "@id"},
                         "relation": {"@type": "@id"}},
            "start": self.start, "truncated": self.truncated,
            "resources": list(self.nodes.values()), "links": self.links,
            **({"warnings": self.warnings} if self.warnings else {}),
        }


class Tracer:
    """Walks trace links using the federation runtime (local store, cache, fetch).

    ``reader`` is who asks: the walk applies the read rule (:mod:`ddsnode.ldp.access`) to
    every resource it describes and every link it lists, so that for a reader without a
    ``read`` token a private resource is exactly what a missing one is (issue 9, item 11):
    described as "not on this node", its own links unlisted, and links stated inside
    private resources left out. The CLI walks as the operator, who may read everything.
    """

    def __init__(self, federation: Any, *, reader: Reader = OPERATOR,
                 max_depth: int | None = None, max_nodes: int | None = None,
                 max_fetches: int | None = None) -> None:
        self.fed = federation
        settings = federation.node.settings
        self.max_depth = int(settings.trace_max_depth if max_depth is None else max_depth)
        self.max_nodes = int(settings.trace_max_resources if max_nodes is None else max_nodes)
        self.max_fetches = int(settings.trace_max_fetches if max_fetches is None
                               else max_fetches)
        self.reader = reader
        self.rule = ReadRule(federation.base, federation.node.containers)
        self.predicates = frozenset(trace_predicates())
        # Membership in a space or phase is followed outward only: inward it would list
        # every sibling contribution of the process, which is not this resource's chain.
        self.outward_only = frozenset({str(DDS.inSpace), str(DDS.inPhase)})
        self.inward = tuple(sorted(self.predicates - self.outward_only))
        self.index_error = ""  # set once the SPARQL index failed: not asked again

    async def walk(self, start: str) -> Chain:
        """The chain of resources linked to ``start`` (see the module docstring).

        Breadth-first, one level at a time: the local part of a level (store reads and
        one SPARQL query for the incoming links of the whole level) runs in a worker
        thread, so a walk costs one query per level, not one per resource, and never
        blocks the event loop."""
        chain = Chain(start)
        seen_links: set[tuple[str, str, str]] = set()
        fetches = 0
        level, depth = [start], 0
        while level:
            described: list[tuple[str, rdflib.Graph, Source]] = []
            for iri in level:
                if iri in chain.nodes:
                    continue
                if len(chain.nodes) >= self.max_nodes:
                    chain.truncated = True
                    break
                graph, source, fetches = await self._describe(iri, fetches)
                main = rdflib.URIRef(iri)
                chain.nodes[iri] = {"id": iri, "type": sorted(str(t) for t in graph.objects(
                    main, rdflib.RDF.type)), "title": _title(graph, main),
                    "source": source.as_json()}
                described.append((iri, graph, source))
            incoming = await self._incoming([iri for iri, _, _ in described])
            following: list[str] = []
            for iri, graph, source in described:
                main = rdflib.URIRef(iri)
                edges = [(str(s), str(p), str(o), source) for s, p, o in graph
                         if s == main and str(p) in self.predicates
                         and isinstance(o, rdflib.URIRef)]
                for s, p, o, src in edges + incoming.get(iri, []):
                    if (s, p, o) in seen_links:
                        continue
                    seen_links.add((s, p, o))
                    chain.links.append({"subject": s, "relation": p, "object": o,
                                        "source": src.as_json()})
                    other = o if s == iri else s
                    if other in chain.nodes:
                        continue
                    if depth + 1 <= self.max_depth:
                        following.append(other)
                    else:
                        chain.truncated = True
            if len(chain.nodes) >= self.max_nodes and any(
                    i not in chain.nodes for i in following):
                chain.truncated = True
                break
            level, depth = following, depth + 1
        if self.index_error:
            chain.warnings.append("links to these resources from this node's other "
                                  f"resources are not listed: {self.index_error}")
        return chain

    async def _describe(self, iri: str, fetches: int) -> tuple[rdflib.Graph, Source, int]:
        fed = self.fed
        document = iri.split("#", 1)[0]
        if iri.startswith(fed.base):
            if not self.rule.may_read(iri, self.reader):
                # The same answer as for a missing resource, without reading the store.
                return rdflib.Graph(), Source("unavailable", fed.origin,
                                              detail=NOT_HERE), fetches
            graph = await asyncio.to_thread(self._local, document)
            if graph is None:
                return rdflib.Graph(), Source("unavailable", fed.origin,
                                              detail=NOT_HERE), fetches
            return graph, Source("local", fed.origin), fetches
        cached = await asyncio.to_thread(self._cached, document)
        if cached is not None:
            held, entry = cached
            return held, Source("cache", entry.origin, entry.fetched_at), fetches
        if fetches >= self.max_fetches or fed.peers.get(iri) is None:
            why = "fetch budget spent" if fetches < self.max_fetches else "not a peer's IRI"
            return rdflib.Graph(), Source("unavailable", detail=why), fetches
        try:
            entry = await fed.cache.fetch(document)
        except Exception as exc:  # noqa: BLE001 — one link's failure does not end the walk
            return rdflib.Graph(), Source("unavailable", detail=str(exc)), fetches + 1
        fetched = await asyncio.to_thread(entry.graph)
        return fetched, Source("fetched", entry.origin, entry.fetched_at), fetches + 1

    # The parts below read SQLite and parse N-Triples: they run in worker threads.

    def _local(self, document: str) -> rdflib.Graph | None:
        resource = self.fed.node.store.get(document)
        if resource is None or resource.kind == "tombstone":
            return None
        return rdfio.graph_from_ntriples(resource.ntriples)

    def _cached(self, document: str) -> tuple[rdflib.Graph, Any] | None:
        entry = self.fed.cache.get(document)
        return None if entry is None else (entry.graph(), entry)

    async def _incoming(self, iris: list[str]) -> dict[str, list[tuple[str, str, str, Source]]]:
        """Links pointing at each of ``iris``: from the peer cache and the local store."""
        cached, rows = await asyncio.to_thread(
            lambda: (self._cached_incoming(iris), self._local_incoming(iris)))
        local = Source("local", self.fed.origin)
        for s, p, o in rows:
            if o in cached:
                cached[o].append((s, p, o, local))
        return cached

    def _cached_incoming(self, iris: list[str]) -> dict[str, list[tuple[str, str, str, Source]]]:
        """Links to each of ``iris`` in peers' cached resources (public by nature)."""
        cache = self.fed.cache
        out: dict[str, list[tuple[str, str, str, Source]]] = {iri: [] for iri in iris}
        for iri in iris:
            for s, p, o, holder in cache.links(iri):
                if o == iri and p in self.predicates and p not in self.outward_only:
                    entry = cache.get(holder)
                    out[iri].append((s, p, o, Source(
                        "cache", entry.origin if entry else None,
                        entry.fetched_at if entry else None)))
        return out

    def _local_incoming(self, iris: list[str]) -> list[tuple[str, str, str]]:
        """(subject, predicate, object) of this node's links to ``iris``: one query for all.

        ``GRAPH ?g`` names the resource stating the link (each resource is a named graph,
        docs/storage.md): a link stated in a resource the reader may not read is left
        out, whatever its subject."""
        safe = [i for i in iris if not any(c in i for c in '<>"{}|^`\\ \n\r\t')]
        if not safe or self.index_error:
            return []
        objects = " ".join(f"<{i}>" for i in safe)
        values = " ".join(f"<{p}>" for p in self.inward)
        query = (f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?o {{ {objects} }} "
                 f"VALUES ?p {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
                 f"LIMIT {LINKS_PER_RESOURCE * len(safe)}")
        try:
            result = self.fed.node.sparql(query, ["application/sparql-results+json"])
            rows = json.loads(result.body)["results"]["bindings"]
        except Exception as exc:  # noqa: BLE001 — no SPARQL index: said once, in the chain
            self.index_error = str(exc)[:300] or type(exc).__name__
            return []
        may_read, reader = self.rule.may_read, self.reader
        return [(r["s"]["value"], r["p"]["value"], r["o"]["value"]) for r in rows
                if r["s"]["type"] == "uri" and may_read(r["g"]["value"], reader)
                and may_read(r["s"]["value"], reader)]


def _title(graph: rdflib.Graph, main: rdflib.URIRef) -> str:
    from ddsnode.ldp.indexing import title_of
    return title_of(graph, main)
