"""Vocabulary terms loaded from ``ontology/``, so no IRI of ours is typed by hand.

``DDS.Proposal`` is the IRI of the class as the ontology declares it; a term the
ontology does not declare raises AttributeError, so code and ontology cannot drift.
"""

from __future__ import annotations

from functools import cache

import rdflib
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD

from ddsnode import resources

DDS_NS = "https://w3id.org/dds/ns#"
SHAPES_NS = "https://w3id.org/dds/shapes#"
LDP = rdflib.Namespace("http://www.w3.org/ns/ldp#")
SOLID = rdflib.Namespace("http://www.w3.org/ns/solid/terms#")
AS = rdflib.Namespace("https://www.w3.org/ns/activitystreams#")
SCHEMA = rdflib.Namespace("https://schema.org/")
ODRL = rdflib.Namespace("http://www.w3.org/ns/odrl/2/")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
GEO = rdflib.Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")
LOCN = rdflib.Namespace("http://www.w3.org/ns/locn#")
SEC = rdflib.Namespace("https://w3id.org/security#")  # node keys (Security Vocabulary)

__all__ = ["DDS", "AS", "DCAT", "DCTERMS", "FOAF", "LDP", "ORG", "OWL", "PROV", "RDF", "RDFS",
           "SKOS", "XSD", "SOLID", "SCHEMA", "ODRL", "SH", "GEO", "LOCN", "SEC", "ontology_graph",
           "DDS_NS", "SHAPES_NS"]


@cache
def ontology_graph() -> rdflib.Graph:
    """Every ontology file parsed into one graph (modules, schemes, alignment)."""
    from ddsnode.rdf import rdfio  # pyoxigraph's parser: about 5x rdflib's, on every start

    g = rdflib.Graph()
    for path in resources.ontology_files():
        for triple in rdfio.parse(path.read_bytes(), "turtle", base=path.as_uri()):
            g.add(triple)
    return g


class _DeclaredNamespace:
    """A namespace whose terms are the subjects the ontology declares under it."""

    def __init__(self, base: str) -> None:
        self._base = base

    @property
    def terms(self) -> frozenset[str]:
        """Local names the ontology declares."""
        return _declared(self._base)

    def __getattr__(self, name: str) -> rdflib.URIRef:
        # A name written in the code (DDS.Proposal) is checked against ontology/ by
        # tests/test_vocab.py, so importing a module never parses the ontology (it cost
        # every process 0.25-0.5 s, issue 11); names computed at run time go through
        # __getitem__, which checks them.
        if name.startswith("_"):
            raise AttributeError(name)
        return rdflib.URIRef(self._base + name)

    def __getitem__(self, name: str) -> rdflib.URIRef:
        if name not in _declared(self._base):
            raise KeyError(f"{self._base}{name} is not declared in ontology/")
        return rdflib.URIRef(self._base + name)


@cache
def _declared(base: str) -> frozenset[str]:
    g = ontology_graph()
    return frozenset(str(s)[len(base):] for s in set(g.subjects())
                     if isinstance(s, rdflib.URIRef) and str(s).startswith(base))


DDS = _DeclaredNamespace(DDS_NS)
