"""What a node says about itself: the root description, its type index, and discovery.

* ``GET /`` — the root container (LDP 5.2) is also the node's description: a
  ``dcat:DataService`` with name, operator, licence and ontology version, a
  ``pim:Storage`` (Solid Protocol 0.11, 4.1), and a public type index
  (``solid:TypeRegistration`` with ``solid:forClass`` and ``solid:instanceContainer``,
  Solid Type Indexes) so clients find where each class lives.
* ``GET /.well-known/solid`` — the storage description resource (Solid Protocol 0.11,
  4.1.2), linked from every response with ``rel="…solid/terms#storageDescription"``.
* ``GET /.well-known/void`` — a VoID description (VoID 7, RFC 5785 registration):
  SPARQL endpoint, root resource, vocabulary, licence.

The ontology, shapes and context are served at local paths (``/ns``, ``/shapes``,
``/context/v1``); their w3id IRIs redirect there.
"""

from __future__ import annotations

from functools import cache

import rdflib
from rdflib.namespace import VOID

from ddsnode import resources
from ddsnode.ldp.containers import ContainerRegistry
from ddsnode.paths import (
    CONTEXT_PATH,
    FEED_PATH,
    INBOX_PATH,
    SPARQL_PATH,
    WELL_KNOWN_SOLID,
    WELL_KNOWN_VOID,
)
from ddsnode.rdf.vocab import AS, DCAT, DCTERMS, DDS, FOAF, LDP, OWL, RDF, SEC, SOLID
from ddsnode.settings import Settings
from ddsnode.store.node_key import public_pem

PIM = rdflib.Namespace("http://www.w3.org/ns/pim/space#")
STORAGE_DESCRIPTION_REL = str(SOLID.storageDescription)
# Specifications a node conforms to, stated with dct:conformsTo.
SPECS = ("http://www.w3.org/TR/ldp/", "https://solidproject.org/TR/protocol",
         "https://www.w3.org/TR/sparql11-protocol/")


def context_url(base_url: str) -> str:
    """Where the node at ``base_url`` serves the shared context: the ``@context`` its
    compacted documents name (a client needs nothing but the node to read them)."""
    return base_url + CONTEXT_PATH


@cache
def ontology_version() -> rdflib.URIRef | None:
    """The ontology's owl:versionIRI (e.g. ``https://w3id.org/dds/ns/0.1.0``), if declared."""
    from ddsnode.rdf.vocab import ontology_graph
    graph = ontology_graph()
    for ontology in (resources.ONTOLOGY_IRI, resources.ONTOLOGY_IRI + "#",
                     resources.ONTOLOGY_IRI + "/"):
        version = graph.value(rdflib.URIRef(ontology), OWL.versionIRI)
        if isinstance(version, rdflib.URIRef):
            return version
    return None


def container_triples(graph: rdflib.Graph, iri: rdflib.URIRef, title: str,
                      shapes: tuple[rdflib.URIRef, ...] = ()) -> None:
    """Add what every container says of itself: LDP types, title, governing shapes."""
    graph.add((iri, RDF.type, LDP.Container))
    graph.add((iri, RDF.type, LDP.BasicContainer))
    if title:
        graph.add((iri, DCTERMS.title, rdflib.Literal(title, lang="en")))
    for shape in shapes:
        # LDP 4.2.1.6: the constraints a server puts on writes to this container.
        graph.add((iri, LDP.constrainedBy, shape))


def node_description(settings: Settings, containers: ContainerRegistry) -> rdflib.Graph:
    """The root container's own graph: node, storage, DCAT service and public type index."""
    base = settings.base_url
    node = rdflib.URIRef(base)
    g = rdflib.Graph()
    container_triples(g, node, settings.name)
    for cls in (PIM.Storage, DCAT.DataService, DDS.Node, SOLID.TypeIndex, SOLID.ListedDocument):
        g.add((node, RDF.type, cls))
    g.add((node, FOAF.name, rdflib.Literal(settings.name)))
    g.add((node, DCAT.endpointURL, node))
    g.add((node, DCTERMS.license, rdflib.URIRef(settings.license)))
    g.add((node, SOLID.publicTypeIndex, node))
    g.add((node, DCAT.endpointDescription, rdflib.URIRef(base + WELL_KNOWN_VOID)))
    version = ontology_version()
    g.add((node, DCTERMS.conformsTo, version or rdflib.URIRef(resources.ONTOLOGY_IRI)))
    g.add((node, DCTERMS.conformsTo, rdflib.URIRef(resources.SHAPES_IRI)))
    for spec in SPECS:
        g.add((node, DCTERMS.conformsTo, rdflib.URIRef(spec)))
    if settings.operator or settings.operator_url:
        operator = rdflib.URIRef(base + "#operator")
        g.add((node, DCTERMS.publisher, operator))
        g.add((operator, RDF.type, FOAF.Organization))
        if settings.operator:
            g.add((operator, FOAF.name, rdflib.Literal(settings.operator)))
        if settings.operator_url:
            g.add((operator, FOAF.homepage, rdflib.URIRef(settings.operator_url)))
    sparql = rdflib.URIRef(base + SPARQL_PATH)
    g.add((sparql, RDF.type, DCAT.DataService))
    g.add((sparql, DCAT.endpointURL, sparql))
    g.add((sparql, DCTERMS.conformsTo, rdflib.URIRef(SPECS[2])))
    g.add((node, DCAT.servesDataset, rdflib.URIRef(base + "#dataset")))
    _federation_triples(g, settings)
    for container in containers:
        if container.private:
            continue  # a private container is not advertised
        for cls in container.classes:
            local = str(cls).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            registration = rdflib.URIRef(f"{base}#type-{local}")
            g.add((registration, RDF.type, SOLID.TypeRegistration))
            g.add((registration, SOLID.forClass, cls))
            g.add((registration, SOLID.instanceContainer, rdflib.URIRef(base + container.path)))
    return g


def _federation_triples(graph: rdflib.Graph, settings: Settings) -> None:
    """What peers read in a node description: public key, LDN inbox, change feed."""
    if settings.node_dir is None:
        return
    pem = public_pem(settings)  # DIR/node-key.pem, or the node state on PostgreSQL
    if pem is not None:
        describe_node(graph, settings.base_url, pem)


def describe_node(graph: rdflib.Graph, base: str, key_pem: str) -> None:
    """Add to our own description what peers read: key, inbox and change feed."""
    node = rdflib.URIRef(base)
    key = rdflib.URIRef(base + "#main-key")
    graph.add((node, LDP.inbox, rdflib.URIRef(base + INBOX_PATH)))
    graph.add((node, AS.outbox, rdflib.URIRef(base + FEED_PATH)))
    graph.add((node, SEC.publicKey, key))
    graph.add((key, SEC.owner, node))
    graph.add((key, SEC.controller, node))
    graph.add((key, SEC.publicKeyPem, rdflib.Literal(key_pem)))


def storage_description(settings: Settings) -> rdflib.Graph:
    """The Solid storage description (``/.well-known/solid``)."""
    base = settings.base_url
    node = rdflib.URIRef(base)
    g = rdflib.Graph()
    g.add((node, RDF.type, PIM.Storage))
    g.add((node, SOLID.publicTypeIndex, node))
    g.add((node, VOID.sparqlEndpoint, rdflib.URIRef(base + SPARQL_PATH)))
    g.add((rdflib.URIRef(base + WELL_KNOWN_SOLID), DCTERMS.subject, node))
    return g


def void_description(settings: Settings) -> rdflib.Graph:
    """The VoID dataset description (``/.well-known/void``)."""
    base = settings.base_url
    dataset = rdflib.URIRef(base + "#dataset")
    g = rdflib.Graph()
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, rdflib.Literal(settings.name)))
    g.add((dataset, DCTERMS.license, rdflib.URIRef(settings.license)))
    g.add((dataset, VOID.sparqlEndpoint, rdflib.URIRef(base + SPARQL_PATH)))
    g.add((dataset, VOID.rootResource, rdflib.URIRef(base)))
    g.add((dataset, VOID.uriSpace, rdflib.Literal(base)))
    g.add((dataset, VOID.vocabulary, rdflib.URIRef(resources.ONTOLOGY_IRI)))
    g.add((dataset, DCTERMS.conformsTo, rdflib.URIRef(resources.SHAPES_IRI)))
    return g


@cache
def ontology_document() -> rdflib.Graph:
    """The ontology (every module, scheme and alignment) as one graph, served at ``/ns``."""
    from ddsnode.rdf.vocab import ontology_graph
    return ontology_graph()


@cache
def shapes_document() -> rdflib.Graph:
    """The shapes graph, served at ``/shapes``."""
    from ddsnode.validation.shapes import shapes_graph
    return shapes_graph()
