"""The StoredResource a write makes: RDF source, container, non-RDF source or tombstone.

Plain functions, called by :class:`ddsnode.ldp.node.Node` inside its compare-and-swap loop:
each takes what the request carried and the current version (or None) and returns the
complete record — N-Triples, index fields, timestamps — so that the
store writes it in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import rdflib

from ddsnode.clock import TIMESTAMP
from ddsnode.ldp import conneg, representation
from ddsnode.ldp.admission import check_document, check_subjects, validation_problem
from ddsnode.ldp.containers import Container, parent_path
from ddsnode.ldp.description import container_triples
from ddsnode.ldp.indexing import index_fields
from ddsnode.problem import Conflict, UnsupportedMediaType
from ddsnode.rdf.jsonld import DEFAULT_LIMITS, JsonLdLimits, parse_rdf
from ddsnode.rdf.rdfterms import check_graph
from ddsnode.rdf.vocab import AS, DCAT, DCTERMS, LDP, RDF
from ddsnode.store.base import IndexFields, Kind, Representation, StoredResource

BINARY_KEY = "binary"  # representations key holding the ETag of a non-RDF source's bytes


#: Called in the write path before validation with (graph, main IRI, current record), to
#: set triples the server manages (e.g. ddsnode.federation.reactions.keep_counts). It may return an
#: action to run once the write is accepted (validated), never for a refused one.
OnAccept = Callable[[], None]
WriteHook = Callable[[rdflib.Graph, rdflib.URIRef, "StoredResource | None"], "OnAccept | None"]

def now() -> datetime:
    """The current time, UTC, to the second (as Last-Modified and xsd:dateTime show it)."""
    return datetime.now(UTC).replace(microsecond=0)


def date_time(moment: datetime) -> rdflib.Literal:
    """``moment`` as an xsd:dateTime literal in UTC."""
    return rdflib.Literal(moment.strftime(TIMESTAMP), datatype=rdflib.XSD.dateTime)


@dataclass(frozen=True)
class Target:
    """A request IRI resolved against the node: its path and its top-level container."""

    iri: str
    path: str
    container: Container | None

    @property
    def is_container(self) -> bool:
        """Paths ending in ``/`` name containers (Solid Protocol 0.11, 3.1)."""
        return self.iri.endswith("/")

    @property
    def base(self) -> str:
        """The node's base IRI (the request IRI less its path)."""
        return self.iri[:len(self.iri) - len(self.path)]

    @property
    def parent(self) -> str | None:
        """The IRI of the container this resource is a member of (None for the root)."""
        parent = parent_path(self.path)
        return None if parent is None else self.iri[:len(self.iri) - len(self.path)] + parent


def container_record(iri: str, parent: str | None, graph: rdflib.Graph,
                     current: StoredResource | None = None) -> StoredResource:
    """A container with its own triples (its page is built per request, so no representations)."""
    moment = now()
    return StoredResource(
        iri=iri, container=parent, kind="container",
        ntriples=representation.ntriples(graph).decode("utf-8"), representations={},
        created=current.created if current is not None else moment, modified=moment,
        index=index_fields(graph, rdflib.URIRef(iri)))


def from_body(target: Target, container: Container, body: bytes, media_type: str,
              current: StoredResource | None, *, publisher: str, engine: str,
              hooks: Sequence[WriteHook] = (),
              limits: JsonLdLimits = DEFAULT_LIMITS) -> StoredResource:
    """The record a PUT/POST body makes: RDF source, container or non-RDF source."""
    fmt = conneg.RDF_INPUT.get(media_type)
    if target.is_container:
        if fmt is None and (media_type or body.strip()):
            raise UnsupportedMediaType("A container is described in RDF (Turtle, JSON-LD)")
        graph = parse_rdf(body, fmt or "turtle", base=target.iri, limits=limits)
        return rdf_record(target, container, graph, current, publisher=publisher, engine=engine,
                          hooks=hooks)
    if fmt is not None and container.rdf:
        graph = parse_rdf(body, fmt, base=target.iri, limits=limits)
        return rdf_record(target, container, graph, current, publisher=publisher, engine=engine,
                          hooks=hooks)
    if fmt is None and container.binary:
        return binary_record(target, body, media_type or "application/octet-stream", current,
                             publisher=publisher)
    if not media_type:
        raise UnsupportedMediaType("The request has a body but no Content-Type")
    accepted = "any non-RDF media type" if container.binary else ", ".join(conneg.RDF_INPUT)
    raise UnsupportedMediaType(f"{container.path} accepts {accepted}; got {media_type}",
                               headers={"Accept-Post": "*/*" if container.binary else
                                        ", ".join(conneg.RDF_INPUT)})


def rdf_record(target: Target, container: Container, graph: rdflib.Graph,
               current: StoredResource | None, *, publisher: str, engine: str,
               hooks: Sequence[WriteHook] = ()) -> StoredResource:
    """An RDF source (or a container's own triples): checked, stamped, validated, serialised."""
    main = rdflib.URIRef(target.iri)
    moment = now()
    created = current.created if current is not None else moment
    kind: Kind = "container" if target.is_container else "rdf"
    # Every way in (JSON-LD, Turtle, N-Triples, PATCH results, importers) ends here: only
    # RDF 1.1 terms are stored (issue 9 item 6), so the index and every reader can take it.
    check_graph(graph)
    if kind == "container" and any(graph.triples((main, LDP.contains, None))):
        raise Conflict("Containment triples are managed by the server (Solid Protocol 5.3)")
    for triple in list(graph.triples((None, LDP.contains, None))):
        graph.remove(triple)  # containment is the server's (LDP 5.2.4.1)
    if container.open:
        # Anyone may write here: a document speaks only of itself and of IRIs off this node,
        # or an anonymous client could put a "HIJACKED" title on the node's proposals into
        # /sparql (issue 9 item 13).
        check_subjects(graph, target.iri, outside=target.base)
    else:
        check_document(graph, target.iri, container)
        stamp(graph, main, current, created=created, moment=moment, publisher=publisher)
        # More server-managed triples (federation: reaction counts).
        accepted = [action for hook in hooks if (action := hook(graph, main, current))]
        problem = validation_problem(graph, engine)
        if problem is not None:
            raise problem
        for action in accepted:  # e.g. a stated count becomes the baseline (reactions.py)
            action()
    if kind == "container":
        container_triples(graph, main, "")
    # Only the N-Triples are stored: other media types are rendered from them when first
    # read (representation.Renderings).
    return StoredResource(
        iri=target.iri, container=target.parent, kind=kind,
        ntriples=representation.ntriples(graph).decode("utf-8"), representations={},
        created=created, modified=moment, index=index_fields(graph, main))


def stamp(graph: rdflib.Graph, main: rdflib.URIRef, current: StoredResource | None, *,
          created: datetime, moment: datetime, publisher: str) -> None:
    """The dates and publisher of a resource in a shaped container.

    The resource's own ``dct:created``, ``dct:modified`` and ``dct:issued`` are data, kept
    exactly as sent (the day a citizen made a proposal is the fact that matters, issue 10
    item 3); the node's own times are the record's (Last-Modified). Only where the client
    gives no date does the node add ``dct:created`` (first write) and ``dct:modified``
    (every write). A ``dct:modified`` equal to the one the node stamped on the current
    version is the node's, sent back by a client that read it: it is refreshed.
    ``dct:publisher`` is data too (the shapes make it the Organization, Participant or
    Platform that publishes the resource, and the Decidim importer sets the platform's
    operator): kept as sent, the node's IRI added only when the client names none.
    """
    if graph.value(main, DCTERMS.publisher) is None:
        graph.add((main, DCTERMS.publisher, rdflib.URIRef(publisher)))
    if current is not None and (main, DCTERMS.modified, date_time(current.modified)) in graph:
        graph.remove((main, DCTERMS.modified, date_time(current.modified)))
    if graph.value(main, DCTERMS.created) is None:
        graph.add((main, DCTERMS.created, date_time(created)))
    if graph.value(main, DCTERMS.modified) is None:
        graph.add((main, DCTERMS.modified, date_time(moment)))


def binary_record(target: Target, body: bytes, media_type: str,
                  current: StoredResource | None, *, publisher: str) -> StoredResource:
    """A non-RDF source (LDP 4.4) with its description (dcat:mediaType, byteSize …)."""
    moment = now()
    created = current.created if current is not None else moment
    subject = rdflib.URIRef(target.iri)
    graph = rdflib.Graph()
    graph.add((subject, RDF.type, LDP.NonRDFSource))
    graph.add((subject, RDF.type, DCAT.Distribution))
    graph.add((subject, DCAT.mediaType, rdflib.Literal(media_type)))
    graph.add((subject, DCAT.byteSize,
               rdflib.Literal(len(body), datatype=rdflib.XSD.nonNegativeInteger)))
    graph.add((subject, DCTERMS.created, date_time(created)))
    graph.add((subject, DCTERMS.modified, date_time(moment)))
    graph.add((subject, DCTERMS.publisher, rdflib.URIRef(publisher)))
    name = target.path.rsplit("/", 1)[-1]
    graph.add((subject, DCTERMS.title, rdflib.Literal(name)))
    reps = {BINARY_KEY: Representation(media_type, b"", representation.etag(body))}
    return StoredResource(
        iri=target.iri, container=target.parent, kind="binary",
        ntriples=representation.ntriples(graph).decode("utf-8"), representations=reps,
        created=created, modified=moment, index=replace(index_fields(graph, subject), text=""),
        binary=body, binary_type=media_type)


def tombstone_record(current: StoredResource) -> StoredResource:
    """What replaces a deleted resource: ``as:Tombstone``, ``as:deleted``, ``as:formerType``."""
    moment = now()
    subject = rdflib.URIRef(current.iri)
    graph = rdflib.Graph()
    graph.add((subject, RDF.type, AS.Tombstone))
    graph.add((subject, AS.deleted, date_time(moment)))
    for t in current.index.types:
        graph.add((subject, AS.formerType, rdflib.URIRef(t)))
    return StoredResource(
        iri=current.iri, container=current.container, kind="tombstone",
        ntriples=representation.ntriples(graph).decode("utf-8"), representations={},
        created=current.created, modified=moment, index=IndexFields(types=current.index.types))
