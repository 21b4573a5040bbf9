"""What the documentation pages show: the ontology, shapes and examples of a tree, read once.

:class:`Catalog` answers the questions every page asks (a term's label in a language, its
page, its JSON-LD term); ``docs.py`` turns the answers into HTML.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import rdflib
from rdflib.term import Node

from ddsnode.authoring.html import esc, link
from ddsnode.authoring.manifest import prefixes_of, render_path
from ddsnode.authoring.sources import Sources
from ddsnode.authoring.terms import (
    OURS,
    compact,
    context_datatypes,
    context_terms,
    our_classes,
    our_properties,
)
from ddsnode.problem import Problem
from ddsnode.rdf.vocab import DCTERMS, OWL, RDF, RDFS, SCHEMA, SKOS

# rdfs:domain/range, and schema.org's looser "includes" that several of our modules use.
DOMAINS = (RDFS.domain, SCHEMA.domainIncludes)
RANGES = (RDFS.range, SCHEMA.rangeIncludes)
ALIGNMENT = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch,
             SKOS.relatedMatch, OWL.equivalentClass, OWL.equivalentProperty)


def sort_key(text: str) -> str:
    """Case- and accent-insensitive order, so that "Élection" sorts with the E's."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


@dataclass
class Catalog:
    """What the pages show, gathered once for every language."""

    src: Sources
    onto: rdflib.Graph
    shapes: rdflib.Graph
    prefixes: dict[str, str]
    classes: list[rdflib.URIRef]
    properties: list[rdflib.URIRef]
    schemes: list[rdflib.URIRef]
    modules: dict[str, rdflib.Graph]
    examples: dict[str, rdflib.Graph] = field(default_factory=dict)
    json_terms: dict[str, list[str]] = field(default_factory=dict)
    term_types: dict[str, str] = field(default_factory=dict)
    # (term, lang, up) -> its link: a site links the same terms from page after page
    # (a label is a scan of the term's literals), and the catalogue is read-only once
    # loaded. At most one entry per term, language and depth of the site.
    _refs: dict[tuple[Node, str, str], str] = field(default_factory=dict, repr=False,
                                                    compare=False)

    @classmethod
    def load(cls, src: Sources) -> Catalog:
        """Read the tree: ontology, shapes, context prefixes and parseable examples."""
        onto = src.ontology
        modules = {src.relative(p): src.file_graph(p) for p in src.ontology_files()}
        schemes = sorted(s for s in set(onto.subjects(RDF.type, SKOS.ConceptScheme))
                         if isinstance(s, rdflib.URIRef))
        catalog = cls(src, onto, src.shapes, prefixes_of(src.context), our_classes(onto),
                      our_properties(onto), schemes, modules)
        for term, iri in context_terms(src.context).items():
            catalog.json_terms.setdefault(iri, []).append(term)
        catalog.term_types = context_datatypes(src.context)
        for path in src.example_files():
            try:
                catalog.examples[path.name] = src.parse_example(path)
            except Problem:
                continue  # `ddsnode ontology check` reports it; the docs just leave it out
        return catalog

    def curie(self, iri: Node) -> str:
        """``prefix:local`` when a context prefix fits, else the IRI."""
        text = compact(iri, self.prefixes)
        return text[1:-1] if text.startswith("<") else text

    def text(self, term: Node, predicate: rdflib.URIRef, lang: str) -> str | None:
        """The ``predicate`` literal of ``term`` in ``lang``, else English, else untagged."""
        values = {o.language or "": str(o) for o in self.onto.objects(term, predicate)
                  if isinstance(o, rdflib.Literal)}
        return next((values[k] for k in (lang, "en", "") if k in values), None)

    def label(self, term: Node, lang: str) -> str:
        """A display label: rdfs:label, skos:prefLabel, dct:title, else the compact IRI."""
        for predicate in (RDFS.label, SKOS.prefLabel, DCTERMS.title):
            found = self.text(term, predicate, lang)
            if found:
                return found
        return self.curie(term)

    def page_of(self, term: Node) -> str | None:
        """The page of ``term`` relative to a language folder, None when it has none."""
        if term in self.classes:
            return f"class/{slug(term)}.html"
        if term in self.properties:
            return f"property/{slug(term)}.html"
        if term in self.schemes:
            return f"scheme/{scheme_slug(term)}.html"
        scheme = self.onto.value(term, SKOS.inScheme)
        if scheme is not None and scheme in self.schemes:
            return f"scheme/{scheme_slug(scheme)}.html#{slug(term)}"
        return None

    def ref(self, term: Node, lang: str, up: str) -> str:
        """A link to ``term``: its page, else the IRI itself (external terms)."""
        key = (term, lang, up)
        found = self._refs.get(key)
        if found is None:
            found = self._refs[key] = self._ref(term, lang, up)
        return found

    def _ref(self, term: Node, lang: str, up: str) -> str:
        if isinstance(term, rdflib.Literal):
            return f"<code>{esc(term)}</code>"
        if isinstance(term, rdflib.BNode):  # a path: inverse, sequence, ...
            return esc(render_path(self.shapes, term))
        if not isinstance(term, rdflib.URIRef):
            return ""
        target = self.page_of(term)
        if target is not None:
            return link(up + target, self.label(term, lang))
        return link(str(term), self.curie(term), external=True)

    def json_term(self, iri: Node, datatype: Node | None = None) -> str:
        """The context term(s) a JSON document writes for ``iri``, as HTML (may be empty).

        Two terms may share an IRI and differ by datatype (``startDate``/``startTime``);
        given the datatype a shape requires, only the term coercing to it is shown.
        """
        terms = self.json_terms.get(str(iri), [])
        if datatype is not None:
            terms = [t for t in terms if self.term_types.get(t) == str(datatype)] or terms
        return " / ".join(f'<code class="term">{esc(t)}</code>' for t in terms)

    def module_of(self, term: Node) -> str:
        """The ontology file where ``term`` is declared."""
        return next((name for name, g in self.modules.items()
                     if (term, RDF.type, None) in g), "")


def slug(term: Node) -> str:
    """A term's page name and anchor: its local name, made safe for a file name."""
    local = re.split(r"[#/]", str(term).rstrip("/#"))[-1]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", local) or "_"


def scheme_slug(scheme: Node) -> str:
    """A scheme's file name: its path under our base, so aligned schemes never collide."""
    text = str(scheme).rstrip("/#")
    text = text.removeprefix(OURS) if text.startswith(OURS) else text.split("://", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "_"


def objects(g: rdflib.Graph, s: Node, p: rdflib.URIRef) -> list[Node]:
    """The objects of ``s p ?o``, sorted, so that pages come out the same every time."""
    return sorted(g.objects(s, p), key=str)


def subjects(g: rdflib.Graph, p: rdflib.URIRef, o: Node) -> list[Node]:
    """The subjects of ``?s p o``, sorted."""
    return sorted(g.subjects(p, o), key=str)
