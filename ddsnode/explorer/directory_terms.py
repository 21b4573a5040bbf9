"""The words of the directory: clusters, IAP2 levels and kinds of organisation.

Clusters and IAP2 levels are the concepts of ``ontology/schemes/cluster.ttl`` and
``ontology/schemes/iap2.ttl``, loaded from those files (never typed here): their
notation is the word a document and a URL write, their ``skos:prefLabel`` what a reader
sees. The spreadsheet import also accepts their labels and a few synonyms in the four
interface languages (:data:`CLUSTER_SYNONYMS`, :data:`LEVEL_SYNONYMS`).

Kinds of organisation have no shared scheme: the node publishes its own small one
(:func:`kind_scheme_document`, at ``<base>topics/organisation-kinds``), and an
organisation points at a concept of it with ``org:classification`` (W3C ORG 5.2).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import rdflib

from ddsnode import resources
from ddsnode.rdf.vocab import SKOS

KIND_SCHEME_PATH = "topics/organisation-kinds"


@dataclass(frozen=True)
class Concept:
    """One concept of a scheme: its IRI, its word (notation) and labels by language."""

    iri: str
    word: str
    labels: dict[str, str]

    def label(self, lang: str) -> str:
        """The label in ``lang``, else English, else the word."""
        return self.labels.get(lang) or self.labels.get("en") or self.word


@dataclass(frozen=True)
class Scheme:
    """A scheme's concepts in the order of ``skos:hasTopConcept`` as written in the file."""

    iri: str
    concepts: tuple[Concept, ...]

    def by_iri(self, iri: str) -> Concept | None:
        """The concept with this IRI, or None."""
        return next((c for c in self.concepts if c.iri == iri), None)

    def by_word(self, word: str) -> Concept | None:
        """The concept with this notation, or None."""
        return next((c for c in self.concepts if c.word == word), None)


def fold(text: str) -> str:
    """Lower case, no accents, words separated by one space (header and value matching)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() else " " for ch in plain)
    return " ".join(cleaned.split())


def _load(name: str) -> Scheme:
    path = resources.ontology_dir() / "schemes" / f"{name}.ttl"
    graph = rdflib.Graph()
    graph.parse(path, format="turtle")
    scheme = next(graph.subjects(rdflib.RDF.type, SKOS.ConceptScheme))
    # The file lists the top concepts in their order (cluster 1..5, IAP2 low to high);
    # rdflib does not keep triple order, so read it back from the text.
    text = path.read_text(encoding="utf-8")
    concepts = []
    for concept in graph.subjects(SKOS.inScheme, scheme):
        labels = {v.language or "en": str(v) for v in graph.objects(concept, SKOS.prefLabel)
                  if isinstance(v, rdflib.Literal)}
        word = str(graph.value(concept, SKOS.notation))
        concepts.append(Concept(str(concept), word, labels))
    concepts.sort(key=lambda c: text.find(f":{c.word} a skos:Concept"))
    return Scheme(str(scheme), tuple(concepts))


@cache
def clusters() -> Scheme:
    """The five clusters of participatory activity in digital governance."""
    return _load("cluster")


@cache
def levels() -> Scheme:
    """The five levels of the IAP2 spectrum, lowest first."""
    return _load("iap2")


# Catalan and Spanish labels (the scheme files carry English and French) and short
# forms a spreadsheet uses. Keys are folded (:func:`fold`).
CLUSTER_SYNONYMS: dict[str, str] = {
    "strategy": "digitalStrategy", "digital strategy": "digitalStrategy",
    "policy": "digitalStrategy", "strategie numerique": "digitalStrategy",
    "estrategia digital": "digitalStrategy", "estrategia i politiques digitals": "digitalStrategy",
    "estrategia y politicas digitales": "digitalStrategy",
    "co design": "publicServiceCodesign", "codesign": "publicServiceCodesign",
    "public services": "publicServiceCodesign", "services publics": "publicServiceCodesign",
    "co conception": "publicServiceCodesign", "codisseny de serveis publics digitals":
    "publicServiceCodesign", "codiseno de servicios publicos digitales": "publicServiceCodesign",
    "regulation": "technologyRegulation", "regulation des technologies": "technologyRegulation",
    "regulacio de la tecnologia": "technologyRegulation",
    "regulacion de la tecnologia": "technologyRegulation",
    "public interest": "publicInterestTechnology", "interet general": "publicInterestTechnology",
    "foundational technologies": "publicInterestTechnology",
    "interes public": "publicInterestTechnology", "interes publico": "publicInterestTechnology",
    "oversight": "oversightAndRedress", "audit": "oversightAndRedress",
    "redress": "oversightAndRedress", "controle": "oversightAndRedress",
    "recours": "oversightAndRedress", "supervisio auditoria i reparacio": "oversightAndRedress",
    "supervision auditoria y reparacion": "oversightAndRedress",
}
LEVEL_SYNONYMS: dict[str, str] = {
    "informar": "inform", "information": "inform",
    "consultar": "consult", "consultation": "consult", "consulta": "consult",
    "implicar": "involve", "involucrar": "involve", "implication": "involve",
    "collaborar": "collaborate", "col laborar": "collaborate", "colaborar": "collaborate",
    "collaboration": "collaborate",
    "empoderar": "empower", "apoderar": "empower", "habilitation": "empower",
}


def _lookup(scheme: Scheme, synonyms: dict[str, str], text: str) -> Concept | None:
    key = fold(text)
    if not key:
        return None
    if key.isdigit() and 1 <= int(key) <= len(scheme.concepts):
        return scheme.concepts[int(key) - 1]  # "3": the third cluster / level
    for concept in scheme.concepts:
        if key in {fold(concept.word), *(fold(v) for v in concept.labels.values())}:
            return concept
    word = synonyms.get(key)
    return scheme.by_word(word) if word else None


def cluster_of(text: str) -> Concept | None:
    """The cluster a spreadsheet cell names (word, label in en/fr, synonym, 1-5), or None."""
    return _lookup(clusters(), CLUSTER_SYNONYMS, text)


def level_of(text: str) -> Concept | None:
    """The IAP2 level a spreadsheet cell names (word, label in en/fr, synonym, 1-5), or None."""
    return _lookup(levels(), LEVEL_SYNONYMS, text)


# Kinds of organisation: word -> labels (en, fr, ca, es) and folded synonyms.
KINDS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "government": ({"en": "national government", "fr": "gouvernement national",
                    "ca": "govern estatal", "es": "gobierno nacional"},
                   ("government", "gouvernement", "ministry", "ministere", "govern", "gobierno",
                    "central government", "national government", "etat", "state")),
    "localGovernment": ({"en": "local or regional government", "fr": "collectivité territoriale",
                         "ca": "govern local o regional", "es": "gobierno local o regional"},
                        ("local government", "city", "municipality", "region", "collectivite",
                         "collectivite territoriale", "ville", "commune", "metropole",
                         "ajuntament", "ayuntamiento", "local", "regional government")),
    "parliament": ({"en": "parliament", "fr": "parlement", "ca": "parlament", "es": "parlamento"},
                   ("parliament", "parlement", "parlament", "parlamento", "assembly",
                    "legislature")),
    "regulator": ({"en": "regulator or independent authority", "fr": "autorité indépendante",
                   "ca": "autoritat independent", "es": "autoridad independiente"},
                  ("regulator", "independent authority", "autorite independante", "aai",
                   "ombudsman", "defenseur des droits", "autoritat", "autoridad")),
    "civilSociety": ({"en": "civil society", "fr": "société civile", "ca": "societat civil",
                      "es": "sociedad civil"},
                     ("civil society", "ngo", "cso", "association", "societe civile", "ong",
                      "societat civil", "sociedad civil", "non profit", "nonprofit")),
    "academia": ({"en": "academia and research", "fr": "recherche et université",
                  "ca": "recerca i universitat", "es": "investigación y universidad"},
                 ("academia", "university", "research", "universite", "recherche",
                  "universitat", "universidad", "think tank")),
    "international": ({"en": "international organisation", "fr": "organisation internationale",
                       "ca": "organització internacional", "es": "organización internacional"},
                      ("international", "international organisation",
                       "international organization", "organisation internationale", "igo",
                       "multilateral")),
    "privateSector": ({"en": "private sector", "fr": "secteur privé", "ca": "sector privat",
                       "es": "sector privado"},
                      ("private", "private sector", "company", "business", "entreprise",
                       "secteur prive", "empresa", "sector privat", "sector privado")),
}


def kind_of(text: str) -> str | None:
    """The kind word a spreadsheet cell names (word, label or synonym), or None."""
    key = fold(text)
    for word, (labels, synonyms) in KINDS.items():
        if key in {fold(word), *(fold(v) for v in labels.values()), *synonyms}:
            return word
    return None


def kind_label(word: str, lang: str) -> str:
    """A kind's label in ``lang`` (the word itself for a kind another node made up)."""
    entry = KINDS.get(word)
    return (entry[0].get(lang) or entry[0]["en"]) if entry else word


def kind_iri(base: str, word: str) -> str:
    """The IRI of kind ``word`` in the scheme this node publishes."""
    return f"{base}{KIND_SCHEME_PATH}#{word}"


def kind_scheme_document(base: str) -> dict[str, object]:
    """The JSON-LD of this node's scheme of kinds of organisation (written by the import)."""
    scheme = f"{base}{KIND_SCHEME_PATH}"
    concepts = [{"id": kind_iri(base, word), "type": "Concept", "notation": word,
                 "prefLabel": labels, "inScheme": scheme}
                for word, (labels, _) in KINDS.items()]
    return {"@context": resources.CONTEXT_IRI, "id": scheme, "type": "ConceptScheme",
            "title": {"en": "Kinds of organisation", "fr": "Types d'organisation",
                      "ca": "Tipus d'organització", "es": "Tipos de organización"},
            "topConcepts": concepts}
