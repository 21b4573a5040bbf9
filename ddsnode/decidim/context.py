"""What the mapping of one import knows beyond the row at hand.

A :class:`Context` holds the platform, the pseudonymiser, the indexes built from files
read earlier (user groups, taxonomies, space slugs) and the resources that rows only
refer to: participants (handed to the importer as soon as a row names them, in
``pending``), the platform's operator and the schemes of older categories and scopes
(written at the end). It also resolves the references every
entity shares: authors, spaces and topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from rdflib import URIRef

from ddsnode.decidim.mapping import (
    Doc,
    Notes,
    Platform,
    Row,
    cell,
    document,
    id_in_url,
    id_list,
    languages,
    slugify,
)
from ddsnode.decidim.pseudonym import Pseudonymiser
from ddsnode.rdf.vocab import SKOS, ontology_graph

TOPIC_SCHEME = "https://w3id.org/dds/topic"
SPACE_SEGMENTS = {"processes": "process", "assemblies": "assembly",
                  "conferences": "conference", "initiatives": "initiative"}
LEGACY_SCHEMES = ("category", "scope", "area")  # Decidim < 0.28 classifications


@dataclass(frozen=True)
class Mapped:
    """One document made from a row: its ledger kind, its Decidim id and the document."""

    kind: str
    ident: str
    doc: Doc

    @property
    def iri(self) -> str:
        """The document's IRI."""
        return str(self.doc["id"])


@cache
def shared_topics() -> dict[str, str]:
    """Normalised label -> shared topic word, from ``ontology/schemes/topic.ttl``."""
    graph = ontology_graph()
    out: dict[str, str] = {}
    for concept in graph.subjects(SKOS.inScheme, URIRef(TOPIC_SCHEME)):
        word = str(concept).rsplit("/", 1)[-1]
        out[_norm(word)] = word
        for label in graph.objects(concept, SKOS.prefLabel):
            out[_norm(str(label))] = word
            for part in re.split(r",| and | et | y | i | und ", str(label)):
                if _norm(part):
                    out.setdefault(_norm(part), word)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


@dataclass
class Taxonomy:
    """A Decidim taxonomy item: its scheme (root id), parent and labels."""

    ident: str
    root: str
    parent: str | None
    labels: dict[str, str]
    weight: int = 0


@dataclass
class Context:
    """The state shared by the mapping of every row of one import."""

    platform: Platform
    pseudonyms: Pseudonymiser
    default_lang: str = "en"
    currency: str | None = None
    topic_map: dict[str, str] = field(default_factory=dict)  # name or id -> shared topic
    groups: dict[str, str] = field(default_factory=dict)  # user group id -> name
    taxonomies: dict[str, Taxonomy] = field(default_factory=dict)
    space_slugs: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, slug) -> id
    steps: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # API process steps
    participants: set[str] = field(default_factory=set)  # pseudonyms already made
    pending: list[Mapped] = field(default_factory=list)  # made, not yet handed over
    legacy: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    operator_name: str | None = None

    # --- agents --------------------------------------------------------------------

    def participant(self, user_id: str) -> str:
        """The IRI of a participant, registering its pseudonymous document (no name)."""
        key = self.pseudonyms.digest(user_id)
        nick = Pseudonymiser.nickname(key)
        iri = self.platform.resource("participants", "", key)
        if key not in self.participants:
            doc = document(iri, "Participant")
            doc["nickname"] = nick
            doc["sourcePlatform"] = self.platform.iri
            self.participants.add(key)
            self.pending.append(Mapped("participants", key, doc))
        return iri

    def group(self, group_id: str) -> str:
        """The IRI of a user group (an organisation: its name is public)."""
        return self.platform.resource("organisations", "group", group_id)

    def author(self, row: Row, notes: Notes, prefix: str = "author") -> tuple[str | None,
                                                                               str | None]:
        """(author IRI, meeting IRI) of a row: a meeting, the organisation, a group or a user.

        Decidim's ``author/id`` is ambiguous (organisations, users and meetings have ids of
        their own), so the kind is read from ``author/url`` and ``decidim_author_type``.
        """
        url = cell(row, f"{prefix}/url")
        ident = cell(row, f"{prefix}/id")
        kind = cell(row, "decidim_author_type", f"{prefix}/__typename") or ""
        meeting = id_in_url(url, "meetings")
        if meeting:
            return None, self.platform.resource("meetings", "", meeting)
        if self.platform.is_root(url) or kind.endswith("Organization"):
            name = cell(row, f"{prefix}/name")
            if name and not self.operator_name:
                self.operator_name = name
            return self.platform.operator, None
        if ident and (ident in self.groups or kind.endswith("UserGroup")):
            return self.group(ident), None
        if ident:
            return self.participant(ident), None
        return None, None

    # --- spaces and topics -----------------------------------------------------------

    def space_of(self, row: Row, url_columns: tuple[str, ...] = ()) -> str | None:
        """The space a row belongs to, from ``participatory_space/*`` or a URL of the row."""
        space_url = cell(row, "participatory_space/url")
        space_id = cell(row, "participatory_space/id")
        for url in (space_url, *(cell(row, c) for c in url_columns)):
            if not url:
                continue
            match = re.search(r"/(processes|assemblies|conferences|initiatives)/([^/?#]+)", url)
            if not match:
                continue
            kind = SPACE_SEGMENTS[match.group(1)]
            slug = match.group(2)
            if kind == "initiative":
                return self.platform.space(kind, re.sub(r"^i-", "", slug))
            ident = self.space_slugs.get((kind, slug))
            if ident is None and url is space_url and space_id:
                ident = space_id
            if ident is not None:
                return self.platform.space(kind, ident)
        return None

    def taxonomy_scheme(self, root: str) -> str:
        """The IRI of the ConceptScheme made from a root taxonomy."""
        return self.platform.resource("topics", "taxonomy", root)

    def concept(self, ident: str) -> str | None:
        """The concept IRI of a taxonomy item, if the taxonomies file described it."""
        item = self.taxonomies.get(ident)
        if item is None:
            return None
        return f"{self.taxonomy_scheme(item.root)}#t-{slugify(ident)}"

    def shared_topic(self, ident: str, labels: dict[str, str]) -> str | None:
        """The shared topic a platform concept matches: operator's map, then labels."""
        for key in (ident, *labels.values()):
            if key in self.topic_map:
                return self.topic_map[key]
        table = shared_topics()
        for label in labels.values():
            if _norm(label) in table:
                return table[_norm(label)]
        return None

    def topics(self, row: Row, notes: Notes) -> list[str]:
        """Topic IRIs of a row: its taxonomies (0.28+), or older category, scope and area."""
        out: list[str] = []
        for ident in id_list(cell(row, "taxonomies/ids", "taxonomies")):
            iri = self.concept(ident)
            if iri is None:
                notes.add(f"taxonomy {ident} is not in the taxonomies file; topic dropped")
                continue
            out.append(iri)
            item = self.taxonomies[ident]
            word = self.shared_topic(ident, item.labels)
            if word:
                out.append(f"ddstopic:{word}")
        for scheme in LEGACY_SCHEMES:
            legacy_id = cell(row, f"{scheme}/id")
            if not legacy_id:
                continue
            ident = legacy_id
            labels = languages(row, f"{scheme}/name", set(), rich=False) or {}
            known = self.legacy.setdefault(scheme, {})
            known.setdefault(ident, {}).update(labels)
            out.append(f"{self.platform.resource('topics', '', scheme)}#{slugify(ident)}")
            word = self.shared_topic(ident, known[ident])
            if word:
                out.append(f"ddstopic:{word}")
        return sorted(set(out))
