"""What a resource page shows, built from its graph: plain data for the templates.

Titles and labels instead of IRIs (linked resources by their title, concepts by their
label, participants by their pseudonym), texts in the reader's language with the others
beside them, machine translations flagged (``dds:machineTranslatedLanguage``), counts,
a comment thread with stances, and for a contest result the votes with percentages.
Terms are resolved through the shared JSON-LD context (``ontology/context.jsonld``), so
no vocabulary IRI is typed here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import rdflib

from ddsnode import resources
from ddsnode.explorer import literal
from ddsnode.explorer.labels import local_name, pick, term_label, vocabulary_labels
from ddsnode.rdf.vocab import RDF

LabelsOf = Callable[[list[str]], dict[str, dict[str, str]]]


@cache
def term(name: str) -> str:
    """The IRI of context term ``name`` (``supportCount`` -> ``…dds/ns#supportCount``)."""
    context = resources.context_document()["@context"]
    value = context[name]
    iri: str = value["@id"] if isinstance(value, dict) else value  # a JSON-LD term: string
    prefix, sep, rest = iri.partition(":")
    if sep and isinstance(context.get(prefix), str) and not rest.startswith("//"):
        return str(context[prefix]) + rest
    return str(iri)


def safe_href(iri: str | None) -> str | None:
    """``iri`` when a browser may follow it (http, https), else None: a ``javascript:``
    or ``data:`` IRI from data is shown as text, never as a live link."""
    if iri and iri.lower().startswith(("http://", "https://")) and not any(
            c in iri for c in "\n\r\t <>\"`"):
        return iri
    return None


@dataclass
class Text:
    """A text in one language; ``machine`` when that version is a machine translation."""

    lang: str
    text: str
    machine: bool = False


@dataclass
class Value:
    """One value of a property: text, a link (with the linked resource's name) or a date."""

    text: str
    href: str | None = None
    iso: str | None = None  # set for dates (shown in the reader's locale)
    lang: str | None = None
    number: float | int | None = None  # set for numbers (shown in the reader's locale)


@dataclass
class Fact:
    """A property and its values, labelled in the reader's language."""

    label: str
    values: list[Value]


@dataclass
class Vote:
    """One selection of a contest result."""

    label: str
    count: int
    share: float  # of the valid votes


@dataclass
class Tally:
    """A contest result: votes, ballots and status."""

    votes: list[Vote]
    registered: int | None
    cast: int | None
    blank: int | None
    invalid: int | None
    turnout: float | None
    status: str | None


@dataclass
class ResourceView:
    """Everything a resource page shows."""

    iri: str
    kind: str
    kind_label: str
    title: Text
    other_titles: list[Text]
    body: Text | None
    other_bodies: list[Text]
    facts: list[Fact]
    dates: list[Fact]
    counts: list[tuple[str, int]]
    platform: Value | None
    original: str | None
    tally: Tally | None = None
    comments: list[Comment] = field(default_factory=list)
    timeline: list[Stage] = field(default_factory=list)
    candidacies: list[Any] = field(default_factory=list)  # a party's (explorer.candidacy)


@dataclass
class Comment:
    """A comment of a thread: its author's pseudonym, stance, text, and replies."""

    iri: str
    author: Value | None
    stance: str | None
    body: Text | None
    other_bodies: list[Text]
    date: str | None
    replies: list[Comment] = field(default_factory=list)
    stance_iri: str | None = None  # the stance itself (``stance`` is its label)


@dataclass
class Step:
    """One resource of a traceability timeline (``ddsnode.explorer.timeline``)."""

    iri: str
    kind_label: str
    title: str
    href: str | None
    source: str  # local | cache | fetched | unavailable
    progress: float | None = None
    date: str | None = None
    current: bool = False  # the resource whose page this is


@dataclass
class Stage:
    """The steps of one kind (proposal, decision, result…), in the order of the chain."""

    label: str
    steps: list[Step]


def _texts(graph: rdflib.Graph, subject: rdflib.URIRef, predicate: str, lang: str,
           machine: set[str]) -> tuple[Text | None, list[Text]]:
    values = [v for v in graph.objects(subject, rdflib.URIRef(predicate))
              if isinstance(v, rdflib.Literal)]
    texts = sorted((Text(v.language or "", str(v), (v.language or "") in machine)
                    for v in values), key=lambda t: t.lang)
    if not texts:
        return None, []
    # The reader's language, else an original (not machine-translated) text, else any.
    main = next((t for t in texts if t.lang == lang), None) or \
        next((t for t in texts if not t.machine), texts[0])
    return main, [t for t in texts if t is not main]


def _int(graph: rdflib.Graph, subject: rdflib.term.Node, name: str) -> int | None:
    for value in graph.objects(subject, rdflib.URIRef(term(name))):
        try:
            return int(str(value))
        except ValueError:
            return None
    return None


SKIPPED = ("title", "body", "machineTranslated", "sourcePlatform", "originalUrl",
           "created", "published", "modified", "voteCounts")
# What the votes table of a result already shows: not repeated under "Details".
TALLIED = ("registeredVoters", "ballotsCast", "blankBallots", "invalidBallots",
           "resultsStatus")
# Names a resource goes by when it has no title (a place, a party, a person).
NAMES = ("title", "name", "nickname")
DATES = ("created", "published", "modified", "startDate", "endDate", "date", "reportedAt")
# The message (ddsnode/explorer/locales) naming each date on a page.
DATE_LABELS = {"created": "Created", "published": "Published", "modified": "Modified",
               "startDate": "Starts", "endDate": "Ends", "date": "Date",
               "reportedAt": "Reported"}


def build(graph: rdflib.Graph, iri: str, lang: str, labels_of: LabelsOf,
          choices: dict[str, str] | None = None) -> ResourceView:
    """The view of resource ``iri`` (described by ``graph``) for a reader of ``lang``;
    ``choices`` names the selections of a contest result (``ddsnode.explorer.ballot``)."""
    main = rdflib.URIRef(iri)
    vocab = vocabulary_labels()
    types = sorted(str(t) for t in graph.objects(main, RDF.type))
    ours = [t for t in types if t.startswith(term("dds"))] or types or [""]
    kind = ours[0]
    machine = {str(v) for v in graph.objects(main, rdflib.URIRef(term("machineTranslated")))}
    linked = sorted({str(o) for o in graph.objects() if isinstance(o, rdflib.URIRef)})
    names = labels_of(linked)

    def name_of(target: str) -> str:
        own = {(v.language or ""): str(v) for p in ("title", "nickname")
               for v in graph.objects(rdflib.URIRef(target), rdflib.URIRef(term(p)))
               if isinstance(v, rdflib.Literal)}
        return (pick(names.get(target), lang) or pick(vocab.get(target), lang)
                or pick(own, lang) or local_name(target))

    def value(node: rdflib.term.Node) -> Value | None:
        if isinstance(node, rdflib.URIRef):
            return Value(name_of(str(node)), href=safe_href(str(node)))
        if isinstance(node, rdflib.Literal):
            read = literal.reading(node)
            if read is None:
                return None  # a geometry: the map's, not the page's
            return Value(read.text, lang=node.language, iso=read.iso, number=read.number)
        return Value("…")

    title: Text | None = None
    other_titles: list[Text] = []
    for name in NAMES:
        title, other_titles = _texts(graph, main, term(name), lang, machine)
        if title is not None:
            break
    if title is None:
        # A contest result is named by its contest and where it was counted.
        contest = next((str(o) for o in graph.objects(main, rdflib.URIRef(term("contest")))), "")
        unit = next((str(o) for o in graph.objects(main, rdflib.URIRef(term("reportingUnit")))),
                    "")
        named = " – ".join(name_of(n) for n in (contest, unit) if n)
        title = Text("", named or local_name(iri))
    body, other_bodies = _texts(graph, main, term("body"), lang, machine)
    skipped = {term(n) for n in SKIPPED + NAMES + DATES} | {str(RDF.type)}
    if any(True for _ in graph.objects(main, rdflib.URIRef(term("voteCounts")))):
        skipped |= {term(n) for n in TALLIED}
    counts: list[tuple[str, int]] = []
    facts: list[Fact] = []
    for predicate in sorted({str(p) for p in graph.predicates(main)}):
        if predicate in skipped:
            continue
        if local_name(predicate) in literal.GEOMETRY_NAMES:
            continue  # coordinates and shapes are drawn on the map
        label = term_label(predicate, lang)
        objects = sorted(graph.objects(main, rdflib.URIRef(predicate)), key=str)
        if local_name(predicate).endswith("Count") and all(
                isinstance(o, rdflib.Literal) for o in objects):
            number = _int(graph, main, local_name(predicate))
            if number is not None:
                counts.append((label, number))
                continue
        values = []
        for obj in objects:
            if isinstance(obj, rdflib.BNode) or str(obj).startswith(iri + "#"):
                # A nested node (a place, an address): its own labelled values, inline.
                # Coordinates and geometry literals (lat, long, WKT) are for maps, not
                # for reading: a nested node shows its words and its links.
                inner = [value(v) for p, v in sorted(graph.predicate_objects(obj), key=str)
                         if p != RDF.type and not isinstance(v, rdflib.BNode)
                         and not (isinstance(v, rdflib.Literal) and v.datatype is not None)]
                values += [v for v in inner if v is not None and v.text]
            else:
                shown = value(obj)
                if shown is not None:
                    values.append(shown)
        if values:
            facts.append(Fact(label, values))
    dates = []
    for name in DATES:
        found = [str(v) for v in graph.objects(main, rdflib.URIRef(term(name)))]
        if found:
            dates.append(Fact(DATE_LABELS[name], [Value(found[0], iso=found[0])]))
    platform_iri = next((str(o) for o in graph.objects(
        main, rdflib.URIRef(term("sourcePlatform")))), None)
    original = next((str(o) for o in graph.objects(main, rdflib.URIRef(term("originalUrl")))),
                    None)
    return ResourceView(
        iri=iri, kind=kind, kind_label=term_label(kind, lang) if kind else "",
        title=title, other_titles=other_titles, body=body, other_bodies=other_bodies,
        # Rows in the order of what the reader reads (their labels), not of the IRIs.
        facts=sorted(facts, key=lambda f: _sort_key(f.label)), dates=dates,
        counts=sorted(counts, key=lambda c: _sort_key(c[0])),
        platform=Value(name_of(platform_iri), href=safe_href(platform_iri))
        if platform_iri else None,
        original=safe_href(original),
        tally=tally(graph, main, lang, lambda s: (choices or {}).get(s) or name_of(s)))


def _sort_key(label: str) -> str:
    """A label folded for ordering rows (``État`` beside ``état``, before ``Sujet``)."""
    return unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().casefold()


def tally(graph: rdflib.Graph, main: rdflib.URIRef, lang: str,
          name_of: Callable[[str], str]) -> Tally | None:
    """The votes of a contest result, with shares of the valid votes; None for others
    (selections named by ``name_of``)."""
    vote_counts = list(graph.objects(main, rdflib.URIRef(term("voteCounts"))))
    if not vote_counts:
        return None
    selection, count_type = rdflib.URIRef(term("selection")), rdflib.URIRef(term("countType"))
    totals: dict[str, int] = {}
    for node in vote_counts:
        kinds = {local_name(str(t)) for t in graph.objects(node, count_type)}
        if kinds and "total" not in kinds:
            continue  # per vote type counts (early, election day…) add up to the total
        chosen = next((str(s) for s in graph.objects(node, selection)), None)
        number = _int(graph, node, "count")
        if chosen is not None and number is not None:
            totals[chosen] = totals.get(chosen, 0) + number
    valid = sum(totals.values())
    votes = sorted((Vote(name_of(s), n, n / valid if valid else 0.0)
                    for s, n in totals.items()), key=lambda v: -v.count)
    registered, cast = _int(graph, main, "registeredVoters"), _int(graph, main, "ballotsCast")
    status = next((str(o) for o in graph.objects(main, rdflib.URIRef(term("resultsStatus")))),
                  None)
    return Tally(votes, registered, cast, _int(graph, main, "blankBallots"),
                 _int(graph, main, "invalidBallots"),
                 cast / registered if cast is not None and registered else None,
                 name_of(status) if status else None)


def comment(graph: rdflib.Graph, iri: str, lang: str,
            name_of: Callable[[str], str]) -> Comment:
    """A comment of a thread (replies are added by the caller)."""
    main = rdflib.URIRef(iri)
    machine = {str(v) for v in graph.objects(main, rdflib.URIRef(term("machineTranslated")))}
    body, others = _texts(graph, main, term("body"), lang, machine)
    author = next((str(o) for o in graph.objects(main, rdflib.URIRef(term("author")))), None)
    stance = next((str(o) for o in graph.objects(main, rdflib.URIRef(term("stance")))), None)
    date = next((str(o) for o in graph.objects(main, rdflib.URIRef(term("created")))), None)
    return Comment(iri, Value(name_of(author), href=safe_href(author)) if author else None,
                   name_of(stance) if stance else None, body, others, date,
                   stance_iri=stance)
