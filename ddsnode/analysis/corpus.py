"""The contributions an analysis reads: proposals and comments, from the store or the peer cache.

Each is reduced to what the methods need (texts per language with the machine-translated
ones flagged, stance, thread parent, platform, topics, counts), straight from the stored
N-Triples through pyoxigraph: an rdflib graph per resource would cost more than the
analysis itself on 100,000 contributions. Withdrawn contributions are left out, so they
leave every output at the next run, as deleted ones do (the store no longer lists them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from ddsnode.analysis import text as textmod
from ddsnode.store.base import Store

DDS = "https://w3id.org/dds/ns#"
_TITLE = "http://purl.org/dc/terms/title"
_BODY = "https://schema.org/text"
_CREATED = "http://purl.org/dc/terms/created"
_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_REPLY = "https://www.w3.org/ns/activitystreams#inReplyTo"
_STANCE_NS = "https://w3id.org/dds/stance/"
_WITHDRAWN = "https://w3id.org/dds/state/withdrawn"
CONTAINERS = ("proposals/", "comments/")
PAGE = 500


@dataclass
class Contribution:
    """One contribution as the analysis sees it."""

    iri: str
    kind: str  # local name of its main type: Proposal, Comment, Debate, Amendment
    texts: dict[str, str] = field(default_factory=dict)  # language -> title + body
    machine: set[str] = field(default_factory=set)  # languages that are machine translations
    stance: str | None = None  # inFavour | neutral | against
    reply_to: str | None = None
    platform: str = ""
    topics: tuple[str, ...] = ()
    created: str = ""
    support_count: int | None = None
    votes_against: int | None = None
    # language -> its text as analysis tokens (text.analyse_text), kept by snapshot.py so
    # that a run does not tokenise 100,000 unchanged texts again; not part of the digest
    analysed: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def tokens(self, lang: str) -> str:
        """Its text in ``lang`` as the space-joined tokens the vectorisers read."""
        found = self.analysed.get(lang)
        if found is None:
            found = self.analysed[lang] = textmod.analyse_text(self.texts[lang], lang)
        return found

    @property
    def language(self) -> str:
        """The original language: the first one not machine-translated (detected if untagged)."""
        originals = sorted(lang for lang in self.texts if lang not in self.machine)
        if "" in originals:
            return ""
        return originals[0] if originals else min(self.texts, default="")

    @property
    def original(self) -> str:
        """The text in the original language."""
        return self.texts.get(self.language, "")

    def digest(self) -> str:
        """SHA-256 of what the analysis reads of it (a change means re-analyse)."""
        h = hashlib.sha256(self.iri.encode())
        for lang in sorted(self.texts):
            h.update(f"\x1f{lang}{'*' if lang in self.machine else ''}\x1e".encode())
            h.update(self.texts[lang].encode())
        h.update(f"\x1f{self.stance}\x1f{self.reply_to}\x1f{self.kind}".encode())
        return h.hexdigest()


def from_ntriples(iri: str, ntriples: str, max_chars: int) -> Contribution | None:
    """The contribution ``iri`` described by ``ntriples``; None when withdrawn or textless."""
    titles: dict[str, str] = {}
    bodies: dict[str, str] = {}
    c = Contribution(iri, "")
    topics: list[str] = []
    for triple in pyoxigraph.parse(ntriples.encode("utf-8"), pyoxigraph.RdfFormat.N_TRIPLES):
        if not isinstance(triple.subject, pyoxigraph.NamedNode) or triple.subject.value != iri:
            continue
        p, o = triple.predicate.value, triple.object
        if isinstance(o, pyoxigraph.Literal):
            lang = (o.language or "").lower()
            if p == _TITLE:
                titles[lang] = o.value
            elif p == _BODY:
                bodies[lang] = o.value
            elif p == DDS + "machineTranslatedLanguage":
                c.machine.add(o.value.lower())
            elif p == _CREATED:
                c.created = o.value
            elif p == DDS + "supportCount":
                c.support_count = int(o.value)
            elif p == DDS + "votesAgainst":
                c.votes_against = int(o.value)
        elif isinstance(o, pyoxigraph.NamedNode):
            if p == _TYPE and o.value.startswith(DDS):
                c.kind = c.kind or o.value[len(DDS):]
            elif p == DDS + "stance" and o.value.startswith(_STANCE_NS):
                c.stance = o.value[len(_STANCE_NS):]
            elif p == _REPLY:
                c.reply_to = o.value
            elif p == DDS + "sourcePlatform":
                c.platform = o.value
            elif p == DDS + "topic":
                topics.append(o.value)
            elif p == DDS + "state" and o.value == _WITHDRAWN:
                return None
    for lang in set(titles) | set(bodies):
        joined = "\n".join(t for t in (titles.get(lang, ""), bodies.get(lang, "")) if t)
        c.texts[lang] = joined[:max_chars]
    if "" in c.texts:  # untagged text: say which language it is (py3langid)
        untagged = c.texts.pop("")
        c.texts.setdefault(textmod.detect_language(untagged), untagged)
    if not any(t.strip() for t in c.texts.values()):
        return None
    c.topics = tuple(sorted(set(topics)))
    return c


def from_store(store: Store, base: str, *, max_items: int, max_chars: int, since: str = "",
               tick: Callable[[], None] = lambda: None) -> Iterator[Contribution]:
    """The live contributions of the node's proposal and comment containers."""
    count = 0
    for path in CONTAINERS:
        cursor: str | None = None
        while True:
            page = store.children(base + path, after=cursor, limit=PAGE)
            for child in page.items:
                if count >= max_items:
                    return
                resource = store.get(child.iri)
                if resource is None or resource.kind != "rdf":
                    continue
                c = from_ntriples(child.iri, resource.ntriples, max_chars)
                tick()
                if c is not None and (not since or c.created >= since):
                    count += 1
                    yield c
            cursor = page.next
            if cursor is None:
                break


def from_peer_cache(node_dir: Path, *, max_items: int, max_chars: int, since: str = ""
                    ) -> Iterator[Contribution]:
    """The valid contributions cached from followed peers (``--scope federation``)."""
    from ddsnode.federation.cache import CacheReader
    from ddsnode.federation.database import DB_FILE
    # Read-only: the serving node may be writing the cache at the same time.
    reader = CacheReader(node_dir / DB_FILE, timeout=30.0)
    for iri, _, ntriples in reader.valid(containers=tuple(CONTAINERS), limit=max_items):
        c = from_ntriples(iri, ntriples, max_chars)
        if c is not None and (not since or c.created >= since):
            yield c


def input_hash(contributions: list[Contribution],
               digests: dict[str, str] | None = None) -> str:
    """SHA-256 over the contributions' digests in IRI order (dds:inputHash); ``digests``
    (IRI -> digest) when the caller has them already."""
    h = hashlib.sha256()
    for c in sorted(contributions, key=lambda c: c.iri):
        h.update((digests[c.iri] if digests is not None else c.digest()).encode())
    return h.hexdigest()
