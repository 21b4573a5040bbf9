"""Where a node's data sits in a SPARQL store, and the SPARQL text that writes it.

Graph names and predicates are in the private ``urn:ddsnode:`` namespace: storage
internals, not ontology terms (they never reach a client except through ``/sparql`` on
a union default graph, see docs/storage.md). Every term written into a query or update
goes through pyoxigraph's term classes, which validate IRIs and escape literals, so no
resource data can inject SPARQL.
"""

from __future__ import annotations

import base64
import json

import pyoxigraph as ox

from ddsnode.store.base import StoredResource
from ddsnode.store.embedded import index_to_json

NS = "urn:ddsnode:"
META = f"<{NS}meta>"
CHANGES = f"<{NS}changes>"
PREFIX = f"PREFIX d: <{NS}>\nPREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"

# Filters field -> metadata predicate of its values (string literals: IRIs or codes).
TAG_PREDICATES = {"type": "d:type", "topic": "d:topic", "state": "d:state", "area": "d:area",
                  "platform": "d:platform"}


def count_members(cont: str, delta: int, where: str) -> str:
    """One operation moving the member count of ``cont`` (an IRI, or ``?cont`` bound by
    ``where``) by ``delta``."""
    return (f"DELETE {{ GRAPH {META} {{ {cont} d:members ?m }} }}\n"
            f"INSERT {{ GRAPH {META} {{ {cont} d:members ?m2 }} }}\n"
            f"WHERE {{ {where}\n  OPTIONAL {{ GRAPH {META} {{ {cont} d:members ?m0 }} }}\n"
            f"  BIND(COALESCE(?m0, 0) AS ?m) BIND(?m + ({delta}) AS ?m2) }}")


def meta_triples(r: StoredResource, *, tombstone: bool = False) -> str:
    """The predicate-object list of a resource's metadata (without version and seq)."""
    i = r.index
    reps = {m: {"etag": rep.etag, "body": base64.b64encode(rep.body).decode("ascii")}
            for m, rep in r.representations.items()}
    parts = [f'd:kind {literal("tombstone" if tombstone else r.kind)}',
             f"d:created {literal(r.created.isoformat())}",
             f"d:modified {literal(r.modified.isoformat())}",
             f"d:ntriples {literal(r.ntriples)}",
             f"d:representations {literal(json.dumps(reps, separators=(',', ':')))}",
             f"d:index {literal(index_to_json(i))}",
             f"d:types {literal(json.dumps(list(i.types)))}"]
    if not tombstone:
        if r.container:
            parts.append(f"d:container {iri_term(r.container)}")
        if r.binary is not None:
            parts.append(f"d:binary {literal(base64.b64encode(r.binary).decode('ascii'))}")
        if r.binary_type:
            parts.append(f"d:binaryType {literal(r.binary_type)}")
        for name, predicate in TAG_PREDICATES.items():
            attr = {"type": "types", "topic": "topics", "state": "states",
                    "area": "areas"}.get(name)
            values = getattr(i, attr) if attr else ((i.platform,) if i.platform else ())
            parts += [f"{predicate} {literal(v)}" for v in set(values)]
        if i.lat is not None and i.long is not None:
            parts.append(f"d:lat {double(i.lat)} ; d:long {double(i.long)}")
        if i.date:
            parts.append(f"d:date {literal(i.date)}")
        if i.text or i.title:
            parts.append(f"d:text {literal((i.title + ' ' + i.text).strip())}")
    return " ;\n  ".join(parts)


def double(x: float) -> str:
    """An xsd:double literal."""
    return f'"{float(x)!r}"^^<http://www.w3.org/2001/XMLSchema#double>'


def iri_term(iri: str) -> str:
    """An IRI in SPARQL syntax; ValueError if it is not a valid IRI."""
    return str(ox.NamedNode(iri))  # validates: no injection through an IRI


def literal(text: str) -> str:
    """A plain string literal in SPARQL syntax, escaped."""
    return str(ox.Literal(text))  # N-Triples escaping, valid in SPARQL


def triples(ntriples: str) -> str:
    """N-Triples re-serialised term by term (valid as a SPARQL template)."""
    if not ntriples.strip():
        return ""
    quads = ox.parse(ntriples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
