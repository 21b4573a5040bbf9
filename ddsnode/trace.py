"""Traceability: walk the links from a contribution to its decision and implementation.

Breadth-first from an IRI over the subproperties of ``dds:traceLink`` (read from the
ontology, never typed here) in both directions — amendments, meetings it was discussed
at, the decision that answers it, budget projects, results and milestones — across
nodes. Each resource is read from the local store first, then from the peer cache, and
only then dereferenced through the cache (bounded by ``max_fetches``), so the walk works
while a peer is down. Every link says where it came from: ``local``, ``cache`` (with
the origin and when it was fetched) or ``fetched`` (now). The walk is bounded by depth
and by number of resources.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import rdflib

from ddsnode import rdfio
from ddsnode.vocab import DDS, OWL, RDFS, ontology_graph


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
                "%Y-%m-%dT%H:%M:%SZ")
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

    def as_jsonld(self) -> dict[str, Any]:
        """The chain as a JSON-LD document (its own small context)."""
        return {
            "@context": {"dds": "https://w3id.org/dds/ns#", "id": "@id", "type": "@type",
                         "start": {"@id": "dds:traceStart", "@type": "@id"},
                         "subject": {"@type": "@id"}, "object": {"@type": "@id"},
                         "relation": {"@type": "@id"}},
            "start": self.start, "truncated": self.truncated,
            "resources": list(self.nodes.values()), "links": self.links,
        }


class Tracer:
    """Walks trace links using the federation runtime (local store, cache, fetch)."""

    def __init__(self, federation: Any, *, max_depth: int = 6, max_nodes: int = 200,
                 max_fetches: int = 30) -> None:
        self.fed = federation
        self.max_depth, self.max_nodes, self.max_fetches = max_depth, max_nodes, max_fetches
        self.predicates = frozenset(trace_predicates())
        # Membership in a space or phase is followed outward only: inward it would list
        # every sibling contribution of the process, which is not this resource's chain.
        self.outward_only = frozenset({str(DDS.inSpace), str(DDS.inPhase)})

    async def walk(self, start: str) -> Chain:
        """The chain of resources linked to ``start`` (see the module docstring)."""
        chain = Chain(start)
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        seen_links: set[tuple[str, str, str]] = set()
        fetches = 0
        while queue:
            iri, depth = queue.popleft()
            if iri in chain.nodes:
                continue
            if len(chain.nodes) >= self.max_nodes:
                chain.truncated = True
                break
            graph, source, fetches = await self._describe(iri, fetches)
            main = rdflib.URIRef(iri)
            chain.nodes[iri] = {"id": iri, "type": sorted(str(t) for t in graph.objects(
                main, rdflib.RDF.type)), "title": _title(graph, main), "source": source.as_json()}
            edges = [(str(s), str(p), str(o), source) for s, p, o in graph
                     if str(p) in self.predicates and isinstance(o, rdflib.URIRef)
                     and s == main]
            edges += await self._incoming(iri)
            for s, p, o, src in edges:
                if (s, p, o) in seen_links:
                    continue
                seen_links.add((s, p, o))
                chain.links.append({"subject": s, "relation": p, "object": o,
                                    "source": src.as_json()})
                other = o if s == iri else s
                if depth + 1 <= self.max_depth and other not in chain.nodes:
                    queue.append((other, depth + 1))
                elif other not in chain.nodes:
                    chain.truncated = True
        return chain

    async def _describe(self, iri: str, fetches: int) -> tuple[rdflib.Graph, Source, int]:
        fed = self.fed
        document = iri.split("#", 1)[0]
        graph = rdflib.Graph()
        if iri.startswith(fed.base):
            resource = fed.node.store.get(document)
            if resource is not None and resource.kind != "tombstone":
                graph = rdfio.graph_from_ntriples(resource.ntriples)
                return graph, Source("local", fed.origin), fetches
            return graph, Source("unavailable", fed.origin, detail="not on this node"), fetches
        entry = fed.cache.get(document)
        if entry is not None:
            return entry.graph(), Source("cache", entry.origin, entry.fetched_at), fetches
        if fetches >= self.max_fetches or fed.peers.get(iri) is None:
            why = "fetch budget spent" if fetches < self.max_fetches else "not a peer's IRI"
            return graph, Source("unavailable", detail=why), fetches
        try:
            entry = await fed.cache.fetch(document)
        except Exception as exc:  # noqa: BLE001 — one link's failure does not end the walk
            return graph, Source("unavailable", detail=str(exc)), fetches + 1
        return entry.graph(), Source("fetched", entry.origin, entry.fetched_at), fetches + 1

    async def _incoming(self, iri: str) -> list[tuple[str, str, str, Source]]:
        """Links pointing at ``iri``: from the local store (SPARQL) and the cache."""
        fed = self.fed
        out: list[tuple[str, str, str, Source]] = []
        for s, p, o, holder in fed.cache.links(iri):
            if o == iri and p in self.predicates and p not in self.outward_only:
                entry = fed.cache.get(holder)
                out.append((s, p, o, Source("cache", entry.origin if entry else None,
                                            entry.fetched_at if entry else None)))
        if any(c in iri for c in '<>"{}|^`\\ '):
            return out  # not an IRI that can be put in a query
        values = " ".join(f"<{p}>" for p in sorted(self.predicates - self.outward_only))
        query = f"SELECT ?s ?p WHERE {{ VALUES ?p {{ {values} }} ?s ?p <{iri}> }} LIMIT 500"
        try:
            result = fed.node.sparql(query, ["application/sparql-results+json"])
            rows = json.loads(result.body)["results"]["bindings"]
        except Exception:  # noqa: BLE001 — no SPARQL index: local incoming links are skipped
            rows = []
        for row in rows:
            out.append((row["s"]["value"], row["p"]["value"], iri, Source("local", fed.origin)))
        return out


def _title(graph: rdflib.Graph, main: rdflib.URIRef) -> str:
    from ddsnode.indexing import title_of
    return title_of(graph, main)
