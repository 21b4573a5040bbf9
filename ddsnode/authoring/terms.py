"""Which IRIs a tree declares, and which IRIs its context terms expand to.

A term is *declared* when the ontology gives it ``rdfs:isDefinedBy`` or types it as a
class, a property or a SKOS concept: our own ``dds:`` terms in the modules, concepts in
the schemes, and external terms listed in ``ontology/external.ttl``.
"""

from __future__ import annotations

from typing import Any

import rdflib

from ddsnode.rdf.vocab import DDS_NS, OWL, RDF, RDFS, SH, SKOS, XSD

DECLARING_TYPES = frozenset({
    RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
    OWL.FunctionalProperty, OWL.TransitiveProperty, OWL.SymmetricProperty,
    OWL.InverseFunctionalProperty, OWL.Class, RDFS.Class, RDFS.Datatype,
    SKOS.Concept, SKOS.ConceptScheme})
CLASS_TYPES = frozenset({OWL.Class, RDFS.Class})
PROPERTY_TYPES = DECLARING_TYPES - CLASS_TYPES - {SKOS.Concept, SKOS.ConceptScheme,
                                                   RDFS.Datatype}
# The languages RDF data is written in, not vocabularies it uses: never need declaring.
BUILT_IN = (str(RDF), str(RDFS), str(OWL), str(XSD), str(SH))
OURS = "https://w3id.org/dds/"


def declared_terms(ontology: rdflib.Graph) -> set[rdflib.URIRef]:
    """Every IRI the ontology declares (isDefinedBy, or typed as class/property/concept)."""
    declared = {s for s in ontology.subjects(RDFS.isDefinedBy, None)}
    for kind in DECLARING_TYPES:
        declared.update(ontology.subjects(RDF.type, kind))
    return {s for s in declared if isinstance(s, rdflib.URIRef)}


def is_known(iri: rdflib.URIRef, declared: set[rdflib.URIRef]) -> bool:
    """Declared, or a built-in term of RDF, RDFS, OWL, XSD or SHACL."""
    return iri in declared or str(iri).startswith(BUILT_IN)


def our_classes(ontology: rdflib.Graph) -> list[rdflib.URIRef]:
    """The ``dds:`` classes, sorted."""
    found = {s for kind in CLASS_TYPES for s in ontology.subjects(RDF.type, kind)}
    return sorted(s for s in found if isinstance(s, rdflib.URIRef) and s.startswith(DDS_NS))


def our_properties(ontology: rdflib.Graph) -> list[rdflib.URIRef]:
    """The ``dds:`` properties, sorted."""
    found = {s for kind in PROPERTY_TYPES for s in ontology.subjects(RDF.type, kind)}
    return sorted(s for s in found if isinstance(s, rdflib.URIRef) and s.startswith(DDS_NS))


def our_concepts(ontology: rdflib.Graph) -> list[rdflib.URIRef]:
    """The SKOS concepts under ``https://w3id.org/dds/``, sorted."""
    return sorted(s for s in set(ontology.subjects(RDF.type, SKOS.Concept))
                  if isinstance(s, rdflib.URIRef) and s.startswith(OURS))


def _expand(value: str, context: dict[str, Any]) -> str | None:
    """A context value (term, compact IRI or IRI) as an absolute IRI; None for keywords."""
    if value.startswith("@"):
        return None
    prefix, sep, rest = value.partition(":")
    if sep and not rest.startswith("//"):
        definition = context.get(prefix)
        base = definition if isinstance(definition, str) else (
            definition.get("@id") if isinstance(definition, dict) else None)
        if isinstance(base, str) and base != value:
            expanded = _expand(base, context)
            return None if expanded is None else expanded + rest
    if sep:
        return value
    definition = context.get(value)
    if isinstance(definition, str) and definition != value:
        return _expand(definition, context)
    return None


def is_prefix(value: Any) -> bool:
    """Whether a context entry is a namespace prefix (an IRI ending in ``/`` or ``#``)."""
    return isinstance(value, str) and value.endswith(("/", "#")) and "://" in value


def context_terms(context: dict[str, Any]) -> dict[str, str]:
    """Term -> the absolute IRI it expands to (keywords and namespace prefixes left out)."""
    terms: dict[str, str] = {}
    for term, definition in context.items():
        if term.startswith("@") or is_prefix(definition):
            continue
        raw = definition.get("@id") if isinstance(definition, dict) else definition
        if not isinstance(raw, str):
            continue
        iri = _expand(raw, context)
        if iri is not None:
            terms[term] = iri
    return terms


def context_datatypes(context: dict[str, Any]) -> dict[str, str]:
    """Term -> the absolute IRI of its ``@type`` coercion, for datatype-coerced terms."""
    types: dict[str, str] = {}
    for term, definition in context.items():
        if isinstance(definition, dict) and isinstance(definition.get("@type"), str):
            iri = _expand(definition["@type"], context)
            if iri is not None:
                types[term] = iri
    return types


def iris_in(graph: rdflib.Graph, namespace: str) -> set[rdflib.URIRef]:
    """Every IRI under ``namespace`` used anywhere in ``graph``."""
    return {node for triple in graph for node in triple
            if isinstance(node, rdflib.URIRef) and str(node).startswith(namespace)}


def compact(iri: object, prefixes: dict[str, str]) -> str:
    """``prefix:local`` with the longest matching namespace, else ``<iri>``."""
    text = str(iri)
    fits = [(len(ns), p) for p, ns in prefixes.items() if text.startswith(ns) and text != ns]
    if not fits:
        return f"<{text}>"
    length, prefix = max(fits)
    return f"{prefix}:{text[length:]}"
