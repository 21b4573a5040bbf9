"""The kinds of geopolitical unit (``dds:gpUnitType``) as a SKOS scheme, for labels.

``ontology/schemes/unit-kind.ttl`` holds one concept per kind: NIST SP 1500-100
ReportingUnitType values and three European kinds, each with its word (``skos:notation``,
what a document writes as ``gpUnitType``) and labels in en, fr, ca and es. Read from that
file, never typed here, so a page can say "bureau de vote" where the data says
``polling-place``.
"""

from __future__ import annotations

from functools import cache

import rdflib

from ddsnode import resources
from ddsnode.rdf.vocab import SKOS

SCHEME = "https://w3id.org/dds/unit-kind"
NIST_OTHER = ("region", "province", "electoral-district")  # not NIST values (export: other)


@cache
def unit_kinds() -> dict[str, dict[str, str]]:
    """Word -> {language: label} for every kind of the scheme."""
    graph = rdflib.Graph().parse(resources.ontology_dir() / "schemes" / "unit-kind.ttl")
    out: dict[str, dict[str, str]] = {}
    for concept in graph.subjects(SKOS.inScheme, rdflib.URIRef(SCHEME)):
        word = str(graph.value(concept, SKOS.notation))
        out[word] = {o.language: str(o) for o in graph.objects(concept, SKOS.prefLabel)
                     if isinstance(o, rdflib.Literal) and o.language}
    return out


def unit_kind_label(word: str, lang: str) -> str:
    """The label of ``word`` in ``lang``, else English, else the word as written."""
    labels = unit_kinds().get(word, {})
    return labels.get(lang) or labels.get("en") or word


def concept_iri(word: str) -> str | None:
    """The concept of ``word`` (``https://w3id.org/dds/unit-kind/polling-place``), or None."""
    return f"{SCHEME}/{word}" if word in unit_kinds() else None
